"""Cohort monitor page."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context

ROLES = ("researcher", "viewer")

dash.register_page(
    __name__,
    path="/monitor",
    title="Klik – Cohortmonitor",
    nav={"nl": "Cohortmonitor", "en": "Cohort monitor"},
    roles=ROLES,
    order=10,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    return html.Div(
        html.H1(context.tr({"nl": "Cohortmonitor", "en": "Cohort monitor"})), className="klik-page"
    )
