"""``klik costs export`` and ``import``: a round trip through a CSV file, audited; bad files are
refused in Dutch and English without changing anything."""

from __future__ import annotations

import sqlite3

import pandas as pd
from typer.testing import CliRunner

from klik.cli import app

runner = CliRunner()


def test_export_edit_import(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init", "--study-code", "S1"]).exit_code == 0
    out = tmp_path / "kosten.csv"
    result = runner.invoke(app, ["costs", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "standaardwaarden" in result.stdout
    table = pd.read_csv(out)
    assert {"key", "year", "value", "source"} <= set(table.columns)
    table.loc[table["key"] == "jobcoach_tariff", "value"] = 88.5
    extra = table[table["key"] == "jobcoach_tariff"].assign(year=2026, value=91.0)
    pd.concat([table, extra]).to_csv(out, index=False)
    result = runner.invoke(app, ["costs", "import", str(out), "--reason", "tarief 2026"])
    assert result.exit_code == 0, result.output
    assert "versie 1" in result.stdout
    again = runner.invoke(app, ["costs", "import", str(out), "--reason", "nogmaals"])
    assert "Niets gewijzigd" in again.stdout
    with sqlite3.connect(tmp_path / "klik.db") as c:
        rows = c.execute(
            "SELECT year, value FROM cost_parameter WHERE key = 'jobcoach_tariff' ORDER BY year"
        ).fetchall()
        assert rows == [(2012, 88.5), (2026, 91.0)]
        audit = c.execute(
            "SELECT actor, reason FROM audit_event WHERE entity = 'cost_parameters'"
        ).fetchall()
        assert audit == [("cli", "tarief 2026")]
    exported = tmp_path / "terug.csv"
    assert runner.invoke(app, ["costs", "export", str(exported)]).exit_code == 0
    back = pd.read_csv(exported)
    assert back.loc[back["key"] == "jobcoach_tariff", "value"].tolist() == [88.5, 91.0]


def test_bad_files_are_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init", "--study-code", "S1"]).exit_code == 0
    out = tmp_path / "kosten.csv"
    runner.invoke(app, ["costs", "export", str(out)])
    table = pd.read_csv(out, dtype={"value": str})
    table.loc[0, "value"] = "-3"
    table.to_csv(out, index=False)
    result = runner.invoke(app, ["costs", "import", str(out), "--reason", "x"])
    assert result.exit_code == 1
    assert "kan niet negatief zijn" in result.output
    (tmp_path / "leeg.csv").write_text("naam,bedrag\nx,1\n")
    result = runner.invoke(app, ["costs", "import", str(tmp_path / "leeg.csv"), "--reason", "x"])
    assert result.exit_code == 2 and "missing columns" in result.output
    result = runner.invoke(app, ["costs", "import", str(tmp_path / "nergens.csv"), "--reason", "x"])
    assert result.exit_code == 2
    with sqlite3.connect(tmp_path / "klik.db") as c:
        assert c.execute("SELECT count(*) FROM cost_parameter_set").fetchone() == (0,)
