"""Calculated fields: computed on the server with the logic evaluator, never taken from a post."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from questionnaires.errors import InstrumentError
from questionnaires.redcap import REDCAP_HEADER_LINE, export_redcap, import_redcap, parse_redcap
from questionnaires.schema import parse_instrument
from questionnaires.scoring import score_response
from questionnaires.validation import compute, validate_answers

from .conftest import REDCAP_DIR

NOW = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


def _demographics():
    result = import_redcap(REDCAP_DIR / "redcapr_longitudinal.csv")
    return next(i for i in result.instruments if i.id == "demographics")


def test_bmi_of_the_shared_dictionary_is_computed():
    demo = _demographics()
    result = validate_answers(demo, {"weight": "80", "height": "180"}, partial=True, now=NOW)
    assert result.values["bmi"] == pytest.approx(24.7)
    blank = validate_answers(demo, {"weight": "80"}, partial=True, now=NOW)
    assert blank.values["bmi"] is None


def test_a_posted_value_for_a_calculated_field_is_ignored():
    demo = _demographics()
    result = validate_answers(
        demo, {"weight": "80", "height": "180", "bmi": "999"}, partial=True, now=NOW
    )
    assert result.values["bmi"] == pytest.approx(24.7)
    assert "__form__" not in result.errors
    forged = validate_answers(demo, {"bmi": "999"}, partial=True, now=NOW)
    assert forged.values["bmi"] is None


def test_other_pages_answers_and_earlier_waves_feed_a_formula():
    text = (
        REDCAP_HEADER_LINE
        + "\nrecord_id,f,,text,ID,,,,,,,,,,,,,"
        + "\nhours,f,,text,Uren,,,integer,,,,,,,,,,"
        + '\nmore,f,,calc,Meer uren,"[hours] - [t0][hours]",,,,,,,,,,,,'
        + "\nage,f,,calc,Dagen,\"datediff('2026-01-01', 'today', 'd', true)\",,,,,,,,,,,,"
        + '\ntwice,f,,calc,Dubbel,"[more] * 2",,,,,,,,,,,,'
    )
    inst = parse_redcap(text, "x").instruments[0]
    values = compute(inst, {"hours": 24}, now=NOW, events={"T0": {"hours": 16}})
    assert values == {"more": 8.0, "age": 9.0, "twice": 16.0}
    assert compute(inst, {"hours": 24}, now=None)["age"] is None
    known = validate_answers(inst, {}, section="s1", known={"hours": 30}, now=NOW)
    assert known.values["more"] is None  # no earlier wave given


def test_calculated_items_can_be_scored():
    data = yaml.safe_load(
        """
id: calc_score
version: "1"
respondent: employee
title: {nl: Berekend, en: Computed}
source: own
licence: own
sections:
  - id: p
    title: {nl: P, en: P}
    items:
      - {id: a, type: integer, min: 0, max: 10, text: {nl: A, en: A}}
      - {id: b, type: integer, min: 0, max: 10, text: {nl: B, en: B}}
      - {id: total, type: calc, calc: "sum([a], [b])", text: {nl: Totaal, en: Total}}
scores:
  - {id: total_score, label: {nl: T, en: T}, rule: item, items: [total], scale: [0, 20]}
"""
    )
    inst = parse_instrument(data, "calc.yaml")
    result = validate_answers(inst, {"a": "3", "b": "4"}, now=NOW)
    assert result.ok and result.values["total"] == 7.0
    assert score_response(inst, result.values) == {"total_score": 7.0}
    assert score_response(inst, validate_answers(inst, {}, partial=True).values) == {
        "total_score": None
    }


@pytest.mark.parametrize(
    ("formula", "fragment"),
    [
        ("[a] +", "at character 6: expected a value"),
        ("[nope] + 1", "unknown field [nope]"),
        ("[total] + 1", "refers to the item itself"),
        ("eval('1')", "unknown function"),
    ],
)
def test_a_broken_formula_names_the_item_and_the_position(formula: str, fragment: str):
    data = {
        "id": "broken",
        "version": "1",
        "respondent": "employee",
        "title": {"nl": "B", "en": "B"},
        "source": "own",
        "licence": "own",
        "sections": [
            {
                "id": "p",
                "title": {"nl": "P", "en": "P"},
                "items": [
                    {"id": "a", "type": "integer", "text": {"nl": "A", "en": "A"}},
                    {
                        "id": "total",
                        "type": "calc",
                        "calc": formula,
                        "text": {"nl": "T", "en": "T"},
                    },
                ],
            }
        ],
    }
    with pytest.raises(InstrumentError, match="item 'total'") as caught:
        parse_instrument(data, "broken.yaml")
    assert fragment in str(caught.value)


def test_import_reports_formulas_it_cannot_compute():
    text = (
        REDCAP_HEADER_LINE
        + "\nrecord_id,one,,text,ID,,,,,,,,,,,,,"
        + "\nw,one,,text,Gewicht,,,number,,,,,,,,,,"
        + '\nbad,one,,calc,Fout,"[w] * ",,,,,,,,,,,,'
        + '\ncross,two,,calc,Ander formulier,"[w] * 2",,,,,,,,,,,,'
        + '\nok,two,,calc,Goed,"2 * 3",,,,,,,,,,,,'
        + '\nq,two,,sql,Query,"select 1",,,,,,,,,,,,'
    )
    result = parse_redcap(text, "x")
    by_field = {w.field: w.message for w in result.warnings}
    assert "at character" in by_field["bad"] and "left out" in by_field["bad"]
    assert "form 'one'" in by_field["cross"]
    assert "not importable" in by_field["q"]
    two = next(i for i in result.instruments if i.id == "two")
    assert [it.id for it in two.items] == ["ok"]


def test_calc_fields_export_as_calc():
    demo = _demographics()
    text, _ = export_redcap([demo], "en")
    row = next(line for line in text.splitlines() if line.startswith("bmi,"))
    assert ",calc," in row and "round(([weight]*10000)/(([height])^(2)),1)" in row
