"""The access log over HTTP: one line per request, nothing that opens anything, rotation."""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from dashboard.app import create_app
from klik.settings import Settings
from klik.wiring import Container
from questionnaires.registry import load_instruments
from study.clock import SimulatedClock
from study.services.users import add_user
from tests.conftest import Database
from tests.dashboard.forms_http import post_section
from tests.forms_support import SECRET, Link, invitations_for_cohort, section_answers

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
PASSWORD = "a password nobody may log"
ORIGIN = {"Origin": "http://localhost"}
LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<client>\S+) (?P<user>\S+) "
    r"(?P<method>[A-Z?]+) (?P<path>\S+) (?P<status>\d{3}|-) (?P<ms>\d+)$"
)


def _app(db: Database, clock: SimulatedClock, log: Path, **settings: object) -> Flask:
    container = Container(
        settings=Settings(database_url=db.url, secret_key=SECRET, access_log=str(log), **settings),
        engine=db.engine,
        sessions=db.sessions,
        read_sessions=db.read_sessions,
        clock=clock,
    )
    return create_app(container, log_requests=True)


def _setup(db: Database) -> tuple[list[Link], int]:
    employee = load_instruments()["employee_followup"]
    with db.sessions.begin() as s:
        links = invitations_for_cohort(s, AT, [employee], n_trajectories=2)
        study_id = links[0].study_id
        user = add_user(
            s, study_id, "rita", PASSWORD, "researcher", display_name="Rita", actor="test", at=AT
        )
        s.flush()
        return links, user.id


def _lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines()


def test_requests_are_logged_without_tokens_passwords_queries_or_cookies(
    db: Database, tmp_path: Path
) -> None:
    links, user_id = _setup(db)
    log = tmp_path / "logs" / "access.log"
    app = _app(db, SimulatedClock(AT), log)
    c = app.test_client()
    c.open = functools.partial(c.open, buffered=True)  # type: ignore[method-assign]
    token = links[0].token
    participant = {"REMOTE_ADDR": "198.51.100.4"}
    assert c.get(f"/f/{token}?lang=en&x={token}", environ_base=participant).status_code == 200
    page = c.get("/form", environ_base=participant).get_data(as_text=True)
    employee = load_instruments()["employee_followup"]
    answers = section_answers(employee, 0, random.Random(3))
    assert post_section(c, page, answers, environ_base=participant).status_code in (200, 302, 303)
    form_cookie = c.get_cookie("klik_form", path="/form").value
    login = c.post(
        "/login", data={"username": "rita", "password": PASSWORD}, headers=ORIGIN,
        environ_base={"REMOTE_ADDR": "192.0.2.5"},
    )  # fmt: skip
    assert login.status_code == 302
    session_cookie = c.get_cookie("klik_session").value
    c.get(
        "/export/csv_long?job=secret-job-id&participant=P007",
        environ_base={"REMOTE_ADDR": "192.0.2.5"},
    )
    # a crafted path tries to forge a second line
    c.get("/nothing%0A2026-01-01T00:00:00.000Z 6.6.6.6 1 GET /admin 200 1")
    app.extensions["klik_access_log"].close()

    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 6, text
    for line in lines:
        assert LINE.match(line), line
    for secret in (
        token,
        PASSWORD,
        "secret-job-id",
        "P007",
        "lang=en",
        form_cookie,
        session_cookie,
    ):
        assert secret not in text
    for value in answers.values():
        for v in value if isinstance(value, list) else [value]:
            assert f"={v}" not in text
    parsed = [LINE.match(line).groupdict() for line in lines]
    link, form_get, form_post, login_line, export, crafted = parsed
    assert (link["method"], link["path"], link["status"]) == ("GET", "/f/<redacted>", "200")
    assert link["client"] == "198.51.100.4" and link["user"] == "-"
    assert link["time"] == "2026-01-10T09:00:00.000Z"
    assert (form_get["path"], form_post["method"], form_post["path"]) == ("/form", "POST", "/form")
    assert (login_line["method"], login_line["path"], login_line["status"]) == (
        "POST",
        "/login",
        "302",
    )
    assert login_line["user"] == "-"
    # the export is a logged-in request: the user id is in its line, the query is not
    assert export["path"] == "/export/csv_long" and export["user"] == str(user_id)
    assert export["client"] == "192.0.2.5"
    assert crafted["path"].startswith("/nothing%0A") and not any(
        p["path"] == "/admin" for p in parsed
    )


def test_forwarded_client_is_logged_only_behind_a_trusted_proxy(
    db: Database, tmp_path: Path
) -> None:
    _setup(db)
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.8")):
        log = tmp_path / f"access-{proxies}.log"
        app = _app(db, SimulatedClock(AT), log, trusted_proxies=proxies)
        app.test_client().get(
            "/health", buffered=True, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.8"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )  # fmt: skip
        app.extensions["klik_access_log"].close()
        (line,) = _lines(log)
        assert LINE.match(line)["client"] == expected


def test_the_log_rotates_at_its_size_limit(db: Database, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    app = _app(db, SimulatedClock(AT), log, access_log_max_bytes=400, access_log_backups=2)
    c = app.test_client()
    for _ in range(40):
        assert c.get("/health", buffered=True).status_code == 200
    app.extensions["klik_access_log"].close()
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("access.log"))
    assert files == ["access.log", "access.log.1", "access.log.2"]
    for name in files:
        size = (tmp_path / name).stat().st_size
        assert 0 < size <= 400
        assert all(LINE.match(line) for line in _lines(tmp_path / name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_klik_serve_writes_the_access_log(tmp_path: Path) -> None:
    """The real server, on loopback, as a separate process."""
    klik = Path(sys.executable).with_name("klik")
    if not klik.exists():
        pytest.skip("the klik command is not installed next to this Python")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KLIK_")},
        "KLIK_DATABASE_URL": f"sqlite:///{tmp_path / 'klik.db'}",
        "KLIK_SECRET_KEY": "s" * 64,
        "KLIK_PORT": str(port),
        "KLIK_ACCESS_LOG": str(tmp_path / "access.log"),
        "KLIK_MAIL_DIR": str(tmp_path / "mail"),
    }
    init = subprocess.run(
        [str(klik), "init", "--study-code", "t", "--study-name", "T"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    server = subprocess.Popen(
        [str(klik), "serve", "--no-scheduler"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _attempt in range(300):  # at most about a minute of polling
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.2)
        else:
            pytest.fail("klik serve did not answer")
        token = "A" * 43
        try:
            urllib.request.urlopen(f"{base}/f/{token}?token={token}", timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        deadline = time.monotonic() + 10
        while len(_lines(tmp_path / "access.log")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=20)
    text = (tmp_path / "access.log").read_text(encoding="utf-8")
    assert token not in text
    health, link = (LINE.match(line) for line in text.splitlines()[-2:])
    assert (health["path"], health["status"], health["client"]) == ("/health", "200", "127.0.0.1")
    assert (link["path"], link["status"]) == ("/f/<redacted>", "404")
