"""The input rules the services apply beyond the input models: dates not in the future, no
personal data in free text, possible orders of employment events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from study.date_rules import check_not_ahead, study_today
from study.errors import InvalidInput
from study.event_sequence import Step, new_problems
from study.models import EmploymentEvent, Study
from study.text_rules import KIND_NAMES, personal_data
from study.vocab import EventKind

#: (Dutch, English) names of the dates these rules check, for the messages
DATE_NAMES = {
    "contact_date": ("de datum van het contact", "the contact's date"),
    "event_date": ("de datum van de gebeurtenis", "the event's date"),
    "start_date": ("de startdatum", "the start date"),
}
TEXT_NAMES = {
    "note": ("de notitie", "the note"),
    "reason": ("de reden", "the reason"),
}


@dataclass(frozen=True)
class Limits:
    """The study's today and how many days ahead records and starts may be dated."""

    today: dt.date
    record_days_ahead: int
    start_days_ahead: int

    def check_record(self, day: dt.date, field: str) -> None:
        """Refuse a contact or event date too far ahead."""
        check_not_ahead(
            day, self.today, self.record_days_ahead, field=field, what=DATE_NAMES[field]
        )

    def check_start(self, day: dt.date) -> None:
        """Refuse a trajectory start too far ahead."""
        check_not_ahead(
            day,
            self.today,
            self.start_days_ahead,
            field="start_date",
            what=DATE_NAMES["start_date"],
        )


def limits(session: Session, study_id: int, at: dt.datetime) -> Limits:
    """The date limits of ``study_id`` at the moment ``at``."""
    row = session.execute(
        select(Study.timezone, Study.record_days_ahead, Study.start_days_ahead).where(
            Study.id == study_id
        )
    ).one()
    return Limits(study_today(at, row[0]), int(row[1]), int(row[2]))


def check_free_text(text: str | None, field: str = "note") -> None:
    """Refuse free text that looks like it holds a BSN, a phone number or an e-mail address."""
    if not text:
        return
    findings = personal_data(text)
    if not findings:
        return
    kinds = list(dict.fromkeys(f.kind for f in findings))
    nl_what, en_what = TEXT_NAMES.get(field, (field, field))
    nl_kinds = " en ".join(KIND_NAMES[k][0] for k in kinds)
    en_kinds = " and ".join(KIND_NAMES[k][1] for k in kinds)
    raise InvalidInput(
        f"{nl_what} lijkt {nl_kinds} te bevatten ({findings[0].text}); notities zijn "
        "studiegegevens en mogen niemand herkenbaar maken: laat dit weg",
        f"{en_what} seems to contain {en_kinds} ({findings[0].text}); notes are study data "
        "and must not identify anyone: leave this out",
        field=field,
    )


def stored_steps(
    session: Session, trajectory_ids: Iterable[int], *, without: int | None = None
) -> dict[int, list[Step]]:
    """The (not deleted) employment events of each trajectory as steps, without event ``without``."""
    ids = sorted(set(trajectory_ids))
    out: dict[int, list[Step]] = {t: [] for t in ids}
    if not ids:
        return out
    rows = session.execute(
        select(
            EmploymentEvent.trajectory_id,
            EmploymentEvent.event_date,
            EmploymentEvent.kind,
            EmploymentEvent.id,
        ).where(EmploymentEvent.trajectory_id.in_(ids), EmploymentEvent.deleted_at.is_(None))
    ).all()
    for t, day, kind, event_id in rows:
        if event_id != without:
            out[t].append(Step(day, EventKind(kind), event_id))
    return out


def check_sequences(
    stored: dict[int, list[Step]],
    changed: dict[int, list[Step]],
    additions: Sequence[tuple[int, Step]],
) -> None:
    """Refuse when ``additions`` (trajectory, step) make an impossible order of events.

    ``stored`` is each trajectory's history as it is; ``changed`` the history the change starts
    from (the same, or with an edited or deleted event left out).
    """
    after: dict[int, list[Step]] = {t: list(steps) for t, steps in changed.items()}
    for t, step in additions:
        after.setdefault(t, []).append(step)
    for t, steps in after.items():
        problems = new_problems(stored.get(t, []), steps)
        if problems:
            first = problems[0]
            raise InvalidInput(first.nl, first.en, field="kind")
