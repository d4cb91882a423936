"""Pure builders for the jobcoach workspace: clients, forms to fill in, entry forms (the signals
are in :mod:`dashboard.signal_views`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from dash import dcc, html

from dashboard.i18n import fmt_date, label_of, options
from dashboard.tables import table
from study.mail.compose import date_en, date_nl
from study.vocab import (
    Activity,
    ContactMode,
    ContactWith,
    EndReason,
    EventKind,
    JobEndReason,
    Respondent,
)

T = {
    "title": {"nl": "Werkplek", "en": "Workspace"},
    "clients": {"nl": "Mijn cliënten", "en": "My clients"},
    "forms": {"nl": "Vragenlijsten die klaarstaan", "en": "Forms that are due"},
    "no_forms": {"nl": "Er staan geen vragenlijsten klaar.", "en": "No forms are due."},
    "no_clients": {"nl": "Nog geen cliënten.", "en": "No clients yet."},
    "study_code": {"nl": "Studiecode", "en": "Study code"},
    "start": {"nl": "Start", "en": "Start"},
    "status": {"nl": "Stand", "en": "Status"},
    "contacts": {"nl": "Contacten", "en": "Contacts"},
    "ongoing": {"nl": "Loopt", "en": "Ongoing"},
    "wave": {"nl": "Meting", "en": "Wave"},
    "respondent": {"nl": "Wie vult in", "en": "Respondent"},
    "due": {"nl": "Vervaldatum", "en": "Due"},
    "state": {"nl": "", "en": ""},
    "action": {"nl": "Wat kunt u doen", "en": "What you can do"},
    "overdue": {"nl": "te laat", "en": "overdue"},
    "due_soon": {"nl": "nu invullen", "en": "due now"},
    "upcoming": {"nl": "binnenkort", "en": "upcoming"},
    "fill_in": {"nl": "Zelf invullen", "en": "Fill in"},
    "opens_on": {"nl": "Opent op {day}", "en": "Opens on {day}"},
    "link_follows": {
        "nl": "Opent vandaag; de link gaat per e-mail naar de invuller",
        "en": "Opens today; the link goes to the respondent by e-mail",
    },
    "link_sent": {"nl": "Link per e-mail verstuurd", "en": "Link sent by e-mail"},
    "resend": {"nl": "Stuur de link opnieuw", "en": "Send the link again"},
    "resend_hint": {
        "nl": "De invuller krijgt de eigen link nog een keer per e-mail; u ziet de link zelf niet.",
        "en": "The respondent gets their own link by e-mail once more; you do not see it.",
    },
    "resent": {
        "nl": "De link gaat opnieuw per e-mail naar de {who}.",
        "en": "The link goes to the {who} by e-mail again.",
    },
    "score": {"nl": "Score", "en": "Score"},
    "before": {"nl": "Vorige meting", "en": "Previous wave"},
    "now": {"nl": "Laatste meting", "en": "Latest wave"},
    "klik": {"nl": "Klik met de jobcoach", "en": "Klik with the job coach"},
    "capability_count": {
        "nl": "Duurzame inzetbaarheid (capabilities)",
        "en": "Sustainable employability (capabilities)",
    },
    "client": {"nl": "Cliënt", "en": "Client"},
    "choose_client": {"nl": "Kies een cliënt", "en": "Choose a client"},
    "coach": {"nl": "Jobcoach", "en": "Job coach"},
    "choose_coach": {"nl": "Kies een jobcoach", "en": "Choose a job coach"},
    "log_contact": {"nl": "Contact vastleggen", "en": "Log a contact"},
    "log_event": {"nl": "Werkgebeurtenis vastleggen", "en": "Log an employment event"},
    "date": {"nl": "Datum", "en": "Date"},
    "minutes": {"nl": "Minuten", "en": "Minutes"},
    "mode": {"nl": "Vorm", "en": "Mode"},
    "with_whom": {"nl": "Met wie", "en": "With whom"},
    "activity": {"nl": "Activiteit", "en": "Activity"},
    "note": {"nl": "Notitie (geen namen)", "en": "Note (no names)"},
    "kind": {"nl": "Gebeurtenis", "en": "Event"},
    "hours": {"nl": "Uren per week", "en": "Hours per week"},
    "reason": {"nl": "Reden einde baan", "en": "Reason the job ended"},
    "save": {"nl": "Opslaan", "en": "Save"},
    "saved": {"nl": "Opgeslagen.", "en": "Saved."},
    "not_found": {
        "nl": "Dit traject bestaat niet of hoort niet bij uw cliënten.",
        "en": "This trajectory does not exist or is not one of your clients.",
    },
    "events": {"nl": "Werkgebeurtenissen", "en": "Employment events"},
    "details": {"nl": "Traject", "en": "Trajectory"},
}


def t(key: str, lang: str) -> str:
    return T[key][lang]


def clients_table(trajectories: pd.DataFrame, lang: str) -> html.Div:
    """My clients: study code, start date, ongoing or why it ended, number of contacts."""
    if trajectories.empty:
        return html.P(t("no_clients", lang), className="klik-muted")
    frame = pd.DataFrame(
        {
            "code": trajectories["study_code"],
            "start": [fmt_date(d, lang) for d in trajectories["start_date"]],
            "status": [
                t("ongoing", lang) if r is None or r != r else label_of(EndReason, r, lang)
                for r in trajectories["end_reason"]
            ],
            "contacts": trajectories["n_contacts"].astype(int),
        }
    )
    heads = [t(k, lang) for k in ("study_code", "start", "status", "contacts")]
    return table(frame, heads, table_id="workspace-clients")


def form_state(row_due: dt.date, row_opens: dt.date, as_of: dt.date) -> str:
    """overdue (past due), due (open now) or upcoming (opens later)."""
    if row_due < as_of:
        return "overdue"
    if row_opens <= as_of:
        return "due"
    return "upcoming"


def _opens_text(opens_on: dt.date, lang: str) -> str:
    day = date_nl(opens_on) if lang == "nl" else date_en(opens_on)
    return t("opens_on", lang).format(day=day)


def _how(r: Any, as_of: dt.date, lang: str, resend_id: str) -> Any:
    """What a row offers: the jobcoach's own form to open, or the respondent's link to resend.

    No row ever carries another person's link: the employee rates the jobcoach, so a link in the
    jobcoach's hands would let the jobcoach read and answer in the employee's name.
    """
    invitation_id = int(r.invitation_id)
    is_open = r.opens_on <= as_of
    if not is_open:
        return html.Span(_opens_text(r.opens_on, lang), className="klik-muted")
    if r.respondent == Respondent.JOBCOACH.value:
        return html.A(t("fill_in", lang), href=f"/coach/forms/{invitation_id}")
    if not r.link_sent:
        # the window began today and the scheduler has not ticked yet: the mail is on its way
        return html.Span(t("link_follows", lang), className="klik-muted")
    return html.Span(
        [
            html.Span(t("link_sent", lang), className="klik-muted"),
            " ",
            html.Button(
                t("resend", lang),
                id={"type": resend_id, "index": invitation_id},
                n_clicks=0,
                className="klik-secondary",
                title=t("resend_hint", lang),
            ),
        ]
    )


def forms_table(
    forms: pd.DataFrame,
    *,
    as_of: dt.date,
    lang: str,
    resend_id: str = "workspace-resend",
) -> html.Div:
    """Forms open now or soon, most urgent first, each with what the user can do about it.

    A jobcoach's own open form links to the dashboard's form route ("Zelf invullen"); an
    employee's or employer's open form offers to mail the respondent their link again (buttons
    with ids ``{"type": resend_id, "index": invitation_id}``); a form that is not open yet says
    when it opens.
    """
    if forms.empty:
        return html.P(t("no_forms", lang), className="klik-muted")
    state_label = {"overdue": "overdue", "due": "due_soon", "upcoming": "upcoming"}
    rows = []
    for r in forms.itertuples(index=False):
        state = form_state(r.due_on, r.opens_on, as_of)
        rows.append(
            html.Tr(
                [
                    html.Td(r.study_code),
                    html.Td(r.wave),
                    html.Td(label_of(Respondent, r.respondent, lang)),
                    html.Td(fmt_date(r.due_on, lang)),
                    html.Td(
                        html.Span(t(state_label[state], lang), className=f"klik-badge {state}")
                    ),
                    html.Td(_how(r, as_of, lang, resend_id)),
                ]
            )
        )
    heads = [t(k, lang) for k in ("study_code", "wave", "respondent", "due", "state", "action")]
    return html.Div(
        html.Table(
            [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)],
            className="klik-table",
            id="workspace-forms",
        ),
        className="klik-table-wrap",
    )


def _field(label: str, control: object) -> html.Div:
    return html.Div([html.Label(label), control])


def contact_form(ids: dict[str, str], lang: str, today: dt.date) -> html.Div:
    """The form to log a coaching contact (ids: date, minutes, mode, with, activity, note, save, msg)."""
    return html.Div(
        [
            html.H3(t("log_contact", lang)),
            html.Div(
                [
                    _field(t("date", lang), dcc.DatePickerSingle(id=ids["date"], date=today.isoformat(), display_format="DD-MM-YYYY")),
                    _field(t("minutes", lang), dcc.Input(id=ids["minutes"], type="number", min=1, max=1440, value=30)),
                    _field(t("mode", lang), dcc.Dropdown(id=ids["mode"], options=options(ContactMode, lang), value="on_site", clearable=False)),
                    _field(t("with_whom", lang), dcc.Dropdown(id=ids["with"], options=options(ContactWith, lang), value="employee", clearable=False)),
                    _field(t("activity", lang), dcc.Dropdown(id=ids["activity"], options=options(Activity, lang), value="on_the_job_guidance", clearable=False)),
                    _field(t("note", lang), dcc.Input(id=ids["note"], type="text")),
                    html.Button(t("save", lang), id=ids["save"], className="klik-primary", n_clicks=0),
                ],
                className="klik-form",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip


def event_form(ids: dict[str, str], lang: str, today: dt.date) -> html.Div:
    """The form to log an employment event (ids: date, kind, hours, reason, note, save, msg)."""
    return html.Div(
        [
            html.H3(t("log_event", lang)),
            html.Div(
                [
                    _field(t("date", lang), dcc.DatePickerSingle(id=ids["date"], date=today.isoformat(), display_format="DD-MM-YYYY")),
                    _field(t("kind", lang), dcc.Dropdown(id=ids["kind"], options=options(EventKind, lang), value="hours_change", clearable=False)),
                    _field(t("hours", lang), dcc.Input(id=ids["hours"], type="number", min=0, max=60)),
                    _field(t("reason", lang), dcc.Dropdown(id=ids["reason"], options=options(JobEndReason, lang))),
                    _field(t("note", lang), dcc.Input(id=ids["note"], type="text")),
                    html.Button(t("save", lang), id=ids["save"], className="klik-primary", n_clicks=0),
                ],
                className="klik-form",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip


def detail_view(trajectory: pd.DataFrame, events: pd.DataFrame, lang: str) -> html.Div:
    """One client's trajectory at a glance (pseudonymous: study code, no name)."""
    if trajectory.empty:
        return html.P(t("not_found", lang), className="klik-alert")
    r = trajectory.iloc[0]
    facts = [
        (t("study_code", lang), r["study_code"]),
        (t("start", lang), fmt_date(r["start_date"], lang)),
        (t("status", lang), t("ongoing", lang) if r["end_reason"] is None or r["end_reason"] != r["end_reason"] else label_of(EndReason, r["end_reason"], lang)),
        (t("contacts", lang), int(r["n_contacts"])),
    ]  # fmt: skip
    ev = (
        events.assign(
            event_date=[fmt_date(d, lang) for d in events["event_date"]],
            kind=[label_of(EventKind, k, lang) for k in events["kind"]],
            job_end_reason=[label_of(JobEndReason, k, lang) for k in events["job_end_reason"]],
        ).drop(columns="trajectory_id")
        if not events.empty
        else events
    )
    return html.Div(
        [
            html.H2(f"{t('details', lang)} {r['study_code']}"),
            html.Dl([c for k, v in facts for c in (html.Dt(k), html.Dd(str(v)))], className="klik-facts"),
            html.H3(t("events", lang)),
            table(ev, [t(k, lang) for k in ("date", "kind", "hours", "reason")]) if not ev.empty else html.P("–", className="klik-muted"),
        ],
        className="klik-card",
        id="workspace-detail-card",
    )  # fmt: skip
