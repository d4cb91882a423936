"""A longitudinal REDCap project (project XML, or dictionary plus events CSVs) as waves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klik.instruments_cli import app
from questionnaires.errors import InstrumentError
from questionnaires.redcap_project import import_project, read_events
from questionnaires.registry import load_instrument
from questionnaires.validation import validate_answers

from .conftest import REDCAP_DIR

XML = Path(__file__).parent / "data" / "longitudinal_project.xml"
runner = CliRunner()


def _project(**kw):
    return import_project(project_xml=XML.read_text(encoding="utf-8"), origin="p.xml", **kw)


def test_project_xml_gives_instruments_waves_and_roles():
    project = _project(roles={"coach": "jobcoach"})
    werk, coach = project.instruments
    assert (werk.id, werk.respondent, coach.respondent) == ("werk", "employee", "jobcoach")
    assert werk.record_id == "record_id" and werk.languages == ("nl",)
    assert [it.id for it in werk.items] == ["record_id", "works", "hours", "tasks", "start", "more"]
    assert werk.item("hours").type == "integer" and werk.item("hours").max == 60
    assert werk.item("tasks").type == "multiple"
    assert [o.code for o in werk.item("tasks").options] == [1, 2]
    assert werk.item("start").validation == "date_dmy"
    assert werk.item("works").text == {"nl": "Heb je <b>betaald</b> werk?"}
    assert coach.item("contact").widget == "dropdown" and coach.item("notes").widget == "textarea"
    # the survey setting "one section per page": a new page at the section header
    assert len(werk.sections) == 2 and len(coach.sections) == 1
    t0, t1 = project.waves
    assert (t0.code, t0.offset_days, t0.opens_days_before, t0.closes_days_after) == (
        "t0_arm_1",
        0,
        0,
        14,
    )
    assert dict(t0.instruments) == {"employee": "werk", "jobcoach": "coach"}
    assert (t1.label, t1.offset_days, t1.opens_days_before, t1.closes_days_after) == (
        "3 maanden",
        91,
        7,
        28,
    )
    assert dict(t1.instruments) == {"employee": "werk"}
    # a condition on the first wave reads that wave's stored answers
    events = {"t0_arm_1": {"hours": 16}}
    answers = {"record_id": "1", "works": "1", "hours": "20"}
    assert "more" not in validate_answers(werk, answers, events=events).hidden
    assert "more" in validate_answers(werk, {**answers, "hours": "10"}, events=events).hidden


def test_report_says_per_field_what_was_kept_changed_or_not_supported():
    project = _project()
    status = {line.where: line for line in project.report}
    assert status["werk.record_id"].status == "kept"
    assert status["werk.hours"].status == "kept"
    assert status["werk.file"].status == "not supported"
    assert "file upload" in status["werk.file"].note
    assert status["werk.start"].status == "changed" and "@RANDOMORDER" in status["werk.start"].note
    assert status["coach.mode"].status == "changed" and "form 'werk'" in status["coach.mode"].note
    assert "werk.werk_complete" not in status  # REDCap's own status field
    assert status["event t0_arm_1"].status == "kept"


def test_two_forms_for_one_role_in_one_wave_are_reported():
    project = _project()  # both forms go to the employee
    lines = [r for r in project.report if r.where == "t0_arm_1.coach"]
    assert lines and lines[0].status == "not supported" and "--role" in lines[0].note
    assert dict(project.waves[0].instruments) == {"employee": "werk"}


def test_dictionary_with_events_and_mapping_csvs(tmp_path: Path):
    events = (REDCAP_DIR / "redcapr_longitudinal_event.csv").read_text(encoding="utf-8")
    mapping = "arm_num,unique_event_name,form\n1,enrollment_arm_1,demographics\n"
    mapping += "1,dose_1_arm_1,baseline_data\n1,visit_1_arm_1,visit_lab_data\n"
    project = import_project(
        dictionary=(REDCAP_DIR / "redcapr_longitudinal.csv").read_text(encoding="utf-8"),
        events=events,
        arms=(REDCAP_DIR / "redcapr_longitudinal_arm.csv").read_text(encoding="utf-8"),
        mapping=mapping,
        language="en",
        roles={"visit_lab_data": "jobcoach"},
    )
    codes = [w.code for w in project.waves]
    assert codes[:4] == ["enrollment_arm_1", "dose_1_arm_1", "visit_1_arm_1", "dose_2_arm_1"]
    by_code = {w.code: w for w in project.waves}
    assert dict(by_code["visit_1_arm_1"].instruments) == {"jobcoach": "visit_lab_data"}
    assert by_code["dose_1_arm_1"].arm_name == "Drug A"
    # this events file has no day offsets or windows: Klik's default window, reported
    changed = [r for r in project.report if r.where == "event dose_1_arm_1"]
    assert changed[0].status == "changed" and "no window" in changed[0].note
    assert all(i.languages == ("en",) for i in project.instruments)
    assert len(read_events(events)) == len(events.strip().splitlines()) - 1 == 12


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"roles": {"werk": "boss"}}, "role must be one of"),
        ({"roles": {"nope": "jobcoach"}}, "forms that do not exist"),
        ({"respondent": "boss"}, "respondent must be one of"),
    ],
)
def test_bad_options_are_refused(kw: dict, message: str):
    with pytest.raises(InstrumentError, match=message):
        _project(**kw)


def test_broken_inputs_name_file_and_line():
    with pytest.raises(InstrumentError, match=r"p.xml: line 1: not well-formed XML"):
        import_project(project_xml="<ODM><Study>", origin="p.xml")
    with pytest.raises(InstrumentError, match="columns unique_event_name are missing"):
        read_events("event_name,arm_num\nA,1\n", "e.csv")
    with pytest.raises(InstrumentError, match=r"e\.csv: line 2: day_offset 'x' is not a number"):
        read_events("event_name,arm_num,unique_event_name,day_offset\nA,1,a_arm_1,x\n", "e.csv")


def test_cli_writes_instruments_protocol_and_report(tmp_path: Path):
    out = tmp_path / "project"
    result = runner.invoke(
        app,
        ["import-redcap", str(XML), "--out", str(out), "--role", "coach=jobcoach",
         "--language", "nl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert load_instrument(out / "coach.yaml").respondent == "jobcoach"
    protocol = json.loads((out / "protocol.json").read_text(encoding="utf-8"))
    assert [w["code"] for w in protocol["waves"]] == ["t0_arm_1", "t1_arm_1"]
    assert protocol["waves"][1]["offset_days"] == 91
    report = (out / "import-report.tsv").read_text(encoding="utf-8")
    assert "not supported\twerk.file" in report
    # the folder is an instrument folder as it is
    listed = runner.invoke(app, ["list", "--dir", str(out)])
    assert listed.exit_code == 0 and "werk" in listed.output and "coach" in listed.output
    bad = runner.invoke(app, ["import-redcap", str(XML), "--out", str(out), "--role", "coach"])
    assert bad.exit_code == 1 and "FORM=ROLE" in bad.output
