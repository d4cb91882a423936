"""Personal links live until their window closes, whatever restarts: real ``klik`` processes
(``init``, ``tick``, ``send-mail``, ``serve --no-scheduler``, ``scheduler``, ``rotate-secret``)
on one study, each reading the secret from the file ``klik init`` wrote."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from klik import secret_file
from klik.settings import Settings
from study.clock import local_date
from study.db import make_engine, make_read_sessions, make_sessions
from study.models import Invitation
from study.services.users import add_user
from study.tokens import hash_token
from study.vocab import Respondent
from tests.factory import build_cohort

KLIK = str(Path(sys.executable).with_name("klik"))
PASSWORD = "correct horse battery"
LINK = re.compile(r"/f/([A-Za-z0-9_-]{43})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIK_")}
    env.update(
        KLIK_DATABASE_URL=f"sqlite:///{tmp / 'klik.db'}",
        KLIK_MAIL_DIR=str(tmp / "mail"),
        KLIK_BASE_URL="http://klik.example",
        **extra,
    )
    return env


def klik(tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 90):
    return subprocess.run(
        [KLIK, *args], cwd=tmp, env=env or _env(tmp), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@contextmanager
def serving(tmp: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """A ``klik serve --no-scheduler`` process on a free loopback port; yields its address."""
    port = _free_port()
    log = (tmp / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [KLIK, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp, env=env or _env(tmp), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError((tmp / f"serve-{port}.log").read_text())
            try:
                if httpx.get(f"{address}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("klik serve did not answer in 60 s")
            time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _mails(tmp: Path) -> list[tuple[str, str]]:
    """(subject, body) of every mail written so far."""
    found = []
    for path in sorted((tmp / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append((str(message["Subject"]).strip(), message.get_content()))
    return found


def _opens(address: str, token: str) -> bool:
    with httpx.Client(base_url=address, timeout=10) as c:
        first = c.get(f"/f/{token}")
        return first.status_code == 200 and c.get("/form").status_code == 200


def _login(address: str) -> httpx.Client:
    c = httpx.Client(base_url=address, timeout=10, headers={"Origin": address})
    resp = c.post("/login", data={"username": "coach1", "password": PASSWORD})
    assert resp.status_code == 302, resp.text
    return c


def _callback(address: str, cookies: dict[str, str], csrf: str) -> int:
    """A Dash callback request to ``address`` with a session and CSRF value from elsewhere."""
    body = {
        "output": "..workspace-overview.children...workspace-client.options..",
        "outputs": [
            {"id": "workspace-overview", "property": "children"},
            {"id": "workspace-client", "property": "options"},
        ],
        "inputs": [{"id": "workspace-coach", "property": "value", "value": None}]
        + [{"id": f"workspace-{k}", "property": "data", "value": None}
           for k in ("enrolled", "ended", "withdrawn")],
        "changedPropIds": [],
        "state": [],
    }  # fmt: skip
    with httpx.Client(base_url=address, timeout=30, cookies=cookies) as c:
        resp = c.post(
            "/_dash-update-component",
            json=body,
            headers={"Origin": address, "X-CSRFToken": csrf},
        )
    return resp.status_code


def _study(tmp: Path) -> None:
    """A study whose baseline forms opened ten days ago, and a jobcoach login."""
    engine = make_engine(f"sqlite:///{tmp / 'klik.db'}")
    now = dt.datetime.now(dt.UTC)
    try:
        with make_sessions(engine).begin() as s:
            cohort = build_cohort(
                s, now, n_trajectories=1, n_coaches=1,
                first_start=local_date(now) - dt.timedelta(days=10),
            )  # fmt: skip
            add_user(s, cohort.study_id, "coach1", PASSWORD, "jobcoach", cohort.jobcoach_ids[0],
                     display_name="Coach Een", actor="test", at=now)  # fmt: skip
    finally:
        engine.dispose()


def _employee_token(tmp: Path, bodies: list[str]) -> str:
    engine = make_engine(f"sqlite:///{tmp / 'klik.db'}")
    try:
        with make_read_sessions(engine)() as s:
            by_hash = {
                h: r for h, r in s.execute(select(Invitation.token_hash, Invitation.respondent))
            }
    finally:
        engine.dispose()
    tokens = {t for body in bodies for t in LINK.findall(body)}
    employee = [t for t in tokens if by_hash.get(hash_token(t)) == Respondent.EMPLOYEE]
    assert len(employee) == 1, (tokens, by_hash)
    return employee[0]


def test_a_mailed_link_opens_across_restarts_processes_and_a_rotation(tmp_path: Path) -> None:
    result = klik(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    secret = tmp_path / "klik.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    _study(tmp_path)
    start = local_date(dt.datetime.now(dt.UTC)) - dt.timedelta(days=10)

    # the invitation: one process ticks (for the day the form opened), another delivers
    assert klik(tmp_path, "tick", "--as-of", start.isoformat()).returncode == 0
    sent = klik(tmp_path, "send-mail")
    assert sent.returncode == 0 and "verzonden" in sent.stdout, sent.stdout + sent.stderr
    first = _mails(tmp_path)
    token = _employee_token(tmp_path, [body for _, body in first])

    with serving(tmp_path) as a:
        assert _opens(a, token)
        coach = _login(a)
        cookies = dict(coach.cookies)
        csrf = cookies["_csrf_token"]
        assert _callback(a, cookies, csrf) == 200
        coach.close()
    # restarted, and a second server on the same study at the same time
    with serving(tmp_path) as b, serving(tmp_path) as c:
        assert _opens(b, token) and _opens(c, token)
        assert _callback(b, cookies, csrf) == 200  # issued by another process
        assert _callback(c, cookies, "0" * 64) == 403  # the check is still a check
        # a form session begun on one server goes on on the other
        with httpx.Client(base_url=b, timeout=10) as on_b:
            assert on_b.get(f"/f/{token}").status_code == 200
            form_cookie = on_b.cookies["klik_form"]
        with httpx.Client(base_url=c, timeout=10, cookies={"klik_form": form_cookie}) as on_c:
            assert on_c.get("/form").status_code == 200
        with httpx.Client(base_url=c, timeout=10, cookies={"klik_form": form_cookie[:-2]}) as bad:
            assert bad.get("/form").status_code == 403

    rotated = klik(tmp_path, "rotate-secret")
    assert rotated.returncode == 0, rotated.stderr
    assert len(secret_file.read_keys(secret)) == 2

    # the reminder comes from a separate scheduler process, after the rotation
    env = _env(tmp_path)
    scheduler = subprocess.Popen(
        [KLIK, "scheduler"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _attempt in range(180):  # at most about 90 s of polling
            if any(subject.startswith("Herinnering") for subject, _ in _mails(tmp_path)):
                break
            assert scheduler.poll() is None, "klik scheduler stopped"
            time.sleep(0.5)
        else:
            pytest.fail("no reminder from klik scheduler")
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=15)
    reminders = [body for subject, body in _mails(tmp_path) if subject.startswith("Herinnering")]
    assert any(token in body for body in reminders)
    assert _employee_token(tmp_path, reminders) == token

    with serving(tmp_path) as d:
        assert _opens(d, token)
        assert _callback(d, cookies, csrf) == 200  # made under the key rotated out
        fresh = _login(d)
        assert _callback(d, dict(fresh.cookies), fresh.cookies["_csrf_token"]) == 200
        fresh.close()


def test_long_running_commands_refuse_a_real_study_without_a_persistent_secret(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, KLIK_SECRET_FILE=str(tmp_path / "missing.secret"))
    assert klik(tmp_path, "init", "--study-code", "S1").returncode == 0
    (tmp_path / "klik.secret").unlink()  # written by init; this study has lost it
    for args in (["serve", "--no-scheduler", "--port", str(_free_port())], ["scheduler"],
                 ["tick"], ["send-mail"]):  # fmt: skip
        result = klik(tmp_path, *args, env=env, timeout=60)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "geen vaste geheime sleutel" in result.stderr
        assert "no persistent secret key" in result.stderr
        assert "klik init" in result.stderr and "missing.secret" in result.stderr
    # with the key in the environment instead, a command runs
    ok = klik(tmp_path, "send-mail", env={**env, "KLIK_SECRET_KEY": "e" * 64})
    assert ok.returncode == 0, ok.stderr


def test_the_secret_file_is_private_created_once_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "klik.secret"
    assert secret_file.create(path)
    key = secret_file.read_keys(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key[0]) == 64
    assert not secret_file.create(path)
    assert secret_file.read_keys(path) == key
    again = klik(tmp_path, "init")
    assert again.returncode == 0 and secret_file.read_keys(path) == key
    secret_file.rotate(path, keep=1)
    new = secret_file.read_keys(path)
    assert new[1:] == key and new[0] != key[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_settings_take_the_key_from_the_environment_then_the_file(tmp_path: Path) -> None:
    path = tmp_path / "k.secret"
    generated = Settings.from_env({"KLIK_SECRET_FILE": str(path)})
    assert generated.secret_generated
    assert Settings.from_env({"KLIK_SECRET_FILE": str(path)}).secret_key != generated.secret_key
    secret_file.create(path)
    secret_file.rotate(path)
    keys = secret_file.read_keys(path)
    from_file = Settings.from_env({"KLIK_SECRET_FILE": str(path), "KLIK_OLD_SECRET_KEYS": "x,y"})
    assert not from_file.secret_generated
    assert from_file.signing_keys == (keys[0], keys[1], "x", "y")
    from_env = Settings.from_env({"KLIK_SECRET_FILE": str(path), "KLIK_SECRET_KEY": "z" * 40})
    assert from_env.secret_key == "z" * 40 and not from_env.secret_generated
    # nobody sets "generated" from outside
    forced = Settings.from_env({"KLIK_SECRET_FILE": str(path), "KLIK_SECRET_GENERATED": "1"})
    assert not forced.secret_generated
