"""Home: a short welcome and the pages this user can open."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard import context
from dashboard.layout import nav_entries

dash.register_page(__name__, path="/", title="Klik", order=0)

TEXTS = {
    "welcome": {"nl": "Welkom, {name}", "en": "Welcome, {name}"},
    "lead": {
        "nl": "Klik volgt trajecten van jobcoaching: vragenlijsten, contacten, werkgebeurtenissen "
        "en wat samengaat met duurzaam werk.",
        "en": "Klik follows job coaching trajectories: questionnaires, contacts, employment events "
        "and what goes with sustainable work.",
    },
    "/monitor": {
        "nl": "Instroom, respons per meting en rol, achterstallige en gemiste vragenlijsten, uitval.",
        "en": "Enrolment, response per wave and role, overdue and missed forms, attrition.",
    },
    "/workspace": {
        "nl": "Uw cliënten, vragenlijsten die klaarstaan, contacten en werkgebeurtenissen "
        "vastleggen, signalen.",
        "en": "Your clients, forms that are due, logging contacts and employment events, signals.",
    },
    "/exports": {
        "nl": "Gepseudonimiseerde data als CSV, SPSS, Stata of Parquet, met codeboek.",
        "en": "Pseudonymised data as CSV, SPSS, Stata or Parquet, with a codebook.",
    },
    "/outbox": {
        "nl": "Verzonden en wachtende uitnodigingen, status van de planner.",
        "en": "Sent and pending invitations, scheduler status.",
    },
}


def layout(**_query: Any) -> html.Div:
    user = context.page_user()
    language = context.lang()
    cards = [
        html.Div(
            [
                html.H2(dcc.Link(e.label.get(language, e.label["nl"]), href=e.path)),
                html.P(context.tr(TEXTS[e.path], language), className="klik-muted")
                if e.path in TEXTS
                else None,
            ],
            className="klik-card",
        )
        for e in nav_entries(dash.page_registry.values(), str(user.role))
    ]
    return html.Div(
        [
            html.H1(TEXTS["welcome"][language].format(name=user.display_name)),
            html.P(TEXTS["lead"][language], className="klik-lead"),
            html.Div(cards, className="klik-grid"),
        ],
        className="klik-page",
    )
