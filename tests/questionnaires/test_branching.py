"""Branching on the server: hidden questions are never required and their values are erased."""

from __future__ import annotations

import datetime as dt
import json
import re

from questionnaires.branching import hidden_items
from questionnaires.redcap import REDCAP_HEADER_LINE, parse_redcap
from questionnaires.render import render_section
from questionnaires.validation import validate_answers

NOW = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
ROWS = [
    "record_id,f,,text,ID,,,,,,,,,,,,,",
    "works,f,,yesno,Werk je?,,,,,,,,y,,,,,",
    "hours,f,,text,Uren,,,integer,0,60,,[works] = '1',y,,,,,",
    "more,f,,yesno,Meer dan vroeger?,,,,,,,\"[hours] > [t0][hours] and [t0][hours] <> ''\",y,,,,,",
    "why,f,,notes,Waarom?,,,,,,,\"[more] = '1' or contains([note], 'x')\",y,,,,,",
    "note,f,,text,Opmerking,,,,,,,,,,,,,",
]


def _instrument():
    return parse_redcap(REDCAP_HEADER_LINE + "\n" + "\n".join(ROWS), "b.csv").instruments[0]


def test_hidden_required_questions_are_not_required_and_erased():
    inst = _instrument()
    posted = {"record_id": "1", "works": "0", "hours": "40", "more": "1", "why": "omdat"}
    result = validate_answers(inst, posted, now=NOW, events={"T0": {"hours": 16}})
    assert result.ok, result.errors
    assert result.hidden == {"hours", "more", "why"}
    assert result.values["hours"] is None and result.values["more"] is None
    assert result.values["why"] is None


def test_shown_required_questions_are_required():
    inst = _instrument()
    result = validate_answers(inst, {"record_id": "1", "works": "1"}, now=NOW)
    assert set(result.errors) == {"hours"}
    assert "more" in result.hidden  # no earlier wave: [t0][hours] is blank


def test_conditions_read_earlier_waves():
    inst = _instrument()
    posted = {"record_id": "1", "works": "1", "hours": "40"}
    result = validate_answers(inst, posted, now=NOW, events={"T0": {"hours": 16}})
    assert set(result.errors) == {"more"}
    lower = validate_answers(inst, posted, now=NOW, events={"t0": {"hours": 50}})
    assert lower.ok and "more" in lower.hidden


def test_cascade_a_question_behind_a_hidden_one_is_hidden():
    inst = _instrument()
    values = {"works": 0, "hours": 40, "more": 1}
    assert hidden_items(inst, values, events={"T0": {"hours": 16}}) == {"hours", "more", "why"}


def test_other_pages_answers_decide_with_known():
    rows = [*ROWS]
    rows[2] = rows[2].replace("hours,f,,", "hours,f,Werk,")
    text = REDCAP_HEADER_LINE + "\n" + "\n".join(rows)
    inst = parse_redcap(text, "b.csv", pages="section").instruments[0]
    assert [s.item_ids[0] for s in inst.sections] == ["record_id", "hours"]
    shown = validate_answers(inst, {"hours": "20"}, section="s2", known={"works": 1}, now=NOW)
    assert "hours" not in shown.hidden and shown.values["hours"] == 20
    hidden = validate_answers(inst, {"hours": "20"}, section="s2", known={"works": 0}, now=NOW)
    assert "hours" in hidden.hidden and hidden.values["hours"] is None and hidden.ok
    # without the other pages' answers the question stays asked (and required)
    unknown = validate_answers(inst, {}, section="s2", now=NOW)
    assert "hours" not in unknown.hidden and "hours" in unknown.errors


def test_rendered_page_carries_conditions_and_hides_on_the_server():
    inst = _instrument()
    html = render_section(inst, 0, {"works": 0}, {}, "nl", now=NOW, events={"T0": {"hours": 16}})
    wrapper = re.search(
        r'<div class="klik-branch" data-item="hours" data-show="([^"]*)" hidden>', html
    )
    assert wrapper is not None
    tree = json.loads(wrapper.group(1).replace("&#34;", '"'))
    assert tree == ["bin", "=", ["field", None, "works", None], ["lit", "1"]]
    data = re.search(r'<script type="application/json" id="klik-logic">(.*?)</script>', html)
    assert data is not None
    context = json.loads(data.group(1))
    assert context["events"] == {"t0": {"hours": 16}} and context["today"] == "2026-01-10"
    assert re.search(r'name="_shown" value="record_id,works,note"', html)


def test_logic_data_cannot_break_out_of_its_element():
    inst = _instrument()
    html = render_section(
        inst, 0, {}, {}, "nl", events={"T0": {"hours": "</script><script>alert(1)</script>"}}
    )
    assert "<script>alert(1)" not in html
    data = re.search(r'id="klik-logic">(.*?)</script>', html)
    assert data is not None and "alert(1)" in json.loads(data.group(1))["events"]["t0"]["hours"]


HEADER_ROWS = [
    "record_id,werk,,text,ID,,,,,,,,,,,,,",
    "works,werk,,yesno,Werk je?,,,,,,,,,,,,,",
    "why_not,werk,Niet aan het werk,notes,Waarom niet?,,,,,,,\"[works] = '0'\",,,,,,",
    "looking,werk,,yesno,Zoek je werk?,,,,,,,\"[works] = '0'\",,,,,,",
    "team,werk,Je team,text,Hoe groot is je team?,,,,,,,,,,,,,",
    "buddy,werk,,yesno,Heb je een maatje?,,,,,,,\"[works] = '1'\",,,,,,",
]


def _header_page(values: dict) -> str:
    text = REDCAP_HEADER_LINE + "\n" + "\n".join(HEADER_ROWS) + "\n"
    (inst,) = parse_redcap(text, "t.csv").instruments
    return render_section(inst, 0, values, {}, "nl")


def _header(page: str, words: str) -> str:
    return re.search(rf'<div class="klik-header"[^>]*>(?:(?!</div>).)*{words}', page, re.S).group(0)


def test_a_header_is_hidden_with_every_question_it_heads():
    working = _header_page({"works": 1})
    # all that "Niet aan het werk" heads is hidden: so is the header, and it names them
    assert 'data-items="why_not,looking" hidden' in _header(working, "Niet aan het werk")
    # "Je team" heads a question that is always asked: never hidden, nothing for the script
    assert "data-items" not in _header(working, "Je team")
    not_working = _header_page({"works": 0})
    assert " hidden" not in _header(not_working, "Niet aan het werk")
