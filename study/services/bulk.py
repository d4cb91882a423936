"""Bulk forms of the logging services, for imports and large simulated cohorts.

Each function validates every entry exactly as its one-at-a-time service does (the same input
models and rules: trajectory in the study, consent not withdrawn, dates inside the trajectory,
job-end reasons), refuses the whole batch on the first bad entry, and then writes all rows and
their audit events with a few multi-row INSERTs instead of one flush per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from study import audit
from study.errors import ConsentWithdrawn, InvalidInput, NotFound
from study.inputs import ContactInput, EmploymentEventInput, parse
from study.models import AuditEvent, CoachingContact, Consent, EmploymentEvent, Trajectory
from study.services.common import utc
from study.vocab import EventKind

CHUNK = 5000


def _trajectories(
    session: Session, study_id: int, trajectory_ids: set[int]
) -> dict[int, tuple[dt.date, dt.date | None]]:
    """Start and end date of each trajectory, checked like ``trajectory_in_study`` does."""
    found: dict[int, tuple[dt.date, dt.date | None, int]] = {}
    ids = sorted(trajectory_ids)
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                Trajectory.id, Trajectory.start_date, Trajectory.end_date, Trajectory.participant_id
            ).where(Trajectory.study_id == study_id, Trajectory.id.in_(ids[i : i + CHUNK]))
        ).all()
        found.update({r[0]: (r[1], r[2], r[3]) for r in rows})
    missing = [t for t in ids if t not in found]
    if missing:
        raise NotFound(
            f"traject {missing[0]} bestaat niet in deze studie",
            f"trajectory {missing[0]} does not exist in this study",
        )
    participants = sorted({p for _, _, p in found.values()})
    consenting: set[int] = set()
    for i in range(0, len(participants), CHUNK):
        latest = (
            select(func.max(Consent.id))
            .where(Consent.participant_id.in_(participants[i : i + CHUNK]))
            .group_by(Consent.participant_id)
        )
        consenting.update(
            session.scalars(
                select(Consent.participant_id).where(
                    Consent.id.in_(latest), Consent.withdrawn_at.is_(None)
                )
            ).all()
        )
    for _start, _end, participant in found.values():
        if participant not in consenting:
            raise ConsentWithdrawn(
                "deze deelnemer heeft de toestemming ingetrokken; er kan niets meer worden vastgelegd",
                "this participant withdrew consent; nothing more can be recorded",
            )
    return {t: (s, e) for t, (s, e, _) in found.items()}


def _check_dates(
    span: tuple[dt.date, dt.date | None], day: dt.date, field: str, *, until_end: bool
) -> None:
    start, end = span
    if day < start:
        raise InvalidInput(
            f"de datum ({day:%d-%m-%Y}) ligt vóór de start van het traject ({start:%d-%m-%Y})",
            f"the date ({day}) is before the trajectory started ({start})",
            field=field,
        )
    if until_end and end is not None and day > end:
        raise InvalidInput(
            "de datum ligt na het einde van het traject",
            "the date is after the trajectory ended",
            field=field,
        )


def check_event_rules(inp: EmploymentEventInput) -> None:
    """The rules an employment event must meet beyond its input model."""
    if inp.kind == EventKind.JOB_END and inp.job_end_reason is None:
        raise InvalidInput(
            "geef de reden waarom de baan eindigde",
            "give the reason the job ended",
            field="job_end_reason",
        )
    if inp.kind != EventKind.JOB_END and inp.job_end_reason is not None:
        raise InvalidInput(
            "een reden hoort alleen bij het einde van een baan",
            "a reason belongs only to the end of a job",
            field="job_end_reason",
        )
    if inp.kind == EventKind.HOURS_CHANGE and inp.hours is None:
        raise InvalidInput(
            "geef het nieuwe aantal uren per week",
            "give the new number of hours per week",
            field="hours",
        )


def _insert(
    session: Session,
    model: Any,
    entity: str,
    rows: list[dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    ids: list[int] = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        result = session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), chunk
        )
        chunk_ids = list(result.scalars().all())
        ids.extend(chunk_ids)
        session.execute(
            insert(AuditEvent),
            [
                {
                    "at": at,
                    "actor": actor,
                    "action": "create",
                    "entity": entity,
                    "entity_id": row_id,
                    "old_values": None,
                    "new_values": audit.jsonable(
                        {k: v for k, v in row.items() if k != "created_at"}
                    ),
                    "reason": None,
                }
                for row_id, row in zip(chunk_ids, chunk, strict=True)
            ],
        )
    return ids


def record_contacts(
    session: Session,
    study_id: int,
    entries: Sequence[tuple[int, ContactInput | dict[str, Any]]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Log many coaching contacts ``(trajectory_id, data)`` at once; returns their ids in order.

    Validates like :func:`study.services.record_contact`; nothing is written if one entry is bad.
    """
    at = utc(at)
    parsed = [(t, parse(ContactInput, d)) for t, d in entries]
    spans = _trajectories(session, study_id, {t for t, _ in parsed})
    for t, inp in parsed:
        _check_dates(spans[t], inp.contact_date, "contact_date", until_end=True)
    rows = [{"trajectory_id": t, "created_at": at, **inp.model_dump()} for t, inp in parsed]
    return _insert(session, CoachingContact, "coaching_contact", rows, actor=actor, at=at)


def record_employment_events(
    session: Session,
    study_id: int,
    entries: Sequence[tuple[int, EmploymentEventInput | dict[str, Any]]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Log many employment events ``(trajectory_id, data)`` at once; returns their ids in order.

    Validates like :func:`study.services.record_employment_event`; nothing is written if one
    entry is bad.
    """
    at = utc(at)
    parsed = [(t, parse(EmploymentEventInput, d)) for t, d in entries]
    spans = _trajectories(session, study_id, {t for t, _ in parsed})
    for t, inp in parsed:
        _check_dates(spans[t], inp.event_date, "event_date", until_end=False)
        check_event_rules(inp)
    rows = [{"trajectory_id": t, "created_at": at, **inp.model_dump()} for t, inp in parsed]
    return _insert(session, EmploymentEvent, "employment_event", rows, actor=actor, at=at)
