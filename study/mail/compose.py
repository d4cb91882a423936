"""Texts of invitation and reminder mails, Dutch first, then English.

A mail carries the personal link, the wave, the due date and the closing date, and nothing else: no
name, no diagnosis, no answers, no study name that could reveal a health condition. The link
itself is not stored: the body keeps :data:`LINK_PLACEHOLDER`, and the sender puts the link in at
delivery time (tokens are stored only hashed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from study.vocab import Respondent

LINK_PLACEHOLDER = "{{link}}"

KIND_INVITATION = "invitation"
KIND_REMINDER = "reminder"

_MONTHS_NL = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class MailFacts:
    """What a mail may say about one invitation."""

    kind: str
    reminder_number: int
    respondent: Respondent
    wave_code: str
    anchor: str
    offset_months: int
    due_on: dt.date
    closes_on: dt.date
    participant_code: str | None = None


def date_nl(day: dt.date) -> str:
    """``5 januari 2026``."""
    return f"{day.day} {_MONTHS_NL[day.month - 1]} {day.year}"


def date_en(day: dt.date) -> str:
    """``5 January 2026``."""
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def wave_name(anchor: str, offset_months: int) -> dict[str, str]:
    """The wave as people say it: ``{"nl": "meting na 3 maanden", "en": "3-month questionnaire"}``."""
    if anchor == "end":
        return {
            "nl": f"vervolgmeting {offset_months} maanden na het einde van de begeleiding",
            "en": f"follow-up questionnaire {offset_months} months after coaching ended",
        }
    if offset_months == 0:
        return {"nl": "startmeting", "en": "baseline questionnaire"}
    return {
        "nl": f"meting na {offset_months} maanden",
        "en": f"{offset_months}-month questionnaire",
    }


def _about(facts: MailFacts) -> dict[str, str]:
    if facts.respondent is Respondent.JOBCOACH:
        code = f" (deelnemer {facts.participant_code})" if facts.participant_code else ""
        code_en = f" (participant {facts.participant_code})" if facts.participant_code else ""
        return {
            "nl": f"over de begeleiding van uw cliënt{code}",
            "en": f"about the coaching of your client{code_en}",
        }
    if facts.respondent is Respondent.EMPLOYER:
        return {
            "nl": "over de jobcoaching van uw medewerker",
            "en": "about the job coaching of your employee",
        }
    return {"nl": "over uw werk en de begeleiding", "en": "about your work and your coaching"}


def compose(facts: MailFacts) -> tuple[str, str]:
    """Subject and body (with :data:`LINK_PLACEHOLDER` where the link goes) of one mail."""
    wave = wave_name(facts.anchor, facts.offset_months)
    about = _about(facts)
    reminder = facts.kind == KIND_REMINDER
    if reminder:
        subject = f"Herinnering: vragenlijst {wave['nl']} / Reminder: {wave['en']}"
        intro_nl = "Een herinnering: de vragenlijst hieronder staat nog voor u klaar."
        intro_en = "A reminder: the questionnaire below is still waiting for you."
    else:
        subject = f"Vragenlijst: {wave['nl']} / Questionnaire: {wave['en']}"
        intro_nl = "Er staat een nieuwe vragenlijst voor u klaar."
        intro_en = "A new questionnaire is ready for you."
    body = "\n".join(
        [
            "Beste deelnemer,",
            "",
            f"{intro_nl} Het gaat om de {wave['nl']} van het onderzoek naar jobcoaching, "
            f"{about['nl']}.",
            "",
            "Vul de vragenlijst in via uw persoonlijke link:",
            LINK_PLACEHOLDER,
            "",
            f"Graag invullen rond {date_nl(facts.due_on)}. "
            f"De link werkt tot en met {date_nl(facts.closes_on)}.",
            "Deze link is alleen voor u; stuur hem niet door.",
            "",
            "Met vriendelijke groet,",
            "Het onderzoeksteam",
            "",
            "-- English --",
            "",
            "Dear participant,",
            "",
            f"{intro_en} It is the {wave['en']} of the study of job coaching, {about['en']}.",
            "",
            "Please fill it in through your personal link:",
            LINK_PLACEHOLDER,
            "",
            f"Please respond around {date_en(facts.due_on)}. "
            f"The link works until {date_en(facts.closes_on)} inclusive.",
            "This link is for you only; please do not forward it.",
            "",
            "Kind regards,",
            "The research team",
            "",
        ]
    )
    return subject, body


def with_link(body: str, link: str) -> str:
    """The body as it is sent: the placeholder replaced by the personal link."""
    return body.replace(LINK_PLACEHOLDER, link)
