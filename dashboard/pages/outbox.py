"""Outbox page."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context

ROLES = ("researcher",)

dash.register_page(
    __name__,
    path="/outbox",
    title="Klik – Verzending",
    nav={"nl": "Verzending", "en": "Outbox"},
    roles=ROLES,
    order=90,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    return html.Div(
        html.H1(context.tr({"nl": "Verzending", "en": "Outbox"})), className="klik-page"
    )
