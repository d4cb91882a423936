"""Jobs on the shared Huey queue: one computation per key over several runners (processes),
progress and partial results, time limits, a lost worker's job started again, results kept."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.analysis_page import progress_line
from dashboard.job_queue import QueueRunner, Record, Worker, embedded_consumer, make_huey
from dashboard.jobs import DONE, FAILED, PROCESS, RUNNING, Deferred, JobKey, JobRunner
from tests.queue_support import queue_name, require_redis


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return require_redis()


@pytest.fixture
def name() -> Iterator[str]:
    yield queue_name()


def _runner(url: str, name: str, **kw: object) -> QueueRunner:
    return QueueRunner(make_huey(url, name), **kw)  # type: ignore[arg-type]


@pytest.fixture
def worker(queue_url: str, name: str) -> Iterator[Worker]:
    huey = make_huey(queue_url, name)
    worker = Worker(huey, read_sessions=None, lease=2.0, time_limits={"slow": 1.5})  # type: ignore[arg-type]
    stop = embedded_consumer(worker, 2)
    yield worker
    stop()
    huey.storage.flush_all()


# jobs as the pages make them: module-level factories wrapped in Deferred


def counting_job(read_sessions, scope, as_of, *, marker: str, pause: float = 0.0):
    def run(progress):
        progress(0.5, "halfway", partial={"first": 1})
        time.sleep(pause)
        with open(marker, "a") as fh:  # one line per computation, whichever process did it
            fh.write("x\n")
        return {"answer": 42}

    return run


def sleeping_job(read_sessions, scope, as_of, *, seconds: float):
    def run(progress):
        progress(0.1, "sleeping")
        time.sleep(seconds)
        return "woke"

    return run


def _deferred(factory, **kw):
    return Deferred(factory, None, _Scope(), None, **kw)


class _Scope:
    """Stands in for a SELECT of trajectory ids (these jobs read no database)."""

    def compile(self, **_kw):
        return "SELECT 1 AS id"


def test_two_runners_share_one_computation_its_progress_and_result(
    worker: Worker, queue_url: str, name: str, tmp_path: Path
) -> None:
    a, b = _runner(queue_url, name), _runner(queue_url, name)
    marker = tmp_path / "computed.txt"
    key = JobKey.make("v1", "scope", "answer")
    job = _deferred(counting_job, marker=str(marker), pause=1.0)
    first = a.submit(key, job)
    assert first.state in ("queued", RUNNING)
    # B asks for the same key while it runs: it sees A's job, and starts nothing
    seen = [b.submit(key, job) for _ in range(5)]
    assert all(s.attempt == 1 for s in seen)
    # the partial result is there for B while A's job still runs
    deadline = time.monotonic() + 20
    running = b.wait(key, 0.2)
    while running.partial is None and not running.done and time.monotonic() < deadline:
        running = b.wait(key, 0.2)
    assert running.partial == {"first": 1}, running
    done = b.wait(key, 30)
    assert done.state == DONE and done.result == {"answer": 42}, done.error
    assert a.status(key).result == {"answer": 42}
    assert b.find(key.digest).state == DONE
    assert a.latest(JobKey.make("v0", "scope", "answer")).key == key  # the newest of the selection
    assert marker.read_text() == "x\n" and a.computed == 1
    # a new runner (a restarted process) gets the result from the store without computing
    fresh = _runner(queue_url, name)
    again = fresh.submit(key, _deferred(counting_job, marker=str(marker)))
    assert again.state == DONE and again.result == {"answer": 42}
    assert marker.read_text() == "x\n"


def test_the_store_keeps_two_data_versions_of_a_selection(
    worker: Worker, queue_url: str, name: str, tmp_path: Path
) -> None:
    # a live study gets a new data version with every answer: without pruning every version
    # of every selection would stay in Redis for ever
    runner = _runner(queue_url, name)
    marker = tmp_path / "computed.txt"
    keys = [JobKey.make(f"v{i}", "scope", "answer") for i in range(12)]
    other = JobKey.make("v0", "scope", "other")
    assert runner.wait(other, 0) is None
    runner.submit(other, _deferred(counting_job, marker=str(marker)))
    assert runner.wait(other, 30).state == DONE
    for key in keys:
        runner.submit(key, _deferred(counting_job, marker=str(marker)))
        assert runner.wait(key, 30).state == DONE
    fresh = _runner(queue_url, name)  # another process: nothing from this one's memory
    kept = [k.version for k in keys if fresh.store.get(k.digest) is not None]
    assert kept == ["v10", "v11"]
    claims = [k for k in keys if fresh.huey.storage.has_data_for_key(f"klik:claim:{k.digest}:1")]
    assert [k.version for k in claims] == ["v10", "v11"]
    # another selection is not touched, and the newest is what a page follows
    assert fresh.status(other).result == {"answer": 42}
    assert fresh.latest(keys[0]).key == keys[-1]
    assert marker.read_text().count("x") == 13


def test_a_job_over_its_time_limit_is_stopped_and_the_page_says_so(
    worker: Worker, queue_url: str, name: str
) -> None:
    runner = _runner(queue_url, name)
    key = JobKey.make("v1", "scope", "slow")
    runner.submit(key, _deferred(sleeping_job, seconds=60))
    status = runner.wait(key, 30)
    assert status.state == FAILED and status.stopped == 1.5, status
    text = str(progress_line(status, "nl").children)
    assert "gestopt" in text and "1.5 seconden" in text


def test_a_job_whose_worker_went_silent_is_started_again(
    worker: Worker, queue_url: str, name: str, tmp_path: Path
) -> None:
    """A RUNNING record whose lease ran out (its worker was killed) is claimed again by the next
    look, and a worker finishes it; the dead worker's attempt can no longer write."""
    runner = _runner(queue_url, name, lease=2.0)
    marker = tmp_path / "computed.txt"
    key = JobKey.make("v1", "scope", "answer")
    job = _deferred(counting_job, marker=str(marker))
    from dashboard.jobs import JobStatus

    lost = JobStatus(key, RUNNING, 0.3, "halfway", submitted=time.time() - 60, attempt=1)
    runner.store.put(key.digest, Record(lost, pickle.dumps(job), beat=time.time() - 30, worker="x"))
    runner.store.claim(key.digest, 1)
    status = runner.wait(key, 30)
    assert status.state == DONE and status.attempt == 2, status
    assert marker.read_text() == "x\n"


def test_a_job_that_cannot_go_to_another_process_is_refused(queue_url: str, name: str) -> None:
    runner = _runner(queue_url, name)
    with pytest.raises(TypeError, match="picklable"):
        runner.submit(JobKey.make("v", "s", "closure"), lambda progress: 1)


def test_a_hung_child_is_killed_at_its_time_limit() -> None:
    """The wait on a forked child has a timeout: a hung job frees its slot."""
    runner = JobRunner(max_workers=1, isolation=PROCESS, time_limits={"hang": 1.0})
    key = JobKey.make("v", "scope", "hang")
    runner.submit(key, lambda progress: time.sleep(3600))
    status = runner.wait(key, 30)
    assert status.state == FAILED and status.stopped == 1.0
    # the slot is free again
    other = JobKey.make("v", "scope", "next")
    runner.submit(other, lambda progress: "free")
    assert runner.wait(other, 30).result == "free"
    runner.shutdown()


def test_a_deferred_job_carries_its_scope_as_sql(any_db) -> None:
    """Pickled, a Deferred keeps the scope as SQL in the database's dialect; bound in the worker
    it selects the same trajectories."""
    from sqlalchemy import select

    from study.access import trajectory_scope

    scope = trajectory_scope(1)
    deferred = Deferred(scope_ids_job, any_db.read_sessions, scope, None)
    restored = pickle.loads(pickle.dumps(deferred)).bind(any_db.read_sessions)
    with any_db.read_sessions() as s:
        assert list(s.scalars(restored.scope)) == list(s.scalars(select(scope.subquery())))
    assert restored(lambda *a, **k: None) == deferred(lambda *a, **k: None)


def scope_ids_job(read_sessions, scope, as_of):
    def run(progress):
        with read_sessions() as s:
            return sorted(s.scalars(scope))

    return run


def test_the_sqlite_queue_talks_to_sqlite_through_the_fork_gate(tmp_path: Path) -> None:
    """The web process forks job children while its consumer threads poll the queue; a queue
    connection outside the gate could be copied holding a SQLite mutex."""
    from study.fork_gate import GATE, GatedConnection

    huey = make_huey(f"sqlite:///{tmp_path / 'jobs.sqlite3'}", queue_name())
    connection = huey.storage.conn
    assert isinstance(connection, GatedConnection)
    huey.enqueue(huey.klik_run_job.s("digest", 1))  # type: ignore[attr-defined]
    with GATE.exclusive():
        # a forking thread holds the gate: the queue waits instead of reading past it
        import threading

        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(huey.pending_count()))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and seen == []
    reader.join(10)
    assert seen == [1]
