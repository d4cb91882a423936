"""The cost–benefit section of the HTML report (:func:`analysis.report.build_report`)."""

from __future__ import annotations

import html

import pandas as pd

from analysis.cost_benefit import CostBenefit
from analysis.cost_benefit_text import (
    FACTOR_LABELS,
    balance_table,
    costs_outcomes_table,
    dose_table,
    figures_table,
    money,
    t,
)

__all__ = ["TITLE", "cost_benefit_body"]

TITLE = {"nl": "Kosten en baten (MKBA)", "en": "Costs and benefits (MKBA)"}

WORDS = {
    "costs_outcomes": {"nl": "Kosten en uitkomsten", "en": "Costs and outcomes"},
    "balance": {"nl": "Saldo per actor", "en": "Balance per actor"},
    "figures": {"nl": "Kerncijfers", "en": "Headline figures"},
    "tornado": {"nl": "Gevoeligheid", "en": "Sensitivity"},
    "dose": {"nl": "Intensiteit en klik", "en": "Intensity and klik"},
    "dose_refused": {
        "nl": "Geen schatting van intensiteit en klik",
        "en": "No estimate of intensity and klik",
    },
    "parameters": {"nl": "Parameters en bronnen", "en": "Parameters and sources"},
    "horizon": {"nl": "Horizon: {m:.0f} maanden.", "en": "Horizon: {m:.0f} months."},
    "factor": {"nl": "Factor", "en": "Factor"},
    "low": {"nl": "Laag", "en": "Low"},
    "high": {"nl": "Hoog", "en": "High"},
    "npv_low": {"nl": "NCW laag", "en": "NPV low"},
    "npv_high": {"nl": "NCW hoog", "en": "NPV high"},
    "against": {"nl": "Vergeleken met", "en": "Compared with"},
}


def _html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, classes="klik-table")


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def cost_benefit_body(cb: CostBenefit, params: pd.DataFrame, lang: str) -> str:
    """The section's HTML: costs and outcomes, the balance (or why there is none), the dose and
    klik contrasts with their label, and the parameters with their sources."""
    w = lambda key: t(WORDS, key, lang)  # noqa: E731
    parts = [
        _p(w("horizon").format(m=cb.horizon_days / 30.4375)),
        f"<h3>{w('costs_outcomes')}</h3>",
        _html(costs_outcomes_table(cb.summary, lang)),
        f"<h3>{w('balance')}</h3>",
    ]
    if cb.reason is not None or cb.result is None:
        parts.append(_p((cb.reason or {}).get(lang, "")))
    else:
        comparison = cb.result.comparison
        source = f" ({comparison.source})" if comparison.source else ""
        parts.append(_p(f"{w('against')}: {comparison.label}{source}"))
        parts.append(_html(balance_table(cb.result.table, lang)))
        if cb.intervals is not None:
            parts += [f"<h3>{w('figures')}</h3>", _html(figures_table(cb.intervals, lang))]
        if cb.tornado is not None:
            rows = [
                (t(FACTOR_LABELS, r.factor, lang), r.low, r.high, money(r.npv_low, lang),
                 money(r.npv_high, lang))
                for r in cb.tornado.itertuples(index=False)
            ]  # fmt: skip
            columns = [w(k) for k in ("factor", "low", "high", "npv_low", "npv_high")]
            parts += [f"<h3>{w('tornado')}</h3>", _html(pd.DataFrame(rows, columns=columns))]
    parts.append(f"<h3>{w('dose')}</h3>")
    if cb.dose is not None:
        parts.append(_html(dose_table(cb.dose, lang)))
    else:
        why = cb.dose_refused.text(lang) if cb.dose_refused is not None else (cb.dose_error or "")
        parts.append(_p(f"{w('dose_refused')}: {why}"))
    parts += [f"<h3>{w('parameters')}</h3>", _html(params)]
    return "\n".join(parts)
