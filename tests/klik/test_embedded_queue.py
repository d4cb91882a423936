"""``klik serve`` alone: the job queue on a SQLite file in the data folder, consumed inside the
web process, so that a crash and a restart recompute nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.job_queue import COMPUTED, make_huey
from tests.conftest import Database
from tests.dashboard.test_topology import PASSWORD, _answers, _login, _monitor
from tests.process_support import (
    child_database_url,
    free_port,
    kill9,
    klik_env,
    simulated_study,
    start_klik,
    wait_for,
)

pytestmark = pytest.mark.slow


def _computed(tmp_path: Path) -> int:
    huey = make_huey(f"sqlite:///{tmp_path / 'klik-cache' / 'jobs.sqlite3'}", "klik")
    return int(huey.storage.incr(COMPUTED, 0))


def _shown(base: str) -> dict:
    http = _login(base)
    http.get(f"{base}/monitor", timeout=60)  # the page sets the CSRF cookie
    first = _monitor(http, base, ["ips"], poll=False)
    if first["monitor-poll"]["disabled"] and "monitor-content" in first:
        return first

    def done() -> dict | None:
        answer = _monitor(http, base, ["ips"], poll=True)
        return (
            answer if answer["monitor-poll"]["disabled"] and "monitor-content" in answer else None
        )

    return wait_for(done, 120, "the monitor", every=0.3)


def test_a_crash_and_a_restart_of_klik_serve_recompute_nothing(
    db: Database, tmp_path: Path
) -> None:
    simulated_study(db, n_trajectories=40, n_coaches=8, months=6, seed=5, password=PASSWORD)
    env = klik_env(database_url=child_database_url(db))
    processes = []
    try:
        for _ in range(2):
            port = free_port()
            server = start_klik(["serve", "--no-scheduler", "--port", str(port)], env, tmp_path)
            processes.append(server)
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda b=base: _answers(b), 90, "klik serve")
            answer = _shown(base)
            if len(processes) == 1:
                shown = answer
                assert _computed(tmp_path) == 1
                kill9(server)  # a crash: no clean shutdown
        assert answer["monitor-content"] == shown["monitor-content"]
        assert _computed(tmp_path) == 1  # read back from the queue's file, not computed again
    finally:
        for process in processes:
            if process.poll() is None:
                kill9(process)
