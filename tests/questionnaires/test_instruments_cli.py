"""The ``klik instruments`` sub-commands."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from typer.testing import CliRunner

from klik.instruments_cli import app
from questionnaires.redcap import REDCAP_HEADER_LINE
from questionnaires.registry import builtin_dir, load_instrument

from .conftest import REDCAP_DIR, minimal_instrument

runner = CliRunner()


def test_list_shows_builtin_and_extra(tmp_path: Path):
    (tmp_path / "mini.yaml").write_text(yaml.safe_dump(minimal_instrument()), encoding="utf-8")
    result = runner.invoke(app, ["list", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "employee_followup\t1.0\temployee" in result.output
    assert "mini\t1\temployee" in result.output


def test_check_ok_and_broken(tmp_path: Path):
    good = runner.invoke(app, ["check", *map(str, sorted(builtin_dir().glob("*.yaml")))])
    assert good.exit_code == 0 and good.output.count("OK ") == 4
    data = minimal_instrument()
    data["sections"][0]["items"][3]["reverse"] = True
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml: item 'note'" in result.output


def test_import_then_export(tmp_path: Path):
    out = tmp_path / "imported"
    result = runner.invoke(
        app, ["import-redcap", str(REDCAP_DIR / "redcapr_survey.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert load_instrument(out / "prescreening_survey.yaml").item("has_diabetes").type == "yesno"
    csv_out = tmp_path / "dd.csv"
    result = runner.invoke(
        app,
        ["export-redcap", "--out", str(csv_out), "--dir", str(out), "--lang", "en",
         "--instrument", "prescreening_survey", "--instrument", "participant_info_survey"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(csv_out.open(encoding="utf-8")))
    assert rows[1][0] == "participant_id" and len(rows) == 1 + 5 + 9


def test_import_of_non_dictionary_fails_cleanly(tmp_path: Path):
    result = runner.invoke(app, ["import-redcap", str(REDCAP_DIR / "redcapr_longitudinal_arm.csv")])
    assert result.exit_code == 1 and "line 1" in result.output


def test_export_unknown_instrument(tmp_path: Path):
    result = runner.invoke(
        app, ["export-redcap", "--out", str(tmp_path / "x.csv"), "--instrument", "nope"]
    )
    assert result.exit_code == 1 and "nope" in result.output


def test_export_of_the_whole_shipped_set(tmp_path: Path):
    out = tmp_path / "all.csv"
    result = runner.invoke(app, ["export-redcap", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    names = [r["Variable / Field Name"] for r in rows]
    assert names[0] == "record_id" and len(names) == len(set(names))
    assert "exported as" in result.output
    again = runner.invoke(app, ["import-redcap", str(out), "--out", str(tmp_path / "back")])
    assert again.exit_code == 0, again.output


def test_import_pages_option(tmp_path: Path):
    path = str(REDCAP_DIR / "redcapr_longitudinal.csv")
    bad = runner.invoke(app, ["import-redcap", path, "--pages", "wave", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "--pages" in bad.output
    ok = runner.invoke(app, ["import-redcap", path, "--pages", "section", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert len(load_instrument(tmp_path / "demographics.yaml").sections) > 1


def test_what_a_klik_form_does_not_show_is_named_per_field_in_the_report(tmp_path: Path):
    """Ontology lookups, autocomplete, custom alignment, question numbers and matrix ranking
    are not applied: each field that has one is in import-report.tsv as changed, with why."""
    rows = [
        "record_id,visit,,text,ID,,,,,,,,,,,,,",
        'diagnosis,visit,,text,Diagnose,"BIOPORTAL:ICD10",,,,,,,,,,,,',
        'town,visit,,dropdown,Woonplaats,"1, Utrecht | 2, Zwolle",,autocomplete,,,,,,,,,,',
        "mood,visit,,yesno,Goed geslapen?,,,,,,,,,RH,3a,,,",
        'rank_a,visit,,radio,Eerste,"1, a | 2, b",,,,,,,,,,ranks,y,',
        "plain,visit,,text,Gewoon,,,,,,,,,,,,,",
    ]
    source = tmp_path / "dictionary.csv"
    source.write_text(REDCAP_HEADER_LINE + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "imported"
    result = runner.invoke(app, ["import-redcap", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = {
        line.split("\t")[1]: line.split("\t")
        for line in (out / "import-report.tsv").read_text(encoding="utf-8").splitlines()[1:]
    }
    expected = {
        "visit.diagnosis": "ontology lookup",
        "visit.town": "autocomplete",
        "visit.mood": "custom alignment 'RH'",
        "visit.rank_a": "matrix ranking",
    }
    for where, words in expected.items():
        status, _where, note = report[where]
        assert status == "changed" and words in note, report[where]
    assert "question number '3a'" in report["visit.mood"][2]
    assert report["visit.plain"] == ["kept", "visit.plain"]
    assert "ontology lookup" in result.output  # on the terminal too; kept fields are not
    assert "visit.plain" not in result.output
