"""Outbox and scheduler status, for researchers."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, dcc, html

from dashboard import context
from dashboard.i18n import label_of
from dashboard.tables import kpi, table
from study.mail.status import outbox_failures, outbox_status
from study.vocab import OutboxStatus, Respondent, Role
from study.worklists import scheduler_leases

ROLES = (Role.RESEARCHER,)

dash.register_page(
    __name__,
    path="/outbox",
    title="Klik – verzending",
    nav={"nl": "Verzending", "en": "Outbox"},
    roles=tuple(r.value for r in ROLES),
    order=90,
)

CONTENT, REFRESH = "outbox-content", "outbox-refresh"
T = {
    "title": {"nl": "Verzending en planner", "en": "Outbox and scheduler"},
    "status": {"nl": "Status", "en": "Status"},
    "kind": {"nl": "Soort", "en": "Kind"},
    "n": {"nl": "Aantal", "en": "Number"},
    "oldest": {"nl": "Eerstvolgende poging (UTC)", "en": "Next attempt (UTC)"},
    "failures": {"nl": "Mislukte berichten", "en": "Failed mails"},
    "scheduler": {"nl": "Planner", "en": "Scheduler"},
    "holder": {"nl": "Proces", "en": "Process"},
    "until": {"nl": "Lease tot (UTC)", "en": "Lease until (UTC)"},
    "no_lease": {
        "nl": "Er draait geen planner (geen lease gevonden).",
        "en": "No scheduler is running (no lease found).",
    },
    "none": {"nl": "Geen.", "en": "None."},
    "pending": {"nl": "Wacht op verzending", "en": "Pending"},
    "sent": {"nl": "Verzonden", "en": "Sent"},
    "failed": {"nl": "Mislukt", "en": "Failed"},
    "wave": {"nl": "Meting", "en": "Wave"},
    "respondent": {"nl": "Ontvanger", "en": "Recipient role"},
    "attempts": {"nl": "Pogingen", "en": "Attempts"},
    "error": {"nl": "Laatste fout", "en": "Last error"},
}


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    lang = context.lang()
    return html.Div(
        [
            html.H1(T["title"][lang]),
            dcc.Interval(id=REFRESH, interval=30_000),
            dcc.Loading(html.Div(id=CONTENT), type="dot"),
        ],
        className="klik-page",
    )


def outbox_view(
    status: pd.DataFrame, failures: pd.DataFrame, leases: pd.DataFrame, lang: str
) -> html.Div:
    """Headline counts, counts per status and kind, the scheduler lease and recent failures."""
    total = status.groupby("status")["n"].sum() if not status.empty else pd.Series(dtype=int)
    kpis = html.Div(
        [kpi(str(int(total.get(s, 0))), T[s][lang]) for s in ("pending", "sent", "failed")],
        className="klik-kpis",
    )
    shown = status.assign(
        status=[label_of(OutboxStatus, s, lang) for s in status["status"]],
        oldest_pending=[
            "" if v is None or v != v else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
            for v in status["oldest_pending"]
        ],
    )
    lease = (
        table(
            leases.assign(expires_at=[pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in leases["expires_at"]]),
            ["", T["holder"][lang], T["until"][lang]],
        )
        if not leases.empty
        else html.P(T["no_lease"][lang], className="klik-warn")
    )  # fmt: skip
    fail = failures[["wave_code", "respondent", "kind", "attempts", "last_error"]].assign(
        respondent=[label_of(Respondent, r, lang) for r in failures["respondent"]]
    )
    return html.Div(
        [
            kpis,
            html.Div(
                [
                    html.H2(T["status"][lang]),
                    table(shown, [T[k][lang] for k in ("status", "kind", "n", "oldest")], empty=T["none"][lang]),
                ],
                className="klik-card",
            ),
            html.Div([html.H2(T["scheduler"][lang]), lease], className="klik-card"),
            html.Div(
                [
                    html.H2(T["failures"][lang]),
                    table(fail, [T[k][lang] for k in ("wave", "respondent", "kind", "attempts", "error")], empty=T["none"][lang]),
                ],
                className="klik-card",
            ),
        ]
    )  # fmt: skip


@dash.callback(Output(CONTENT, "children"), Input(REFRESH, "n_intervals"))
def update(_n: Any) -> html.Div:
    context.page_user(*ROLES)
    with context.read_session() as s:
        status, failures, leases = outbox_status(s), outbox_failures(s), scheduler_leases(s)
    return outbox_view(status, failures, leases, context.lang())
