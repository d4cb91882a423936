"""Audit-log viewer for researchers: search by record (study code), user, action and period;
sort and filter in the grid; download the rows found as CSV (the download is audited too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.grid_text import grid_options
from study.audit_log import LIMIT, AuditFilter, audit_choices, audit_events
from study.vocab import Role

ROLES = (Role.RESEARCHER,)

dash.register_page(
    __name__,
    path="/audit",
    title="Klik – auditlog",
    nav={"nl": "Auditlog", "en": "Audit log"},
    roles=tuple(r.value for r in ROLES),
    order=95,
)

CODE, ACTOR, ACTION, PERIOD = "audit-code", "audit-actor", "audit-action", "audit-period"
GRID, COUNT, CSV, DOWNLOAD = "audit-grid", "audit-count", "audit-csv", "audit-download"
T = {
    "title": {"nl": "Auditlog", "en": "Audit log"},
    "intro": {
        "nl": "Elke wijziging en elke inzage van een individueel dossier, met wie, wanneer (UTC), "
        "oude en nieuwe waarde en reden. Het log kan niet worden gewijzigd.",
        "en": "Every change and every view of an individual record, with who, when (UTC), old and "
        "new value and reason. The log cannot be changed.",
    },
    "code": {"nl": "Dossier (studiecode)", "en": "Record (study code)"},
    "actor": {"nl": "Gebruiker", "en": "User"},
    "action": {"nl": "Actie", "en": "Action"},
    "period": {"nl": "Periode", "en": "Period"},
    "from": {"nl": "Van", "en": "From"},
    "until": {"nl": "Tot en met", "en": "Until"},
    "csv": {"nl": "CSV downloaden", "en": "Download CSV"},
    "count": {"nl": "{n} regels gevonden", "en": "{n} rows found"},
    "capped": {
        "nl": "{n} regels getoond (de nieuwste); verfijn de zoekvraag voor oudere.",
        "en": "{n} rows shown (the newest); narrow the search for older ones.",
    },
    "bad_date": {"nl": "Ongeldige datum in de periode.", "en": "Invalid date in the period."},
    "at": {"nl": "Moment (UTC)", "en": "Moment (UTC)"},
    "entity": {"nl": "Wat", "en": "What"},
    "entity_id": {"nl": "Nr.", "en": "No."},
    "old_values": {"nl": "Oud", "en": "Old"},
    "new_values": {"nl": "Nieuw", "en": "New"},
    "reason": {"nl": "Reden", "en": "Reason"},
}


def _t(key: str, lang: str, **fmt: Any) -> str:
    text = T[key][lang]
    return text.format(**fmt) if fmt else text


def columns(lang: str) -> list[dict[str, Any]]:
    """The grid's columns: sortable, filterable, with Dutch or English headers."""
    keys = ("at", "actor", "action", "entity", "entity_id", "old_values", "new_values", "reason")
    return [
        {"field": k, "headerName": _t(k, lang) if k in T else k, "filter": True, "sortable": True}
        for k in keys
    ]


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        actors, actions = audit_choices(s)
    return html.Div(
        [
            html.H1(_t("title", lang)),
            html.P(_t("intro", lang), className="klik-muted"),
            html.Div(
                [
                    html.Div([html.Label(_t("code", lang), htmlFor=CODE), dcc.Input(id=CODE, type="text", debounce=True)]),
                    html.Div([html.Label(_t("actor", lang), htmlFor=ACTOR), dcc.Dropdown(id=ACTOR, options=actors)]),
                    html.Div([html.Label(_t("action", lang), htmlFor=ACTION), dcc.Dropdown(id=ACTION, options=actions)]),
                    html.Div([html.Label(_t("period", lang)), dcc.DatePickerRange(id=PERIOD, display_format="DD-MM-YYYY" if lang == "nl" else "YYYY-MM-DD", start_date_placeholder_text=_t("from", lang), end_date_placeholder_text=_t("until", lang))]),
                ],
                className="klik-filters",
            ),
            html.Div([html.Span(id=COUNT, role="status"), html.Button(_t("csv", lang), id=CSV, className="klik-primary")], className="klik-actions"),
            dag.AgGrid(
                id=GRID, columnDefs=columns(lang), rowData=[],
                defaultColDef={"resizable": True, "minWidth": 110},
                dashGridOptions=grid_options(lang, pagination=True, paginationPageSize=50),
                style={"height": "560px"},
            ),
            dcc.Download(id=DOWNLOAD),
        ],
        className="klik-page",
    )  # fmt: skip


def parse_filter(code: Any, actor: Any, action: Any, since: Any, until: Any) -> AuditFilter:
    """The filter from callback inputs; anything that is not text of the right form is ignored,
    a malformed date refused."""

    def text(value: Any) -> str | None:
        return value.strip()[:120] or None if isinstance(value, str) else None

    def day(value: Any) -> dt.date | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise ValueError(value)
        return dt.date.fromisoformat(value[:10])

    return AuditFilter(text(code), text(actor), text(action), day(since), day(until))


@dash.callback(
    Output(GRID, "rowData"),
    Output(COUNT, "children"),
    Input(CODE, "value"),
    Input(ACTOR, "value"),
    Input(ACTION, "value"),
    Input(PERIOD, "start_date"),
    Input(PERIOD, "end_date"),
)
def search(code: Any, actor: Any, action: Any, since: Any, until: Any) -> tuple[list, str]:
    user = context.page_user(*ROLES)
    lang = context.lang()
    try:
        filters = parse_filter(code, actor, action, since, until)
    except ValueError:
        return [], _t("bad_date", lang)
    with context.read_session() as s:
        frame = audit_events(s, user.study_id, filters)
    n = len(frame)
    return frame.to_dict("records"), _t("capped" if n >= LIMIT else "count", lang, n=n)


@dash.callback(
    Output(DOWNLOAD, "data"),
    Input(CSV, "n_clicks"),
    State(CODE, "value"),
    State(ACTOR, "value"),
    State(ACTION, "value"),
    State(PERIOD, "start_date"),
    State(PERIOD, "end_date"),
    prevent_initial_call=True,
)
def download(_n: Any, code: Any, actor: Any, action: Any, since: Any, until: Any) -> Any:
    user = context.page_user(*ROLES)
    try:
        filters = parse_filter(code, actor, action, since, until)
    except ValueError:
        return dash.no_update
    with context.read_session() as s:
        frame = audit_events(s, user.study_id, filters)
    context.audit_record(
        "audit_event", None, action="export",
        what={"rows": len(frame), **{k: str(v) for k, v in filters.__dict__.items() if v}},
        reason="audit log downloaded as CSV",
    )  # fmt: skip
    stamp = context.now().strftime("%Y%m%d-%H%M")
    return {"content": frame.to_csv(index=False), "filename": f"klik-auditlog-{stamp}.csv", "type": "text/csv"}  # fmt: skip
