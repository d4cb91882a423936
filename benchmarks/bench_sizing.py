"""Sizing figures for the team set-up: memory per process, job memory, and users per web process.

Run ``python -m benchmarks.bench_sizing --trajectories 3000 [--queue-url redis://...]``. The
cohort is built once with the simulator into ``--cache`` (as ``bench_dashboard`` does). Then
real processes start on loopback: ``--web`` web processes (``klik serve --no-scheduler``) and,
with ``--queue-url``, ``--workers`` ``klik worker`` processes; without it each web process
consumes the embedded SQLite queue itself. Measured side by side in one run:

* resident memory (RSS, MiB) of each process when idle and after the monitor, survival and the
  wide CSV export were computed, and the peak RSS of the job children (sampled every 0.05 s);
* seconds until each of those jobs is done (first time, on data it has not seen);
* ``--users`` users at once (threads, each logged in) asking the monitor's computed answer in
  turn from every web process for ``--seconds``: answers per second and the p50/p95 latency.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

PASSWORD = "benchmark password"
MONITOR = ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")
MONITOR_OUTPUTS = [("monitor-content", "children"), ("monitor-status", "children"),
                   ("monitor-poll", "disabled")]  # fmt: skip
SURVIVAL_OUTPUTS = [("survival-km", "figure"), ("survival-logrank", "children"),
                    ("survival-cox", "children"), ("survival-tv", "children"),
                    ("survival-status", "children"), ("survival-poll", "disabled")]  # fmt: skip


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (jobs are forked from worker threads)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class ChildPeak:
    """The largest RSS of any child of ``pids`` while it runs (a forked job)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids, self.peak = pids, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for pid in self.pids:
                for child in _children(pid):
                    self.peak = max(self.peak, _rss_mib(child))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _klik(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    out = open(cwd / f"klik-{len(list(cwd.glob('klik-*.out')))}.out", "wb")  # noqa: SIM115
    klik = str(Path(sys.executable).with_name("klik"))
    return subprocess.Popen([klik, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        time.sleep(0.1)
    raise TimeoutError(what)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _login(base: str, name: str = "bench-researcher") -> requests.Session:
    http = requests.Session()
    http.headers["Origin"] = base
    resp = http.post(f"{base}/login", data={"username": name, "password": PASSWORD},
                     allow_redirects=False, timeout=30)  # fmt: skip
    if resp.status_code != 302:
        raise RuntimeError(f"login failed: {resp.status_code}")
    http.get(f"{base}/monitor", timeout=60)  # the CSRF cookie
    return http


def _callback(http: requests.Session, base: str, outputs, inputs, poll: str | None) -> dict:
    if poll is not None:
        inputs = [*inputs, (poll, "n_intervals", 1)]
    body = {
        "output": "..{}..".format("...".join(f"{i}.{p}" for i, p in outputs)),
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{poll}.n_intervals" if poll else f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [],
    }
    headers = {"X-CSRFToken": http.cookies.get("_csrf_token", "")}
    resp = http.post(f"{base}/_dash-update-component", json=body, headers=headers, timeout=600)
    resp.raise_for_status()
    return resp.json()["response"]


def _until_done(http, base, outputs, inputs, poll: str, timeout: float = 1800) -> float:
    began = time.perf_counter()
    answer = _callback(http, base, outputs, [*inputs, (poll, "n_intervals", None)], None)
    while not answer.get(poll, {}).get("disabled", True):
        if time.perf_counter() - began > timeout:
            raise TimeoutError(poll)
        time.sleep(0.25)
        answer = _callback(http, base, outputs, inputs, poll)
    return time.perf_counter() - began


def _monitor_inputs() -> list[tuple[str, str, Any]]:
    return [(i, "value", None) for i in MONITOR]


def _export_s(http: requests.Session, base: str) -> float:
    began = time.perf_counter()
    url = f"{base}/export/csv_wide"
    while True:
        resp = http.get(url, timeout=600, allow_redirects=False)
        if resp.status_code == 200 and resp.headers.get("content-type", "").startswith("text/csv"):
            return time.perf_counter() - began
        if resp.status_code not in (200, 202):
            raise RuntimeError(f"export: {resp.status_code}")
        time.sleep(0.25)


def _users(bases: list[str], users: int, seconds: float) -> dict[str, float]:
    sessions = [(_login(bases[i % len(bases)]), bases[i % len(bases)]) for i in range(users)]
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def user(http: requests.Session, base: str) -> None:
        while time.perf_counter() < stop:
            began = time.perf_counter()
            _callback(http, base, MONITOR_OUTPUTS, _monitor_inputs(), "monitor-poll")
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=user, args=pair) for pair in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "answers_per_s": round(len(latencies) / seconds, 1),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
    }


def run(
    database: Path, *, web: int, workers: int, queue_url: str | None, users: int, seconds: float
) -> dict[str, Any]:
    """Start the processes on ``database`` and measure them (see the module's notes)."""
    from benchmarks.bench_dashboard import _ensure_users
    from klik.settings import Settings
    from klik.wiring import build

    container = build(Settings(database_url=f"sqlite:///{database}", secret_key="b" * 64))
    _ensure_users(container)
    container.dispose()
    cwd = Path(tempfile.mkdtemp(prefix="klik-sizing-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIK_")}
    env.update(KLIK_DATABASE_URL=f"sqlite:///{database}", KLIK_SECRET_KEY="b" * 64,
               KLIK_BASE_URL="http://127.0.0.1", KLIK_DATA_DIR=str(cwd),
               KLIK_QUEUE_NAME=f"sizing-{os.getpid()}")  # fmt: skip
    if queue_url:
        env["KLIK_QUEUE_URL"] = queue_url
    processes: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for _ in range(web):
            port = _free_port()
            processes.append(_klik(["serve", "--no-scheduler", "--port", str(port)], env, cwd))
            bases.append(f"http://127.0.0.1:{port}")
        job_hosts = list(processes)
        if queue_url:
            job_hosts = [_klik(["worker", "--workers", "1"], env, cwd) for _ in range(workers)]
            processes.extend(job_hosts)
        for base in bases:
            _wait(lambda b=base: _up(b), 120, base)
        time.sleep(2)
        idle = [round(_rss_mib(p.pid), 1) for p in processes]
        http = _login(bases[0])
        peak = ChildPeak([p.pid for p in job_hosts])
        jobs = {
            "monitor_s": _until_done(http, bases[0], MONITOR_OUTPUTS, _monitor_inputs(),
                                     "monitor-poll"),
            "survival_s": _until_done(_login(bases[-1]), bases[-1], SURVIVAL_OUTPUTS,
                                      [("survival-stratify", "value", "klik"),
                                       ("survival-coach-types", "value", None),
                                       ("survival-methods", "value", None)], "survival-poll"),
            "export_wide_s": _export_s(http, bases[0]),
        }  # fmt: skip
        job_peak = peak.stop()
        busy = [round(_rss_mib(p.pid), 1) for p in processes]
        load = _users(bases, users, seconds)
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return {
        "web_processes": web,
        "workers": workers if queue_url else 0,
        "queue": "redis" if queue_url and queue_url.startswith("redis") else "embedded sqlite",
        "rss_idle_mib": idle,
        "rss_after_jobs_mib": busy,
        "job_child_peak_mib": round(job_peak, 1),
        **{k: round(v, 2) for k, v in jobs.items()},
        "users": users,
        **load,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=3000)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--database", type=Path, help="an existing study database instead")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue-url", default=None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    database = args.database
    if database is None:
        from benchmarks.bench_dashboard import _ensure_cohort

        args.cache.mkdir(parents=True, exist_ok=True)
        database = args.cache / f"dashboard_{args.trajectories}.db"
        _ensure_cohort(args.trajectories, database)
    figures = run(database.resolve(), web=args.web, workers=args.workers,
                  queue_url=args.queue_url, users=args.users, seconds=args.seconds)  # fmt: skip
    print(json.dumps({"trajectories": args.trajectories, **figures}))


if __name__ == "__main__":
    main()
