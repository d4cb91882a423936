"""``klik users add``, ``list`` and ``unlock``."""

from __future__ import annotations

import datetime as dt

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from klik.users_cli import register
from study.clock import SimulatedClock
from study.models import User
from tests.factory import build_cohort


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test root"""

    register(app)
    return app


def test_add_and_list_users(db, clock) -> None:
    with db.sessions.begin() as s:
        build_cohort(s, clock.now())
    runner = CliRunner()
    app = _app()
    ok = runner.invoke(
        app, ["users", "add", "anna", "--role", "jobcoach", "--jobcoach", "JC01",
              "--password", "a long password", "--database", db.url],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    prompted = runner.invoke(
        app, ["users", "add", "rob", "--role", "researcher", "--database", db.url],
        input="another password\nanother password\n",
    )  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    bad = runner.invoke(
        app,
        ["users", "add", "xavier", "--role", "viewer", "--password", "short", "--database", db.url],
    )
    assert bad.exit_code == 1 and "wachtwoord" in bad.output
    missing = runner.invoke(
        app, ["users", "add", "bea", "--role", "jobcoach", "--jobcoach", "NOPE",
              "--password", "a long password", "--database", db.url],
    )  # fmt: skip
    assert missing.exit_code == 2
    with db.read_sessions() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    assert set(users) == {"anna", "rob"}
    assert users["anna"].jobcoach_id is not None and users["rob"].password_hash.startswith(
        "$argon2"
    )
    listing = runner.invoke(app, ["users", "list", "--database", db.url])
    assert "anna\tjobcoach\tJC01" in listing.output and "rob\tresearcher\t-" in listing.output


def test_unlock_forgets_failed_logins_and_is_audited(db, clock) -> None:
    from dashboard.app import create_app
    from study.models import AuditEvent
    from tests.dashboard.conftest import ORIGIN, make_container

    with db.sessions.begin() as s:
        build_cohort(s, clock.now())
    runner = CliRunner()
    app = _app()
    added = runner.invoke(
        app, ["users", "add", "anna", "--role", "researcher", "--password", "a long password",
              "--database", db.url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    # the command runs on the wall clock, so the web app's failures must be recent by it too
    wall = SimulatedClock(dt.datetime.now(dt.UTC))
    web = create_app(make_container(db, wall)).test_client()

    def login(password: str):
        return web.post(
            "/login", data={"username": "anna", "password": password}, headers=ORIGIN,
            environ_base={"REMOTE_ADDR": "192.0.2.99"},
        )  # fmt: skip

    for i in range(5):
        login(f"wrong {i}")
    assert login("a long password").status_code == 429
    listing = runner.invoke(app, ["users", "list", "--database", db.url])
    assert "anna\tresearcher\t- throttled" in listing.output
    unlocked = runner.invoke(app, ["users", "unlock", "ANNA", "--database", db.url])
    assert unlocked.exit_code == 0 and "ontgrendeld" in unlocked.output
    assert "throttled" not in runner.invoke(app, ["users", "list", "--database", db.url]).output
    assert login("a long password").status_code == 302
    with db.read_sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "login_unlocked")).all()
    assert [(e.actor, e.new_values["failure_counts_removed"]) for e in events] == [("cli", 2)]
    missing = runner.invoke(app, ["users", "unlock", "nobody", "--database", db.url])
    assert missing.exit_code == 1 and "bestaat niet" in missing.output
