"""Jobs on a shared queue (Huey), for several web processes and ``klik worker`` processes.

:class:`QueueRunner` has the interface of :class:`dashboard.jobs.JobRunner` (``submit``,
``status``, ``latest``, ``find``, ``wait``, ``forget``), so the pages do not know which one they
use. What the in-memory runner keeps in a dictionary lives here in Huey's key-value store (Redis
for a team or a national monitor, or Huey's SQLite file on one machine), under the job key's
digest, so every process sees every job:

- **One computation per key.** A job is claimed with an atomic ``put_if_empty`` of
  ``claim:<digest>:<attempt>``; only the process that wins enqueues the Huey task. Everyone else
  (any user, any process) sees the same record, its progress and partial result.
- **Results cached per data version.** The finished record (with its result) stays in the store
  under the digest, which includes the data version, so a restart of every process recomputes
  nothing; a newer data version is a new key.
- **Time limits per job kind.** The worker runs each job in a forked child
  (:func:`dashboard.jobs._run_in_child`) and kills it after
  :func:`dashboard.jobs.time_limit`; the record then says ``stopped`` and the page says so.
  (Huey's own task timeout cannot interrupt a thread worker, nor C code under the GIL.)
- **A worker that dies** (kill -9, out of memory, machine lost). Huey does not acknowledge tasks:
  a task taken by a worker that dies is lost (its documentation says so, "Consumer shutdown",
  and issues coleifer/huey#418, #559, #844). So a running job renews a lease (``beat``) in its
  record every third of ``lease`` seconds; whoever next looks at a job whose lease ran out
  (a page's poll, any process) claims the next attempt and enqueues it again, and another worker
  takes it. A superseded worker's late writes are dropped (the record's attempt is checked).

The job callables must be picklable: the pages pass :class:`dashboard.jobs.Deferred` (the
job's factory function, the scope as SQL, the day and the parameters); the worker binds its own
database sessions to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashboard.jobs import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    JobKey,
    JobStatus,
    JobTimedOut,
    Progress,
    _run_in_child,
    time_limit,
)
from study.fork_gate import GatedConnection

log = logging.getLogger(__name__)

TASK_NAME = "klik.run_job"
#: seconds an idle consumer of a SQLite queue waits at most before it looks again
MAX_POLL_DELAY = 0.25
COMPUTED = "klik:computed"


def make_huey(url: str, name: str = "klik") -> Huey:
    """The Huey instance for ``url``: ``redis://...`` or ``sqlite:///path/to/jobs.sqlite3``.

    The task that runs jobs is registered on it, so web processes (which enqueue) and workers
    (which consume) built from the same URL agree on it.
    """
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey: Huey = RedisHuey(name, url=url, results=False)
    elif url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # The web process forks job children while its consumers poll the queue: their
        # connections go through the same gate as the study's, so no child copies a SQLite
        # mutex held at the fork.
        huey = SqliteHuey(name, filename=str(path), results=False, factory=GatedConnection)
    else:
        raise ValueError(f"KLIK_QUEUE_URL must start with redis:// or sqlite:///, not {url!r}")

    @huey.task(name=TASK_NAME)
    def run_job(digest: str, attempt: int) -> None:
        worker = getattr(huey, "klik_worker", None)
        if worker is None:
            raise RuntimeError("this process runs no Klik worker (see `klik worker`)")
        worker.execute(digest, attempt)

    huey.klik_run_job = run_job  # type: ignore[attr-defined]
    return huey


@dataclass
class Record:
    """What the store holds per job: its status, how to run it again, and its lease."""

    status: JobStatus
    call: bytes
    beat: float | None = None
    worker: str = ""
    #: the digest this selection's newest job had when this one was asked for
    previous: str = ""


def _record_key(digest: str) -> str:
    return f"klik:job:{digest}"


def _latest_key(key: JobKey) -> str:
    raw = "\x1f".join(key.selection)
    return "klik:latest:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class Store:
    """Records in Huey's key-value storage (pickled)."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey

    @property
    def storage(self) -> Any:
        return self.huey.storage

    def get(self, digest: str) -> Record | None:
        raw = self.storage.peek_data(_record_key(digest))
        if not isinstance(raw, bytes | memoryview):
            return None
        try:
            record = pickle.loads(bytes(raw))
        except Exception:  # a damaged record is computed again, not trusted
            return None
        return record if isinstance(record, Record) else None

    def put(self, digest: str, record: Record) -> None:
        self.storage.put_data(
            _record_key(digest), pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        )

    def claim(self, digest: str, attempt: int) -> bool:
        return bool(self.storage.put_if_empty(_claim_key(digest, attempt), b"1"))

    def drop(self, digest: str) -> None:
        """Remove a job's record and its claims."""
        record = self.get(digest)
        self.storage.pop_data(_record_key(digest))
        for attempt in range(1, (record.status.attempt if record else 1) + 1):
            self.storage.pop_data(_claim_key(digest, attempt))


def _claim_key(digest: str, attempt: int) -> str:
    return f"klik:claim:{digest}:{attempt}"


class QueueRunner:
    """The :class:`dashboard.jobs.JobRunner` interface on a Huey queue shared by processes.

    Parameters
    ----------
    huey : Huey
        From :func:`make_huey`.
    lease : float
        Seconds a running job's worker may go silent before the job is started again elsewhere.
    cache_size : int
        Finished jobs also kept in this process's memory, so polls do not fetch big results.
    clock : callable
        Wall-clock time (records are compared across processes and machines).
    """

    def __init__(
        self,
        huey: Huey,
        *,
        lease: float = 15.0,
        cache_size: int = 32,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.huey = huey
        self.store = Store(huey)
        self.lease = lease
        self._clock = clock
        self._cache_size = cache_size
        self._local: OrderedDict[str, JobStatus] = OrderedDict()
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []

    def ping(self) -> int:
        """Jobs waiting in the queue; raises when the queue's store cannot be reached."""
        return int(self.huey.pending_count())

    # -- asking --------------------------------------------------------------------------------

    def submit(self, key: JobKey, fn: Callable[[Progress], Any]) -> JobStatus:
        """Enqueue ``fn`` for ``key`` unless some process already did (and it is not failed or
        abandoned); returns the job's status."""
        previous = self._latest_digest(key)
        self.huey.storage.put_data(_latest_key(key), key.digest.encode())
        local = self._cached(key.digest)
        if local is not None and local.key == key:
            return local
        record = self.store.get(key.digest)
        if record is not None and record.status.key == key:
            if record.status.state != FAILED and not self._abandoned(record):
                return self._seen(record)
            return self._start(key, _dumps(fn), record.status.attempt + 1, record)
        status = self._start(key, _dumps(fn), 1, None, before=previous or "")
        if previous and previous != key.digest:
            self._prune(previous, keep=key.digest)
        return status

    def status(self, key: JobKey) -> JobStatus | None:
        status = self._look(key.digest)
        return status if status is not None and status.key == key else None

    def latest(self, key: JobKey) -> JobStatus | None:
        digest = self._latest_digest(key)
        status = None if digest is None else self._look(digest)
        return status if status is not None and status.key.selection == key.selection else None

    def _latest_digest(self, key: JobKey) -> str | None:
        raw = self.huey.storage.peek_data(_latest_key(key))
        return bytes(raw).decode() if isinstance(raw, bytes | memoryview) else None

    def _prune(self, previous: str, *, keep: str) -> None:
        """Keep two data versions of a selection in the store: the new job's and the one
        before it (a page may still follow it, a download may still fetch it); the one
        before that goes."""
        record = self.store.get(previous)
        if record is None or not record.previous or record.previous in (keep, previous):
            return
        older = self.store.get(record.previous)
        if older is None or older.status.done:
            self.store.drop(record.previous)
            with self._lock:
                self._local.pop(record.previous, None)

    def find(self, digest: str) -> JobStatus | None:
        return self._look(digest)

    def result(self, key: JobKey) -> Any:
        status = self.status(key)
        return status.result if status is not None and status.state == DONE else None

    def wait(self, key: JobKey, timeout: float) -> JobStatus | None:
        """Poll the store up to ``timeout`` seconds for the job to finish."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            status = self.status(key)
            if status is None or status.done or time.monotonic() >= deadline:
                return status
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.5)

    def forget(self, key: JobKey) -> None:
        """Drop a finished job's result, so the next submit computes it again."""
        with self._lock:
            self._local.pop(key.digest, None)
        record = self.store.get(key.digest)
        if record is not None and record.status.done:
            gone = replace(record.status, state=FAILED, result=None, error="forgotten")
            self.store.put(key.digest, replace(record, status=gone))

    @property
    def computed(self) -> int:
        """Jobs computed by all workers on this queue (cache hits do not count)."""
        return int(self.huey.storage.incr(COMPUTED, 0))

    def shutdown(self, wait: bool = True) -> None:
        """Stop what :meth:`on_shutdown` registered (an embedded consumer)."""
        del wait
        while self._stops:
            self._stops.pop()()

    def on_shutdown(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` at :meth:`shutdown`."""
        self._stops.append(stop)

    # -- internals -----------------------------------------------------------------------------

    def _start(
        self,
        key: JobKey,
        call: bytes,
        attempt: int,
        previous: Record | None,
        *,
        before: str = "",
    ) -> JobStatus:
        now = self._clock()
        status = JobStatus(key, QUEUED, submitted=now, attempt=attempt)
        if not self.store.claim(key.digest, attempt):
            # another process (or thread) claimed this attempt a moment ago: follow theirs
            record = self.store.get(key.digest)
            if record is not None and record.status.attempt >= attempt:
                return self._seen(record)
            return status
        before = before or (previous.previous if previous is not None else "")
        self.store.put(key.digest, Record(status, call, beat=None, previous=before))
        self.huey.enqueue(self.huey.klik_run_job.s(key.digest, attempt))  # type: ignore[attr-defined]
        if previous is not None and previous.status.state == RUNNING:
            log.warning(
                "job %s (%s) lost its worker %s; started again (attempt %d)",
                key.digest,
                key.analysis,
                previous.worker,
                attempt,
            )
        return _copy(status)

    def _look(self, digest: str) -> JobStatus | None:
        local = self._cached(digest)
        if local is not None:
            return local
        record = self.store.get(digest)
        if record is None:
            return None
        if self._abandoned(record):
            return self._start(record.status.key, record.call, record.status.attempt + 1, record)
        return self._seen(record)

    def _abandoned(self, record: Record) -> bool:
        status = record.status
        return (
            status.state == RUNNING
            and record.beat is not None
            and self._clock() - record.beat > self.lease
        )

    def _seen(self, record: Record) -> JobStatus:
        status = _copy(record.status)
        if status.state == DONE:
            with self._lock:
                self._local[status.key.digest] = status
                self._local.move_to_end(status.key.digest)
                while len(self._local) > self._cache_size:
                    self._local.popitem(last=False)
        return status

    def _cached(self, digest: str) -> JobStatus | None:
        with self._lock:
            status = self._local.get(digest)
            if status is not None:
                self._local.move_to_end(digest)
            return None if status is None else _copy(status)


def _dumps(fn: Callable[[Progress], Any]) -> bytes:
    try:
        return pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(
            "a job on the shared queue must be picklable (use dashboard.jobs.Deferred), "
            f"not {fn!r}: {exc}"
        ) from exc


def _copy(status: JobStatus) -> JobStatus:
    return replace(status, _future=None)


@dataclass
class Worker:
    """What a ``klik worker`` process (or an embedded consumer) runs jobs with."""

    huey: Huey
    read_sessions: sessionmaker[Session]
    engines: Sequence[Engine] = ()
    lease: float = 15.0
    time_limits: Mapping[str, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def __post_init__(self) -> None:
        self.store = Store(self.huey)
        self.huey.klik_worker = self  # type: ignore[attr-defined]

    def execute(self, digest: str, attempt: int) -> None:
        """Run attempt ``attempt`` of the job ``digest`` (a Huey task's body).

        While it runs, a thread renews the job's lease every third of ``lease`` seconds, so
        only a worker that is gone (or frozen) loses its job to another.
        """
        record = self.store.get(digest)
        if record is None or record.status.attempt != attempt or record.status.done:
            return  # superseded, forgotten or done meanwhile
        call = pickle.loads(record.call)
        fn = call.bind(self.read_sessions) if hasattr(call, "bind") else call
        status = record.status
        status.state, status.started = RUNNING, self.clock()
        record.worker = self.name
        lock = threading.Lock()
        ours = [True]

        def write() -> None:
            with lock:
                if not ours[0]:
                    return
                current = self.store.get(digest)
                if current is None or current.status.attempt != attempt:
                    ours[0] = False  # another attempt took over: this one's writes are dropped
                    return
                record.beat = self.clock()
                self.store.put(digest, record)

        def progress(fraction: float, message: str = "", partial: Any = None) -> None:
            status.progress = max(0.0, min(1.0, float(fraction)))
            status.message = message
            if partial is not None:
                status.partial = partial
            write()

        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease / 3):
                write()

        write()
        heart = threading.Thread(target=beat, name=f"klik-lease-{digest[:8]}", daemon=True)
        heart.start()
        limit = time_limit(status.key.analysis, self.time_limits)
        log.info("klik job %s (%s) attempt %d started", digest, status.key.analysis, attempt)
        try:
            result = _run_in_child(fn, progress, self.engines, timeout=limit)
        except Exception as exc:  # the page shows the reason; the worker goes on
            status.state = FAILED
            status.error = str(exc) if hasattr(exc, "detail") else f"{type(exc).__name__}: {exc}"
            status.message = status.error
            status.stopped = exc.limit if isinstance(exc, JobTimedOut) else None
        else:
            status.state, status.result, status.progress = DONE, result, 1.0
        finally:
            stop.set()
            heart.join()
        status.finished = self.clock()
        if status.state == DONE:
            self.huey.storage.incr(COMPUTED, 1)
        log.info(
            "klik job %s (%s) attempt %d %s in %.1f s",
            digest,
            status.key.analysis,
            attempt,
            status.state,
            status.finished - (status.started or status.finished),
        )
        write()

    def consumer(self, workers: int = 2) -> Any:
        """A Huey consumer of ``workers`` threads (each job runs in its own child process)."""
        # an idle consumer of a SQLite queue polls: at most MAX_POLL_DELAY between looks, so
        # a page's job starts within that (Redis wakes it at once)
        return self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=False,
            check_worker_health=True,
            max_delay=MAX_POLL_DELAY,
        )


def container_worker(huey: Huey, container: Any) -> Worker:
    """A :class:`Worker` with the database, lease and time limits of a ``klik.wiring``
    container (``klik worker`` and the embedded consumer of ``klik serve``)."""
    settings = container.settings
    return Worker(
        huey,
        container.read_sessions,
        engines=[container.engine],
        lease=settings.job_lease_seconds,
        time_limits=settings.time_limits,
    )


def embedded_consumer(worker: Worker, workers: int = 2) -> Callable[[], None]:
    """Start a consumer inside this process (threads; jobs still in child processes).

    Returns the function that stops it.
    """
    consumer = worker.consumer(workers)
    consumer.scheduler.start()
    for _, thread in consumer.worker_threads:
        thread.start()

    def stop() -> None:
        with contextlib.suppress(Exception):
            consumer.stop(graceful=False)

    return stop
