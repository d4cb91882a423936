"""``klik serve --workers N``: several web processes under one gunicorn master, on one port.

A login made through one worker holds on every other (one persistent secret, sessions in signed
cookies); a worker killed with -9 is replaced and the site keeps answering.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from tests.conftest import Database
from tests.process_support import (
    child_database_url,
    free_port,
    klik_env,
    simulated_study,
    start_klik,
    wait_for,
)

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS")


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
    simulated_study(db, n_trajectories=12, n_coaches=3, months=3, seed=3, password=PASSWORD)
    port = free_port()
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
    process = start_klik(["serve", "--workers", "2", "--port", str(free_port())], env, tmp_path)
    assert process.wait(timeout=60) == 2
    out = next(tmp_path.glob("klik-*.out")).read_text()
    assert "--no-scheduler" in out and "klik scheduler" in out
