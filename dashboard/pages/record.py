"""Participant record: one participant's trajectories, questionnaires, contacts, employment
events, consent and audit history on one timeline, with corrections (with a reason) and the
end of a trajectory (confirmed; a researcher can undo it).

A researcher opens any participant of the study, a jobcoach only their own clients (and of them
only their own trajectories); viewers never see a record. Every view is written to the audit log.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.query_views import query_card, query_list, query_options
from dashboard.query_views import t as qt
from dashboard.record_actions import T as A
from dashboard.record_actions import actions_view, entry_options, field_options
from dashboard.record_views import record_view, t
from study import services
from study.errors import Forbidden, KlikError
from study.query_list import queries_frame
from study.record import participant_of_code, participant_record, visible_participants
from study.services import queries as data_queries
from study.services.entries import entry_trajectory
from study.vocab import Role
from study.worklists import is_visible

ROLES = (Role.RESEARCHER, Role.JOBCOACH)

dash.register_page(
    __name__,
    path="/record",
    title="Klik – deelnemersdossier",
    nav={"nl": "Dossier", "en": "Record"},
    roles=tuple(r.value for r in ROLES),
    order=25,
)

PICK, CONTENT, ACTIONS, CHANGED = (
    "record-pick",
    "record-content",
    "record-actions",
    "record-changed",
)
ENTRY, FIELD, VALUE, REASON = "record-entry", "record-field", "record-value", "record-reason"
CORRECT, DELETE, MSG = "record-correct", "record-delete", "record-msg"
END_TRAJ, END_DATE, END_REASON, END_CONFIRM = (
    "record-end-trajectory",
    "record-end-date",
    "record-end-reason",
    "record-end-confirm",
)
REOPEN, REOPEN_REASON = "record-reopen", "record-reopen-reason"
END_MSG, ENDED = "record-end-msg", "record-ended"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def layout(code: str | None = None, **_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        people = visible_participants(s, context.scope())
        chosen = participant_of_code(s, context.scope(), code) if isinstance(code, str) else None
    options = [
        {"label": f"{r.study_code} ({r.n_trajectories})", "value": int(r.participant_id)}
        for r in people.itertuples(index=False)
    ]
    return html.Div(
        [
            html.H1(t("title", lang)),
            html.P(t("audited", lang), className="klik-muted"),
            html.Div(
                [
                    html.Label(t("pick", lang), htmlFor=PICK),
                    dcc.Dropdown(id=PICK, options=options, value=chosen, placeholder=t("pick", lang)),
                ],
                className="klik-filters",
            ),
            dcc.Loading(html.Div(id=CONTENT), type="dot"),
            html.Div(actions_view(lang, researcher=user.role == Role.RESEARCHER, today=context.today()), id=ACTIONS),
            query_card(lang, researcher=user.role == Role.RESEARCHER),
            dcc.Store(id=CHANGED, data=None),
            dcc.Store(id=ENDED, data=None),
        ],
        className="klik-page",
    )  # fmt: skip


def _record(participant: Any) -> Any:
    """The record of a participant id from a callback input, if the user may see it."""
    pid = _int(participant)
    if pid is None:
        return None
    with context.read_session() as s:
        return participant_record(s, context.scope(), pid)


@dash.callback(
    Output(CONTENT, "children"),
    Output(ENTRY, "options"),
    Output(END_TRAJ, "options"),
    Input(PICK, "value"),
    Input(CHANGED, "data"),
    Input(ENDED, "data"),
)
def show(participant: Any, *_changed: Any) -> tuple[Any, list[dict], list[dict]]:
    context.page_user(*ROLES)
    lang = context.lang()
    if participant is None:
        return html.P(t("pick", lang), className="klik-muted"), [], []
    record = _record(participant)
    if record is None:
        return html.P(t("not_found", lang), className="klik-alert"), [], []
    context.audit_read("participant", int(record.participant["participant_id"]), reason="participant record viewed")  # fmt: skip
    trajectories = [
        {"label": f"{A['trajectory'][lang]} {int(r.trajectory_id)}", "value": int(r.trajectory_id)}
        for r in record.trajectories.itertuples(index=False)
    ]
    return record_view(record, lang), entry_options(record, lang), trajectories


@dash.callback(Output(FIELD, "options"), Input(ENTRY, "value"))
def fields(entry: Any) -> list[dict]:
    context.page_user(*ROLES)
    return field_options(entry, context.lang())


def _entry(entry: Any) -> tuple[str, int] | None:
    """``"coaching_contact:12"`` from a callback input as (entity, id); None for anything else."""
    if not isinstance(entry, str) or ":" not in entry:
        return None
    entity, _, raw = entry.partition(":")
    if entity not in ("coaching_contact", "employment_event") or not raw.isdigit():
        return None
    return entity, int(raw)


def _visible_entry(s: Any, user: Any, entity: str, entity_id: int) -> None:
    """Refuse an entry outside the user's trajectories exactly like one that does not exist."""
    try:
        tid = entry_trajectory(s, user.study_id, entity, entity_id)
    except KlikError:
        tid = None
    if tid is None or not is_visible(s, context.scope(), tid):
        raise Forbidden(A["not_yours"]["nl"], A["not_yours"]["en"])


@dash.callback(
    Output(MSG, "children"),
    Output(CHANGED, "data"),
    Input(CORRECT, "n_clicks"),
    Input(DELETE, "submit_n_clicks"),
    State(ENTRY, "value"),
    State(FIELD, "value"),
    State(VALUE, "value"),
    State(REASON, "value"),
    prevent_initial_call=True,
)
def correct(_c: Any, _d: Any, entry: Any, field: Any, value: Any, reason: Any) -> tuple[Any, Any]:
    """Correct one field of a contact or event, or delete it; both need a reason."""
    user = context.page_user(*ROLES)
    lang = context.lang()
    chosen = _entry(entry)
    if chosen is None:
        return html.P(A["choose_entry"][lang], className="klik-alert"), dash.no_update
    entity, entity_id = chosen
    deleting = dash.ctx.triggered_id == DELETE
    try:
        with context.container().sessions.begin() as s:
            _visible_entry(s, user, entity, entity_id)
            if deleting:
                services.delete_entry(s, user.study_id, entity, entity_id, reason=reason or "",
                                      actor=user.username, at=context.now())  # fmt: skip
            else:
                if not isinstance(field, str):
                    return html.P(A["choose_field"][lang], className="klik-alert"), dash.no_update
                services.correct_value(s, user.study_id, entity, entity_id, field,
                                       None if value in ("", None) else value,
                                       reason=reason or "", actor=user.username, at=context.now())  # fmt: skip
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    done = A["deleted" if deleting else "corrected"][lang]
    return html.P(done, className="klik-info"), f"{entry}@{context.now().isoformat()}"


@dash.callback(
    Output(END_MSG, "children"),
    Output(ENDED, "data"),
    Input(END_CONFIRM, "submit_n_clicks"),
    Input(REOPEN, "submit_n_clicks"),
    State(END_TRAJ, "value"),
    State(END_DATE, "date"),
    State(END_REASON, "value"),
    State(REOPEN_REASON, "value"),
    prevent_initial_call=True,
)
def end_or_reopen(_e: Any, _r: Any, trajectory: Any, day: Any, end_reason: Any, why: Any) -> tuple[Any, Any]:  # fmt: skip
    """End a trajectory after confirmation, or (researchers only) undo its end with a reason."""
    reopening = dash.ctx.triggered_id == REOPEN
    user = context.page_user(Role.RESEARCHER) if reopening else context.page_user(*ROLES)
    lang = context.lang()
    tid = _int(trajectory)
    if tid is None:
        return html.P(A["choose_trajectory"][lang], className="klik-alert"), dash.no_update
    try:
        with context.container().sessions.begin() as s:
            if not is_visible(s, context.scope(), tid):
                raise Forbidden(A["not_yours"]["nl"], A["not_yours"]["en"])
            if reopening:
                services.reopen_trajectory(s, user.study_id, tid, reason=why or "",
                                           actor=user.username, at=context.now())  # fmt: skip
            else:
                data = {k: v for k, v in {"end_date": day, "end_reason": end_reason}.items() if v}
                services.end_trajectory(s, user.study_id, tid, data, actor=user.username, at=context.now())  # fmt: skip
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    done = A["reopened" if reopening else "ended"][lang]
    return html.P(done, className="klik-info"), f"t{tid}@{context.now().isoformat()}"


@dash.callback(
    Output("record-queries", "children"),
    Output("record-query-pick", "options"),
    Input(PICK, "value"),
    Input("record-query-changed", "data"),
)
def queries(participant: Any, _changed: Any) -> tuple[Any, list[dict]]:
    """The queries of the shown record (none for a record the user may not see)."""
    context.page_user(*ROLES)
    lang = context.lang()
    pid = _int(participant)
    if pid is None or _record(pid) is None:
        return None, []
    with context.read_session() as s:
        frame = queries_frame(s, context.scope(), participant_id=pid)
    return query_list(frame, lang), query_options(frame, lang)


@dash.callback(
    Output("record-query-msg", "children"),
    Output("record-query-changed", "data"),
    Input("record-query-open", "n_clicks"),
    Input("record-query-reply", "n_clicks"),
    Input("record-query-close", "n_clicks"),
    State(PICK, "value"),
    State(ENTRY, "value"),
    State(FIELD, "value"),
    State("record-query-text", "value"),
    State("record-query-pick", "value"),
    State("record-query-answer", "value"),
    prevent_initial_call=True,
)
def query_step(_o: Any, _r: Any, _c: Any, participant: Any, entry: Any, field: Any, text: Any, picked: Any, answer: Any) -> tuple[Any, Any]:  # fmt: skip
    """Open (researchers), answer (researchers and the client's jobcoach) or close (researchers)
    a query. The ids come from the browser and are checked against the user's scope."""
    step = dash.ctx.triggered_id
    user = context.page_user(Role.RESEARCHER) if step != "record-query-reply" else context.page_user(*ROLES)  # fmt: skip
    lang = context.lang()
    at, actor, sid = context.now(), user.username, user.study_id
    try:
        with context.container().sessions.begin() as s:
            if step == "record-query-open":
                record = _record(participant)
                if record is None:
                    raise Forbidden(qt("not_yours", "nl"), qt("not_yours", "en"))
                chosen = _entry(entry)
                entity, entity_id = chosen or (
                    "participant",
                    int(record.participant["participant_id"]),
                )
                if chosen is not None:
                    _visible_entry(s, user, entity, entity_id)
                data_queries.open_query(s, sid, entity, entity_id, field if isinstance(field, str) and chosen else None,
                                        text if isinstance(text, str) else "", actor=actor, at=at)  # fmt: skip
                done = "asked"
            else:
                qid = _int(picked)
                if qid is None:
                    return html.P(qt("choose_query", lang), className="klik-alert"), dash.no_update
                try:
                    tids = data_queries.query_trajectories(s, sid, qid)
                except KlikError:
                    tids = []
                if not any(is_visible(s, context.scope(), tid) for tid in tids):
                    raise Forbidden(qt("not_yours", "nl"), qt("not_yours", "en"))
                if step == "record-query-reply":
                    data_queries.answer_query(s, sid, qid, answer if isinstance(answer, str) else "", actor=actor, at=at)  # fmt: skip
                    done = "replied"
                else:
                    data_queries.close_query(s, sid, qid, actor=actor, at=at)
                    done = "shut"
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    return html.P(qt(done, lang), className="klik-info"), f"{step}@{at.isoformat()}"
