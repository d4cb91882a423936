"""Jobs run in child processes: failures and deaths are reported, progress and results come
back. (That a child's computation slows no other request is measured in
``benchmarks/bench_job_isolation.py``.)"""

from __future__ import annotations

import pytest

from dashboard.jobs import DONE, FAILED, PROCESS, JobKey, JobRunner


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
