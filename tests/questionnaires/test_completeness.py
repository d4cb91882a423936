"""Completeness: the questions a respondent could answer, and which were left open."""

from __future__ import annotations

from questionnaires.completeness import answer_counts, applicable_items, unanswered
from questionnaires.redcap import REDCAP_HEADER_LINE, parse_redcap
from questionnaires.validation import validate_answers

ROWS = [
    "record_id,visit,,text,ID,,,,,,,,,,,,,@HIDDEN",
    "intro,visit,,descriptive,Welkom,,,,,,,,,,,,,",
    "works,visit,,yesno,Werk je?,,,,,,,,y,,,,,",
    "hours,visit,,text,Uren per week,,,integer,0,60,,[works] = '1',,,,,,",
    "double,visit,,calc,Dubbel,[hours] * 2,,,,,,,,,,,,",
    "stamp,visit,,text,Moment,,,,,,,,,,,,,@READONLY",
    "mood,visit,Hoe gaat het,yesno,Gaat het goed?,,,,,,,,,,,,,",
]


def _instrument():
    text = REDCAP_HEADER_LINE + "\n" + "\n".join(ROWS) + "\n"
    (inst,) = parse_redcap(text, "test.csv", pages="section").instruments
    return inst


def _hidden(inst, answers):
    return validate_answers(inst, answers, "nl", partial=True).hidden


def test_only_what_the_respondent_could_answer_counts() -> None:
    inst = _instrument()
    # not the staff-only record id, the text, the calculation or the read-only moment
    assert [it.id for it in applicable_items(inst)] == ["works", "hours", "mood"]
    # hours is asked only of those who work
    answers = {"works": 0}
    hidden = _hidden(inst, answers)
    assert "hours" in hidden
    assert answer_counts(inst, answers, hidden) == (1, 2)
    assert [(part, it.id) for part, it in unanswered(inst, answers, hidden)] == [(1, "mood")]


def test_an_empty_answer_is_not_an_answer_and_zero_is() -> None:
    inst = _instrument()
    answers = {"works": 1, "hours": 0, "mood": ""}
    assert answer_counts(inst, answers, _hidden(inst, answers)) == (2, 3)
    assert [it.id for _, it in unanswered(inst, answers, _hidden(inst, answers))] == ["mood"]
