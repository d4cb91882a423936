"""Scoring: pure, vectorised functions from item answers to scale scores.

The rules are defined on :class:`questionnaires.model.Score`. In short:

- reverse-keyed items are scored ``lo + hi - answer`` on the item's own range;
- ``mean`` is the mean of the answered items, ``sum`` the prorated sum (mean of the answered
  items times the number of items); both are missing when more than ``max_missing`` items are
  missing;
- ``capability_flag`` is 1 when important, enabled and achieved are all ``>= threshold`` (4 on
  1-5), 0 otherwise, and missing when an aspect is missing;
- ``capability_count`` counts the capability flags of the work values whose three aspects are
  all answered; it is missing when more than ``max_missing`` values are incomplete (an
  incomplete value counts as not a capability, so the count stays a whole number);
- ``multiplier`` scales the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from questionnaires.model import Instrument, Item, Score


def item_matrix(instrument: Instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """The scored items as floats, reverse keying applied.

    Parameters
    ----------
    instrument
        The instrument the responses answered.
    responses
        One row per response, one column per item id (columns that are absent count as
        missing answers). Values may be numbers or numeric strings; empty means missing.

    Returns
    -------
    pandas.DataFrame
        Same index; one float column per item used by a score (reverse-keyed items already
        reversed), NaN where missing.

    Raises
    ------
    ValueError
        When an answer is not a number or lies outside the item's range or options.
    """
    used: list[str] = []
    for sc in instrument.scores:
        used.extend(i for i in sc.items if i not in used)
    columns: dict[str, np.ndarray] = {}
    for item_id in used:
        item = instrument.item(item_id)
        columns[item_id] = _item_values(item, responses)
    return pd.DataFrame(columns, index=responses.index, dtype=float)


def _item_values(item: Item, responses: pd.DataFrame) -> np.ndarray:
    n = len(responses)
    if item.id not in responses.columns:
        return np.full(n, np.nan)
    raw = responses[item.id]
    if raw.dtype == object:
        raw = raw.map(
            lambda v: np.nan if v is None or (isinstance(v, str) and v.strip() == "") else v
        )
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad_type = np.isnan(values) & raw.notna().to_numpy()
    if bad_type.any():
        example = raw[bad_type].iloc[0]
        raise ValueError(
            f"item {item.id!r}: {int(bad_type.sum())} answer(s) are not numbers "
            f"(for example {example!r})"
        )
    lo, hi = item.value_range or (-math.inf, math.inf)
    answered = ~np.isnan(values)
    outside = answered & ((values < lo) | (values > hi))
    if item.type in ("likert", "single", "yesno"):
        codes = np.array([float(o.code) for o in item.options])
        outside |= answered & ~np.isin(values, codes)
    if outside.any():
        example = values[outside][0]
        raise ValueError(
            f"item {item.id!r}: {int(outside.sum())} answer(s) outside the item's range or "
            f"options (for example {example:g})"
        )
    if item.reverse:
        values = lo + hi - values
    return values


def _score_values(score: Score, m: pd.DataFrame) -> np.ndarray:
    block = m[list(score.items)].to_numpy(dtype=float)
    n_rows, k = block.shape
    missing = np.isnan(block)
    n_missing = missing.sum(axis=1)
    if score.rule in ("mean", "sum", "item"):
        answered = k - n_missing
        totals = np.where(missing, 0.0, block).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = totals / answered
        out = means * k if score.rule == "sum" else means
        out = np.where((n_missing > score.max_missing) | (answered == 0), np.nan, out)
    elif score.rule == "capability_flag":
        high = (block >= score.threshold).all(axis=1)
        out = np.where(n_missing > 0, np.nan, high.astype(float))
    elif score.rule == "capability_count":
        triples = block.reshape(n_rows, k // 3, 3)
        complete = ~np.isnan(triples).any(axis=2)
        flags = complete & (np.where(np.isnan(triples), -np.inf, triples) >= score.threshold).all(
            axis=2
        )
        incomplete = (~complete).sum(axis=1)
        out = np.where(incomplete > score.max_missing, np.nan, flags.sum(axis=1).astype(float))
    else:  # pragma: no cover - the loader refuses other rules
        raise ValueError(f"score {score.id!r}: unknown rule {score.rule!r}")
    return out * score.multiplier


def score_frame(instrument: Instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """Score many responses at once.

    Parameters
    ----------
    instrument
        The instrument (and version) the responses answered.
    responses
        One row per response, one column per item id; other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        Same index as ``responses``; one float column per score id of the instrument, in the
        order the instrument lists them; NaN where a score is missing. Capability flags are
        0.0/1.0 and the capability count a whole number.

    Raises
    ------
    ValueError
        When an answer is not numeric or outside its item's range.

    Examples
    --------
    >>> from questionnaires.registry import load_instruments
    >>> inst = load_instruments()["employee_followup"]
    >>> answers = pd.DataFrame({"job_sat": [4, None]})
    >>> score_frame(inst, answers)["job_satisfaction"].tolist()
    [4.0, nan]
    """
    m = item_matrix(instrument, responses)
    return pd.DataFrame(
        {sc.id: _score_values(sc, m) for sc in instrument.scores},
        index=responses.index,
        columns=[sc.id for sc in instrument.scores],
        dtype=float,
    )


def score_response(instrument: Instrument, values: Mapping[str, Any]) -> dict[str, float | None]:
    """Score one response (typed answers by item id); missing scores are ``None``.

    The same rules as :func:`score_frame`, in plain Python: one form submission should not pay
    for building DataFrames (a test holds the two paths equal).
    """
    items: dict[str, float] = {}
    for sc in instrument.scores:
        for item_id in sc.items:
            if item_id not in items:
                items[item_id] = _one_value(instrument.item(item_id), values.get(item_id))
    out: dict[str, float | None] = {}
    for sc in instrument.scores:
        value = _one_score(sc, [items[i] for i in sc.items])
        out[sc.id] = None if math.isnan(value) else float(value * sc.multiplier)
    return out


def _one_value(item: Item, raw: Any) -> float:
    if raw is None or isinstance(raw, list | tuple) or (isinstance(raw, str) and not raw.strip()):
        return math.nan
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"item {item.id!r}: 1 answer(s) are not numbers (for example {raw!r})"
        ) from None
    if math.isnan(value):
        return value
    lo, hi = item.value_range or (-math.inf, math.inf)
    codes = (
        {float(o.code) for o in item.options}
        if item.type in ("likert", "single", "yesno")
        else None
    )
    if value < lo or value > hi or (codes is not None and value not in codes):
        raise ValueError(
            f"item {item.id!r}: 1 answer(s) outside the item's range or options "
            f"(for example {value:g})"
        )
    return lo + hi - value if item.reverse else value


def _one_score(score: Score, block: list[float]) -> float:
    answered = [v for v in block if not math.isnan(v)]
    n_missing = len(block) - len(answered)
    if score.rule in ("mean", "sum", "item"):
        if n_missing > score.max_missing or not answered:
            return math.nan
        mean = sum(answered) / len(answered)
        return mean * len(block) if score.rule == "sum" else mean
    if score.rule == "capability_flag":
        if n_missing:
            return math.nan
        return float(all(v >= score.threshold for v in block))
    if score.rule == "capability_count":
        triples = [block[i : i + 3] for i in range(0, len(block), 3)]
        complete = [t for t in triples if not any(math.isnan(v) for v in t)]
        if len(triples) - len(complete) > score.max_missing:
            return math.nan
        return float(sum(all(v >= score.threshold for v in t) for t in complete))
    raise ValueError(f"score {score.id!r}: unknown rule {score.rule!r}")  # pragma: no cover
