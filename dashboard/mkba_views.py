"""The MKBA page's pieces: the comparison as the researcher typed it, the ledgers' summary tables,
the balance per actor and the tornado plot, in Dutch first and English second.

Pure functions of data; the page (``dashboard/pages/mkba.py``) is glue, the computing happens in
:func:`dashboard.mkba_jobs.mkba_job`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analysis.cost_benefit_text import (
    ACTOR_LABELS,
    FACTOR_LABELS,
    ITEM_LABELS,
    TEXT,
    Texts,
    balance_table,
    costs_outcomes_table,
    dose_table,
    figures_table,
    money,
    number,
    t,
)
from analysis.mkba import Comparison

__all__ = [
    "ACTOR_LABELS",
    "ITEM_LABELS",
    "balance_table",
    "comparison_from",
    "costs_outcomes_table",
    "dose_table",
    "figures_table",
    "money",
    "number",
    "parse_comparison",
    "tornado_figure",
]


ERRORS: dict[str, Texts] = {
    "kind": {"nl": "Kies waarmee u vergelijkt.", "en": "Choose what to compare with."},
    "label": {"nl": "Geef de vergelijking een naam.", "en": "Give the comparison a name."},
    "source": {
        "nl": "Geef de bron van de benchmarkcurve (rapport, jaar).",
        "en": "Give the source of the benchmark curve (report, year).",
    },
    "curve": {
        "nl": "Schrijf de curve als maand:aandeel, gescheiden door komma's of regels, bijvoorbeeld "
        "'0:1; 6:0,85; 12:0,78'; maanden oplopend, aandelen tussen 0 en 1 die niet stijgen.",
        "en": "Write the curve as month:share, separated by semicolons or lines, e.g. "
        "'0:1; 6:0.85; 12:0.78'; months increasing, shares between 0 and 1 that do not rise.",
    },
    "days": {
        "nl": "Het aantal gewonnen dagen werk moet een getal zijn (tussen -366 en 366).",
        "en": "The days in work gained must be a number (between -366 and 366).",
    },
    "sick": {
        "nl": "Het aantal verzuimdagen minder moet een getal zijn (tussen -366 en 366).",
        "en": "The sick days fewer must be a number (between -366 and 366).",
    },
}


def _decimal(text: str) -> float:
    value = float(text.strip().replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_comparison(
    kind: object,
    label: object,
    source: object = None,
    curve: object = None,
    days: object = None,
    sick: object = None,
    *,
    language: str = "nl",
) -> tuple[dict[str, Any] | None, str | None]:
    """The comparison as plain data (for the job and its key), or why it is refused, in
    ``language``. Callback inputs are untrusted: every field is checked here."""
    if kind in (None, "", "none"):
        return None, None
    if kind not in ("benchmark", "arm", "scenario"):
        return None, t(ERRORS, "kind", language)
    name = str(label).strip()[:120] if isinstance(label, str | int | float) else ""
    if not name:
        return None, t(ERRORS, "label", language)
    data: dict[str, Any] = {"kind": kind, "label": name}
    if kind == "benchmark":
        origin = str(source).strip()[:300] if isinstance(source, str) else ""
        if not origin:
            return None, t(ERRORS, "source", language)
        points = _curve(curve)
        if points is None:
            return None, t(ERRORS, "curve", language)
        data.update(source=origin, curve=points)
    if kind == "scenario":
        for field_name, raw, error in (
            ("days_gained", days, "days"),
            ("sick_days_fewer", sick, "sick"),
        ):
            try:
                value = (
                    0.0
                    if raw in (None, "") and field_name == "sick_days_fewer"
                    else _decimal(str(raw))
                )
            except ValueError:
                return None, t(ERRORS, error, language)
            if not -366 <= value <= 366:
                return None, t(ERRORS, error, language)
            data[field_name] = value
    try:
        comparison_from(data)
    except ValueError:
        return None, t(ERRORS, "curve", language)
    return data, None


def _curve(raw: object) -> list[list[float]] | None:
    if not isinstance(raw, str) or len(raw) > 2000:
        return None
    points = []
    for part in raw.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        if ":" not in part:
            return None
        month, share = part.split(":", 1)
        try:
            points.append([_decimal(month), _decimal(share)])
        except ValueError:
            return None
    if not points or len(points) > 120:
        return None
    months = [p[0] for p in points]
    shares = [p[1] for p in points]
    if months != sorted(months) or len(set(months)) != len(months) or months[0] < 0:
        return None
    if any(not 0 <= s <= 1 for s in shares) or any(b > a for a, b in itertools.pairwise(shares)):
        return None
    return points


def comparison_from(data: Mapping[str, Any]) -> Comparison:
    """The :class:`analysis.mkba.Comparison` of :func:`parse_comparison`'s data."""
    return Comparison(
        kind=str(data["kind"]),
        label=str(data["label"]),
        source=str(data.get("source", "")),
        curve=tuple((float(m), float(s)) for m, s in data.get("curve", ())),
        days_gained=float(data.get("days_gained", 0.0)),
        sick_days_fewer=float(data.get("sick_days_fewer", 0.0)),
    )


def tornado_figure(table: pd.DataFrame, language: str) -> go.Figure:
    """Society NPV with each factor at its low and high value, around the base."""
    base = float(table["npv_base"].iloc[0]) if len(table) else 0.0
    names = [t(FACTOR_LABELS, f, language) for f in table["factor"]]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=table["npv_low"] - base,
        base=base,
        orientation="h",
        name=t(TEXT, "low", language),
        text=table["low"],
        marker_color="#4c78a8",
    )
    fig.add_bar(
        y=names,
        x=table["npv_high"] - base,
        base=base,
        orientation="h",
        name=t(TEXT, "high", language),
        text=table["high"],
        marker_color="#f58518",
    )
    fig.add_vline(x=base, line_dash="dash", annotation_text=t(TEXT, "base", language))
    fig.update_layout(
        barmode="overlay",
        xaxis_title=t(TEXT, "npv_axis", language),
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        height=320,
        legend={"orientation": "h", "y": -0.3},
    )
    return fig
