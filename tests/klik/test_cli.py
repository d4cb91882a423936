"""The command line as a newcomer meets it."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

import klik
from klik.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"klik {klik.__version__}"


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve"):
        assert command in result.stdout


def test_init_creates_klik_db_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["init", "--study-code", "gemeente-x"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "klik.db").exists()
    with sqlite3.connect(tmp_path / "klik.db") as c:
        assert c.execute("SELECT code FROM study").fetchall() == [("gemeente-x",)]
        assert c.execute("SELECT count(*) FROM wave").fetchone()[0] >= 3
    again = runner.invoke(app, ["init", "--study-code", "gemeente-x"])
    assert again.exit_code == 0 and "exists" in again.stdout


def test_init_honours_database_option_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--database", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code == 0 and (tmp_path / "a.db").exists()
    monkeypatch.setenv("KLIK_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0 and (tmp_path / "b.db").exists()
    assert not (tmp_path / "klik.db").exists()


def test_database_may_be_given_as_a_file_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    for args in (
        ["init", "-d", "study.db", "--study-code", "S1"],
        ["users", "list", "-d", "study.db"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "study.db") as con:
        assert con.execute("SELECT code FROM study").fetchall() == [("S1",)]
