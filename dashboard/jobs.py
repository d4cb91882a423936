"""Background computation of analyses, so that no request ever fits a model.

A :class:`JobRunner` (one per application, in ``server.extensions["klik_jobs"]``) runs jobs on a
small thread pool. A job is identified by a :class:`JobKey` (data version, scope and filter,
analysis, parameters): asking for a key that is already running or done returns that job, so
any number of users asking for the same result cause one computation. Finished results stay in
an in-memory LRU cache (and, when a directory is given, in pickles on disk that survive a
restart). A job reports progress through the callable it receives; pages poll
:meth:`JobRunner.status` with a ``dcc.Interval``.

Where the job runs is the runner's ``isolation``. ``"process"`` (what the application uses on
systems with ``fork``): each job runs in a child process forked for it, which sends its
progress and its pickled result back through a pipe. Much of pandas' and SQLite's work holds
Python's global interpreter lock for seconds at a time, so a job on a thread of the web process
would slow every other user's requests by as much (measured: up to 18 s at 100,000
trajectories); a child process slows nobody. The child starts fresh database connections and
leaves the parent's alone. ``"thread"`` runs jobs on the pool's own threads (tests that hold a
job with an event, systems without ``fork``). Requests only ever look up a status, which takes a
lock for microseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from study.fork_gate import forking

log = logging.getLogger(__name__)

EXTENSION = "klik_jobs"

THREAD = "thread"
PROCESS = "process"

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"

#: the longest a job of each kind may run (seconds) before it is stopped; others get DEFAULT_LIMIT
TIME_LIMITS: dict[str, float] = {
    "monitor": 300.0,
    "monitor_release": 300.0,
    "quality": 600.0,
    "survival": 900.0,
    "export": 1800.0,
}
DEFAULT_LIMIT = 900.0


def time_limit(analysis: str, limits: Mapping[str, float] | None = None) -> float:
    """The time limit of a job kind (``limits`` first, then :data:`TIME_LIMITS`)."""
    if limits and analysis in limits:
        return float(limits[analysis])
    return TIME_LIMITS.get(analysis, DEFAULT_LIMIT)


Progress = Callable[..., None]
"""``progress(fraction, message="", partial=None)``: how far a job is (0-1), what it is doing,
and optionally a first part of the result that pages may show while the rest is computed."""


@dataclass(frozen=True)
class JobKey:
    """What a result depends on.

    Attributes
    ----------
    version : str
        Fingerprint of the data (``study.report_data.data_version``) and the ``as_of`` day.
    scope : str
        Whose view: the study, the jobcoach (for a jobcoach's own clients) and the filters.
    analysis : str
        Which computation (e.g. ``"survival"``, ``"mixed"``).
    params : str
        Canonical JSON of the analysis' parameters.
    """

    version: str
    scope: str
    analysis: str
    params: str = "{}"

    @classmethod
    def make(cls, version: str, scope: Any, analysis: str, **params: Any) -> JobKey:
        """Build a key; ``scope`` and ``params`` are serialised canonically (sorted JSON)."""
        return cls(
            version=version,
            scope=json.dumps(scope, sort_keys=True, default=str),
            analysis=analysis,
            params=json.dumps(params, sort_keys=True, default=str),
        )

    @property
    def selection(self) -> tuple[str, str, str]:
        """What was asked, whatever the data version: scope, analysis and parameters."""
        return (self.scope, self.analysis, self.params)

    @property
    def digest(self) -> str:
        """A file-name-safe hash of the key."""
        raw = "\x1f".join((self.version, self.scope, self.analysis, self.params))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class JobStatus:
    """The state of one job, as pages show it.

    Attributes
    ----------
    key : JobKey
    state : str
        ``queued``, ``running``, ``done`` or ``failed``.
    progress : float
        0 to 1.
    message : str
        What the job is doing (or why it failed).
    result : Any
        The result once done.
    error : str or None
        The exception text when failed.
    submitted, started, finished : float or None
        Monotonic times.
    cached : bool
        True when the result came from the cache without computing.
    partial : Any
        What the job published before finishing (see :data:`Progress`).
    stopped : float or None
        When the job was stopped for running over its time limit: that limit in seconds.
    attempt : int
        1 for the first run; more when the job was started again after its worker died.
    """

    key: JobKey
    state: str = QUEUED
    progress: float = 0.0
    message: str = ""
    result: Any = None
    error: str | None = None
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    cached: bool = False
    partial: Any = None
    stopped: float | None = None
    attempt: int = 1
    _future: Future | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def seconds(self) -> float | None:
        """Computation time, once finished."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


class JobRunner:
    """Runs analyses in the background and caches their results.

    Parameters
    ----------
    max_workers : int
        Threads computing at once; further jobs queue.
    cache_size : int
        Finished results kept in memory (least recently used dropped first).
    cache_dir : Path, optional
        Also keep finished results as pickles here; they are read back after a restart. Only
        results of this application are ever read from it.
    clock : callable
        Monotonic time source (for tests).
    isolation : {"thread", "process"}
        Run each job on a pool thread or in a forked child process (see the module's notes).
    engines : sequence of Engine
        The database engines jobs use: a child process gives each a new connection pool.
    time_limits : mapping, optional
        Seconds a job of each kind (:attr:`JobKey.analysis`) may run (see :func:`time_limit`).
        A child process over its limit is killed and its job fails with ``stopped`` set; a
        job on a thread cannot be stopped and is only marked so when it ends.
    cache_files : int
        Result pickles kept in ``cache_dir`` (the oldest are removed first).
    """

    def __init__(
        self,
        max_workers: int = 2,
        cache_size: int = 16,
        cache_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        isolation: str = THREAD,
        engines: Sequence[Engine] = (),
        time_limits: Mapping[str, float] | None = None,
        cache_files: int = 256,
    ) -> None:
        if max_workers < 1 or cache_size < 1:
            raise ValueError("max_workers and cache_size must be at least 1")
        if isolation not in (THREAD, PROCESS):
            raise ValueError(f"isolation must be {THREAD!r} or {PROCESS!r}")
        if isolation == PROCESS and not hasattr(os, "fork"):
            raise ValueError("process isolation needs os.fork")
        self.isolation = isolation
        self._engines = tuple(engines)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="klik-job")
        self._cache_size = cache_size
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        if self._cache_dir is not None:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
        self._cache_files = cache_files
        self._time_limits = dict(time_limits or {})
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: OrderedDict[JobKey, JobStatus] = OrderedDict()
        # the newest key submitted per selection, so a page can follow the job it started
        # while the data (and so the version in the key) moves on
        self._latest: dict[tuple[str, str, str], JobKey] = {}
        self.computed = 0  # how many jobs actually ran (cache hits do not count)

    # -- asking --------------------------------------------------------------------------------

    def submit(self, key: JobKey, fn: Callable[[Progress], Any]) -> JobStatus:
        """Start computing ``fn(progress)`` for ``key`` unless it is running or done already.

        A failed job is retried on the next submit. Returns the job's status (a snapshot).
        """
        with self._lock:
            self._latest[key.selection] = key
            job = self._jobs.get(key)
            if job is not None and job.state != FAILED:
                self._jobs.move_to_end(key)
                return self._snapshot(job)
            disk = self._read_disk(key)
            now = self._clock()
            if disk is not None:
                job = JobStatus(key, DONE, 1.0, "", disk, None, now, now, now, cached=True)
                self._remember(key, job)
                return self._snapshot(job)
            job = JobStatus(key, QUEUED, 0.0, "", submitted=now)
            self._remember(key, job)
            job._future = self._pool.submit(self._run, job, fn)
            return self._snapshot(job)

    def status(self, key: JobKey) -> JobStatus | None:
        """The job's status, or None when it was never submitted (or was evicted)."""
        with self._lock:
            job = self._jobs.get(key)
            return None if job is None else self._snapshot(job)

    def latest(self, key: JobKey) -> JobStatus | None:
        """The newest job submitted for ``key``'s selection (any data version), if still known."""
        with self._lock:
            newest = self._latest.get(key.selection)
            job = self._jobs.get(newest) if newest is not None else None
            return None if job is None else self._snapshot(job)

    def find(self, digest: str) -> JobStatus | None:
        """A known job by its :attr:`JobKey.digest`."""
        with self._lock:
            for key, job in self._jobs.items():
                if key.digest == digest:
                    return self._snapshot(job)
        return None

    def result(self, key: JobKey) -> Any:
        """The finished result, or None when not done."""
        status = self.status(key)
        return status.result if status is not None and status.state == DONE else None

    def wait(self, key: JobKey, timeout: float) -> JobStatus | None:
        """Wait up to ``timeout`` seconds for the job to finish; returns its status."""
        with self._lock:
            job = self._jobs.get(key)
            future = job._future if job is not None else None
        if future is not None:
            # a timeout or the job's own failure (which the job records) both just end the wait
            with contextlib.suppress(Exception):
                future.result(timeout=timeout)
        return self.status(key)

    def forget(self, key: JobKey) -> None:
        """Drop a finished job (and its pickle), so the next submit computes it again."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                del self._jobs[key]
            path = self._path(key)
            if path is not None:
                path.unlink(missing_ok=True)

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting jobs; with ``wait``, let running ones finish."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    # -- running -------------------------------------------------------------------------------

    def _run(self, job: JobStatus, fn: Callable[[Progress], Any]) -> None:
        def progress(fraction: float, message: str = "", partial: Any = None) -> None:
            with self._lock:
                job.progress = max(0.0, min(1.0, float(fraction)))
                job.message = message
                if partial is not None:
                    job.partial = partial

        with self._lock:
            job.state = RUNNING
            job.started = self._clock()
        limit = time_limit(job.key.analysis, self._time_limits)
        try:
            if self.isolation == PROCESS:
                result = _run_in_child(fn, progress, self._engines, timeout=limit)
            else:
                result = fn(progress)
        except Exception as exc:  # a failing analysis must show its reason, not kill the pool
            with self._lock:
                job.stopped = exc.limit if isinstance(exc, JobTimedOut) else None
                job.state = FAILED
                job.error = (
                    str(exc) if isinstance(exc, ChildFailed) else f"{type(exc).__name__}: {exc}"
                )
                job.message = job.error
                job.finished = self._clock()
                job._detail = getattr(exc, "detail", None) or traceback.format_exc()  # type: ignore[attr-defined]
            return
        with self._lock:
            job.result = result
            job.state = DONE
            job.progress = 1.0
            job.finished = self._clock()
            self.computed += 1
        self._write_disk(job.key, result)

    # -- cache ---------------------------------------------------------------------------------

    def _remember(self, key: JobKey, job: JobStatus) -> None:
        self._jobs[key] = job
        self._jobs.move_to_end(key)
        # evict the least recently used finished jobs; running ones stay
        excess = len(self._jobs) - self._cache_size
        for old_key in list(self._jobs):
            if excess <= 0:
                break
            if self._jobs[old_key].done and old_key != key:
                del self._jobs[old_key]
                if self._latest.get(old_key.selection) == old_key:
                    del self._latest[old_key.selection]
                excess -= 1

    @staticmethod
    def _snapshot(job: JobStatus) -> JobStatus:
        return JobStatus(
            job.key,
            job.state,
            job.progress,
            job.message,
            job.result,
            job.error,
            job.submitted,
            job.started,
            job.finished,
            job.cached,
            job.partial,
            job.stopped,
            job.attempt,
        )

    def _path(self, key: JobKey) -> Path | None:
        return None if self._cache_dir is None else self._cache_dir / f"{key.digest}.pickle"

    def _read_disk(self, key: JobKey) -> Any:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                stored_key, result = pickle.load(fh)
        except Exception:  # a damaged cache file is recomputed, not trusted
            return None
        return result if stored_key == key else None

    def _write_disk(self, key: JobKey, result: Any) -> None:
        path = self._path(key)
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        try:
            with tmp.open("wb") as fh:
                pickle.dump((key, result), fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            tmp.unlink(missing_ok=True)
            return
        prune_files(path.parent, "*.pickle", keep=self._cache_files)


def prune_files(
    directory: Path, pattern: str, *, keep: int, max_age: float | None = None
) -> list[Path]:
    """Remove all but the ``keep`` newest files matching ``pattern`` (and, with ``max_age``
    seconds, every one older than that); returns the removed paths.

    Takes no lock: two prunes at once at worst unlink a file twice.
    """
    dated = []
    for path in directory.glob(pattern):
        with contextlib.suppress(FileNotFoundError):
            dated.append((path.stat().st_mtime, path))
    dated.sort(reverse=True)
    now = time.time()
    removed = []
    for i, (mtime, path) in enumerate(dated):
        if i >= keep or (max_age is not None and now - mtime > max_age):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class Deferred:
    """A job as data, so that it can go to another process: ``make_job(read_sessions, scope,
    as_of, **kwargs)`` gives the callable that computes it.

    Called in this process it runs as that callable. Pickled (for the shared queue) it keeps the
    factory (a module-level function, pickled by name), the scope as literal SQL in the
    database's dialect, the day and the keyword arguments; the worker that unpickles it
    binds its own session factory to it (:meth:`bind`).
    """

    def __init__(
        self,
        make_job: Callable[..., Callable[[Progress], Any]],
        read_sessions: Any,
        scope: Any,
        as_of: Any,
        **kwargs: Any,
    ) -> None:
        self.make_job = make_job
        self.read_sessions = read_sessions
        self.scope = scope
        self.as_of = as_of
        self.kwargs = kwargs

    def __call__(self, progress: Progress) -> Any:
        return self.make_job(self.read_sessions, self.scope, self.as_of, **self.kwargs)(progress)

    def bind(self, read_sessions: Any) -> Deferred:
        """This job with ``read_sessions`` as its session factory."""
        return Deferred(self.make_job, read_sessions, self.scope, self.as_of, **self.kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_deferred, (self.make_job, scope_sql(self.scope, self.read_sessions), self.as_of,
                            self.kwargs))  # fmt: skip

    def __repr__(self) -> str:
        name = getattr(self.make_job, "__qualname__", self.make_job)
        return f"Deferred({name}, as_of={self.as_of}, {self.kwargs})"


def scope_sql(scope: Any, read_sessions: Any = None) -> str:
    """The SELECT of trajectory ids as SQL with its values inlined, in the database's dialect."""
    bind = getattr(read_sessions, "kw", {}).get("bind") if read_sessions is not None else None
    dialect = bind.dialect if bind is not None else None
    return str(scope.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _deferred(make_job: Callable[..., Any], sql: str, as_of: Any, kwargs: dict) -> Deferred:
    from sqlalchemy import Integer, column, select, text

    from study.models import Trajectory

    scope = select(Trajectory.id).where(Trajectory.id.in_(text(sql).columns(column("id", Integer))))
    return Deferred(make_job, None, scope, as_of, **kwargs)


class ChildFailed(Exception):
    """A job that failed (or died) in its child process; ``detail`` holds its traceback."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class JobTimedOut(ChildFailed):
    """A job stopped because it ran longer than its time limit (``limit`` seconds)."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"stopped after its time limit of {limit:g} s")
        self.limit = limit


# what a child keeps of its parent's connection pools: referenced, so never closed from here
_INHERITED_POOLS: list[object] = []


def _child_main(fn: Callable[[Progress], Any], pipe: Any, engines: Sequence[Engine]) -> None:
    """The forked child: fresh connection pools, run the job, send progress and the result."""
    _die_with_parent()
    for engine in engines:
        # the parent's connections (and their sockets) stay the parent's: kept, not closed
        _INHERITED_POOLS.append(engine.pool)
        engine.dispose(close=False)

    def progress(fraction: float, message: str = "", partial: Any = None) -> None:
        pipe.send(("progress", (fraction, message, partial)))

    try:
        pipe.send(("done", fn(progress)))
    except BaseException as exc:  # everything goes back to the parent, which reports it
        pipe.send(("failed", (f"{type(exc).__name__}: {exc}", traceback.format_exc())))
    finally:
        pipe.close()
        # no clean-up of the parent's objects (atexit handlers, finalizers) in the child
        os._exit(0)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this child when its parent dies (e.g. a worker's kill -9)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: the child ends when it next writes the pipe
        pass


#: how long the parent waits for a message before it looks at the clock (and ``tick``) again
POLL_SECONDS = 0.5


def _run_in_child(
    fn: Callable[[Progress], Any],
    progress: Progress,
    engines: Sequence[Engine],
    *,
    timeout: float | None = None,
    tick: Callable[[], None] | None = None,
) -> Any:
    """Run ``fn`` in a forked child process; relay its progress; return its result.

    A child that sends nothing and does not finish within ``timeout`` seconds is killed
    (:class:`JobTimedOut`), so a hung child never holds a job slot for ever. ``tick`` is called
    about every :data:`POLL_SECONDS` while the child runs (a queue worker's heartbeat).
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(fn, send, engines), daemon=True)
    with forking():
        child.start()
    send.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                child.kill()
                raise JobTimedOut(float(timeout))  # type: ignore[arg-type]
            if tick is not None:
                tick()
            if not receive.poll(POLL_SECONDS):
                continue
            try:
                kind, payload = receive.recv()
            except EOFError:
                child.join(timeout=10)
                raise ChildFailed(
                    f"the computation stopped unexpectedly (exit code {child.exitcode})"
                ) from None
            if kind == "progress":
                progress(*payload)
            elif kind == "done":
                return payload
            else:
                raise ChildFailed(*payload)
    finally:
        receive.close()
        child.join(timeout=10)
        if child.is_alive():  # it sent its answer but does not exit: it must not linger
            child.kill()
            child.join(timeout=10)


def get_runner() -> JobRunner:
    """The application's job runner (``server.extensions["klik_jobs"]``).

    When the application factory did not create one, a runner with default settings is made on
    first use and kept on the application.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = app.extensions.get(EXTENSION)
    if runner is None:
        with _create_lock:
            runner = app.extensions.get(EXTENSION)
            if runner is None:
                runner = JobRunner()
                app.extensions[EXTENSION] = runner
    return runner


_create_lock = threading.Lock()
