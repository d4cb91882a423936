"""Pure builders of the participant record page: header, timeline, forms and audit history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from dash import html

from dashboard.i18n import fmt_date, label_of
from dashboard.tables import table
from study.record import Record
from study.vocab import (
    Activity,
    Benefit,
    ContactMode,
    ContactWith,
    EndReason,
    EventKind,
    Gender,
    InvitationStatus,
    JobEndReason,
    Respondent,
)

T: dict[str, dict[str, str]] = {
    "title": {"nl": "Deelnemersdossier", "en": "Participant record"},
    "pick": {"nl": "Kies een deelnemer (studiecode)", "en": "Choose a participant (study code)"},
    "not_found": {
        "nl": "Deze deelnemer bestaat niet of hoort niet bij uw cliënten.",
        "en": "This participant does not exist or is not one of your clients.",
    },
    "audited": {
        "nl": "Elke keer dat u een dossier opent, wordt dat vastgelegd in het auditlog.",
        "en": "Every time you open a record, this is written to the audit log.",
    },
    "birth_year": {"nl": "Geboortejaar", "en": "Birth year"},
    "gender": {"nl": "Gender", "en": "Gender"},
    "benefit": {"nl": "Uitkering", "en": "Benefit"},
    "register": {"nl": "Doelgroepregister", "en": "Target group register"},
    "enrolled": {"nl": "Ingeschreven", "en": "Enrolled"},
    "yes": {"nl": "ja", "en": "yes"},
    "no": {"nl": "nee", "en": "no"},
    "timeline": {"nl": "Tijdlijn", "en": "Timeline"},
    "forms": {"nl": "Vragenlijsten", "en": "Questionnaires"},
    "history": {"nl": "Wijzigingen en inzage (auditlog)", "en": "Changes and views (audit log)"},
    "consent_given": {
        "nl": "Toestemming gegeven (versie {v})",
        "en": "Consent given (version {v})",
    },
    "consent_withdrawn": {"nl": "Toestemming ingetrokken: {r}", "en": "Consent withdrawn: {r}"},
    "start": {
        "nl": "Start traject {t} bij {employer} (jobcoach {coach})",
        "en": "Trajectory {t} starts at {employer} (job coach {coach})",
    },
    "end": {"nl": "Einde traject {t}: {reason}", "en": "Trajectory {t} ends: {reason}"},
    "contact": {
        "nl": "Contact #{id}: {minutes} min, {mode}, met {with_whom} – {activity}",
        "en": "Contact #{id}: {minutes} min, {mode}, with {with_whom} – {activity}",
    },
    "event": {"nl": "Gebeurtenis #{id}: {kind}", "en": "Event #{id}: {kind}"},
    "form_due": {
        "nl": "{wave} {respondent}: {status}",
        "en": "{wave} {respondent}: {status}",
    },
    "deleted": {
        "nl": "verwijderd door {by} op {at}: {reason}",
        "en": "deleted by {by} on {at}: {reason}",
    },
    "wave": {"nl": "Meting", "en": "Wave"},
    "respondent": {"nl": "Invuller", "en": "Respondent"},
    "instrument": {"nl": "Vragenlijst", "en": "Questionnaire"},
    "status": {"nl": "Status", "en": "Status"},
    "opens": {"nl": "Opent", "en": "Opens"},
    "due": {"nl": "Gepland", "en": "Due"},
    "closes": {"nl": "Sluit", "en": "Closes"},
    "reminders": {"nl": "Herinneringen", "en": "Reminders"},
    "opened": {"nl": "Geopend", "en": "Opened"},
    "submitted": {"nl": "Ingediend", "en": "Submitted"},
    "trajectory": {"nl": "Traject", "en": "Trajectory"},
    "at": {"nl": "Moment (UTC)", "en": "Moment (UTC)"},
    "actor": {"nl": "Gebruiker", "en": "User"},
    "action": {"nl": "Actie", "en": "Action"},
    "what": {"nl": "Wat", "en": "What"},
    "old": {"nl": "Oud", "en": "Old"},
    "new": {"nl": "Nieuw", "en": "New"},
    "reason": {"nl": "Reden", "en": "Reason"},
    "none": {"nl": "Geen.", "en": "None."},
    "hours": {"nl": "{h} uur per week", "en": "{h} hours a week"},
}


def t(key: str, lang: str, **fmt: Any) -> str:
    """The text ``key`` in ``lang``."""
    text = T[key].get(lang) or T[key]["nl"]
    return text.format(**fmt) if fmt else text


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _day(value: Any) -> dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _moment(value: Any) -> str:
    if _missing(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def record_header(record: Record, lang: str) -> html.Div:
    """Study code and the pseudonymous facts of the participant."""
    p = record.participant
    facts = [
        (t("birth_year", lang), str(p["birth_year"])),
        (t("gender", lang), label_of(Gender, p["gender"], lang)),
        (t("benefit", lang), label_of(Benefit, p["benefit"], lang)),
        (t("register", lang), t("yes" if p["doelgroepregister"] else "no", lang)),
        (t("enrolled", lang), fmt_date(_day(p["enrolled_at"]), lang)),
    ]
    return html.Div(
        [
            html.H2(str(p["study_code"]), id="record-code"),
            html.Dl(
                [part for k, v in facts for part in (html.Dt(k), html.Dd(v))],
                className="klik-facts",
            ),
        ],
        className="klik-card",
    )


def timeline_items(record: Record, lang: str) -> list[dict[str, Any]]:
    """The record's dated happenings, oldest first, as ``{day, kind, text, deleted}`` dicts.

    Kinds: consent, withdrawal, start, end, form, contact, event. Deleted contacts and events stay
    on the timeline, struck through, with who deleted them and why.
    """
    items: list[dict[str, Any]] = []

    def add(day: Any, kind: str, text: str, deleted: str | None = None, order: int = 0) -> None:
        items.append(
            {"day": _day(day), "kind": kind, "text": text, "deleted": deleted, "order": order}
        )

    for c in record.consents.itertuples(index=False):
        add(c.given_at, "consent", t("consent_given", lang, v=c.version))
        if not _missing(c.withdrawn_at):
            add(c.withdrawn_at, "withdrawal", t("consent_withdrawn", lang, r=c.withdrawal_reason or "–"), order=9)  # fmt: skip
    for r in record.trajectories.itertuples(index=False):
        add(r.start_date, "start", t("start", lang, t=r.trajectory_id, employer=r.employer, coach=r.jobcoach_code), order=1)  # fmt: skip
        if not _missing(r.end_date):
            add(r.end_date, "end", t("end", lang, t=r.trajectory_id, reason=label_of(EndReason, r.end_reason, lang)), order=8)  # fmt: skip
    for i in record.invitations.itertuples(index=False):
        status = label_of(InvitationStatus, i.status, lang)
        text = t("form_due", lang, wave=i.wave_code, respondent=label_of(Respondent, i.respondent, lang), status=status)  # fmt: skip
        add(i.due_on, "form", text, order=2)
    for c in record.contacts.itertuples(index=False):
        text = t(
            "contact", lang, id=c.contact_id, minutes=c.minutes,
            mode=label_of(ContactMode, c.mode, lang).lower(),
            with_whom=label_of(ContactWith, c.with_whom, lang).lower(),
            activity=label_of(Activity, c.activity, lang).lower(),
        )  # fmt: skip
        if c.note:
            text += f" · {c.note}"
        add(c.contact_date, "contact", text, _deleted(c, lang), order=3)
    for e in record.events.itertuples(index=False):
        text = t("event", lang, id=e.event_id, kind=label_of(EventKind, e.kind, lang))
        if not _missing(e.hours):
            text += f" ({t('hours', lang, h=f'{float(e.hours):g}')})"
        if e.job_end_reason:
            text += f": {label_of(JobEndReason, e.job_end_reason, lang).lower()}"
        if e.note:
            text += f" · {e.note}"
        add(e.event_date, "event", text, _deleted(e, lang), order=4)
    items.sort(key=lambda i: (i["day"] or dt.date.max, i["order"]))
    return [{k: v for k, v in i.items() if k != "order"} for i in items]


def _deleted(row: Any, lang: str) -> str | None:
    if _missing(row.deleted_at):
        return None
    return t("deleted", lang, by=row.deleted_by, at=_moment(row.deleted_at), reason=row.delete_reason)  # fmt: skip


def timeline(items: list[dict[str, Any]], lang: str) -> html.Div:
    """The timeline as a list, one line per happening."""
    lines = []
    for item in items:
        text: list[Any] = [html.Span(item["text"], className="klik-deleted" if item["deleted"] else None)]  # fmt: skip
        if item["deleted"]:
            text.append(html.Span(f" ({item['deleted']})", className="klik-muted"))
        lines.append(
            html.Li(
                [html.Span(fmt_date(item["day"], lang), className="klik-when"), *text],
                className=f"klik-tl-{item['kind']}",
            )
        )
    return html.Div(
        [html.H2(t("timeline", lang)), html.Ul(lines, className="klik-timeline", id="record-timeline")],
        className="klik-card",
    )  # fmt: skip


def forms_table(invitations: pd.DataFrame, lang: str) -> html.Div:
    """Every questionnaire of the record: status, window, reminders, opened and submitted."""
    shown = pd.DataFrame(
        {
            "trajectory": invitations["trajectory_id"],
            "wave": invitations["wave_code"],
            "respondent": [label_of(Respondent, v, lang) for v in invitations["respondent"]],
            "instrument": invitations["instrument_id"],
            "status": [label_of(InvitationStatus, v, lang) for v in invitations["status"]],
            "opens": [fmt_date(_day(v), lang) for v in invitations["opens_on"]],
            "due": [fmt_date(_day(v), lang) for v in invitations["due_on"]],
            "closes": [fmt_date(_day(v), lang) for v in invitations["closes_on"]],
            "reminders": invitations["reminders_sent"],
            "opened": [_moment(v) for v in invitations["opened_at"]],
            "submitted": [_moment(v) for v in invitations["completed_at"]],
        }
    )
    heads = [t(k, lang) for k in shown.columns]
    return html.Div(
        [
            html.H2(t("forms", lang)),
            html.Div(table(shown, heads, table_id="record-forms", empty=t("none", lang)), className="klik-table-wrap"),
        ],
        className="klik-card",
    )  # fmt: skip


def compact(values: Any) -> str:
    """Audit values as short ``key: value`` text."""
    if _missing(values) or not values:
        return ""
    if isinstance(values, dict):
        return ", ".join(f"{k}: {v}" for k, v in values.items())
    return json.dumps(values, ensure_ascii=False)


def history_table(history: pd.DataFrame, lang: str) -> html.Div:
    """The audit events about this record, newest first."""
    shown = pd.DataFrame(
        {
            "at": [_moment(v) for v in history["at"]],
            "actor": history["actor"],
            "action": history["action"],
            "what": [
                f"{e} {'' if _missing(i) else int(i)}".strip()
                for e, i in zip(history["entity"], history["entity_id"], strict=True)
            ],
            "old": [compact(v) for v in history["old_values"]],
            "new": [compact(v) for v in history["new_values"]],
            "reason": [v or "" for v in history["reason"]],
        }
    )
    heads = [t(k, lang) for k in shown.columns]
    return html.Div(
        [
            html.H2(t("history", lang)),
            html.Div(table(shown, heads, table_id="record-history", empty=t("none", lang)), className="klik-table-wrap klik-scroll"),
        ],
        className="klik-card",
    )  # fmt: skip


def record_view(record: Record, lang: str) -> html.Div:
    """The whole record: header, timeline, questionnaires, audit history."""
    return html.Div(
        [
            record_header(record, lang),
            timeline(timeline_items(record, lang), lang),
            forms_table(record.invitations, lang),
            history_table(record.history, lang),
        ],
        id="record-view",
    )
