"""Outbox and scheduler status, for researchers."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.grid_text import grid_options
from dashboard.i18n import label_of
from dashboard.mail_views import mail_trouble_banner
from dashboard.tables import kpi, table
from study.mail.compose import KIND_INVITATION, KIND_REMINDER
from study.mail.messages import outbox_messages
from study.mail.resend import resend_failed
from study.mail.status import mail_trouble, outbox_failures, outbox_status
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
PICK, KIND = "outbox-resend-pick", "outbox-resend-kind"
RESEND_PICKED, RESEND_KIND = "outbox-resend-picked", "outbox-resend-all"
RESEND_MSG = "outbox-resend-msg"
MESSAGES, RESEND_ROWS, ROWS_MSG = "outbox-messages", "outbox-resend-rows", "outbox-rows-msg"
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
    "resend": {"nl": "Opnieuw versturen", "en": "Send again"},
    "resend_help": {
        "nl": "Na een storing of een aangevuld adres: mislukte mail gaat opnieuw de wachtrij in, "
        "naar het adres dat nu bekend is. Elke keuze wordt vastgelegd in het auditlog.",
        "en": "After an outage or a completed address: failed mail is queued again, to the "
        "address known now. Every decision is recorded in the audit log.",
    },
    "pick": {"nl": "Kies mislukte berichten", "en": "Choose failed mails"},
    "resend_picked": {"nl": "Gekozen berichten opnieuw versturen", "en": "Send chosen mails again"},
    "resend_kind": {
        "nl": "Alle mislukte van deze soort opnieuw versturen",
        "en": "Send all failed mails of this kind again",
    },
    "invitation": {"nl": "Uitnodigingen", "en": "Invitations"},
    "reminder": {"nl": "Herinneringen", "en": "Reminders"},
    "done": {
        "nl": "{queued} opnieuw in de wachtrij; {without_address} nog zonder adres; {closed} niet, want de uitnodiging is gesloten.",
        "en": "{queued} queued again; {without_address} still without an address; {closed} not, as the invitation is closed.",
    },
    "nothing": {"nl": "Kies eerst berichten.", "en": "Choose mails first."},
    "messages": {"nl": "Berichten", "en": "Messages"},
    "messages_help": {
        "nl": "De nieuwste berichten, zonder adres. Sorteer en filter per kolom; vink mislukte "
        "berichten aan om ze opnieuw te versturen.",
        "en": "The newest messages, without address. Sort and filter per column; tick failed "
        "messages to send them again.",
    },
    "resend_rows": {
        "nl": "Aangevinkte berichten opnieuw versturen",
        "en": "Send ticked messages again",
    },
    "outbox_id": {"nl": "Nr.", "en": "No."},
    "study_code": {"nl": "Studiecode", "en": "Study code"},
    "next_attempt_at": {"nl": "Volgende poging (UTC)", "en": "Next attempt (UTC)"},
    "created_at": {"nl": "Aangemaakt (UTC)", "en": "Created (UTC)"},
    "sent_at": {"nl": "Verzonden (UTC)", "en": "Sent (UTC)"},
    "last_error": {"nl": "Laatste fout", "en": "Last error"},
}


def message_columns(lang: str) -> list[dict[str, Any]]:
    """The message grid's columns (sortable and filterable), the first with a tick box."""
    keys = ("outbox_id", "kind", "study_code", "wave", "respondent", "status", "attempts",
            "next_attempt_at", "last_error", "created_at", "sent_at")  # fmt: skip
    fields = {"wave": "wave_code"}
    return [
        {"field": fields.get(k, k), "headerName": T[k][lang], "filter": True, "sortable": True,
         **({"checkboxSelection": True, "headerCheckboxSelection": True} if i == 0 else {})}
        for i, k in enumerate(keys)
    ]  # fmt: skip


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    lang = context.lang()
    kinds = [{"label": T[k][lang], "value": k} for k in (KIND_INVITATION, KIND_REMINDER)]
    return html.Div(
        [
            html.H1(T["title"][lang]),
            dcc.Interval(id=REFRESH, interval=30_000),
            dcc.Loading(html.Div(id=CONTENT), type="dot"),
            html.Div(
                [
                    html.H2(T["resend"][lang]),
                    html.P(T["resend_help"][lang], className="klik-muted"),
                    dcc.Dropdown(id=PICK, options=[], multi=True, placeholder=T["pick"][lang]),
                    html.Button(T["resend_picked"][lang], id=RESEND_PICKED, className="klik-button"),
                    dcc.RadioItems(id=KIND, options=kinds, value=KIND_INVITATION, inline=True),
                    html.Button(T["resend_kind"][lang], id=RESEND_KIND, className="klik-button"),
                    html.Div(id=RESEND_MSG, role="status"),
                ],
                className="klik-card",
            ),
            html.Div(
                [
                    html.H2(T["messages"][lang]),
                    html.P(T["messages_help"][lang], className="klik-muted"),
                    dag.AgGrid(id=MESSAGES, columnDefs=message_columns(lang), rowData=[],
                               getRowId="params.data.outbox_id",
                               defaultColDef={"resizable": True, "minWidth": 100},
                               dashGridOptions=grid_options(lang, rowSelection="multiple", pagination=True, paginationPageSize=50, suppressRowClickSelection=True),
                               style={"height": "520px"}),
                    html.Button(T["resend_rows"][lang], id=RESEND_ROWS, className="klik-primary"),
                    html.Div(id=ROWS_MSG, role="status"),
                ],
                className="klik-card",
            ),
        ],
        className="klik-page",
    )  # fmt: skip


@dash.callback(Output(MESSAGES, "rowData"), Input(REFRESH, "n_intervals"))
def messages(_n: Any) -> list[dict[str, Any]]:
    context.page_user(*ROLES)
    with context.read_session() as s:
        frame = outbox_messages(s)
    return frame.to_dict("records")


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


def failure_options(failures: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """Dropdown options for failed mails: wave, recipient role, kind and error, never an address."""
    return [
        {
            "label": f"#{int(r.outbox_id)} {r.wave_code or ''} {label_of(Respondent, r.respondent, lang)}"
            f" ({T.get(r.kind, {}).get(lang, r.kind)}): {str(r.last_error or '')[:80]}",
            "value": int(r.outbox_id),
        }
        for r in failures.itertuples(index=False)
    ]  # fmt: skip


@dash.callback(Output(CONTENT, "children"), Input(REFRESH, "n_intervals"))
def update(_n: Any) -> html.Div:
    context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        status, failures, leases = outbox_status(s), outbox_failures(s), scheduler_leases(s)
        trouble = mail_trouble(s)
    return html.Div(
        [
            mail_trouble_banner(trouble, lang, link=False),
            outbox_view(status, failures, leases, lang),
        ]
    )


@dash.callback(Output(PICK, "options"), Input(REFRESH, "n_intervals"))
def failure_choices(_n: Any) -> list[dict[str, Any]]:
    context.page_user(*ROLES)
    with context.read_session() as s:
        failures = outbox_failures(s, limit=500)
    return failure_options(failures, context.lang())


@dash.callback(
    Output(RESEND_MSG, "children"),
    # a new round of the refresh shows the counts and choices as they are after the resend
    Output(REFRESH, "n_intervals"),
    Input(RESEND_PICKED, "n_clicks"),
    Input(RESEND_KIND, "n_clicks"),
    State(PICK, "value"),
    State(KIND, "value"),
    prevent_initial_call=True,
)
def resend(_picked: Any, _all: Any, picked: Any, kind: Any) -> tuple[html.P, int]:
    user = context.page_user(*ROLES)
    lang = context.lang()
    if dash.ctx.triggered_id == RESEND_KIND:
        if kind not in (KIND_INVITATION, KIND_REMINDER):
            return html.P(T["nothing"][lang], className="klik-alert"), 0
        chosen: dict[str, Any] = {"kind": kind}
    else:
        ids = [v for v in picked or [] if isinstance(v, int) and not isinstance(v, bool)]
        if not ids:
            return html.P(T["nothing"][lang], className="klik-alert"), 0
        chosen = {"outbox_ids": ids}
    with context.container().sessions.begin() as s:
        report = resend_failed(
            s, actor=user.username, at=context.now(), within=context.scope(), **chosen
        )
    done = T["done"][lang].format(
        queued=report.queued, without_address=report.without_address, closed=report.closed
    )
    return html.P(done, className="klik-info"), 0


@dash.callback(
    Output(ROWS_MSG, "children"),
    Output(MESSAGES, "rowData", allow_duplicate=True),
    Input(RESEND_ROWS, "n_clicks"),
    State(MESSAGES, "selectedRows"),
    prevent_initial_call=True,
)
def resend_rows(_n: Any, rows: Any) -> tuple[html.P, Any]:
    """Queue the ticked failed messages again; the rows are only a wish (their ids, checked)."""
    user = context.page_user(*ROLES)
    lang = context.lang()
    picked = [r.get("outbox_id") for r in rows or [] if isinstance(r, dict)] if isinstance(rows, list) else []  # fmt: skip
    ids = [v for v in picked if isinstance(v, int) and not isinstance(v, bool)]
    if not ids:
        return html.P(T["nothing"][lang], className="klik-alert"), dash.no_update
    with context.container().sessions.begin() as s:
        report = resend_failed(s, actor=user.username, at=context.now(), within=context.scope(), outbox_ids=ids)  # fmt: skip
    with context.read_session() as s:
        fresh = outbox_messages(s).to_dict("records")
    done = T["done"][lang].format(
        queued=report.queued, without_address=report.without_address, closed=report.closed
    )
    return html.P(done, className="klik-info"), fresh
