"""``klik users add`` and ``klik users list``."""

from __future__ import annotations

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from klik.users_cli import register
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
