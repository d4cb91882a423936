"""Jobs run in child processes, so a computation that holds Python's interpreter lock for
seconds slows no other user's request; on a thread of the web process it would."""

from __future__ import annotations

import random
import time

import pytest

from dashboard.jobs import DONE, FAILED, PROCESS, THREAD, JobKey, JobRunner
from tests.dashboard.conftest import Env


def _lock_holding_job(progress):
    # sorting a list of Python ints runs in C without releasing the interpreter lock
    numbers = list(range(4_000_000))
    random.Random(1).shuffle(numbers)
    progress(0.5, "sorting")
    started = time.perf_counter()
    numbers.sort()
    return time.perf_counter() - started


def _slowest_health_while(env: Env, runner: JobRunner) -> tuple[float, float]:
    """Ask ``/health`` over and over while the job runs: the longest gap, the sort's time."""
    env.app.extensions["klik_jobs"] = runner
    client = env.client()
    key = JobKey.make("v", "scope", "sort")
    runner.submit(key, _lock_holding_job)
    # the longest wait between two answers: a request cannot even start while the lock is held
    slowest, last = 0.0, time.perf_counter()
    while not runner.status(key).done:
        assert client.get("/health").status_code == 200
        now = time.perf_counter()
        slowest, last = max(slowest, now - last), now
        time.sleep(0.02)
    status = runner.status(key)
    assert status.state == DONE, status.error
    return slowest, status.result


def test_a_job_in_a_child_process_does_not_slow_other_requests(env: Env) -> None:
    slowest, sorting = _slowest_health_while(env, JobRunner(isolation=PROCESS))
    assert sorting > 0.5 and slowest < 0.3, (slowest, sorting)


def test_the_same_job_on_a_thread_would(env: Env) -> None:
    """The reason for child processes: on a thread the sort holds every request back."""
    slowest, sorting = _slowest_health_while(env, JobRunner(isolation=THREAD))
    assert slowest > 0.5 * sorting, (slowest, sorting)


def test_a_failing_or_dying_child_is_reported() -> None:
    runner = JobRunner(isolation=PROCESS)

    def fails(progress):
        raise ValueError("no data in this selection")

    def dies(progress):
        import os

        os._exit(3)

    for name, fn, message in (
        ("fails", fails, "ValueError: no data in this selection"),
        ("dies", dies, "exit code 3"),
    ):
        key = JobKey.make("v", "scope", name)
        runner.submit(key, fn)
        status = runner.wait(key, 30)
        assert status.state == FAILED and message in status.error


def test_progress_and_result_come_back_from_the_child() -> None:
    runner = JobRunner(isolation=PROCESS)
    seen = []

    def job(progress):
        progress(0.4, "halfway", partial={"first": 1})
        return {"answer": 42}

    key = JobKey.make("v", "scope", "answer")
    runner.submit(key, job)
    status = runner.wait(key, 30)
    seen.append(status.partial)
    assert status.state == DONE and status.result == {"answer": 42}
    assert seen == [{"first": 1}]


def test_process_isolation_is_refused_without_fork(monkeypatch) -> None:
    import os

    monkeypatch.delattr(os, "fork")
    with pytest.raises(ValueError, match="fork"):
        JobRunner(isolation=PROCESS)


def test_a_child_uses_its_own_connections_and_leaves_the_parents_alone(any_db) -> None:
    from sqlalchemy import func, select, text

    from study.models import Study

    def count_studies(progress):
        with any_db.read_sessions() as session:
            return session.scalar(select(func.count()).select_from(Study))

    runner = JobRunner(isolation=PROCESS, engines=[any_db.engine])
    with any_db.read_sessions() as held:  # a request of the parent, in progress at the fork
        assert held.execute(text("SELECT 1")).scalar() == 1
        for name in ("first", "second"):
            key = JobKey.make("v", "scope", name)
            runner.submit(key, count_studies)
            status = runner.wait(key, 60)
            assert status.state == DONE and status.result == 0, status.error
        # the parent's open connection still answers, and new ones work too
        assert held.execute(text("SELECT 2")).scalar() == 2
    with any_db.read_sessions() as fresh:
        assert fresh.execute(text("SELECT 3")).scalar() == 3
