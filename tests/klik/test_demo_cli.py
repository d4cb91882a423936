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

    again = runner.invoke(demo_app(), ["demo", *SMALL])
    assert again.exit_code == 0, again.output
    with sqlite3.connect(tmp_path / "demo.db") as c:
        assert c.execute("SELECT count(*) FROM study").fetchone()[0] == 1


def test_demo_refuses_a_database_with_other_studies(tmp_path: Path) -> None:
    from klik.cli import app

    path = tmp_path / "real.db"
    init = runner.invoke(app, ["init", "-d", f"sqlite:///{path}", "--study-code", "ECHT"])
    assert init.exit_code == 0, init.output
    result = runner.invoke(demo_app(), ["demo", "-d", str(path), *SMALL])
    assert result.exit_code != 0
    assert path.exists()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT code FROM study").fetchall() == [("ECHT",)]
