"""Exports page: download links for the data the user may see (viewers: the codebook only)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context
from dashboard.exports import AGGREGATE_KINDS, KINDS
from study.access import may_see_rows
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.JOBCOACH, Role.VIEWER)

dash.register_page(
    __name__,
    path="/exports",
    title="Klik – exports",
    nav={"nl": "Exports", "en": "Exports"},
    roles=tuple(r.value for r in ROLES),
    order=80,
)

T = {
    "title": {"nl": "Exports", "en": "Exports"},
    "lead": {
        "nl": "Gepseudonimiseerd: deelnemers staan er alleen met hun studiecode in, nooit met naam "
        "of contactgegevens. Elke export wordt in het auditlog vastgelegd.",
        "en": "Pseudonymised: participants appear only by study code, never with a name or contact "
        "details. Every export is written to the audit log.",
    },
    "scope_coach": {
        "nl": "U exporteert alleen de gegevens van uw eigen cliënten.",
        "en": "You export only the data of your own clients.",
    },
    "viewer": {
        "nl": "Met een kijkaccount zijn alleen totalen te zien; data op rijniveau kunt u niet "
        "exporteren. Het codeboek beschrijft alle variabelen.",
        "en": "A viewer account shows aggregates only; row-level data cannot be exported. The "
        "codebook describes every variable.",
    },
}


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    rows = may_see_rows(user)
    kinds = [k for k in KINDS if rows or k in AGGREGATE_KINDS]
    notes = []
    if not rows:
        notes.append(html.P(T["viewer"][lang], className="klik-info"))
    elif user.role == Role.JOBCOACH:
        notes.append(html.P(T["scope_coach"][lang], className="klik-info"))
    return html.Div(
        [
            html.H1(T["title"][lang]),
            html.P(T["lead"][lang], className="klik-lead"),
            *notes,
            html.Ul(
                [
                    html.Li(
                        html.A(KINDS[k][lang], href=f"/export/{k}", id=f"export-{k}", download="")
                    )
                    for k in kinds
                ],
                className="klik-card klik-downloads",
            ),
        ],
        className="klik-page",
    )
