"""Exports page."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context

ROLES = ("researcher", "jobcoach", "viewer")

dash.register_page(
    __name__,
    path="/exports",
    title="Klik – Exports",
    nav={"nl": "Exports", "en": "Exports"},
    roles=ROLES,
    order=80,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    return html.Div(html.H1(context.tr({"nl": "Exports", "en": "Exports"})), className="klik-page")
