"""Pure builders of the record page's correction forms: which entry, which field, the new value
and the reason; deleting an entry; ending a trajectory (confirmed) and undoing an end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import dcc, html

from dashboard.i18n import fmt_date, label_of, options
from study.record import Record
from study.vocab import Activity, ContactMode, EndReason, EventKind

T: dict[str, dict[str, str]] = {
    "corrections": {"nl": "Correcties", "en": "Corrections"},
    "corrections_help": {
        "nl": "Een correctie of verwijdering vraagt altijd een reden; oude en nieuwe waarde komen "
        "in het auditlog. Een verwijderde regel telt nergens meer mee, maar blijft zichtbaar.",
        "en": "A correction or deletion always needs a reason; old and new value go to the audit "
        "log. A deleted entry no longer counts anywhere, but stays visible.",
    },
    "entry": {"nl": "Contact of gebeurtenis", "en": "Contact or event"},
    "field": {"nl": "Veld", "en": "Field"},
    "value": {"nl": "Nieuwe waarde", "en": "New value"},
    "value_help": {
        "nl": "Datum als jjjj-mm-dd; keuzes als code (bijv. phone, on_site).",
        "en": "Dates as yyyy-mm-dd; choices as code (e.g. phone, on_site).",
    },
    "reason": {"nl": "Reden (verplicht)", "en": "Reason (required)"},
    "correct": {"nl": "Corrigeren", "en": "Correct"},
    "delete": {"nl": "Verwijderen", "en": "Delete"},
    "delete_confirm": {
        "nl": "Deze regel verwijderen? Hij telt daarna nergens meer mee.",
        "en": "Delete this entry? It will no longer count anywhere.",
    },
    "end_title": {"nl": "Traject beëindigen", "en": "End trajectory"},
    "trajectory": {"nl": "Traject", "en": "Trajectory"},
    "end_date": {"nl": "Einddatum", "en": "End date"},
    "end_reason": {"nl": "Reden van beëindiging", "en": "End reason"},
    "end": {"nl": "Traject beëindigen…", "en": "End trajectory…"},
    "end_confirm": {
        "nl": "Weet u zeker dat u dit traject wilt beëindigen? Vragenlijsten na de einddatum "
        "worden geannuleerd. Alleen een onderzoeker kan dit terugdraaien.",
        "en": "Are you sure you want to end this trajectory? Questionnaires after the end date "
        "are cancelled. Only a researcher can undo this.",
    },
    "reopen_title": {"nl": "Beëindiging ongedaan maken", "en": "Undo the end"},
    "reopen_reason": {"nl": "Reden (verplicht)", "en": "Reason (required)"},
    "reopen": {"nl": "Beëindiging terugdraaien…", "en": "Undo end…"},
    "reopen_confirm": {
        "nl": "Het einde van dit traject terugdraaien? Geannuleerde vragenlijsten die nog open "
        "kunnen, worden opnieuw gepland.",
        "en": "Undo the end of this trajectory? Cancelled questionnaires that can still be "
        "answered are planned again.",
    },
    "choose_entry": {
        "nl": "Kies eerst een contact of gebeurtenis.",
        "en": "Choose a contact or event first.",
    },
    "choose_field": {
        "nl": "Kies het veld dat u wilt corrigeren.",
        "en": "Choose the field to correct.",
    },
    "choose_trajectory": {"nl": "Kies eerst een traject.", "en": "Choose a trajectory first."},
    "not_yours": {
        "nl": "Deze regel bestaat niet of hoort niet bij uw cliënten.",
        "en": "This entry does not exist or is not one of your clients'.",
    },
    "corrected": {
        "nl": "Gecorrigeerd; vastgelegd in het auditlog.",
        "en": "Corrected; recorded in the audit log.",
    },
    "deleted": {
        "nl": "Verwijderd; vastgelegd in het auditlog.",
        "en": "Deleted; recorded in the audit log.",
    },
    "ended": {"nl": "Het traject is beëindigd.", "en": "The trajectory has ended."},
    "reopened": {
        "nl": "Het einde van het traject is teruggedraaid.",
        "en": "The end of the trajectory was undone.",
    },
    "contact": {"nl": "Contact", "en": "Contact"},
    "event": {"nl": "Gebeurtenis", "en": "Event"},
}

FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "coaching_contact": (
        ("contact_date", "Datum", "Date"),
        ("minutes", "Minuten", "Minutes"),
        ("mode", "Contactvorm", "Mode"),
        ("with_whom", "Met wie", "With whom"),
        ("activity", "Activiteit", "Activity"),
        ("note", "Notitie", "Note"),
    ),
    "employment_event": (
        ("event_date", "Datum", "Date"),
        ("hours", "Uren", "Hours"),
        ("job_end_reason", "Reden einde baan", "Reason the job ended"),
        ("note", "Notitie", "Note"),
    ),
}


def entry_options(record: Record, lang: str) -> list[dict[str, Any]]:
    """The record's contacts and events that are not deleted, as dropdown options
    (value ``"coaching_contact:<id>"`` or ``"employment_event:<id>"``)."""
    out: list[dict[str, Any]] = []
    for c in record.contacts.itertuples(index=False):
        if c.deleted_at is None or c.deleted_at != c.deleted_at:
            label = f"{T['contact'][lang]} #{c.contact_id} {fmt_date(c.contact_date, lang)}: {c.minutes} min, {label_of(ContactMode, c.mode, lang)}, {label_of(Activity, c.activity, lang)}"  # fmt: skip
            out.append({"label": label, "value": f"coaching_contact:{int(c.contact_id)}"})
    for e in record.events.itertuples(index=False):
        if e.deleted_at is None or e.deleted_at != e.deleted_at:
            label = f"{T['event'][lang]} #{e.event_id} {fmt_date(e.event_date, lang)}: {label_of(EventKind, e.kind, lang)}"  # fmt: skip
            out.append({"label": label, "value": f"employment_event:{int(e.event_id)}"})
    return out


def field_options(entry: Any, lang: str) -> list[dict[str, str]]:
    """The correctable fields of the chosen entry's kind."""
    if not isinstance(entry, str):
        return []
    entity = entry.partition(":")[0]
    return [
        {"label": nl if lang == "nl" else en, "value": key}
        for key, nl, en in FIELDS.get(entity, ())
    ]


def actions_view(lang: str, *, researcher: bool, today: dt.date) -> html.Div:
    """The correction card, the end-of-trajectory card and, for researchers, the undo card."""
    ids = {k: f"record-{k}" for k in ("entry", "field", "value", "reason", "correct", "delete", "msg")}  # fmt: skip
    correction = html.Div(
        [
            html.H2(T["corrections"][lang]),
            html.P(T["corrections_help"][lang], className="klik-muted"),
            html.Div(
                [
                    _field(T["entry"][lang], dcc.Dropdown(id=ids["entry"], options=[])),
                    _field(T["field"][lang], dcc.Dropdown(id=ids["field"], options=[])),
                    _field(T["value"][lang], dcc.Input(id=ids["value"], type="text", debounce=False)),
                    _field(T["reason"][lang], dcc.Input(id=ids["reason"], type="text")),
                ],
                className="klik-form",
            ),
            html.P(T["value_help"][lang], className="klik-note"),
            html.Div(
                [
                    html.Button(T["correct"][lang], id=ids["correct"], className="klik-primary"),
                    dcc.ConfirmDialogProvider(
                        html.Button(T["delete"][lang], className="klik-danger"),
                        id=ids["delete"],
                        message=T["delete_confirm"][lang],
                    ),
                ],
                className="klik-actions",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip
    end = html.Div(
        [
            html.H2(T["end_title"][lang]),
            html.Div(
                [
                    _field(T["trajectory"][lang], dcc.Dropdown(id="record-end-trajectory", options=[])),
                    _field(T["end_date"][lang], dcc.DatePickerSingle(id="record-end-date", date=today.isoformat(), display_format="DD-MM-YYYY" if lang == "nl" else "YYYY-MM-DD")),
                    _field(T["end_reason"][lang], dcc.Dropdown(id="record-end-reason", options=options(EndReason, lang))),
                ],
                className="klik-form",
            ),
            dcc.ConfirmDialogProvider(
                html.Button(T["end"][lang], className="klik-primary"),
                id="record-end-confirm",
                message=T["end_confirm"][lang],
            ),
            html.Div(id="record-end-msg", role="status"),
        ],
        className="klik-card",
    )  # fmt: skip
    reopen_parts: list[Any] = [
        _field(
            T["reopen_reason"][lang],
            dcc.Input(id="record-reopen-reason", type="text"),
        ),
        dcc.ConfirmDialogProvider(
            html.Button(T["reopen"][lang], className="klik-primary"),
            id="record-reopen",
            message=T["reopen_confirm"][lang],
        ),
    ]
    reopen = (
        html.Div([html.H2(T["reopen_title"][lang]), *reopen_parts], className="klik-card")
        if researcher
        # the ids exist for the callback, hidden: the service refuses a jobcoach anyway
        else html.Div(reopen_parts, hidden=True)
    )
    return html.Div([correction, html.Div([end, reopen], className="klik-grid-2")])


def _field(label: str, control: Any) -> html.Div:
    return html.Div([html.Label(label), control])
