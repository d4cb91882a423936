"""``klik serve --workers N``: several web processes under one gunicorn master, on one port.

A login made through one worker holds on every other (one persistent secret, sessions in signed
cookies); a worker killed with -9 is replaced and the site keeps answering.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
from pathlib import Path

import pytest
import requests

from study.services.users import add_user
from study.simulator.build import build, local_moment
from study.simulator.params import SimulationParams
from tests.conftest import Database
from tests.process_support import SECRET, child_database_url, klik_env, start_klik, wait_for

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
            if int(ppid) == pid:
                found.add(int(entry.name))
    return found


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find the worker processes")
def test_several_workers_share_one_site(db: Database, tmp_path: Path) -> None:
    params = SimulationParams(seed=3, n_trajectories=12, n_coaches=3, months=3,
                              start_date=dt.date(2025, 1, 6))  # fmt: skip
    clock_at = local_moment(params.start_date, 9)
    from study.clock import SimulatedClock

    report = build(db.sessions, params, clock=SimulatedClock(clock_at), secret_key=SECRET)
    with db.sessions.begin() as s:
        add_user(s, report.study_id, "onderzoeker", PASSWORD, "researcher",
                 display_name="Onderzoeker", actor="test", at=clock_at)  # fmt: skip
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = klik_env(database_url=child_database_url(db), access_log="-")
    master = start_klik(["serve", "--no-scheduler", "--workers", "2", "--port", str(port)],
                        env, tmp_path)  # fmt: skip
    try:
        wait_for(lambda: _answers(f"{base}/health/ready"), 60, "klik serve --workers 2")
        workers = wait_for(lambda: len(_children(master.pid)) >= 2 and _children(master.pid),
                           30, "two worker processes")  # fmt: skip
        http = requests.Session()
        http.headers["Origin"] = base
        resp = http.post(f"{base}/login", data={"username": "onderzoeker", "password": PASSWORD},
                         allow_redirects=False, timeout=10)  # fmt: skip
        assert resp.status_code == 302, resp.text[:300]
        # keep-alive would pin one worker: a new connection per request spreads them
        for _ in range(12):
            page = requests.get(f"{base}/monitor", cookies=http.cookies, timeout=10)
            assert page.status_code == 200 and "/login" not in page.url
        # a worker killed mid-flight is replaced; the site answers all the while after
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in _children(master.pid) and len(_children(master.pid)) >= 2,
                 30, "the killed worker replaced")  # fmt: skip
        for _ in range(6):
            assert requests.get(f"{base}/monitor", cookies=http.cookies, timeout=10).ok
        assert requests.get(f"{base}/health/ready", timeout=5).json()["database"] == "ok"
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except Exception:
            master.kill()
            master.wait(timeout=10)


def test_several_workers_refuse_to_run_the_scheduler_in_each(tmp_path: Path) -> None:
    env = klik_env(database_url=f"sqlite:///{tmp_path / 'k.db'}")
    process = start_klik(["serve", "--workers", "2", "--port", str(_free_port())], env, tmp_path)
    assert process.wait(timeout=60) == 2
    out = next(tmp_path.glob("klik-*.out")).read_text()
    assert "--no-scheduler" in out and "klik scheduler" in out
