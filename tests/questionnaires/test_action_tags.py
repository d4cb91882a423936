"""Action tags: parsed from the annotation, applied by the server and the form, never ignored."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from questionnaires.action_tags import SUPPORTED, tags_of
from questionnaires.redcap import REDCAP_HEADER_LINE, export_redcap, parse_redcap
from questionnaires.render import render_section
from questionnaires.validation import validate_answers

NOW = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)

ROWS = [
    "record_id,f,,text,ID,,,,,,,,,,,,,",
    "secret,f,,text,Geheim,,,,,,,,,,,,,\"@HIDDEN @DEFAULT='abc'\"",
    "survey_hidden,f,,text,Verborgen,,,,,,,,,,,,,@HIDDEN-SURVEY",
    "form_hidden,f,,text,Alleen formulier verborgen,,,,,,,,,,,,,@HIDDEN-FORM",
    "fixed,f,,text,Vast,,,integer,,,,,,,,,,\"@READONLY @DEFAULT='7'\"",
    "start,f,,text,Start,,,date_ymd,,,,,,,,,,@TODAY",
    'stamp,f,,text,Tijd,,,datetime_ymd,,,,,,,,,,"@NOW @READONLY"',
    "hours,f,,text,Uren,,,integer,,,,,,,,,,\"@DEFAULT='32'\"",
    "label,f,,text,Label,,,,,,,,,,,,,\"@CALCTEXT(if([hours] >= 32, 'voltijd', 'deeltijd'))\"",
    "next_visit,f,,text,Volgende,,,date_ymd,,,,,,,,,,\"@CALCDATE([start], 14, 'd')\"",
    'aids,f,,checkbox,Hulp,"1, bril | 2, stok | 99, geen van deze",,,,,,,,,,,,@NONEOFTHEABOVE=99',
    "short,f,,text,Kort,,,,,,,,,,,,,\"@CHARLIMIT=5 @PLACEHOLDER='bv. ja'\"",
    "words,f,,notes,Woorden,,,,,,,,,,,,,@WORDLIMIT=3",
    "odd,f,,text,Vreemd,,,,,,,,,,,,,\"@RANDOMORDER @HIDECHOICE='1' @CHARLIMIT=x\"",
]


def _instrument():
    return parse_redcap(REDCAP_HEADER_LINE + "\n" + "\n".join(ROWS), "tags.csv")


def test_parse_arguments_and_unknown_tags():
    tags = tags_of("@DEFAULT = \"a b\" note @CALCTEXT(concat('x', ')'))  @FOO @CHARLIMIT=12")
    assert tags.default == "a b" and tags.calctext == "concat('x', ')')"
    assert tags.charlimit == 12 and tags.unsupported == ("@FOO",)
    assert tags_of("@CALCDATE([d], -1, 'y')").calcdate == ("[d]", "-1", "y")
    assert tags_of("@CALCDATE([d], 1)").problems
    assert tags_of("@CALCTEXT([a] +)").calctext is None
    assert "at character" in tags_of("@CALCTEXT([a] +)").problems[0]
    assert tags_of("just a note").unsupported == ()
    for name in ("@HIDDEN", "@READONLY", "@DEFAULT", "@NOW", "@TODAY", "@CALCTEXT", "@CALCDATE"):
        assert name in SUPPORTED
    for name in ("@NONEOFTHEABOVE", "@CHARLIMIT", "@WORDLIMIT", "@PLACEHOLDER", "@HIDDEN-SURVEY"):
        assert name in SUPPORTED


def test_import_report_names_every_tag_not_applied():
    result = _instrument()
    odd = [w.message for w in result.warnings if w.field == "odd"]
    assert any("@RANDOMORDER" in m and "not supported" in m for m in odd)
    assert any("@HIDECHOICE" in m for m in odd)
    assert any("@CHARLIMIT" in m and "whole number" in m for m in odd)
    tag_warnings = {w.field for w in result.warnings if "action tag" in w.message}
    assert tag_warnings == {"odd"}


def test_server_applies_the_tags():
    inst = _instrument().instruments[0]
    posted = {
        "secret": "forged",
        "survey_hidden": "forged",
        "form_hidden": "kept",
        "fixed": "99",
        "stamp": "1999-01-01 00:00",
        "start": "2026-01-05",
        "hours": "20",
        "label": "forged",
        "next_visit": "2000-01-01",
    }
    result = validate_answers(inst, posted, partial=True, now=NOW)
    assert result.ok, result.errors
    v = result.values
    assert v["secret"] == "abc" and v["survey_hidden"] is None and v["form_hidden"] == "kept"
    assert v["fixed"] == 7 and v["stamp"] == "2026-01-10 09:30"
    assert v["label"] == "deeltijd" and str(v["next_visit"]) == "2026-01-19"
    full = validate_answers(inst, {**posted, "hours": "40"}, partial=True, now=NOW)
    assert full.values["label"] == "voltijd"


@pytest.mark.parametrize(
    ("posted", "item", "message"),
    [
        ({"aids": ["1", "99"]}, "aids", "'geen van deze' kan niet samen met een ander antwoord"),
        ({"short": "123456"}, "short", "ten hoogste 5 tekens (nu 6)"),
        ({"words": "een twee drie vier"}, "words", "ten hoogste 3 woorden (nu 4)"),
    ],
)
def test_limits_are_enforced_with_dutch_messages(posted: dict, item: str, message: str):
    inst = _instrument().instruments[0]
    result = validate_answers(inst, posted, partial=True, now=NOW)
    assert message in result.errors[item]
    ok = validate_answers(inst, {"aids": ["99"], "short": "12345", "words": "een twee drie"})
    assert not {"aids", "short", "words"} & set(ok.errors)


def test_hidden_and_readonly_items_are_never_required():
    rows = [
        "record_id,f,,text,ID,,,,,,,,,,,,,",
        "h,f,,text,H,,,,,,,,y,,,,,@HIDDEN",
        "r,f,,text,R,,,,,,,,y,,,,,@READONLY",
    ]
    inst = parse_redcap(REDCAP_HEADER_LINE + "\n" + "\n".join(rows), "x").instruments[0]
    result = validate_answers(inst, {"record_id": "1"}, now=NOW)
    assert result.ok, result.errors


def test_form_shows_what_the_tags_ask():
    inst = _instrument().instruments[0]
    html = render_section(inst, 0, {}, {}, "nl", now=NOW)
    assert 'name="secret"' not in html and 'name="survey_hidden"' not in html
    assert 'name="form_hidden"' in html
    assert re.search(r'<input[^>]*name="fixed"[^>]*readonly', html) or re.search(
        r'<input[^>]*readonly[^>]*name="fixed"', html
    )
    assert 'value="7"' in html and 'value="32"' in html and 'value="2026-01-10"' in html
    assert 'maxlength="5"' in html and 'placeholder="bv. ja"' in html
    assert 'name="label"' not in html and "klik-calc-value" in html
    saved = render_section(inst, 0, {"hours": None}, {}, "nl", now=NOW)
    assert 'value="32"' not in saved  # a saved empty answer is not filled in again


def test_annotations_export_unchanged():
    result = _instrument()
    text, _ = export_redcap(result.instruments, "nl")
    assert parse_redcap(text, "again").instruments == result.instruments
    assert "@CALCTEXT(if([hours] >= 32, 'voltijd', 'deeltijd'))" in text


def test_a_saved_value_of_a_fixed_item_is_kept():
    inst = _instrument().instruments[0]
    later = NOW + dt.timedelta(days=2)
    first = validate_answers(inst, {}, partial=True, now=NOW)
    assert first.values["stamp"] == "2026-01-10 09:30"
    again = validate_answers(
        inst, {"stamp": "1999-01-01 00:00"}, partial=True, now=later, saved=first.values
    )
    assert again.values["stamp"] == "2026-01-10 09:30"  # not the forged one, not the new moment
    assert validate_answers(inst, {}, partial=True, now=later).values["stamp"] == (
        "2026-01-12 09:30"
    )
