"""A sliding-window limit on failed link attempts per remote address.

Kept in memory: the web server is one process (waitress, threads), and a restart forgetting the
counts only gives a guesser a few more tries against a 256-bit token space.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, deque


class SlidingWindow:
    """At most ``limit`` failures per key within ``window``; then requests are refused.

    ``max_keys`` bounds memory when many addresses fail: the least recently failing key is
    forgotten first.
    """

    def __init__(
        self,
        limit: int = 10,
        window: dt.timedelta = dt.timedelta(minutes=15),
        max_keys: int = 50_000,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str, now: dt.datetime) -> int | None:
        """Seconds until ``key`` may try again, or None when it is not blocked."""
        with self._lock:
            times = self._recent(key, now)
            if times is None or len(times) < self.limit:
                return None
            oldest_that_counts = times[-self.limit]
            wait = oldest_that_counts + self.window - now
            return max(1, int(wait.total_seconds() + 0.999))

    def fail(self, key: str, now: dt.datetime) -> None:
        """Count one failure for ``key`` at ``now``."""
        with self._lock:
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = deque(maxlen=self.limit)
            times.append(now)
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
