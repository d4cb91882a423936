"""The jobcoach signals in the HTML report: how often each fired, was seen and how fast, and its
sensitivity, predictive value and lead time for job loss within 90 days (the same functions as
the dashboard's signal page, :mod:`analysis.signal_quality`)."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd

from analysis.signal_quality import follow_up, signal_quality
from analysis.signals import SIGNAL_LABELS

TEXT = {
    "title": {"nl": "Signalen voor jobcoaches", "en": "Signals for job coaches"},
    "follow": {"nl": "Afgegaan en gezien", "en": "Fired and seen"},
    "quality": {"nl": "Baanverlies binnen 90 dagen", "en": "Job loss within 90 days"},
    "note": {
        "nl": "Gevoeligheid: aandeel baanverliezen met dit signaal in de 90 dagen ervoor; voorspellende "
              "waarde: aandeel signalen gevolgd door baanverlies binnen 90 dagen. Geen vergelijking tussen jobcoaches.",
        "en": "Sensitivity: share of job losses with this signal in the 90 days before; positive predictive "
              "value: share of signals followed by job loss within 90 days. No comparison of job coaches.",
    },
    "none": {"nl": "Nog geen signalen.", "en": "No signals yet."},
}  # fmt: skip
HEADS = {
    "signal": ("Signaal", "Signal"),
    "firings": ("Keer afgegaan", "Times fired"),
    "clients": ("Cliënten", "Clients"),
    "seen": ("Gezien", "Seen"),
    "seen_share": ("Aandeel gezien", "Share seen"),
    "days_to_seen_median": ("Dagen tot gezien (mediaan)", "Days to seen (median)"),
    "with_action": ("Met actie", "With an action"),
    "firings_known": ("Met bekende afloop", "With known outcome"),
    "true_positives": ("Gevolgd door baanverlies", "Followed by job loss"),
    "ppv": ("Voorspellende waarde", "Positive predictive value"),
    "job_losses": ("Baanverliezen", "Job losses"),
    "detected": ("Waarvan gesignaleerd", "Of which signalled"),
    "sensitivity": ("Gevoeligheid", "Sensitivity"),
    "lead_days_median": ("Dagen vooraf (mediaan)", "Days ahead (median)"),
}


def _words(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    i = 0 if lang == "nl" else 1
    out = table.copy()
    out["signal"] = [SIGNAL_LABELS.get(s, (s, s))[i] for s in out["signal"]]
    for col in ("seen_share", "ppv", "sensitivity"):
        if col in out:
            out[col] = ["–" if v != v else f"{100 * v:.0f}%" for v in out[col]]
    return out.rename(columns={k: v[i] for k, v in HEADS.items()})


def title(lang: str) -> str:
    """The section's title in ``lang``."""
    return TEXT["title"][lang]


def signals_body(
    signals: pd.DataFrame,
    seen: pd.DataFrame | None,
    trajectories: pd.DataFrame,
    *,
    as_of: dt.date,
    lang: str = "nl",
) -> str:
    """The body of the report's section on the signals, as HTML (tables of aggregates only)."""
    t = {k: v[lang] for k, v in TEXT.items()}
    if signals.empty:
        body = f"<p>{t['none']}</p>"
    else:
        follow = _words(follow_up(signals, seen if seen is not None else signals.iloc[0:0]), lang)
        quality = _words(signal_quality(signals, trajectories, as_of=as_of), lang)
        body = (
            f"<h3>{t['follow']}</h3>" + follow.to_html(index=False, border=0, classes="table", na_rep="–")
            + f"<h3>{t['quality']}</h3>" + quality.to_html(index=False, border=0, classes="table", na_rep="–")
            + f"<p class=\"n\">{html.escape(t['note'])}</p>"
        )  # fmt: skip
    return body
