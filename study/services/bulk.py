"""Bulk forms of the services, for imports and large simulated cohorts.

Each function validates every entry exactly as its one-at-a-time service does (the same input
models and rules: rows of the study, unique codes and names, consent not withdrawn, dates inside the
trajectory, job-end reasons, one open trajectory per employee and employer), refuses the whole batch
on the first bad entry, and then writes all rows and one audit event per row (with the same content
as the single service's) with a few multi-row INSERTs instead of one flush per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict, ConsentWithdrawn, InvalidInput, NotFound
from study.event_sequence import Step
from study.inputs import (
    ContactInput,
    EmployerInput,
    EmploymentEventInput,
    EnrolmentInput,
    JobcoachInput,
    TrajectoryEndInput,
    TrajectoryInput,
    parse,
)
from study.models import (
    AuditEvent,
    CoachingContact,
    Consent,
    Employer,
    EmploymentEvent,
    Jobcoach,
    Organisation,
    Participant,
    ParticipantIdentity,
    Study,
    Trajectory,
)
from study.services import rules
from study.services.common import ENTITY_NAMES, get_in_study, utc
from study.vocab import EventKind

#: same-day order of events not yet stored: after every stored one, in the order given
NEW_KEY = 10**15

CHUNK = 5000


def _trajectories(
    session: Session, study_id: int, trajectory_ids: set[int]
) -> dict[int, tuple[dt.date, dt.date | None]]:
    """Start and end date of each trajectory, checked to belong to the study and to consenting participants."""
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
    _ensure_consent(session, {p for _, _, p in found.values()})
    return {t: (s, e) for t, (s, e, _) in found.items()}


def _consenting(session: Session, participant_ids: set[int]) -> set[int]:
    """The participants among ``participant_ids`` whose latest consent is not withdrawn."""
    participants = sorted(participant_ids)
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
    return consenting


def _ensure_consent(session: Session, participant_ids: set[int]) -> None:
    """Refuse like ``ensure_consent`` when one of the participants has no standing consent."""
    if participant_ids - _consenting(session, participant_ids):
        raise ConsentWithdrawn(
            "deze deelnemer heeft de toestemming ingetrokken; er kan niets meer worden vastgelegd",
            "this participant withdrew consent; nothing more can be recorded",
        )


def _ids_in_study(session: Session, model: Any, ids: Sequence[int], study_id: int) -> None:
    """Refuse like ``get_in_study`` when one of ``ids`` is not a row of ``model`` in the study."""
    wanted = sorted(set(ids))
    found: set[int] = set()
    for i in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(
                select(model.id).where(
                    model.study_id == study_id, model.id.in_(wanted[i : i + CHUNK])
                )
            ).all()
        )
    missing = [i for i in ids if i not in found]
    if missing:
        nl, en = ENTITY_NAMES.get(model.__tablename__, (model.__tablename__, model.__tablename__))
        raise NotFound(
            f"{nl} {missing[0]} bestaat niet in deze studie",
            f"{en} {missing[0]} does not exist in this study",
        )


def _taken(
    session: Session, column: Any, study_column: Any, study_id: int, values: list[str]
) -> set[str]:
    """Which of ``values`` are already used in ``column`` within the study."""
    taken: set[str] = set()
    for i in range(0, len(values), CHUNK):
        taken.update(
            session.scalars(
                select(column).where(study_column == study_id, column.in_(values[i : i + CHUNK]))
            ).all()
        )
    return taken


def _first_duplicate(values: Sequence[Any], taken: set[Any]) -> Any | None:
    """The first value that is in ``taken`` or occurs twice in ``values``; None if there is none."""
    seen: set[Any] = set()
    for value in values:
        if value in taken or value in seen:
            return value
        seen.add(value)
    return None


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
    action: str = "create",
    audits: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Insert ``rows`` and one audit event per row; ``audits`` are the events' new values (by
    default the row without ``created_at``). Returns the new ids in the order of ``rows``."""
    ids: list[int] = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        result = session.execute(
            insert(model.__table__).returning(model.__table__.c.id, sort_by_parameter_order=True),
            chunk,
        )
        chunk_ids = list(result.scalars().all())
        ids.extend(chunk_ids)
        news = (
            audits[i : i + CHUNK]
            if audits is not None
            else [{k: v for k, v in row.items() if k != "created_at"} for row in chunk]
        )
        session.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "entity": entity,
                    "entity_id": row_id,
                    "old_values": None,
                    "new_values": audit.jsonable(new),
                    "reason": None,
                }
                for row_id, new in zip(chunk_ids, news, strict=True)
            ],
        )
    return ids


def _audit_rows(
    session: Session,
    entity: str,
    action: str,
    ids: Sequence[int],
    olds: Sequence[dict[str, Any] | None],
    news: Sequence[dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> None:
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": row_id,
            "old_values": audit.jsonable(old) if old is not None else None,
            "new_values": audit.jsonable(new),
            "reason": None,
        }
        for row_id, old, new in zip(ids, olds, news, strict=True)
    ]
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(AuditEvent.__table__), rows[i : i + CHUNK])


def _organisations(session: Session, study_id: int, inputs: Sequence[Any]) -> None:
    ids = [inp.organisation_id for inp in inputs if inp.organisation_id is not None]
    if ids:
        _ids_in_study(session, Organisation, ids, study_id)


def _add_unique(
    session: Session,
    study_id: int,
    model: Any,
    parsed: Sequence[JobcoachInput | EmployerInput],
    *,
    key: str,
    label: tuple[str, str],
    audit_fields: tuple[str, ...],
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Insert study records whose ``key`` must be unique in the study (and within the batch)."""
    _organisations(session, study_id, parsed)
    values = [getattr(inp, key) for inp in parsed]
    taken = _taken(session, getattr(model, key), model.study_id, study_id, values)
    dup = _first_duplicate(values, taken)
    if dup is not None:
        nl, en = label
        raise Conflict(f"{nl} {dup} bestaat al", f"{en} {dup} already exists", field=key)
    rows = [{"study_id": study_id, **inp.model_dump()} for inp in parsed]
    audits = [{k: getattr(inp, k) for k in audit_fields} for inp in parsed]
    return _insert(session, model, model.__tablename__, rows, actor=actor, at=at, audits=audits)


def add_jobcoaches(
    session: Session,
    study_id: int,
    entries: Sequence[JobcoachInput | dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Register many jobcoaches at once; returns their ids in order.

    Validates like :func:`study.services.add_jobcoach` (organisation of the study, code not taken,
    also not twice in the batch); nothing is written if one entry is bad.
    """
    parsed = [parse(JobcoachInput, d) for d in entries]
    return _add_unique(
        session,
        study_id,
        Jobcoach,
        parsed,
        key="code",
        label=("jobcoachcode", "job coach code"),
        audit_fields=("code", "coach_type", "method", "organisation_id"),
        actor=actor,
        at=utc(at),
    )


def add_employers(
    session: Session,
    study_id: int,
    entries: Sequence[EmployerInput | dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Register many employers at once; returns their ids in order.

    Validates like :func:`study.services.add_employer` (organisation of the study, name not taken,
    also not twice in the batch); nothing is written if one entry is bad.
    """
    parsed = [parse(EmployerInput, d) for d in entries]
    return _add_unique(
        session,
        study_id,
        Employer,
        parsed,
        key="name",
        label=("werkgever", "employer"),
        audit_fields=("name", "sector"),
        actor=actor,
        at=utc(at),
    )


def enrol_participants(
    session: Session,
    study_id: int,
    entries: Sequence[EnrolmentInput | dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Enrol many participants at once, each with consent given at ``at``; returns their ids.

    Validates like :func:`study.services.enrol_participant` (study exists, study code not taken,
    also not twice in the batch); nothing is written if one entry is bad. Contact details go to the
    identity table only.
    """
    parsed = [parse(EnrolmentInput, d) for d in entries]
    study = get_in_study(session, Study, study_id, study_id)
    codes = [inp.study_code for inp in parsed]
    taken = _taken(session, Participant.study_code, Participant.study_id, study_id, codes)
    dup = _first_duplicate(codes, taken)
    if dup is not None:
        raise Conflict(
            f"studiecode {dup} is al in gebruik",
            f"study code {dup} is already in use",
            field="study_code",
        )
    at = utc(at)
    rows = [
        {
            "study_id": study_id,
            "study_code": inp.study_code,
            "birth_year": inp.birth_year,
            "gender": inp.gender,
            "benefit": inp.benefit,
            "doelgroepregister": inp.doelgroepregister,
            "enrolled_at": at,
        }
        for inp in parsed
    ]
    versions = [inp.consent_version or study.consent_version for inp in parsed]
    audits = [
        {
            "study_code": inp.study_code,
            "birth_year": inp.birth_year,
            "gender": inp.gender,
            "benefit": inp.benefit,
            "doelgroepregister": inp.doelgroepregister,
            "consent_version": version,
        }
        for inp, version in zip(parsed, versions, strict=True)
    ]
    ids = _insert(
        session, Participant, "participant", rows, actor=actor, at=at, action="enrol", audits=audits
    )
    identities = [
        {"participant_id": pid, "name": inp.name, "email": inp.email, "phone": inp.phone}
        for pid, inp in zip(ids, parsed, strict=True)
    ]
    consents = [
        {"participant_id": pid, "version": version, "given_at": at}
        for pid, version in zip(ids, versions, strict=True)
    ]
    for i in range(0, len(ids), CHUNK):
        session.execute(insert(ParticipantIdentity.__table__), identities[i : i + CHUNK])
        session.execute(insert(Consent.__table__), consents[i : i + CHUNK])
    return ids


def start_trajectories(
    session: Session,
    study_id: int,
    entries: Sequence[TrajectoryInput | dict[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Start many trajectories at once; returns their ids in order.

    Validates like :func:`study.services.start_trajectory` (participant, jobcoach and employer of
    the study, consent standing, no second open trajectory of an employee with the same employer,
    also not within the batch); nothing is written if one entry is bad.
    """
    parsed = [parse(TrajectoryInput, d) for d in entries]
    limits = rules.limits(session, study_id, utc(at))
    for inp in parsed:
        limits.check_start(inp.start_date)
    _ids_in_study(session, Participant, [inp.participant_id for inp in parsed], study_id)
    _ids_in_study(session, Jobcoach, [inp.jobcoach_id for inp in parsed], study_id)
    _ids_in_study(session, Employer, [inp.employer_id for inp in parsed], study_id)
    _ensure_consent(session, {inp.participant_id for inp in parsed})
    pairs = [(inp.participant_id, inp.employer_id) for inp in parsed]
    participants = sorted({p for p, _ in pairs})
    open_ids: dict[tuple[int, int], int] = {}
    for i in range(0, len(participants), CHUNK):
        rows = session.execute(
            select(Trajectory.participant_id, Trajectory.employer_id, Trajectory.id).where(
                Trajectory.participant_id.in_(participants[i : i + CHUNK]),
                Trajectory.end_date.is_(None),
            )
        ).all()
        open_ids.update({(p, e): t for p, e, t in rows})
    dup = _first_duplicate(pairs, set(open_ids))
    if dup is not None:
        number = open_ids.get(dup, "?")
        raise Conflict(
            f"deze werknemer heeft al een lopend traject (nr. {number}) bij deze werkgever",
            f"this employee already has an open trajectory (no. {number}) with this employer",
        )
    at = utc(at)
    rows = [{"study_id": study_id, "created_at": at, **inp.model_dump()} for inp in parsed]
    audits = [inp.model_dump() for inp in parsed]
    return _insert(
        session, Trajectory, "trajectory", rows, actor=actor, at=at, action="start", audits=audits
    )


def end_trajectories(
    session: Session,
    study_id: int,
    entries: Sequence[tuple[int, TrajectoryEndInput | dict[str, Any]]],
    *,
    actor: str,
    at: dt.datetime,
) -> None:
    """End many trajectories ``(trajectory_id, data)`` at once.

    Validates like :func:`study.services.end_trajectory` (trajectory of the study, not ended yet,
    also not twice in the batch, end date not before the start); nothing is written if one entry
    is bad.
    """
    parsed = [(t, parse(TrajectoryEndInput, d)) for t, d in entries]
    ids = [t for t, _ in parsed]
    _ids_in_study(session, Trajectory, ids, study_id)
    found: dict[int, tuple[dt.date, dt.date | None]] = {}
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(Trajectory.id, Trajectory.start_date, Trajectory.end_date).where(
                Trajectory.id.in_(wanted[i : i + CHUNK])
            )
        ).all()
        found.update({t: (start, end) for t, start, end in rows})
    seen: set[int] = set()
    for t, inp in parsed:
        start, end = found[t]
        if end is not None or t in seen:
            day = end or inp.end_date
            raise Conflict(
                f"dit traject is al beëindigd op {day:%d-%m-%Y}",
                f"this trajectory already ended on {day:%Y-%m-%d}",
            )
        seen.add(t)
        if inp.end_date < start:
            raise InvalidInput(
                f"de einddatum ({inp.end_date:%d-%m-%Y}) ligt vóór de startdatum "
                f"({start:%d-%m-%Y})",
                f"the end date ({inp.end_date}) is before the start date ({start})",
                field="end_date",
            )
    at = utc(at)
    changes = [
        {"id": t, "end_date": inp.end_date, "end_reason": inp.end_reason} for t, inp in parsed
    ]
    for i in range(0, len(changes), CHUNK):
        session.execute(update(Trajectory), changes[i : i + CHUNK])
    _audit_rows(
        session,
        "trajectory",
        "end",
        ids,
        [{"end_date": None, "end_reason": None}] * len(ids),
        [inp.model_dump() for _, inp in parsed],
        actor=actor,
        at=at,
    )


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
    limits = rules.limits(session, study_id, at)
    for _, inp in parsed:
        limits.check_record(inp.contact_date, "contact_date")
        rules.check_free_text(inp.note)
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
    limits = rules.limits(session, study_id, at)
    for _, inp in parsed:
        limits.check_record(inp.event_date, "event_date")
        rules.check_free_text(inp.note)
    spans = _trajectories(session, study_id, {t for t, _ in parsed})
    for t, inp in parsed:
        _check_dates(spans[t], inp.event_date, "event_date", until_end=False)
        check_event_rules(inp)
    stored = rules.stored_steps(session, spans)
    rules.check_sequences(
        stored,
        stored,
        [(t, Step(inp.event_date, inp.kind, NEW_KEY + i)) for i, (t, inp) in enumerate(parsed)],
    )
    rows = [{"trajectory_id": t, "created_at": at, **inp.model_dump()} for t, inp in parsed]
    return _insert(session, EmploymentEvent, "employment_event", rows, actor=actor, at=at)
