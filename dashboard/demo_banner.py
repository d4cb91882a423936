"""The banner of a demo: which simulated date it shows, and what its numbers count."""

from __future__ import annotations

import datetime as dt

from dash import html

from dashboard.i18n import fmt_date
from study.cohort_counts import CohortCounts

BANNER_ID = "klik-demo-banner"

TEXTS = {
    "date": {
        "nl": "Demo met gesimuleerde gegevens. ‘Vandaag’ is hier {today} (gesimuleerd; de echte "
        "datum is {real}); de tijd loopt vanaf daar door.",
        "en": "Demo with simulated data. ‘Today’ here is {today} (simulated; the real date is "
        "{real}); time runs on from there.",
    },
    "counts": {
        "nl": "{trajectories} trajecten van {participants} werknemers: {re} trajecten zijn een "
        "volgend traject van dezelfde werknemer (herplaatsing bij een andere werkgever na "
        "baanverlies); zo worden {participants} ingeschreven trajecten er {trajectories}.",
        "en": "{trajectories} trajectories of {participants} employees: {re} are a further "
        "trajectory of the same employee (re-placement with another employer after a job "
        "loss); that is how {participants} enrolled trajectories become {trajectories}.",
    },
    "counts_plain": {
        "nl": "{trajectories} trajecten van {participants} werknemers.",
        "en": "{trajectories} trajectories of {participants} employees.",
    },
}


def is_simulated(clock: object) -> bool:
    """Whether ``clock`` is a demo's shifted clock (it says so with ``simulated = True``)."""
    return bool(getattr(clock, "simulated", False))


def demo_banner(
    today: dt.date, real_today: dt.date, counts: CohortCounts | None, language: str
) -> html.Div:
    """The banner: the simulated and the real date and, when given, what the counts mean.

    ``counts`` is None for a viewer: a small number of re-enrolments would be a small group.
    """
    lines = [
        html.P(
            TEXTS["date"][language].format(
                today=fmt_date(today, language), real=fmt_date(real_today, language)
            )
        )
    ]
    if counts is not None and counts.trajectories:
        key = "counts" if counts.re_enrolments > 0 else "counts_plain"
        lines.append(
            html.P(
                TEXTS[key][language].format(
                    trajectories=counts.trajectories,
                    participants=counts.participants,
                    re=counts.re_enrolments,
                )
            )
        )
    return html.Div(lines, id=BANNER_ID, className="klik-demo-banner", role="note")
