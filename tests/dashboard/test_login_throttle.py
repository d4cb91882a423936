"""Failed logins over HTTP: attackers wait, users get in; unlocking; proxies; several app instances."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.app import create_app
from klik.wiring import Container
from study import throttles
from study.clock import SimulatedClock
from study.db import make_engine, make_read_sessions, make_sessions
from study.models import AuditEvent, User
from study.throttles import LOGIN_ADDRESS, LOGIN_PAIR
from tests.conftest import Database
from tests.dashboard.conftest import (
    ORIGIN,
    PASSWORD,
    Env,
    add_logins,
    csrf_headers,
    make_container,
)
from tests.factory import build_cohort


def _login(client: FlaskClient, username: str, password: str, address: str, **headers: str):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers={**ORIGIN, **headers},
        environ_base={"REMOTE_ADDR": address},
    )


def _wait_seconds(resp) -> int | None:
    value = resp.headers.get("Retry-After")
    return int(value) if value is not None else None


def _fail_until_blocked(env: Env, client: FlaskClient, username: str, address: str, n: int) -> None:
    """``n`` wrong passwords from ``address``, each after the previous wait has passed."""
    for i in range(n):
        resp = _login(client, username, f"wrong {i}", address)
        assert resp.status_code == 401, resp.status_code
        wait = _wait_seconds(resp)
        if wait is not None:
            env.clock.advance(dt.timedelta(seconds=wait + 1))


def test_correct_password_from_a_new_address_works_after_an_attack_elsewhere(env: Env) -> None:
    c = env.client()
    attacker = "203.0.113.66"
    _fail_until_blocked(env, c, "researcher", attacker, throttles.ACCOUNT_UNDER_ATTACK + 2)
    _login(c, "researcher", "one more", attacker)
    # the attacker's address must wait, even with the right password (it is not even checked)
    refused = _login(c, "researcher", PASSWORD, attacker)
    assert refused.status_code == 429
    assert "Te veel mislukte pogingen" in refused.get_data(as_text=True)
    # the researcher, from an address that has not failed, gets in at once
    assert _login(c, "researcher", PASSWORD, "198.51.100.7").status_code == 302
    # the account is slowed, not locked: a typo from yet another address waits from the first
    typo = _login(c, "researcher", "typo", "198.51.100.8")
    assert typo.status_code == 401 and _wait_seconds(typo) == LOGIN_PAIR.base.total_seconds()
    assert "U kunt het over 30 seconden opnieuw proberen" in typo.get_data(as_text=True)
    assert _login(c, "researcher", PASSWORD, "198.51.100.9").status_code == 302


def test_back_off_per_account_and_address_grows_and_ends(env: Env) -> None:
    c = env.client()
    address = "192.0.2.10"
    for i in range(LOGIN_PAIR.free):
        resp = _login(c, "coach1", f"wrong {i}", address)
        assert resp.status_code == 401 and _wait_seconds(resp) is None
    waits = []
    for i in range(4):
        resp = _login(c, "coach1", f"still wrong {i}", address)
        assert resp.status_code == 401
        waits.append(_wait_seconds(resp))
        # trying again before the wait is over is refused without counting
        early = _login(c, "coach1", PASSWORD, address)
        assert early.status_code == 429
        # the clock is the test's own and has not moved: the whole wait is still ahead
        assert _wait_seconds(early) == waits[-1]
        env.clock.advance(dt.timedelta(seconds=waits[-1] - 2))
        assert _login(c, "coach1", PASSWORD, address).status_code == 429
        env.clock.advance(dt.timedelta(seconds=3))
    assert waits == [30, 60, 120, 240]
    fifth = _login(c, "coach1", "x", address)
    assert _wait_seconds(fifth) == 480 and "8 minuten" in fifth.get_data(as_text=True)
    env.clock.advance(dt.timedelta(minutes=9))
    assert _login(c, "coach1", PASSWORD, address).status_code == 302
    # a success clears the pair: the next typo costs nothing
    assert _wait_seconds(_login(c, "coach1", "typo", address)) is None


def test_back_off_is_capped_and_forgotten_after_the_window(env: Env) -> None:
    c = env.client()
    address = "192.0.2.11"
    _fail_until_blocked(env, c, "coach2", address, LOGIN_PAIR.free + 12)
    resp = _login(c, "coach2", "again", address)
    assert _wait_seconds(resp) == LOGIN_PAIR.cap.total_seconds()
    assert "30 minuten" in resp.get_data(as_text=True)
    env.clock.advance(LOGIN_PAIR.window + dt.timedelta(minutes=1))
    assert _wait_seconds(_login(c, "coach2", "after a day", address)) is None


def test_an_address_spraying_many_accounts_is_slowed(env: Env) -> None:
    c = env.client()
    sprayer = "203.0.113.77"
    # viewer logged in from this address before: a familiar account there
    assert _login(c, "viewer", PASSWORD, sprayer).status_code == 302
    for i in range(LOGIN_ADDRESS.free):
        assert _wait_seconds(_login(c, f"guess{i}", "Welkom01", sprayer)) is None
    slowed = _login(c, f"guess{LOGIN_ADDRESS.free}", "Welkom01", sprayer)
    assert slowed.status_code == 401 and _wait_seconds(slowed) == 30
    assert _login(c, "brand-new-name", "Welkom01", sprayer).status_code == 429
    assert _login(c, "researcher", PASSWORD, sprayer).status_code == 429
    # the familiar account is not held back by the address's failures, nor is any other address
    assert _login(c, "viewer", PASSWORD, sprayer).status_code == 302
    assert _login(c, "researcher", PASSWORD, "198.51.100.20").status_code == 302
    # the next failure after the wait waits twice as long
    env.clock.advance(dt.timedelta(seconds=31))
    assert _wait_seconds(_login(c, "guess-more", "Welkom01", sprayer)) == 60


def _block(env: Env, client: FlaskClient, username: str, address: str) -> None:
    for i in range(LOGIN_PAIR.free + 1):
        _login(client, username, f"wrong {i}", address)
    assert _login(client, username, PASSWORD, address).status_code == 429


def _unlock_events(env: Env) -> list[AuditEvent]:
    with env.container.read_sessions() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "login_unlocked")))


def test_a_researcher_unlocks_a_login_and_it_is_audited(env: Env) -> None:
    attacker = env.client()
    address = "192.0.2.30"
    _block(env, attacker, "coach1", address)
    researcher = env.login("researcher")
    resp = researcher.post("/users/coach1/unlock", headers=csrf_headers(researcher))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "ontgrendeld" in resp.get_json()["message"]
    assert _login(attacker, "coach1", PASSWORD, address).status_code == 302
    (event,) = _unlock_events(env)
    assert event.actor == "researcher"
    with env.container.read_sessions() as s:
        assert event.entity_id == s.scalar(select(User.id).where(User.username == "coach1"))
    unknown = researcher.post("/users/nobody/unlock", headers=csrf_headers(researcher))
    assert unknown.status_code == 404


@pytest.mark.parametrize("who", ["coach2", "viewer"])
def test_others_cannot_unlock(env: Env, who: str) -> None:
    address = "192.0.2.31"
    _block(env, env.client(), "coach1", address)
    other = env.login(who)
    assert other.post("/users/coach1/unlock", headers=csrf_headers(other)).status_code == 403
    researcher = env.login("researcher")
    # without the CSRF token, from another site, or without a login: refused as well
    no_token = researcher.post("/users/coach1/unlock", headers=ORIGIN)
    assert no_token.status_code == 403
    cross = researcher.post(
        "/users/coach1/unlock",
        headers={**csrf_headers(researcher), "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert env.client().post("/users/coach1/unlock", headers=ORIGIN).status_code == 401
    researcher.get("/users/coach1/unlock")  # a GET (a link, an image) unlocks nothing
    assert _unlock_events(env) == []
    assert _login(env.client(), "coach1", PASSWORD, address).status_code == 429


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(env: Env) -> None:
    c = env.client()
    for i in range(LOGIN_PAIR.free + 1):
        _login(c, "coach1", f"wrong {i}", "192.0.2.40", **{"X-Forwarded-For": f"10.1.2.{i}"})
    fresh_header = {"X-Forwarded-For": "10.200.0.1"}
    assert _login(c, "coach1", PASSWORD, "192.0.2.40", **fresh_header).status_code == 429
    with env.container.read_sessions() as s:
        reasons = set(
            s.scalars(select(AuditEvent.reason).where(AuditEvent.action == "login_failed"))
        )
    assert reasons == {"192.0.2.40"}


def test_forwarded_for_from_one_trusted_proxy_is_the_client(db: Database, clock) -> None:
    container = make_container(db, clock, trusted_proxies=1)
    with container.sessions.begin() as s:
        cohort = build_cohort(s, clock.now(), n_trajectories=2, n_coaches=2)
    add_logins(container, cohort, clock.now())
    c = create_app(container).test_client()
    proxy = "127.0.0.1"
    for i in range(LOGIN_PAIR.free + 1):
        # a client may prepend anything; the proxy appends the address it saw, which counts
        _login(c, "coach1", f"wrong {i}", proxy, **{"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.5"})
    assert (
        _login(c, "coach1", PASSWORD, proxy, **{"X-Forwarded-For": "203.0.113.5"}).status_code
        == 429
    )
    # another client behind the same proxy is not held back
    assert (
        _login(c, "coach1", PASSWORD, proxy, **{"X-Forwarded-For": "203.0.113.6"}).status_code
        == 302
    )


def test_two_app_instances_share_the_counts(any_db: Database, clock: SimulatedClock) -> None:
    first = make_container(any_db, clock)
    with first.sessions.begin() as s:
        cohort = build_cohort(s, clock.now(), n_trajectories=2, n_coaches=2)
    add_logins(first, cohort, clock.now())
    # the second instance has its own engine and connections, as another process would
    engine = make_engine(any_db.url, **_engine_args(any_db))
    second = Container(
        settings=first.settings,
        engine=engine,
        sessions=make_sessions(engine),
        read_sessions=make_read_sessions(engine),
        clock=clock,
    )
    try:
        a = create_app(first).test_client()
        b = create_app(second).test_client()
        address = "192.0.2.50"
        for i in range(LOGIN_PAIR.free):
            client = a if i % 2 == 0 else b
            assert _wait_seconds(_login(client, "coach1", f"wrong {i}", address)) is None
        assert _wait_seconds(_login(a, "coach1", "wrong again", address)) == 30
        assert _login(b, "coach1", PASSWORD, address).status_code == 429
        clock.advance(dt.timedelta(seconds=31))
        assert _wait_seconds(_login(b, "coach1", "wrong once more", address)) == 60
        assert _login(a, "coach1", PASSWORD, address).status_code == 429
        # bad links too
        for n in range(throttles.LINK_ADDRESS.free + 1):
            (a if n % 2 else b).get(f"/f/{n:043d}", environ_base={"REMOTE_ADDR": address})
        assert b.get(f"/f/{99:043d}", environ_base={"REMOTE_ADDR": address}).status_code == 429
        assert a.get(f"/f/{98:043d}", environ_base={"REMOTE_ADDR": address}).status_code == 429
    finally:
        engine.dispose()


def _engine_args(database: Database) -> dict[str, object]:
    # the PostgreSQL fixture puts each test in its own schema through the connection options
    if database.dialect != "postgresql":
        return {}
    with database.engine.connect() as c:
        (name,) = c.exec_driver_sql("SELECT current_schema()").one()
    return {"connect_args": {"options": f"-csearch_path={name}"}}
