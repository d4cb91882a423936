"""User management for researchers: the study's logins in a grid; add a login (it gets a
one-time link to set its own password), disable or enable it, forget its failed logins, change
its role or jobcoach, or issue a new password link. Every action is audited."""

from __future__ import annotations

import secrets
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.grid_text import grid_options
from study.enrolment_lists import study_jobcoaches
from study.errors import KlikError
from study.services import accounts
from study.services.users import add_user, unlock_login
from study.user_list import users_frame
from study.vocab import Role

ROLES = (Role.RESEARCHER,)

dash.register_page(
    __name__,
    path="/users",
    title="Klik – gebruikers",
    nav={"nl": "Gebruikers", "en": "Users"},
    roles=tuple(r.value for r in ROLES),
    order=96,
)

GRID, USER, ACTION, ROLE, COACH, NAME = "users-grid", "users-user", "users-action", "users-role", "users-coach", "users-name"  # fmt: skip
GO, MSG, DONE = "users-go", "users-msg", "users-done"
ACTIONS = ("add", "disable", "enable", "unlock", "role", "reset_link")
T = {
    "title": {"nl": "Gebruikers", "en": "Users"},
    "intro": {
        "nl": "Een nieuwe login krijgt geen wachtwoord van u: u geeft de gebruiker een eenmalige "
        "link (48 uur geldig) waarmee die zelf een wachtwoord kiest. Elke actie komt in het auditlog.",
        "en": "A new login gets no password from you: you give the user a one-time link (valid for "
        "48 hours) with which they choose their own password. Every action goes to the audit log.",
    },
    "user": {"nl": "Gebruikersnaam", "en": "Username"},
    "action": {"nl": "Actie", "en": "Action"},
    "role": {"nl": "Rol", "en": "Role"},
    "coach": {"nl": "Jobcoach (bij rol jobcoach)", "en": "Job coach (for role job coach)"},
    "name": {"nl": "Naam (bij toevoegen)", "en": "Name (when adding)"},
    "go": {"nl": "Uitvoeren", "en": "Carry out"},
    "add": {"nl": "Toevoegen", "en": "Add"},
    "disable": {"nl": "Uitschakelen", "en": "Disable"},
    "enable": {"nl": "Inschakelen", "en": "Enable"},
    "unlock": {"nl": "Mislukte inlogpogingen vergeten", "en": "Forget failed logins"},
    "reset_link": {"nl": "Link voor nieuw wachtwoord", "en": "New password link"},
    "choose": {
        "nl": "Kies een actie en een gebruikersnaam.",
        "en": "Choose an action and a username.",
    },
    "done": {"nl": "Gedaan: {what} voor {user}.", "en": "Done: {what} for {user}."},
    "link": {
        "nl": "Geef deze eenmalige link (48 uur geldig) aan {user}, niet per gewone e-mail als het kan:",
        "en": "Give this one-time link (valid for 48 hours) to {user}, not by ordinary e-mail if you can:",
    },
    "username": {"nl": "Gebruikersnaam", "en": "Username"},
    "display_name": {"nl": "Naam", "en": "Name"},
    "jobcoach": {"nl": "Jobcoach", "en": "Job coach"},
    "active": {"nl": "Actief", "en": "Active"},
    "created_at": {"nl": "Aangemaakt (UTC)", "en": "Created (UTC)"},
}


def _t(key: str, lang: str, **fmt: Any) -> str:
    text = T[key][lang]
    return text.format(**fmt) if fmt else text


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        coaches = study_jobcoaches(s, user.study_id)
    coach_options = [{"label": f"{r.code} – {r.name}", "value": r.code} for r in coaches.itertuples(index=False)]  # fmt: skip
    cols = [{"field": k, "headerName": _t(k, lang), "filter": True, "sortable": True} for k in ("username", "display_name", "role", "jobcoach", "active", "created_at")]  # fmt: skip
    return html.Div(
        [
            html.H1(_t("title", lang)),
            html.P(_t("intro", lang), className="klik-muted"),
            html.Div(
                [
                    html.Div([html.Label(_t("action", lang), htmlFor=ACTION), dcc.Dropdown(id=ACTION, options=[{"label": _t(a, lang), "value": a} for a in ACTIONS])]),
                    html.Div([html.Label(_t("user", lang), htmlFor=USER), dcc.Input(id=USER, type="text")]),
                    html.Div([html.Label(_t("role", lang), htmlFor=ROLE), dcc.Dropdown(id=ROLE, options=[{"label": r.label(lang), "value": r.value} for r in Role])]),
                    html.Div([html.Label(_t("coach", lang), htmlFor=COACH), dcc.Dropdown(id=COACH, options=coach_options)]),
                    html.Div([html.Label(_t("name", lang), htmlFor=NAME), dcc.Input(id=NAME, type="text", maxLength=200)]),
                ],
                className="klik-filters",
            ),
            html.Div(html.Button(_t("go", lang), id=GO, className="klik-primary"), className="klik-actions"),
            html.Div(id=MSG, role="status"),
            dag.AgGrid(id=GRID, columnDefs=cols, rowData=[], defaultColDef={"resizable": True, "minWidth": 110}, dashGridOptions=grid_options(lang), style={"height": "420px"}),
            dcc.Store(id=DONE, data=None),
        ],
        className="klik-page",
    )  # fmt: skip


@dash.callback(Output(GRID, "rowData"), Input(DONE, "data"))
def rows(_done: Any) -> list[dict[str, Any]]:
    user = context.page_user(*ROLES)
    with context.read_session() as s:
        return users_frame(s, user.study_id).to_dict("records")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dash.callback(
    Output(MSG, "children"),
    Output(DONE, "data"),
    Input(GO, "n_clicks"),
    State(ACTION, "value"),
    State(USER, "value"),
    State(ROLE, "value"),
    State(COACH, "value"),
    State(NAME, "value"),
    prevent_initial_call=True,
)
def carry_out(_n: Any, action: Any, username: Any, role: Any, coach: Any, name: Any) -> tuple[Any, Any]:  # fmt: skip
    """One action on one login of the researcher's own study; a login of another study is
    reported as not existing."""
    user = context.page_user(*ROLES)
    lang = context.lang()
    who = _text(username).lower()
    if action not in ACTIONS or not who:
        return html.P(_t("choose", lang), className="klik-alert"), dash.no_update
    settings = context.container().settings
    at, actor, sid = context.now(), user.username, user.study_id
    link = None
    try:
        with context.container().sessions.begin() as s:
            if action == "add":
                jobcoach_id = None
                if role == Role.JOBCOACH.value:
                    found = study_jobcoaches(s, sid)
                    match = (
                        found[found["code"] == coach] if isinstance(coach, str) else found.iloc[0:0]
                    )
                    jobcoach_id = int(match["jobcoach_id"].iloc[0]) if len(match) else None
                # a password nobody knows: the user sets their own through the link
                add_user(s, sid, who, secrets.token_urlsafe(24), role if isinstance(role, str) else "", jobcoach_id,
                         display_name=_text(name) or who, actor=actor, at=at)  # fmt: skip
                link = accounts.reset_link_token(
                    s, sid, who, settings.secret_key, actor=actor, at=at
                )
            elif action in ("disable", "enable"):
                accounts.set_active(s, sid, who, action == "enable", actor=actor, at=at)
            elif action == "unlock":
                unlock_login(s, who, actor=actor, at=at, study_id=sid)
            elif action == "role":
                accounts.change_role(s, sid, who, role if isinstance(role, str) else "", coach if isinstance(coach, str) else None, actor=actor, at=at)  # fmt: skip
            else:
                link = accounts.reset_link_token(
                    s, sid, who, settings.secret_key, actor=actor, at=at
                )
    except KlikError as exc:
        return html.P(exc.message(lang), className="klik-alert"), dash.no_update
    parts: list[Any] = [html.P(_t("done", lang, what=_t(action, lang).lower(), user=who), className="klik-info")]  # fmt: skip
    if link is not None:
        url = f"{settings.base_url.rstrip('/')}/login/reset/{link}"
        parts += [html.P(_t("link", lang, user=who)), html.Code(url, id="users-link")]
    return html.Div(parts), f"{action}:{who}@{at.isoformat()}"
