"""Real ``klik`` commands as child processes, on the test's database, for the fault tests."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import make_url, text

SECRET = "test-secret-key"


def child_database_url(db: object) -> str:
    """The URL a child process reaches the test's database with (its schema on PostgreSQL)."""
    engine = db.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return str(db.url)  # type: ignore[attr-defined]
    with engine.connect() as c:
        schema = c.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(db.url).update_query_dict({"options": f"-csearch_path={schema}"})  # type: ignore[attr-defined]
    return url.render_as_string(hide_password=False)


def klik_env(**settings: object) -> dict[str, str]:
    """The environment of a child ``klik``: this one's, a fixed secret, and ``KLIK_*`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIK_")}
    env["KLIK_SECRET_KEY"] = SECRET
    env["KLIK_BASE_URL"] = "https://klik.example"
    env.update({f"KLIK_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start_klik(args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``klik ARGS`` (this interpreter's) with output to files in ``cwd``."""
    n = len(list(cwd.glob("klik-*.out")))
    out = open(cwd / f"klik-{n}.out", "wb")  # noqa: SIM115 - the child writes it after we return
    return subprocess.Popen(
        [_klik(), *args],
        env=dict(env),
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _klik() -> str:
    return str(Path(sys.executable).with_name("klik"))


def kill9(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, and reap."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def simulated_study(
    db: object,
    *,
    n_trajectories: int,
    n_coaches: int,
    months: int,
    seed: int,
    researcher: str = "onderzoeker",
    password: str = "correct horse battery",
) -> int:
    """A simulated study in the test's database with one researcher login; returns its id."""
    from study.clock import SimulatedClock
    from study.services.users import add_user
    from study.simulator.build import build, local_moment
    from study.simulator.params import SimulationParams

    params = SimulationParams(
        seed=seed,
        n_trajectories=n_trajectories,
        n_coaches=n_coaches,
        months=months,
        start_date=dt.date(2025, 1, 6),
    )
    at = local_moment(params.start_date, 9)
    report = build(db.sessions, params, clock=SimulatedClock(at), secret_key=SECRET)  # type: ignore[attr-defined]
    with db.sessions.begin() as s:  # type: ignore[attr-defined]
        add_user(
            s,
            report.study_id,
            researcher,
            password,
            "researcher",
            display_name="Onderzoeker",
            actor="test",
            at=at,
        )
    return report.study_id
