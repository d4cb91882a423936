"""Pure builders of the signal statistics for researchers and viewers: how many signals fired,
were seen and how fast, and how well each predicted job loss.

There is no breakdown by jobcoach anywhere, and none by organisation unless every organisation
holds at least ``min_clients`` clients; organisations are listed by name, never ranked.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import html

from analysis.signal_quality import base_rate, follow_up, signal_quality
from dashboard.disclosure import HIDDEN_MARK, viewer_follow_up
from dashboard.signal_views import signal_name
from dashboard.tables import table
from study.clock import AMSTERDAM

T = {
    "title": {"nl": "Signalen voor jobcoaches", "en": "Signals for job coaches"},
    "lead": {
        "nl": "Hoe vaak de signalen afgingen, of de jobcoach ze zag en hoe snel. Geen vergelijking tussen jobcoaches.",
        "en": "How often the signals fired, whether the job coach saw them and how fast. No comparison of job coaches.",
    },
    "follow": {"nl": "Afgegaan en gezien", "en": "Fired and seen"},
    "quality": {
        "nl": "Klopten de signalen? Baanverlies binnen 90 dagen (uit de eigen geschiedenis van de studie)",
        "en": "Were the signals right? Job loss within 90 days (from the study's own history)",
    },
    "quality_note": {
        "nl": "Gevoeligheid: aandeel baanverliezen met dit signaal in de 90 dagen ervoor. "
              "Voorspellende waarde: aandeel signalen gevolgd door baanverlies binnen 90 dagen. "
              "Een signaal is een aanleiding voor een gesprek; deze cijfers zijn geen gevalideerd voorspelmodel.",
        "en": "Sensitivity: share of job losses with this signal in the 90 days before. "
              "Positive predictive value: share of signals followed by job loss within 90 days. "
              "A signal is a prompt for a conversation; these figures are not a validated prediction model.",
    },
    "base_rate": {
        "nl": "Ter vergelijking: op {rate} van willekeurige momenten (elke 30 dagen) volgde baanverlies binnen 90 dagen.",
        "en": "For comparison: {rate} of random moments (every 30 days) were followed by job loss within 90 days.",
    },
    "orgs": {"nl": "Per organisatie", "en": "Per organisation"},
    "orgs_hidden": {
        "nl": "Per organisatie alleen wanneer elke organisatie minstens {k} cliënten heeft.",
        "en": "Per organisation only when every organisation holds at least {k} clients.",
    },
    "viewer_note": {
        "nl": "U ziet totalen: aantallen afgerond op een veelvoud van {k}, kleinere groepen verborgen (×).",
        "en": "You see totals: counts rounded to a multiple of {k}, smaller groups hidden (×).",
    },
    "signal": {"nl": "Signaal", "en": "Signal"},
    "firings": {"nl": "Keer afgegaan", "en": "Times fired"},
    "clients": {"nl": "Cliënten", "en": "Clients"},
    "seen": {"nl": "Gezien", "en": "Seen"},
    "seen_share": {"nl": "Aandeel gezien", "en": "Share seen"},
    "days": {"nl": "Dagen tot gezien (mediaan)", "en": "Days to seen (median)"},
    "with_action": {"nl": "Met actie", "en": "With an action"},
    "ppv": {"nl": "Voorspellende waarde", "en": "Positive predictive value"},
    "sensitivity": {"nl": "Gevoeligheid", "en": "Sensitivity"},
    "lead_days": {"nl": "Dagen vooraf (mediaan)", "en": "Days ahead (median)"},
    "losses": {"nl": "Baanverliezen", "en": "Job losses"},
    "detected": {"nl": "Waarvan gesignaleerd", "en": "Of which signalled"},
    "organisation": {"nl": "Organisatie", "en": "Organisation"},
    "any": {"nl": "Een signaal", "en": "Any signal"},
    "any_red": {"nl": "Een rood signaal", "en": "Any red signal"},
    "none": {"nl": "Nog geen signalen in deze studie.", "en": "No signals in this study yet."},
}  # fmt: skip


def t(key: str, lang: str) -> str:
    """A text of this module in ``lang``."""
    return T[key][lang]


def _name(signal: str, lang: str) -> str:
    return signal_name(signal, lang)


def _pct(value: float, _lang: str) -> str:
    return "–" if value != value else f"{100 * value:.0f}%"


def follow_up_table(signals: pd.DataFrame, seen: pd.DataFrame, lang: str) -> html.Div:
    """Researchers: per signal, times fired, clients, seen, share seen, days to seen, with action."""
    table_ = follow_up(signals, seen)
    if table_.empty:
        return html.P(t("none", lang), className="klik-muted")
    shown = pd.DataFrame({
        "signal": [_name(s, lang) for s in table_["signal"]],
        "firings": table_["firings"], "clients": table_["clients"], "seen": table_["seen"],
        "share": [_pct(v, lang) for v in table_["seen_share"]],
        "days": table_["days_to_seen_median"], "action": table_["with_action"],
    })  # fmt: skip
    heads = [
        t(k, lang)
        for k in ("signal", "firings", "clients", "seen", "seen_share", "days", "with_action")
    ]
    return table(shown, heads, table_id="signal-follow-up")


def viewer_follow_up_table(
    signals: pd.DataFrame, seen: pd.DataFrame, lang: str, k: int
) -> html.Div:
    """Viewers: per signal the clients it fired for and the clients of whom one was seen,
    rounded to a multiple of ``k`` and hidden under ``k``; the share seen and the days to seen
    only when both the seen and the unseen clients number ``k`` or more."""
    if signals.empty:
        return html.P(t("none", lang), className="klik-muted")
    keys = ["trajectory_id", "signal", "rule", "fired_on"]
    f = signals[keys].assign(fired_on=pd.to_datetime(signals["fired_on"]))
    s = seen.assign(fired_on=pd.to_datetime(seen["fired_on"])) if not seen.empty else seen
    marked = (
        f.merge(s[[*keys, "seen_at"]], on=keys, how="left")
        if not seen.empty
        else f.assign(seen_at=pd.NaT)
    )
    # the day it was seen on the study's clock, as the day it fired is
    seen_local = pd.to_datetime(marked["seen_at"], utc=True).dt.tz_convert(AMSTERDAM)
    marked["seen_day"] = seen_local.dt.tz_localize(None).dt.normalize()
    released = viewer_follow_up(marked, k)
    shown = pd.DataFrame({
        "signal": [_name(v, lang) for v in released["signal"]],
        "clients": released["clients"], "seen": released["seen"],
        "share": [HIDDEN_MARK if v != v else f"≈ {_pct(v, lang)}" for v in released["share"]],
        "days": [HIDDEN_MARK if v != v else f"{v:.0f}" for v in released["days"]],
    })  # fmt: skip
    heads = [t(k_, lang) for k_ in ("signal", "clients", "seen", "seen_share", "days")]
    return table(shown, heads, table_id="signal-follow-up")


def quality_table(
    signals: pd.DataFrame, trajectories: pd.DataFrame, as_of: dt.date, lang: str
) -> html.Div:
    """Researchers: sensitivity, PPV and lead time per signal for job loss within 90 days."""
    q = signal_quality(signals, trajectories, as_of=as_of)
    shown = pd.DataFrame({
        "signal": [_name(s, lang) for s in q["signal"]],
        "firings": q["firings"], "ppv": [_pct(v, lang) for v in q["ppv"]],
        "losses": q["job_losses"], "detected": q["detected"],
        "sensitivity": [_pct(v, lang) for v in q["sensitivity"]], "lead": q["lead_days_median"],
    })  # fmt: skip
    heads = [
        t(k, lang)
        for k in ("signal", "firings", "ppv", "losses", "detected", "sensitivity", "lead_days")
    ]
    base = t("base_rate", lang).format(rate=_pct(base_rate(trajectories, as_of=as_of), lang))
    return html.Div(
        [
            table(shown, heads, table_id="signal-quality"),
            html.P([t("quality_note", lang), " ", base], className="klik-note"),
        ]
    )


def organisation_table(
    signals: pd.DataFrame,
    seen: pd.DataFrame,
    trajectories: pd.DataFrame,
    names: pd.DataFrame,
    lang: str,
    *,
    min_clients: int,
) -> html.Div:
    """Researchers: the same follow-up per organisation, in alphabetical order, only when every
    organisation with clients holds at least ``min_clients`` of them (else a note why not)."""
    with_org = trajectories[["trajectory_id", "organisation_id"]].dropna()
    sizes = with_org.groupby("organisation_id").size()
    if sizes.empty or (sizes < min_clients).any() or len(with_org) < len(trajectories):
        return html.P(
            t("orgs_hidden", lang).format(k=min_clients), className="klik-muted", id="signal-orgs"
        )
    rows = []
    named = names.set_index("organisation_id")["name"]
    for org_id in sorted(sizes.index, key=lambda o: str(named.get(o, o))):
        ids = set(with_org.loc[with_org["organisation_id"] == org_id, "trajectory_id"])
        part = follow_up(
            signals[signals["trajectory_id"].isin(ids)],
            seen[seen["trajectory_id"].isin(ids)] if not seen.empty else seen,
        )
        rows.append((str(named.get(org_id, org_id)), int(sizes[org_id]), int(part["firings"].sum()) if not part.empty else 0,
                     int(part["seen"].sum()) if not part.empty else 0))  # fmt: skip
    shown = pd.DataFrame(rows, columns=["org", "clients", "firings", "seen"])
    heads = [t(k, lang) for k in ("organisation", "clients", "firings", "seen")]
    return html.Div(table(shown, heads, table_id="signal-orgs-table"), id="signal-orgs")
