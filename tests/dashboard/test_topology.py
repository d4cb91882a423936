"""The team topology, as real processes: two ``klik serve`` on different loopback ports and two
``klik worker``, on PostgreSQL, with one export folder; the queue on Redis (several machines)
and, the same tests again, on a SQLite queue file (one machine, no server but the database).

Shown: an export asked on web process A is computed once (by one worker) and seen, then
downloaded, on B, every download audited; the monitor asked on A is computed once and shown on
B; after every process is stopped and new ones started, nothing is computed again; failed
logins alternating between A and B add up to one back-off; a worker killed with SIGKILL in the
middle of a job leaves it to the other worker, which finishes it once its lease has run out.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from dashboard.analysis_page import progress_line
from dashboard.job_queue import QueueRunner, make_huey
from dashboard.jobs import DONE, FAILED, RUNNING, Deferred, JobKey
from study.models import AuditEvent, SchedulerLease, Study
from study.services.users import add_user
from study.throttles import LOGIN_PAIR
from tests.conftest import Database, _postgres_database
from tests.process_support import (
    child_database_url,
    free_port,
    kill9,
    klik_env,
    simulated_study,
    start_klik,
    wait_for,
)
from tests.queue_support import queue_name, require_redis

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PASSWORD = "correct horse battery"
LEASE = 3.0
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Topology:
    web: list[str]
    workers: list[subprocess.Popen[bytes]]
    env: dict[str, str]
    db: Database
    cwd: Path
    queue_url: str
    queue_name: str
    processes: list[subprocess.Popen[bytes]]

    def outputs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.cwd.glob("klik-*.out")))

    def start(self) -> None:
        """Two web processes on new ports and two workers, once they all answer."""
        self.web.clear()
        self.workers.clear()
        workers_before = self.outputs().count("Klik worker")
        for _ in range(2):
            port = free_port()
            self.processes.append(start_klik(["serve", "--no-scheduler", "--port", str(port)],
                                             self.env, self.cwd))  # fmt: skip
            self.web.append(f"http://127.0.0.1:{port}")
        for _ in range(2):
            self.workers.append(start_klik(["worker", "--workers", "1"], self.env, self.cwd))
        self.processes.extend(self.workers)
        for base in self.web:
            wait_for(lambda b=base: _answers(b), 90, f"{base}/health")
        wait_for(lambda: self.outputs().count("Klik worker") == workers_before + 2, 60,
                 "two workers")  # fmt: skip

    def stop(self) -> None:
        """Every process, asked to stop, killed when it does not."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill9(process)


@pytest.fixture(scope="module", params=["redis", "sqlite"])
def topology(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_reason: str | None,
) -> Iterator[Topology]:
    """The processes, started once per queue for this module's tests (one kills a worker, the
    last adds the scheduler): on Redis, as for several machines, and on a SQLite queue file, as on one machine
    without any server but the database."""
    tmp_path = tmp_path_factory.mktemp("topology")
    url = require_redis() if request.param == "redis" else f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    for db in _postgres_database(postgres_reason):
        simulated_study(db, n_trajectories=40, n_coaches=8, months=6, seed=5, password=PASSWORD)
        name = queue_name()
        env = klik_env(
            database_url=child_database_url(db),
            queue_url=url,
            queue_name=name,
            export_dir=tmp_path / "shared-exports",
            job_lease_seconds=LEASE,
            access_log="-",
        )
        # the workers import the slow job of this module
        env["PYTHONPATH"] = str(REPO)
        env["KLIK_JOB_TIME_LIMITS"] = f"overrun={OVERRUN_LIMIT}"
        topology = Topology([], [], env, db, tmp_path, url, name, [])
        try:
            topology.start()
            yield topology
        finally:
            topology.stop()
            make_huey(url, name).storage.flush_all()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _login(base: str) -> requests.Session:
    http = requests.Session()
    http.headers["Origin"] = base
    resp = http.post(f"{base}/login", data={"username": "onderzoeker", "password": PASSWORD},
                     allow_redirects=False, timeout=30)  # fmt: skip
    assert resp.status_code == 302, resp.text
    return http


def _computations(t: Topology, analysis: str) -> int:
    return t.outputs().count(f"({analysis}) attempt 1 done") + t.outputs().count(
        f"({analysis}) attempt 2 done"
    )


def test_a_job_asked_on_a_is_computed_once_and_downloads_from_b(topology: Topology) -> None:
    a, b = topology.web
    on_a, on_b = _login(a), _login(b)
    first = on_a.get(f"{a}/export/csv_long", timeout=60)
    assert first.status_code in (200, 202), first.text
    # B, asked for the same export (polls alternating between the processes), starts nothing new
    answers = []

    def ready() -> requests.Response | None:
        for http, base in ((on_b, b), (on_a, a)):
            resp = http.get(f"{base}/export/csv_long", timeout=60)
            answers.append(resp.status_code)
            if resp.status_code == 200:
                return resp
        return None

    done = wait_for(ready, 120, "the export", every=0.3)
    assert done.headers["Content-Disposition"].startswith("attachment")
    from_b = on_b.get(f"{b}/export/csv_long", timeout=60)
    assert from_b.status_code == 200 and from_b.content == done.content
    assert _computations(topology, "export") == 1, topology.outputs()
    # the file sits in the shared folder, which both processes serve from
    files = list((topology.cwd / "shared-exports").glob("export-*"))
    assert len(files) == 1 and files[0].read_bytes() == done.content
    with topology.db.read_sessions() as s:
        audited = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
        )
    downloads = [first.status_code, *answers, from_b.status_code].count(200)
    assert audited == downloads >= 2  # one record per download, whichever process served it


MONITOR_OUTPUTS = [("monitor-content", "children"), ("monitor-status", "children"),
                   ("monitor-poll", "disabled")]  # fmt: skip
MONITOR_INPUTS = ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")


def _monitor(http: requests.Session, base: str, methods: list[str], poll: bool) -> dict:
    """Post the monitor's callback as the page does (by its selection, or by its poll)."""
    values = [None, None, methods, None]
    inputs = [{"id": i, "property": "value", "value": v}
              for i, v in zip(MONITOR_INPUTS, values, strict=True)]  # fmt: skip
    inputs.append({"id": "monitor-poll", "property": "n_intervals", "value": 1 if poll else None})
    trigger = "monitor-poll.n_intervals" if poll else "monitor-method.value"
    body = {
        "output": "..{}..".format("...".join(f"{i}.{p}" for i, p in MONITOR_OUTPUTS)),
        "outputs": [{"id": i, "property": p} for i, p in MONITOR_OUTPUTS],
        "inputs": inputs,
        "changedPropIds": [trigger],
        "state": [],
    }
    headers = {"X-CSRFToken": http.cookies.get("_csrf_token", "")}
    resp = http.post(f"{base}/_dash-update-component", json=body, headers=headers, timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()["response"]


def test_an_analysis_asked_on_a_is_computed_once_and_shown_on_b(topology: Topology) -> None:
    """The monitor's callback, its selection sent to a worker as SQL, polled on both processes."""
    a, b = topology.web
    on_a, on_b = _login(a), _login(b)
    on_a.get(f"{a}/monitor", timeout=60)  # the page sets the CSRF cookie
    on_b.get(f"{b}/monitor", timeout=60)
    _monitor(on_a, a, ["ips"], poll=False)

    def shown() -> dict | None:
        for http, base in ((on_b, b), (on_a, a)):
            answer = _monitor(http, base, ["ips"], poll=True)
            if answer["monitor-poll"]["disabled"] and "monitor-content" in answer:
                return answer
        return None

    first = wait_for(shown, 120, "the monitor", every=0.3)
    again = _monitor(on_b, b, ["ips"], poll=False)
    assert again["monitor-content"] == first["monitor-content"]
    assert _computations(topology, "monitor") == 1, topology.outputs()


def test_restarting_every_process_recomputes_nothing(topology: Topology) -> None:
    """After the export and the monitor were computed, every process stops and new ones start
    (new ports): both answers come from the shared store, none is computed again."""

    def ask_both() -> None:
        a, b = topology.web
        on_a, on_b = _login(a), _login(b)
        assert on_b.get(f"{b}/export/csv_long", timeout=60).status_code == 200
        on_a.get(f"{a}/monitor", timeout=60)
        first = _monitor(on_a, a, ["ips"], poll=False)
        answer = (
            first if first["monitor-poll"]["disabled"] else _monitor(on_a, a, ["ips"], poll=True)
        )
        assert answer["monitor-poll"]["disabled"] and "monitor-content" in answer

    # asked here too, so the test does not depend on the module's earlier tests having run
    ask_both()
    before = {kind: _computations(topology, kind) for kind in ("export", "monitor")}
    assert before == {"export": 1, "monitor": 1}, topology.outputs()
    topology.stop()
    topology.start()
    ask_both()
    assert {kind: _computations(topology, kind) for kind in ("export", "monitor")} == before


def test_failed_logins_count_across_both_processes(topology: Topology) -> None:
    """Guesses alternating between A and B add up: the store of the counts is the database."""
    a, b = topology.web
    at = dt.datetime.now(dt.UTC)
    with topology.db.sessions.begin() as s:
        study_id = s.scalar(select(Study.id))
        add_user(s, study_id, "gast", PASSWORD, "viewer", display_name="Gast", actor="test", at=at)

    def attempt(base: str, password: str) -> requests.Response:
        return requests.post(f"{base}/login", data={"username": "gast", "password": password},
                             headers={"Origin": base}, allow_redirects=False, timeout=30)  # fmt: skip

    for i in range(LOGIN_PAIR.free):
        resp = attempt(a if i % 2 == 0 else b, f"wrong {i}")
        assert resp.status_code != 302 and "Retry-After" not in resp.headers, (i, resp.status_code)
    held = attempt(a, "wrong again")
    assert held.headers.get("Retry-After") == str(int(LOGIN_PAIR.base.total_seconds()))
    # the other process holds the same address back, even with the right password
    assert attempt(b, PASSWORD).status_code == 429
    assert attempt(a, PASSWORD).status_code == 429


def slow_job(read_sessions, scope, as_of, *, seconds: float, marker: str):
    """A job that runs long enough to kill its worker in the middle (run by the workers)."""

    def run(progress):
        import os

        with open(marker, "a") as fh:
            fh.write(f"{os.getppid()}\n")  # the worker that runs this attempt
        for i in range(int(seconds * 10)):
            progress(i / (seconds * 10), "sleeping")
            time.sleep(0.1)
        return "slept"

    return run


class _NoScope:
    def compile(self, **_kw):
        return "SELECT 1 AS id"


#: the time limit the workers are given for the job kind "overrun" (seconds)
OVERRUN_LIMIT = 2


def test_a_job_over_its_time_limit_is_stopped_by_the_worker_and_the_page_says_so(
    topology: Topology,
) -> None:
    runner = QueueRunner(make_huey(topology.queue_url, topology.queue_name), lease=LEASE)
    marker = topology.cwd / "overrun.txt"
    key = JobKey.make("v1", "scope", "overrun")
    runner.submit(key, Deferred(slow_job, None, _NoScope(), None, seconds=60.0,
                                marker=str(marker)))  # fmt: skip
    status = wait_for(lambda: (s := runner.wait(key, 1.0)) is not None and s.done and s, 60, "stop")
    assert status.state == FAILED and status.stopped == OVERRUN_LIMIT, status
    assert str(OVERRUN_LIMIT) in str(progress_line(status, "nl"))
    # stopped once, not started again on the other worker, and both workers still run
    assert len(marker.read_text().split()) == 1
    assert all(w.poll() is None for w in topology.workers)


def test_a_worker_killed_mid_job_leaves_it_to_the_other(topology: Topology) -> None:
    runner = QueueRunner(make_huey(topology.queue_url, topology.queue_name), lease=LEASE)
    marker = topology.cwd / "attempts.txt"
    key = JobKey.make("v1", "scope", "sleep")
    runner.submit(key, Deferred(slow_job, None, _NoScope(), None, seconds=4.0,
                                marker=str(marker)))  # fmt: skip
    running = wait_for(
        lambda: (s := runner.status(key)) is not None and s.state == RUNNING and s.progress > 0.1,
        60,
        "the job to run",
    )
    assert running
    record = runner.store.get(key.digest)
    pid = int(record.worker.rsplit(":", 1)[1])
    (victim,) = [w for w in topology.workers if w.pid == pid]
    (survivor,) = [w for w in topology.workers if w.pid != pid]
    kill9(victim)
    status = wait_for(
        lambda: (s := runner.wait(key, 1.0)) is not None and s.done and s, 60, "the other worker"
    )
    assert status.state == DONE and status.result == "slept", status
    assert status.attempt == 2
    assert runner.store.get(key.digest).worker.endswith(f":{survivor.pid}")
    # the lease ran out, then the whole job ran again on the other worker (wait_for bounds it)
    assert marker.read_text().split() == [str(victim.pid), str(survivor.pid)]


def test_one_scheduler_beside_the_web_processes_holds_the_tick_lease(topology: Topology) -> None:
    """The web processes run with --no-scheduler; one `klik scheduler` ticks for the study: the
    lease is its own while it runs, and a second one stands by. (Started last: its first tick
    catches the simulated study up to today, which would change the data under the other
    tests.)"""
    first = start_klik(["scheduler"], topology.env, topology.cwd)
    topology.processes.append(first)

    def holder() -> str | None:
        with topology.db.read_sessions() as s:
            return s.scalar(select(SchedulerLease.holder).where(SchedulerLease.name == "tick"))

    wait_for(lambda: (h := holder()) is not None and h.endswith(f":{first.pid}"), 60, "a lease")
    second = start_klik(["scheduler"], topology.env, topology.cwd)
    topology.processes.append(second)
    wait_for(lambda: topology.outputs().count("scheduler running") >= 2, 60, "the stand-by")
    assert holder().endswith(f":{first.pid}")
    assert second.poll() is None  # it waits, it does not tick
