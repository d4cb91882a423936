"""Workspace page."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context

ROLES = ("researcher", "jobcoach")

dash.register_page(
    __name__,
    path="/workspace",
    title="Klik – Werkplek",
    nav={"nl": "Werkplek", "en": "Workspace"},
    roles=ROLES,
    order=20,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    return html.Div(
        html.H1(context.tr({"nl": "Werkplek", "en": "Workspace"})), className="klik-page"
    )
