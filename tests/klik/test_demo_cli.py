"""``klik demo``: builds a study, creates logins, prints them; replaces only its own database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from klik.demo_cli import register

runner = CliRunner()


def demo_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Klik."""

    register(app)
    return app


SMALL = ["--trajectories", "12", "--coaches", "3", "--months", "2", "--no-serve"]


def test_demo_builds_the_study_and_prints_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    result = runner.invoke(demo_app(), ["demo", *SMALL])
    assert result.exit_code == 0, result.output
    for username in ("onderzoeker", "jobcoach1", "jobcoach2", "kijker"):
        assert username in result.output
    assert "http://127.0.0.1:8050/" in result.output
    with sqlite3.connect(tmp_path / "demo.db") as c:
        users = dict(c.execute("SELECT username, role FROM app_user").fetchall())
        coached = c.execute(
            "SELECT count(*) FROM app_user WHERE role = 'jobcoach' AND jobcoach_id IS NOT NULL"
        ).fetchone()[0]
        assert c.execute("SELECT count(*) FROM trajectory").fetchone()[0] >= 1
        assert c.execute("SELECT count(*) FROM response").fetchone()[0] > 0
    assert users == {
        "onderzoeker": "researcher",
        "jobcoach1": "jobcoach",
        "jobcoach2": "jobcoach",
        "kijker": "viewer",
    }
    assert coached == 2
    assert any((tmp_path / "demo-mail").iterdir())
    _demo_links_survive_a_restart(tmp_path)

    again = runner.invoke(demo_app(), ["demo", *SMALL])
    assert again.exit_code == 0, again.output
    with sqlite3.connect(tmp_path / "demo.db") as c:
        assert c.execute("SELECT count(*) FROM study").fetchone()[0] == 1


def _demo_links_survive_a_restart(tmp_path: Path) -> None:
    """The demo keeps its own secret next to demo.db; a later ``klik serve -d demo.db`` uses it
    (no refusal: it is a demo), so the links in demo-mail/ still open."""
    import email
    import email.policy
    import re
    import stat

    from klik.secret_cli import require_persistent_secret
    from klik.secret_file import read_keys
    from klik.settings import Settings
    from klik.wiring import build
    from study.tokens import hash_token, token_for

    own = tmp_path / "demo.secret"
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    settings = Settings.from_env(
        {"KLIK_SECRET_FILE": str(tmp_path / "klik.secret")},
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
    )
    assert settings.secret_generated
    container = require_persistent_secret(build(settings))
    try:
        assert container.settings.secret_key == read_keys(own)[0]
    finally:
        container.dispose()
    mail = next((tmp_path / "demo-mail").glob("*.eml"))
    body = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default).get_content()
    token = re.search(r"/f/([A-Za-z0-9_-]{43})", body).group(1)
    with sqlite3.connect(tmp_path / "demo.db") as c:
        invitation_id, salt = c.execute(
            "SELECT id, token_salt FROM invitation WHERE token_hash = ?", (hash_token(token),)
        ).fetchone()
    assert token_for(container.settings.secret_key, invitation_id, salt) == token


def test_demo_refuses_a_database_with_other_studies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klik.cli import app

    monkeypatch.chdir(tmp_path)  # `klik init` writes klik.secret here

    path = tmp_path / "real.db"
    init = runner.invoke(app, ["init", "-d", f"sqlite:///{path}", "--study-code", "ECHT"])
    assert init.exit_code == 0, init.output
    result = runner.invoke(demo_app(), ["demo", "-d", str(path), *SMALL])
    assert result.exit_code != 0
    assert path.exists()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT code FROM study").fetchall() == [("ECHT",)]
