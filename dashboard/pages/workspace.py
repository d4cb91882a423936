"""Jobcoach workspace: my clients, forms due, logging contacts and events, signals, enrolling a
new client, ending a trajectory and recording a withdrawal of consent.

A jobcoach sees only their own clients (``study.access.visible_trajectories``) and enrols only for
themselves; a researcher first picks a jobcoach, and every client detail a researcher opens is
written to the audit log. Nobody here sees another person's personal link: the jobcoach fills in
their own forms through the dashboard and can only have a respondent's link mailed to the
respondent again.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from dashboard import context
from dashboard.enrol_views import end_form, enrol_form, tx, withdraw_form
from dashboard.i18n import label_of
from dashboard.query_views import query_notice
from dashboard.signal_views import (
    caseload_list,
    checklist,
    client_signals,
    contract_form,
    course_graphs,
    print_link,
)
from dashboard.signal_views import t as st
from dashboard.workspace_views import (
    clients_table,
    contact_form,
    detail_view,
    event_form,
    forms_table,
    t,
)
from study import services
from study.enrolment_lists import (
    consent_version,
    jobcoach_profile,
    next_study_code,
    participant_of,
    study_employers,
    study_jobcoaches,
)
from study.errors import KlikError
from study.read_models import trajectories_frame
from study.services.signals import acknowledge_signal, set_contract_end
from study.signal_data import ClientSignals, client_signals_of
from study.vocab import Respondent, Role
from study.worklists import (
    for_jobcoach,
    is_visible,
    jobcoaches,
    narrow,
    open_forms,
    trajectory_events,
    visible_invitation,
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
ENROL = {
    k: f"enrol-{k}"
    for k in (
        "code", "birth_year", "gender", "benefit", "register", "email", "employer",
        "employer_name", "contact_name", "contact_email", "coach", "start", "funder", "form",
        "hours", "loonwaarde", "maatje", "method", "consent", "save", "msg",
    )
}  # fmt: skip
END = {k: f"end-{k}" for k in ("date", "reason", "confirm", "save", "msg")}
RESEND, RESEND_MSG = "workspace-resend", "workspace-resend-msg"
WITHDRAW = {k: f"withdraw-{k}" for k in ("reason", "confirm", "save", "msg")}
ACK, ACK_ACTION, ACK_MSG = "workspace-ack", "workspace-ack-action", "workspace-ack-msg"
SIGNALS_BOX, PICK = "workspace-signals-box", "workspace-pick"
CONTRACT_END = {k: f"contract-end-{k}" for k in ("date", "save", "msg")}
# written after a successful enrolment or change, so the overview and detail show it at once
ENROLLED, ENDED, WITHDRAWN = "workspace-enrolled", "workspace-ended", "workspace-withdrawn"


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    today = context.today()
    coach_picker: Any = dcc.Store(id=COACH, data=None)
    with context.read_session() as s:
        employers = study_employers(s, user.study_id)
        suggested_code = next_study_code(s, user.study_id)
        version = consent_version(s, user.study_id)
        all_coaches = study_jobcoaches(s, user.study_id) if user.role == Role.RESEARCHER else None
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
            query_notice(str(user.role), lang) if user.role == Role.JOBCOACH else None,
            coach_picker,
            html.Div(id=RESEND_MSG, role="status"),
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
            html.Div(
                [end_form(END, lang, today), withdraw_form(WITHDRAW, lang)],
                className="klik-grid-2",
            ),
            contract_form(CONTRACT_END, lang),
            enrol_form(ENROL, lang, today, suggested_code=suggested_code, consent_version=version,
                       employers=employers, coaches=all_coaches),
            dcc.Store(id=ENROLLED, data=None),
            dcc.Store(id=ENDED, data=None),
            dcc.Store(id=WITHDRAWN, data=None),
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


@dash.callback(
    Output(OVERVIEW, "children"),
    Output(CLIENT, "options"),
    Input(COACH, "value"),
    Input(ENROLLED, "data"),
    Input(ENDED, "data"),
    Input(WITHDRAWN, "data"),
)
def overview(coach: Any, *_changes: Any) -> tuple[Any, list[dict]]:
    user = context.page_user(*ROLES)
    lang = context.lang()
    scope = _scope_for(user, coach)
    if scope is None:
        return html.P(t("choose_coach", lang), className="klik-muted"), []
    as_of = context.today()
    with context.read_session() as s:
        trajectories = trajectories_frame(s, scope, as_of=as_of)
        forms = open_forms(s, scope, as_of=as_of)
        found = client_signals_of(s, scope, user.study_id, as_of=as_of)
    if user.role == Role.RESEARCHER:
        context.audit_read("jobcoach", coach, reason="workspace: clients of a jobcoach")
    codes = dict(
        zip(trajectories["trajectory_id"].astype(int), trajectories["study_code"], strict=True)
    )
    content = html.Div(
        [
            html.Div([html.H2(st("caseload", lang)), caseload_list(found.caseload, found.signals, codes, lang, pick_id=PICK)], className="klik-card"),
            html.Div([html.H2(t("forms", lang)), forms_table(forms, as_of=as_of, lang=lang, resend_id=RESEND)], className="klik-card"),
            html.Div([html.H2(t("clients", lang)), clients_table(trajectories, lang)], className="klik-card"),
        ]
    )  # fmt: skip
    # the client picker follows the caseload's order: the most urgent client comes first
    client_options = [
        {"label": codes[int(r.trajectory_id)], "value": int(r.trajectory_id)}
        for r in found.caseload.itertuples(index=False)
    ]
    return content, client_options


@dash.callback(
    Output(CLIENT, "value"),
    Input({"type": PICK, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(_clicks: Any) -> Any:
    """Open the client pressed in the caseload (the detail callback checks who may see it)."""
    context.page_user(*ROLES)
    if not any(trigger["value"] for trigger in dash.ctx.triggered):
        return dash.no_update
    pressed = dash.ctx.triggered_id
    return _int(pressed.get("index")) if isinstance(pressed, dict) else dash.no_update


def _visible_client(client: Any) -> int | None:
    """The trajectory id from a callback input, if it is one the user may see."""
    if not isinstance(client, int) or isinstance(client, bool):
        return None
    with context.read_session() as s:
        return client if is_visible(s, context.scope(), client) else None


@dash.callback(
    Output(DETAIL, "children"),
    Input(CLIENT, "value"),
    Input(ENDED, "data"),
    Input(WITHDRAWN, "data"),
)
def detail(client: Any, *_changes: Any) -> Any:
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
        found = client_signals_of(s, scope, user.study_id, as_of=context.today())
    if user.role == Role.RESEARCHER:
        context.audit_read("trajectory", tid, reason="workspace: client detail")
    return html.Div([detail_view(trajectory, events, lang), signal_card(tid, found, events, lang)])


def signal_card(tid: int, found: ClientSignals, events: Any, lang: str) -> html.Div:
    """One client's signals with what each fired on, the course against the expected band,
    the checklist when a signal is red, and the link to the printable version."""
    current = found.signals[found.signals["current"]] if not found.signals.empty else found.signals
    red = bool((current["level"] == "red").any()) if not current.empty else False
    start = found.frames.trajectories["start_date"].iloc[0]
    return html.Div(
        [
            html.H2(st("signals", lang)),
            html.Div(id=ACK_MSG, role="status"),
            html.Div(client_signals(found.signals, found.seen, lang, ack_id=ACK, action_id=ACK_ACTION), id=SIGNALS_BOX),
            checklist(lang) if red else None,
            course_graphs(found.frames.person_wave, found.reference.expected, events, start, lang),
            print_link(tid, lang),
        ],
        className="klik-card",
        id="workspace-signal-card",
    )  # fmt: skip


@dash.callback(
    Output(ACK_MSG, "children"),
    Output(SIGNALS_BOX, "children"),
    Input({"type": ACK, "index": ALL}, "n_clicks"),
    State({"type": ACK_ACTION, "index": ALL}, "value"),
    State({"type": ACK_ACTION, "index": ALL}, "id"),
    prevent_initial_call=True,
)
def acknowledge(_clicks: Any, actions: Any, action_ids: Any) -> tuple[Any, Any]:
    """Mark the pressed signal as seen, with the action chosen beside it.

    The button's key comes from the request, so it is only a wish: the client must be one the
    user may see, and the signal must be one that is current for that client now.
    """
    user = context.page_user(*ROLES)
    lang = context.lang()
    if not any(trigger["value"] for trigger in dash.ctx.triggered):
        return dash.no_update, dash.no_update  # buttons drawn anew, none pressed
    pressed = dash.ctx.triggered_id
    key = pressed.get("index") if isinstance(pressed, dict) else None
    parts = key.split("|") if isinstance(key, str) else []
    tid = int(parts[0]) if len(parts) == 4 and parts[0].isdigit() else None
    refused = html.P(tx_signal("unknown", lang), className="klik-alert"), dash.no_update
    if tid is None or _visible_client(tid) is None:
        return html.P(t("not_found", lang), className="klik-alert"), dash.no_update
    scope = narrow(context.scope(), tid)
    with context.read_session() as s:
        found = client_signals_of(s, scope, user.study_id, as_of=context.today())
    from analysis.signals import signal_key

    current = found.signals[found.signals["current"]] if not found.signals.empty else found.signals
    match = current[signal_key(current) == key] if not current.empty else current
    if match.empty:
        return refused
    chosen = dict(
        zip(
            [str(i.get("index")) for i in action_ids or [] if isinstance(i, dict)],
            actions or [],
            strict=False,
        )
    )
    action = chosen.get(key)
    row = match.iloc[0]
    data = {"trajectory_id": tid, "signal": row["signal"], "rule": row["rule"], "level": row["level"],
            "fired_on": row["fired_on"].date(), "action": action if isinstance(action, str) else None}  # fmt: skip
    try:
        with context.container().sessions.begin() as s:
            acknowledge_signal(s, context.scope(), data, actor=user.username, at=context.now())
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    with context.read_session() as s:
        found = client_signals_of(s, scope, user.study_id, as_of=context.today())
    box = client_signals(found.signals, found.seen, lang, ack_id=ACK, action_id=ACK_ACTION)
    return html.P(tx_signal("saved", lang), className="klik-info"), box


@dash.callback(
    Output(CONTRACT_END["msg"], "children"),
    Input(CONTRACT_END["save"], "n_clicks"),
    State(CLIENT, "value"),
    State(CONTRACT_END["date"], "date"),
    prevent_initial_call=True,
)
def save_contract_end(_n: int, client: Any, day: Any) -> Any:
    lang = context.lang()

    def write(s: Any, _study_id: int, tid: int, actor: str) -> str:
        row = set_contract_end(s, context.scope(), tid, day, actor=actor, at=context.now())
        return st("contract_saved" if row is not None else "contract_cleared", lang)

    message, _refresh = _change(client, write)
    return message


_ACK_TEXTS = {
    "unknown": {
        "nl": "Dit signaal geldt nu niet (meer) voor deze cliënt.",
        "en": "This signal does not (or no longer) apply to this client.",
    },
    "saved": {"nl": "Gemarkeerd als gezien.", "en": "Marked as seen."},
}


def tx_signal(key: str, lang: str) -> str:
    """A text of the acknowledgement callback in ``lang``."""
    return _ACK_TEXTS[key][lang]


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
    # never cut here: the services refuse an over-long text with its limit
    return str(value) if value not in (None, "") else None


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


def _int(value: Any) -> int | None:
    """An id from a callback input: a plain int, or None (never a bool, text or list)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _present(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without empty values, so a service reports a missing field as missing."""
    return {
        k: v.strip() if isinstance(v, str) else v for k, v in data.items() if v not in (None, "")
    }


class _Refused(Exception):
    """A check of the form itself failed; carries the key of the message to show."""


ENROL_FIELDS = ("code", "birth_year", "gender", "benefit", "register", "email", "employer",
                "employer_name", "contact_name", "contact_email", "coach", "start", "funder",
                "form", "hours", "loonwaarde", "maatje", "method", "consent")  # fmt: skip


@dash.callback(
    Output(ENROL["msg"], "children"),
    Output(ENROLLED, "data"),
    Output(ENROL["code"], "value"),
    Output(ENROL["consent"], "value"),
    Input(ENROL["save"], "n_clicks"),
    *[State(ENROL[k], "date" if k == "start" else "value") for k in ENROL_FIELDS],
    prevent_initial_call=True,
)
def enrol(_n: int, *values: Any) -> tuple[Any, Any, Any, Any]:
    """Enrol the participant, add the employer if new and start the trajectory, all or nothing.

    On success the code field gets the next free code and the consent box is cleared, so the
    next client's consent has to be ticked anew.

    A jobcoach always enrols for themselves (the coach input is ignored); a researcher names the
    coach, who must be a jobcoach of the study.
    """
    user = context.page_user(*ROLES)
    lang = context.lang()
    form = dict(zip(ENROL_FIELDS, values, strict=True))
    coach_id = user.jobcoach_id if user.role == Role.JOBCOACH else _int(form["coach"])
    employer_id = _int(form["employer"])
    employer_name = form["employer_name"].strip() if isinstance(form["employer_name"], str) else ""
    at = context.now()
    try:
        if not isinstance(form["consent"], list) or "given" not in form["consent"]:
            raise _Refused("no_consent")
        if coach_id is None:
            raise _Refused("coach_missing")
        if employer_id is None and not employer_name:
            raise _Refused("employer_missing")
        if employer_id is not None and employer_name:
            raise _Refused("employer_both")
        with context.container().sessions.begin() as s:
            profile = jobcoach_profile(s, user.study_id, coach_id)
            if profile is None:
                raise _Refused("coach_missing")
            participant = services.enrol_participant(
                s, user.study_id,
                _present({"study_code": form["code"], "birth_year": form["birth_year"],
                          "gender": form["gender"], "benefit": form["benefit"],
                          "doelgroepregister": form["register"], "email": form["email"]}),
                actor=user.username, at=at,
            )  # fmt: skip
            if employer_id is None:
                employer_id = services.add_employer(
                    s, user.study_id,
                    _present({"name": employer_name, "contact_name": form["contact_name"],
                              "contact_email": form["contact_email"]}),
                    actor=user.username, at=at,
                ).id  # fmt: skip
            coach_type, method = profile
            trajectory = services.start_trajectory(
                s, user.study_id,
                _present({"participant_id": participant.id, "jobcoach_id": coach_id,
                          "employer_id": employer_id, "start_date": form["start"],
                          "funder": form["funder"], "employment_form": form["form"],
                          "contract_hours": form["hours"], "loonwaarde": form["loonwaarde"],
                          "maatje": form["maatje"], "method": form["method"] or method,
                          "coach_type": coach_type}),
                actor=user.username, at=at,
            )  # fmt: skip
            code, trajectory_id = participant.study_code, trajectory.id
    except _Refused as refusal:
        return _refused(tx(str(refusal), lang))
    except KlikError as exc:
        return _refused(exc.message(lang))
    with context.read_session() as s:
        suggestion = next_study_code(s, user.study_id)
    done = html.P(tx("enrolled", lang, code=code), className="klik-info")
    return done, trajectory_id, suggestion, []


def _refused(message: str) -> tuple[Any, Any, Any, Any]:
    """The enrolment callback's answer to a refusal: the message, every other field kept."""
    return html.P(message, className="klik-alert"), dash.no_update, dash.no_update, dash.no_update


def _change(client: Any, write: Any) -> tuple[html.P, Any]:
    """Run ``write(session, study_id, trajectory_id, actor)`` for a visible client in one
    transaction; the message to show and, on success, a new value for the store that tells the overview to refresh."""
    user = context.page_user(*ROLES)
    lang = context.lang()
    if client is None:
        return html.P(tx("choose_client_first", lang), className="klik-alert"), dash.no_update
    tid = _visible_client(client)
    if tid is None:
        return html.P(t("not_found", lang), className="klik-alert"), dash.no_update
    try:
        with context.container().sessions.begin() as s:
            message = write(s, user.study_id, tid, user.username)
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    return html.P(message, className="klik-info"), f"{tid}@{context.now().isoformat()}"


@dash.callback(
    Output(END["msg"], "children"),
    Output(ENDED, "data"),
    Input(END["confirm"], "submit_n_clicks"),
    State(CLIENT, "value"),
    State(END["date"], "date"),
    State(END["reason"], "value"),
    prevent_initial_call=True,
)
def end(_n: int, client: Any, day: Any, reason: Any) -> tuple[Any, Any]:
    lang = context.lang()

    def write(s: Any, study_id: int, tid: int, actor: str) -> str:
        data = _present({"end_date": day, "end_reason": reason})
        services.end_trajectory(s, study_id, tid, data, actor=actor, at=context.now())
        return tx("ended", lang)

    return _change(client, write)


@dash.callback(
    Output(WITHDRAW["msg"], "children"),
    Output(WITHDRAWN, "data"),
    Input(WITHDRAW["confirm"], "submit_n_clicks"),
    State(CLIENT, "value"),
    State(WITHDRAW["reason"], "value"),
    prevent_initial_call=True,
)
def withdraw(_n: int, client: Any, reason: Any) -> tuple[Any, Any]:
    lang = context.lang()

    def write(s: Any, study_id: int, tid: int, actor: str) -> str:
        participant_id = participant_of(s, context.scope(), tid)
        if participant_id is None:  # visible a moment ago; refuse rather than guess
            raise KlikError(t("not_found", "nl"), t("not_found", "en"))
        n = services.withdraw_consent(
            s, study_id, participant_id, reason=_text(reason), actor=actor, at=context.now()
        )
        return tx("withdrawn", lang, n=n)

    return _change(client, write)


@dash.callback(
    Output(RESEND_MSG, "children"),
    Input({"type": RESEND, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def resend(_clicks: Any) -> Any:
    """Mail a respondent their own link again; the service checks scope, state and limits.

    Which button was pressed comes from the request, so it is only a wish: an invitation outside
    the user's trajectories is refused like one that does not exist.
    """
    user = context.page_user(*ROLES)
    lang = context.lang()
    pressed = dash.ctx.triggered_id
    if not any(trigger["value"] for trigger in dash.ctx.triggered):
        return dash.no_update  # buttons drawn anew, none pressed
    invitation_id = _int(pressed.get("index")) if isinstance(pressed, dict) else None
    if invitation_id is None:
        return html.P(t("not_found", lang), className="klik-alert")
    try:
        with context.container().sessions.begin() as s:
            services.resend_link(
                s, context.scope(), invitation_id, actor=user.username, at=context.now()
            )
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert")
    with context.read_session() as s:
        invitation = visible_invitation(s, context.scope(), invitation_id)
        respondent = invitation.respondent if invitation is not None else None
    who = label_of(Respondent, respondent, lang).lower()
    return html.P(t("resent", lang).format(who=who), className="klik-info")
