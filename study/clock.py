"""Clocks. Logic takes ``as_of`` or a clock as an argument; only the composition root picks one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class SimulatedClock:
    """A clock that moves only when told to, so months of a study pass in seconds."""

    current: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start")

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.current = self.current + delta
        return self.current

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("SimulatedClock needs timezone-aware moments")
        self.current = moment


def local_date(moment: dt.datetime, tz: ZoneInfo = AMSTERDAM) -> dt.date:
    """The calendar date of ``moment`` in the study's timezone (Europe/Amsterdam by default)."""
    return moment.astimezone(tz).date()


def end_of_day(day: dt.date, tz: ZoneInfo = AMSTERDAM) -> dt.datetime:
    """The first moment after ``day`` in the study's timezone, as UTC (``< end_of_day(d)`` is
    "by the end of d")."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
