"""The printable version of one client's signals, to go through with the employee: the current
signals in plain words, the course against the expected band, the checklist and room for
agreements. Only for a client the user may see; a researcher's opening is audited."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context
from dashboard.signal_views import checklist, client_signals_print, course_graphs, t
from dashboard.workspace_views import t as wt
from study.signal_data import client_signals_of
from study.vocab import Role
from study.worklists import is_visible, narrow, trajectory_events

ROLES = (Role.RESEARCHER, Role.JOBCOACH)

dash.register_page(
    __name__,
    path="/workspace/print",
    title="Klik – signalen om samen door te nemen",
    roles=tuple(r.value for r in ROLES),
)


def _client(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 12 else None


def layout(client: Any = None, **_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    tid = _client(client)
    with context.read_session() as s:
        if tid is None or not is_visible(s, context.scope(), tid):
            return html.Div(
                html.P(wt("not_found", lang), className="klik-alert"), className="klik-page"
            )
        scope = narrow(context.scope(), tid)
        events = trajectory_events(s, scope)
        found = client_signals_of(s, scope, user.study_id, as_of=context.today())
    if user.role == Role.RESEARCHER:
        context.audit_read("trajectory", tid, reason="workspace: printable signals")
    code = str(found.frames.trajectories["study_code"].iloc[0])
    start = found.frames.trajectories["start_date"].iloc[0]
    return html.Div(
        [
            html.P(t("print_hint", lang), className="klik-print-hint klik-muted"),
            html.H1(f"{wt('details', lang)} {code}"),
            html.P(t("printed_on", lang).format(day=context.today().strftime("%d-%m-%Y" if lang == "nl" else "%Y-%m-%d"))),
            html.H2(t("signals", lang)),
            client_signals_print(found.signals, lang),
            course_graphs(found.frames.person_wave, found.reference.expected, events, start, lang, static=True),
            checklist(lang, printable=True),
            html.H3(t("notes", lang)),
            html.Div(className="klik-print-notes"),
        ],
        className="klik-page klik-print",
        id="signal-print",
    )  # fmt: skip
