"""Plausible answers to any instrument, driven by a respondent's latent state.

The generator reads only the instrument definition: item type, options, range, reverse keying and
which score an item belongs to. A score's id says which latent trait drives its items (``klik``
and ``alliance`` -> klik, ``match`` and ``fit`` -> match, ``well`` -> wellbeing, ``sat`` and
``ontz``/``reach``/``role``/``func`` -> satisfaction); a ``capability_count`` score gets triples that
score exactly the true count. Items in no score are recognised by id for the work status
(``employed``, ``hours``, ``sick``, ``coached``, ``changed``); anything else gets a random valid
answer. So an instrument added later still gets answers that pass validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from questionnaires.model import Instrument, Item

TRAIT_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("klik", "klik"),
    ("alliance", "klik"),
    ("alli", "klik"),
    ("match", "match"),
    ("fit", "match"),
    ("well", "wellbeing"),
    ("sat", "satisfaction"),
    ("ontz", "satisfaction"),
    ("reach", "satisfaction"),
    ("role", "satisfaction"),
    ("func", "match"),
)


@dataclass(frozen=True)
class RespondentState:
    """What a respondent knows and feels at the moment of answering (traits have SD 1)."""

    klik: float
    match: float
    wellbeing: float
    satisfaction: float
    capability_count: int
    employed: bool
    hours: float
    sick_days: int
    coached: bool
    changed: int = 0
    activities: frozenset[str] = field(default_factory=frozenset)


def item_traits(instrument: Instrument) -> dict[str, str]:
    """The latent trait that drives each item, from the ids of the scores it belongs to."""
    traits: dict[str, str] = {}
    for score in instrument.scores:
        if score.rule in ("capability_count", "capability_flag"):
            for item_id in score.items:
                traits[item_id] = "capability"
            continue
        sid = score.id.lower()
        trait = next((t for key, t in TRAIT_KEYWORDS if key in sid), "general")
        for item_id in score.items:
            traits.setdefault(item_id, trait)
    return traits


def answer(
    instrument: Instrument, state: RespondentState, rng: np.random.Generator
) -> dict[str, Any]:
    """Answers to every answerable item of ``instrument`` as a respondent in ``state`` gives them.

    Values are what a form posts after conversion: ints for numeric choices, codes for other
    choices, lists for multiple choice. Unanswered optional items (free text, dates) are left out.
    """
    traits = item_traits(instrument)
    values: dict[str, Any] = {}
    for score in instrument.scores:
        if score.rule == "capability_count" and not set(score.items) & set(values):
            values.update(
                _capability_answers(list(score.items), state.capability_count, score.threshold, rng)
            )
    for item in instrument.items:
        if not item.answerable or item.id in values:
            continue
        value = _answer_item(item, traits.get(item.id), state, rng)
        if value is not None:
            values[item.id] = value
    return values


def _trait_value(trait: str | None, state: RespondentState) -> float:
    if trait == "klik":
        return state.klik
    if trait == "match":
        return state.match
    if trait == "wellbeing":
        return state.wellbeing
    if trait == "satisfaction":
        return state.satisfaction
    return (state.klik + state.match) / 2


def _likert(item: Item, z: float, rng: np.random.Generator) -> Any:
    codes = [o.code for o in item.options]
    if not item.numeric:
        return codes[int(rng.integers(len(codes)))]
    lo, hi = min(codes), max(codes)
    # answers sit in the upper part of the scale, as satisfaction and alliance ratings do
    center = lo + 0.68 * (hi - lo)
    spread = (hi - lo) / 4.5
    x = center + spread * (0.85 * z + 0.55 * rng.standard_normal())
    value = int(min(hi, max(lo, round(x))))
    if item.reverse:
        value = hi + lo - value
    return value if value in codes else min(codes, key=lambda c: abs(c - value))


def _answer_item(
    item: Item, trait: str | None, state: RespondentState, rng: np.random.Generator
) -> Any:
    iid = item.id.lower()
    if item.type == "yesno":
        if "employed" in iid or "working" in iid:
            return int(state.employed)
        if "coach" in iid:
            return int(state.coached)
        z = _trait_value(trait, state)
        return int(rng.random() < 1 / (1 + math.exp(-(0.5 + z))))
    if item.type in ("integer", "number"):
        lo = item.min if item.min is not None else 0
        hi = item.max if item.max is not None else lo + 10
        if "hour" in iid or "uren" in iid:
            x = state.hours if state.employed else 0
        elif "sick" in iid or "verzuim" in iid:
            x = state.sick_days
        else:
            x = lo + (hi - lo) * rng.random()
        x = min(hi, max(lo, x))
        return round(x) if item.type == "integer" else round(float(x), 1)
    if item.type == "likert":
        return _likert(item, _trait_value(trait, state), rng)
    if item.type == "single":
        codes = [o.code for o in item.options]
        if "changed" in iid and state.changed in codes:
            return state.changed
        if trait is not None:
            return _likert(item, _trait_value(trait, state), rng)
        weights = np.linspace(2.0, 1.0, len(codes))
        return codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
    if item.type == "multiple":
        codes = [o.code for o in item.options]
        chosen = [c for c in codes if _activity_matches(str(c), state.activities)]
        if not chosen:
            k = int(rng.integers(1, min(3, len(codes)) + 1))
            chosen = [codes[i] for i in sorted(rng.choice(len(codes), size=k, replace=False))]
        return chosen
    return None


def _activity_matches(code: str, activities: frozenset[str]) -> bool:
    return any(code in a or a.startswith(code) for a in activities)


def _capability_answers(
    item_ids: list[str], count: int, threshold: float, rng: np.random.Generator
) -> dict[str, int]:
    """Triples (important, enabled, achieved) of which exactly ``count`` are all >= threshold."""
    triples = [item_ids[i : i + 3] for i in range(0, len(item_ids) - len(item_ids) % 3, 3)]
    count = min(count, len(triples))
    chosen = set(rng.choice(len(triples), size=count, replace=False).tolist()) if count else set()
    high = max(2, min(5, math.ceil(threshold)))
    values: dict[str, int] = {}
    for k, triple in enumerate(triples):
        if k in chosen:
            for item_id in triple:
                values[item_id] = int(rng.integers(high, 6))
        else:
            # important and perhaps enabled, but not achieved: not a capability
            imp = int(rng.choice([2, 3, 4, 5], p=[0.1, 0.2, 0.4, 0.3]))
            ena = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.3, 0.35, 0.2]))
            ach = int(rng.integers(1, high))
            values.update(dict(zip(triple, (imp, ena, ach), strict=True)))
    return values
