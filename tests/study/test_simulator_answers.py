"""Simulated answers: valid for every instrument, scoring to the true state."""

from __future__ import annotations

import numpy as np
import pytest

from questionnaires.registry import load_instruments, parse_instrument_text
from questionnaires.scoring import score_response
from questionnaires.validation import validate_answers
from study.simulator.answers import RespondentState, answer, item_traits

INSTRUMENTS = load_instruments()


def state(rng: np.random.Generator, **kw: object) -> RespondentState:
    values = {
        "klik": float(rng.normal()),
        "match": float(rng.normal()),
        "wellbeing": float(rng.normal()),
        "satisfaction": float(rng.normal()),
        "capability_count": int(rng.integers(0, 8)),
        "employed": bool(rng.random() < 0.8),
        "hours": float(rng.integers(8, 41)),
        "sick_days": int(rng.integers(0, 29)),
        "coached": bool(rng.random() < 0.7),
        "changed": int(rng.integers(0, 3)),
        "activities": frozenset({"placement", "self_reliance"}),
    }
    values.update(kw)
    return RespondentState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("instrument_id", sorted(INSTRUMENTS))
def test_answers_pass_validation_for_every_instrument(instrument_id: str) -> None:
    instrument = INSTRUMENTS[instrument_id]
    rng = np.random.default_rng(3)
    for _ in range(50):
        values = answer(instrument, state(rng), rng)
        result = validate_answers(instrument, values)
        assert result.ok, result.errors


@pytest.mark.parametrize("count", range(8))
def test_capability_answers_score_the_true_count(count: int) -> None:
    instrument = INSTRUMENTS["employee_followup"]
    rng = np.random.default_rng(count)
    values = answer(instrument, state(rng, capability_count=count), rng)
    typed = validate_answers(instrument, values).values
    assert score_response(instrument, typed)["capability_count"] == count


def test_work_status_answers_follow_the_state() -> None:
    instrument = INSTRUMENTS["employee_followup"]
    rng = np.random.default_rng(5)
    lost = answer(instrument, state(rng, employed=False, hours=0.0, sick_days=0), rng)
    assert lost["ws_employed"] == 0 and lost["ws_hours"] == 0
    working = answer(instrument, state(rng, employed=True, hours=32.0, sick_days=3), rng)
    assert (
        working["ws_employed"] == 1 and working["ws_hours"] == 32 and working["ws_sick_days"] == 3
    )


def test_klik_answers_rise_with_the_latent_klik() -> None:
    instrument = INSTRUMENTS["employee_followup"]
    rng = np.random.default_rng(9)
    low = [answer(instrument, state(rng, klik=-1.5), rng)["klik_direct"] for _ in range(200)]
    high = [answer(instrument, state(rng, klik=1.5), rng)["klik_direct"] for _ in range(200)]
    assert np.mean(high) > np.mean(low) + 1


def test_reverse_keyed_items_are_answered_reversed() -> None:
    instrument = INSTRUMENTS["jobcoach_followup"]
    reversed_ids = [it.id for it in instrument.items if it.reverse]
    assert reversed_ids
    rng = np.random.default_rng(2)
    good = [answer(instrument, state(rng, match=2.0), rng)[reversed_ids[0]] for _ in range(100)]
    assert np.mean(good) < 2.5


NEW_INSTRUMENT = """
id: added_later
version: '1.0'
respondent: employee
title: {nl: Nieuw, en: New}
source: test
licence: test
sections:
- id: s
  title: {nl: S, en: S}
  items:
  - {id: mood, type: likert, text: {nl: a, en: a}, options: [{code: 1, label: {nl: a, en: a}}, {code: 7, label: {nl: b, en: b}}]}
  - {id: tools, type: multiple, text: {nl: b, en: b}, options: [{code: x, label: {nl: x, en: x}}, {code: y, label: {nl: y, en: y}}]}
  - {id: minutes_commute, type: integer, min: 0, max: 240, text: {nl: c, en: c}}
  - {id: pick, type: single, text: {nl: d, en: d}, options: [{code: a, label: {nl: a, en: a}}, {code: b, label: {nl: b, en: b}}]}
  - {id: remarks, type: text, text: {nl: e, en: e}}
scores:
- {id: mood_score, rule: item, items: [mood], max_missing: 0, scale: [1, 7], label: {nl: m, en: m}}
"""


def test_an_instrument_added_later_gets_valid_answers() -> None:
    instrument = parse_instrument_text(NEW_INSTRUMENT)
    rng = np.random.default_rng(1)
    for _ in range(30):
        values = answer(instrument, state(rng), rng)
        assert validate_answers(instrument, values).ok
        assert set(values) >= {"mood", "tools", "minutes_commute", "pick"}
    assert item_traits(instrument) == {"mood": "general"}
