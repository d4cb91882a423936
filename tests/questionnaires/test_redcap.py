"""REDCap data dictionaries: every shared file, round trips, warnings, malformed input."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

import pytest

from questionnaires.errors import InstrumentError
from questionnaires.redcap import (
    REDCAP_COLUMNS,
    REDCAP_HEADER_LINE,
    export_redcap,
    import_redcap,
    parse_redcap,
    write_redcap,
)
from questionnaires.registry import dump_instrument, parse_instrument_text

from .conftest import REDCAP_DIR

ALL_FILES = sorted(REDCAP_DIR.glob("*.csv"))


def _is_dictionary(path: Path) -> bool:
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    return first.startswith('"Variable / Field Name"')


DICTIONARIES = [p for p in ALL_FILES if _is_dictionary(p)]
OTHERS = [p for p in ALL_FILES if not _is_dictionary(p)]


def test_shared_files_present():
    if not ALL_FILES:
        pytest.skip(f"no REDCap files in {REDCAP_DIR}")
    assert len(DICTIONARIES) >= 6 and OTHERS


def _field_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: p.name)
def test_every_dictionary_imports_and_round_trips(path: Path, tmp_path: Path):
    first = import_redcap(path)
    rows = _field_rows(path)
    kept = {it.id for inst in first.instruments for it in inst.items}
    warned = {w.field for w in first.warnings}
    # every field is either imported or reported, none silently dropped
    for row in rows:
        assert row["Variable / Field Name"] in kept | warned
    forms = {r["Form Name"] for r in rows}
    assert {inst.id for inst in first.instruments} <= forms
    out = tmp_path / "export.csv"
    write_redcap(first.instruments, out, "en")
    again = import_redcap(out)
    assert again.instruments == first.instruments
    # the YAML files an import writes load back to the same instruments
    for inst in first.instruments:
        assert parse_instrument_text(dump_instrument(inst), "x") == inst


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_other_files_are_refused_at_line_one(path: Path):
    with pytest.raises(
        InstrumentError, match=rf"{path.name}: line 1: not a REDCap data dictionary"
    ):
        import_redcap(path)


def test_bom_is_accepted(tmp_path: Path):
    source = REDCAP_DIR / "redcapr_checkboxes-1.csv"
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    assert import_redcap(with_bom).instruments == import_redcap(source).instruments


def test_unrepresentable_fields_reported_one_by_one():
    result = import_redcap(REDCAP_DIR / "redcapr_validation-types-1.csv")
    by_field = {w.field: w for w in result.warnings}
    assert "f_calculated" not in by_field  # computed by Klik now
    assert "SQL" in by_field["f_sql"].message and "not importable" in by_field["f_sql"].message
    assert "file upload" in by_field["f_file_upload"].message
    assert not {f for f in by_field if f.startswith("v_")}  # every validation type is applied
    inst = result.instruments[0]
    types = {it.id: (it.type, it.widget, it.validation) for it in inst.items}
    assert types["f_checkbox"][0] == "multiple"
    assert types["f_dropdown"][:2] == ("single", "dropdown")
    assert types["f_notes"][:2] == ("text", "textarea")
    assert types["f_true_false"][:2] == ("yesno", "truefalse")
    assert types["f_slider"][:2] == ("integer", "slider")
    assert inst.item("f_slider").min == -1 and inst.item("f_slider").max == 101
    assert types["f_descriptive"][0] == "descriptive"
    assert types["v_date_dmy"] == ("date", None, "date_dmy")
    assert types["v_number_2dp"] == ("number", None, "number_2dp")
    assert types["v_integer"] == ("integer", None, None)


def test_longitudinal_details():
    result = import_redcap(REDCAP_DIR / "redcapr_longitudinal.csv")
    demo = next(i for i in result.instruments if i.id == "demographics")
    kids = demo.item("num_children")
    assert kids.show_if is not None and kids.show_if.mode == "all"
    assert kids.show_if.holds({"sex": 0, "given_birth": 1})
    assert not kids.show_if.holds({"sex": 0, "given_birth": 0})
    assert kids.min == 0
    assert demo.item("gym").matrix == "weekly_schedule"
    assert demo.item("first_name").identifier
    assert demo.item("height").min == 130 and demo.item("height").max == 215
    assert [s.title["nl"] for s in demo.sections] == ["Demographics"]  # one page per form
    assert demo.item("date_enrolled").header == {"nl": "Consent Information"}
    assert demo.item("study_id").header is None
    assert demo.record_id == "study_id"
    assert all(i.record_id is None for i in result.instruments if i.id != "demographics")
    assert demo.item("specify_mood").anchors[0] == {"nl": "Very sad"}
    english = import_redcap(REDCAP_DIR / "redcapr_longitudinal.csv", language="en")
    demo_en = next(i for i in english.instruments if i.id == "demographics")
    assert demo_en.languages == ("en",) and demo_en.item("sex").text == {"en": "Gender"}
    assert demo_en.item("sex").options[0].label == {"en": "Female"}
    assert demo.item("bmi").type == "calc" and demo.item("bmi").calc is not None
    assert "bmi" not in {w.field for w in result.warnings}


def test_complex_branching_applied_cross_form_kept_with_warning():
    text = (
        REDCAP_HEADER_LINE
        + "\nrecord_id,f,,text,ID,,,,,,,,,,,,,"
        + '\na,f,,yesno,A,,,,,,,"([record_id] = ""1"" or [a] = ""1"") and [a] <> """"",,,,,,'
        + "\nb,f,,yesno,B,,,,,,,\"[a] = '1' or [a] = '0'\",,,,,,"
        + "\nc,g,,yesno,C,,,,,,,\"[a] = '1'\",,,,,,"
        + "\nd,g,,yesno,D,,,,,,,\"[t0][c] = '1' and datediff([t0][c], 'today', 'd') > 1\",,,,,,"
    )
    result = parse_redcap(text, "inline")
    f, g = result.instruments
    assert f.item("a").branching is not None and f.item("a").show_if is None
    assert f.item("b").show_if is not None and f.item("b").show_if.mode == "any"
    assert g.item("c").branching is None and g.item("c").inactive_branching == "[a] = '1'"
    assert g.item("d").branching is not None  # another wave's answer can be read
    assert [w.field for w in result.warnings] == ["c"]
    assert "form 'f'" in result.warnings[0].message
    exported, _ = export_redcap(result.instruments, "en")
    assert parse_redcap(exported, "again").instruments == result.instruments


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("\nrecord_id,f,,text,ID,,,,,,,,,,,,", 2, "expected 18 columns"),
        ("\nrecord_id,f,,text,ID,,,,,,,,,,,,,\nx,f,,radio,X,oops,,,,,,,,,,,,", 3, "not 'code, label'"),
        ("\nrecord_id,f,,text,ID,,,,,,,,,,,,,\nrecord_id,f,,text,ID,,,,,,,,,,,,,", 3, "already"),
        ('\nrecord_id,f,"multi\nline header",text,ID,,,,,,,,,,,,,\nx,f,,magic,X,,,,,,,,,,,,,', 4,
         "unknown field type"),
        ("\nRecord ID,f,,text,ID,,,,,,,,,,,,,", 2, "field name"),
    ],
)  # fmt: skip
def test_malformed_rows_name_the_line(body: str, line: int, problem: str):
    with pytest.raises(InstrumentError, match=rf"bad\.csv: line {line}: .*{problem}"):
        parse_redcap(REDCAP_HEADER_LINE + body, "bad.csv")


def test_export_header_and_choices(instruments, tmp_path: Path):
    inst = instruments["jobcoach_followup"]
    text, notes = export_redcap([inst], "nl", record_id="record_id")
    lines = text.splitlines()
    assert lines[0] == REDCAP_HEADER_LINE
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == REDCAP_COLUMNS
    assert all(len(r) == 18 for r in rows)
    assert rows[1][0] == "record_id"
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["match_01"][3] == "radio"
    assert by_name["match_01"][5].startswith("1, Helemaal mee oneens | 2, Mee oneens")
    assert by_name["activities"][3] == "checkbox"
    assert by_name["cws_hours"][7:10] == ["integer", "0", "60"]
    assert by_name["cws_employed"][3] == "yesno" and by_name["cws_employed"][12] == "y"
    assert any("match_04" in n for n in notes)  # reverse keying cannot be exported
    assert any("match_quality" in n for n in notes)
    again = parse_redcap(text, "klik-export").instruments[0]
    assert [it.id for it in again.items][1:] == [it.id for it in inst.items]


def _export_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_shipped_set_exports_with_unique_names(instruments):
    chosen = [instruments[i] for i in sorted(instruments)]
    text, notes = export_redcap(chosen, "nl", record_id="record_id")
    rows = _export_rows(text)
    names = [r["Variable / Field Name"] for r in rows]
    assert len(names) == len(set(names))
    assert names[0] == "record_id" and rows[0]["Field Type"] == "text"
    shared = set(i.id for i in instruments["employee_followup"].items) & set(
        i.id for i in instruments["employee_baseline"].items
    )
    assert shared  # the shipped set does reuse item ids across instruments
    renamed = [n for n in notes if "exported as" in n]
    assert len(renamed) >= len(shared)
    # the result is a dictionary REDCap's rules accept: it imports again, name for name
    again = parse_redcap(text, "again")
    assert [it.id for inst in again.instruments for it in inst.items] == names
    for row in rows:
        for ref in re.findall(
            r"\[([a-z0-9_]+)(?:\([^)]*\))?\]", row["Branching Logic (Show field only if...)"]
        ):
            same_form = {
                r["Variable / Field Name"] for r in rows if r["Form Name"] == row["Form Name"]
            }
            assert ref in same_form, (row["Variable / Field Name"], ref)


def test_renamed_field_takes_its_branching_along():
    text = (
        REDCAP_HEADER_LINE
        + "\nrecord_id,one,,text,ID,,,,,,,,,,,,,"
        + "\nsmoke,one,,yesno,Smoke?,,,,,,,,,,,,,"
        + "\nsmoke,two,,yesno,Smoke now?,,,,,,,,,,,,,"
    )
    first = parse_redcap(text.rsplit("\n", 1)[0], "a").instruments
    second_text = (
        REDCAP_HEADER_LINE
        + "\nsmoke,two,,yesno,Smoke now?,,,,,,,,,,,,,"
        + "\nhow_much,two,,integer_placeholder,How much?,,,,,,,\"[smoke] = '1'\",,,,,,"
    ).replace("integer_placeholder", "text")
    second = [
        dataclasses.replace(i, record_id=None) for i in parse_redcap(second_text, "b").instruments
    ]
    exported, notes = export_redcap([*second, *first])
    rows = _export_rows(exported)
    assert [r["Form Name"] for r in rows] == ["one", "one", "two", "two"]  # record ID form first
    assert [r["Variable / Field Name"] for r in rows] == [
        "record_id",
        "smoke",
        "two_smoke",
        "how_much",
    ]
    assert rows[3]["Branching Logic (Show field only if...)"] == '[two_smoke] = "1"'
    assert any("'smoke' exported as 'two_smoke'" in n for n in notes)


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: p.name)
def test_export_invents_nothing_in_any_form_order(path: Path):
    original = _field_rows(path)
    imported = import_redcap(path).instruments
    for order in (imported, sorted(imported, key=lambda i: i.id), list(reversed(imported))):
        text, _ = export_redcap(order, "en", record_id="record_id")
        rows = _export_rows(text)
        names = [r["Variable / Field Name"] for r in rows]
        kept = {it.id for inst in imported for it in inst.items}
        assert set(names) == kept  # no record_id or anything else added
        assert names[0] == original[0]["Variable / Field Name"]
        by_name = {r["Variable / Field Name"]: r for r in original}
        for row in rows:
            assert row["Section Header"] == by_name[row["Variable / Field Name"]]["Section Header"]
            assert row["Form Name"] == by_name[row["Variable / Field Name"]]["Form Name"]
        again = {i.id: i for i in parse_redcap(text, "again").instruments}
        assert again == {i.id: i for i in imported}


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: p.name)
def test_round_trip_with_forms_sorted_by_id(path: Path):
    imported = import_redcap(path).instruments
    text, _ = export_redcap(sorted(imported, key=lambda i: i.id), "en")
    again = {i.id: i for i in parse_redcap(text, "again").instruments}
    assert again == {i.id: i for i in imported}


def test_pages_per_section_header():
    path = REDCAP_DIR / "redcapr_longitudinal.csv"
    demo = next(
        i for i in import_redcap(path, pages="section").instruments if i.id == "demographics"
    )
    firsts = [demo.item(s.item_ids[0]) for s in demo.sections]
    assert firsts[0].id == "study_id"
    assert all(it.header is not None for it in firsts[1:])
    assert len(demo.sections) == 1 + sum(1 for it in demo.items[1:] if it.header is not None)
    with pytest.raises(InstrumentError, match="pages must be"):
        import_redcap(path, pages="wave")  # type: ignore[arg-type]
