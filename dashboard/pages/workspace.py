"""Jobcoach workspace: my clients, forms due with their links, logging contacts and events, signals.

A jobcoach sees only their own clients (``study.access.visible_trajectories``); a researcher
first picks a jobcoach, and every client detail a researcher opens is written to the audit log.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.workspace_views import (
    clients_table,
    contact_form,
    detail_view,
    event_form,
    forms_table,
    signals,
    signals_table,
    t,
)
from study import services
from study.errors import KlikError
from study.read_models import person_wave_frame, trajectories_frame
from study.tokens import link_for, token_for
from study.vocab import Role
from study.worklists import (
    for_jobcoach,
    is_visible,
    jobcoaches,
    narrow,
    open_forms,
    trajectory_events,
)

ROLES = (Role.RESEARCHER, Role.JOBCOACH)

dash.register_page(
    __name__,
    path="/workspace",
    title="Klik – werkplek",
    nav={"nl": "Werkplek", "en": "Workspace"},
    roles=tuple(r.value for r in ROLES),
    order=20,
)

COACH, OVERVIEW, CLIENT, DETAIL = (
    "workspace-coach",
    "workspace-overview",
    "workspace-client",
    "workspace-detail",
)
CONTACT = {
    k: f"contact-{k}"
    for k in ("date", "minutes", "mode", "with", "activity", "note", "save", "msg")
}
EVENT = {k: f"event-{k}" for k in ("date", "kind", "hours", "reason", "note", "save", "msg")}


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    today = context.today()
    coach_picker: Any = dcc.Store(id=COACH, data=None)
    if user.role == Role.RESEARCHER:
        with context.read_session() as s:
            coaches = jobcoaches(s, context.scope())
        coach_picker = html.Div(
            [
                html.Label(t("coach", lang), htmlFor=COACH),
                dcc.Dropdown(
                    id=COACH,
                    options=[
                        {
                            "label": f"{r.code} – {r.name} ({r.n_trajectories})",
                            "value": int(r.jobcoach_id),
                        }
                        for r in coaches.itertuples(index=False)
                    ],
                    placeholder=t("choose_coach", lang),
                ),
            ],
            className="klik-filters",
        )
    return html.Div(
        [
            html.H1(t("title", lang)),
            coach_picker,
            dcc.Loading(html.Div(id=OVERVIEW), type="dot"),
            html.Div(
                html.Div(
                    [
                        html.Label(t("client", lang), htmlFor=CLIENT),
                        dcc.Dropdown(id=CLIENT, placeholder=t("choose_client", lang)),
                    ]
                ),
                className="klik-filters",
            ),
            html.Div(id=DETAIL),
            html.Div(
                [contact_form(CONTACT, lang, today), event_form(EVENT, lang, today)],
                className="klik-grid-2",
            ),
        ],
        className="klik-page",
    )  # fmt: skip


def _scope_for(user: Any, coach: Any) -> Any:
    """The trajectories the overview shows: a coach's own, or the chosen coach's for a researcher."""
    scope = context.scope()
    if user.role == Role.RESEARCHER:
        if not isinstance(coach, int):
            return None
        scope = for_jobcoach(scope, coach)
    return scope


def _personal_link(invitation_id: int, salt: str) -> str:
    settings = context.container().settings
    return link_for(settings.base_url, token_for(settings.secret_key, invitation_id, salt))


@dash.callback(Output(OVERVIEW, "children"), Output(CLIENT, "options"), Input(COACH, "value"))
def overview(coach: Any) -> tuple[Any, list[dict]]:
    user = context.page_user(*ROLES)
    lang = context.lang()
    scope = _scope_for(user, coach)
    if scope is None:
        return html.P(t("choose_coach", lang), className="klik-muted"), []
    as_of = context.today()
    with context.read_session() as s:
        trajectories = trajectories_frame(s, scope, as_of=as_of)
        forms = open_forms(s, scope, as_of=as_of)
        scores = person_wave_frame(s, scope, as_of=as_of, scores=("klik", "capability_count"))
    found = signals(scores)
    if user.role == Role.RESEARCHER:
        context.audit_read("jobcoach", coach, reason="workspace: clients of a jobcoach")
    content = html.Div(
        [
            html.Div([html.H2(t("signals", lang)), signals_table(found, trajectories, lang)], className="klik-card"),
            html.Div([html.H2(t("forms", lang)), forms_table(forms, as_of=as_of, lang=lang, personal_link=_personal_link)], className="klik-card"),
            html.Div([html.H2(t("clients", lang)), clients_table(trajectories, lang)], className="klik-card"),
        ]
    )  # fmt: skip
    client_options = [
        {"label": r.study_code, "value": int(r.trajectory_id)}
        for r in trajectories.itertuples(index=False)
    ]
    return content, client_options


def _visible_client(client: Any) -> int | None:
    """The trajectory id from a callback input, if it is one the user may see."""
    if not isinstance(client, int) or isinstance(client, bool):
        return None
    with context.read_session() as s:
        return client if is_visible(s, context.scope(), client) else None


@dash.callback(Output(DETAIL, "children"), Input(CLIENT, "value"))
def detail(client: Any) -> Any:
    user = context.page_user(*ROLES)
    lang = context.lang()
    if client is None:
        return None
    tid = _visible_client(client)
    if tid is None:
        return html.P(t("not_found", lang), className="klik-alert")
    with context.read_session() as s:
        scope = narrow(context.scope(), tid)
        trajectory = trajectories_frame(s, scope, as_of=context.today())
        events = trajectory_events(s, scope)
    if user.role == Role.RESEARCHER:
        context.audit_read("trajectory", tid, reason="workspace: client detail")
    return detail_view(trajectory, events, lang)


def _save(client: Any, write: Any) -> html.P:
    lang = context.lang()
    user = context.page_user(*ROLES)
    tid = _visible_client(client)
    if tid is None:
        return html.P(t("not_found", lang), className="klik-alert")
    try:
        with context.container().sessions.begin() as s:
            write(s, user.study_id, tid, user.username)
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert")
    return html.P(t("saved", lang), className="klik-info")


def _text(value: Any) -> str | None:
    return str(value)[:2000] if value not in (None, "") else None


@dash.callback(
    Output(CONTACT["msg"], "children"),
    Input(CONTACT["save"], "n_clicks"),
    State(CLIENT, "value"),
    *[State(CONTACT[k], "value") for k in ("minutes", "mode", "with", "activity", "note")],
    State(CONTACT["date"], "date"),
    prevent_initial_call=True,
)
def save_contact(_n: int, client: Any, minutes: Any, mode: Any, with_whom: Any, activity: Any, note: Any, day: Any) -> Any:  # fmt: skip
    data = {"contact_date": day, "minutes": minutes, "mode": mode, "with_whom": with_whom,
            "activity": activity, "note": _text(note)}  # fmt: skip
    return _save(
        client,
        lambda s, study_id, tid, actor: services.record_contact(
            s, study_id, tid, data, actor=actor, at=context.now()
        ),
    )


@dash.callback(
    Output(EVENT["msg"], "children"),
    Input(EVENT["save"], "n_clicks"),
    State(CLIENT, "value"),
    *[State(EVENT[k], "value") for k in ("kind", "hours", "reason", "note")],
    State(EVENT["date"], "date"),
    prevent_initial_call=True,
)
def save_event(
    _n: int, client: Any, kind: Any, hours: Any, reason: Any, note: Any, day: Any
) -> Any:
    data = {"event_date": day, "kind": kind, "hours": hours, "job_end_reason": reason or None,
            "note": _text(note)}  # fmt: skip
    return _save(
        client,
        lambda s, study_id, tid, actor: services.record_employment_event(
            s, study_id, tid, data, actor=actor, at=context.now()
        ),
    )
