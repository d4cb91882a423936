"""Taking back what was logged: deleting a contact or an employment event (kept, marked deleted,
with who and why) and undoing the end of a trajectory. Never silent: every change is audited
with its old and new values and the reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict, InvalidInput, NotFound
from study.models import CoachingContact, EmploymentEvent, Invitation, Trajectory, Wave
from study.services import rules
from study.services.common import columns_of, ensure_consent, get_in_study, utc
from study.vocab import InvitationStatus

DELETABLE: dict[str, type[CoachingContact] | type[EmploymentEvent]] = {
    "coaching_contact": CoachingContact,
    "employment_event": EmploymentEvent,
}
NAMES = {
    "coaching_contact": ("contact", "contact"),
    "employment_event": ("gebeurtenis", "event"),
}


def require_reason(reason: str | None) -> str:
    """The reason, stripped; refused when empty or when it holds personal data."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("geef een reden", "give a reason", field="reason")
    if len(text) > 1000:
        raise InvalidInput(
            f"de reden is te lang: {len(text)} tekens, hoogstens 1000 toegestaan",
            f"the reason is too long: {len(text)} characters, at most 1000 allowed",
            field="reason",
        )
    rules.check_free_text(text, "reason")
    return text


def entry_trajectory(session: Session, study_id: int, entity: str, entity_id: int) -> int:
    """The trajectory a contact or event belongs to (refusing one of another study)."""
    model = DELETABLE.get(entity)
    row = session.get(model, entity_id) if model is not None else None
    if row is None:
        nl, en = NAMES.get(entity, (entity, entity))
        raise NotFound(f"{nl} {entity_id} bestaat niet", f"{en} {entity_id} does not exist")
    get_in_study(session, Trajectory, row.trajectory_id, study_id)
    return row.trajectory_id


def delete_entry(
    session: Session,
    study_id: int,
    entity: str,
    entity_id: int,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> None:
    """Mark a coaching contact or employment event deleted: every count and analysis leaves it
    out from now on, the record keeps showing it struck through.

    Refuses an entry already deleted, and an event whose removal leaves an impossible order
    (e.g. the start of a sick leave whose end is recorded).
    """
    text = require_reason(reason)
    at = utc(at)
    tid = entry_trajectory(session, study_id, entity, entity_id)
    row = session.get_one(DELETABLE[entity], entity_id)
    if row.deleted_at is not None:
        raise Conflict("deze regel is al verwijderd", "this entry was already deleted")
    if isinstance(row, EmploymentEvent):
        stored = rules.stored_steps(session, [tid])
        rules.check_sequences(stored, rules.stored_steps(session, [tid], without=row.id), [])
    skip = ("created_at", "deleted_at", "deleted_by", "delete_reason")
    old = columns_of(row, [c.key for c in row.__table__.columns if c.key not in skip])
    row.deleted_at, row.deleted_by, row.delete_reason = at, actor, text
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="delete",
        entity=entity,
        entity_id=entity_id,
        old=old,
        new={"deleted_at": at, "deleted_by": actor},
        reason=text,
    )


def reopen_trajectory(
    session: Session,
    study_id: int,
    trajectory_id: int,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> Trajectory:
    """Undo the end of a trajectory (an end recorded by mistake).

    The end date and reason are cleared; questionnaires that the end cancelled and that can
    still be answered are planned again, and follow-ups counted from the end are cancelled. The
    scheduler's next tick plans the trajectory anew. Refuses a trajectory that has not ended,
    one whose participant withdrew consent, and one whose employee has another open trajectory
    with the same employer.
    """
    text = require_reason(reason)
    at = utc(at)
    trajectory = get_in_study(session, Trajectory, trajectory_id, study_id)
    if trajectory.end_date is None:
        raise Conflict("dit traject is niet beëindigd", "this trajectory has not ended")
    ensure_consent(session, trajectory.participant_id)
    other = session.scalar(
        select(Trajectory.id).where(
            Trajectory.participant_id == trajectory.participant_id,
            Trajectory.employer_id == trajectory.employer_id,
            Trajectory.end_date.is_(None),
            Trajectory.id != trajectory.id,
        )
    )
    if other is not None:
        raise Conflict(
            f"deze werknemer heeft al een lopend traject (nr. {other}) bij deze werkgever",
            f"this employee already has an open trajectory (no. {other}) with this employer",
        )
    old = {"end_date": trajectory.end_date, "end_reason": trajectory.end_reason}
    ended_on = trajectory.end_date
    today = rules.limits(session, study_id, at).today
    waves = and_(Wave.protocol_id == Invitation.protocol_id, Wave.code == Invitation.wave_code)
    revived = (
        select(Invitation.id)
        .join(Wave, waves)
        .where(
            Invitation.trajectory_id == trajectory_id,
            Invitation.status == InvitationStatus.CANCELLED,
            Invitation.due_on > ended_on,
            Invitation.closes_on >= today,
            Wave.requires_active,
        )
    )
    after_end = (
        select(Invitation.id)
        .join(Wave, waves)
        .where(
            Invitation.trajectory_id == trajectory_id,
            Invitation.status.in_([InvitationStatus.SCHEDULED, InvitationStatus.OPEN]),
            Wave.anchor == "end",
        )
    )
    n_revived = session.execute(
        update(Invitation)
        .where(Invitation.id.in_(revived))
        .values(status=InvitationStatus.SCHEDULED)
        .execution_options(synchronize_session=False)
    ).rowcount
    n_cancelled = session.execute(
        update(Invitation)
        .where(Invitation.id.in_(after_end))
        .values(status=InvitationStatus.CANCELLED, token_hash=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    trajectory.end_date = None
    trajectory.end_reason = None
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="reopen",
        entity="trajectory",
        entity_id=trajectory_id,
        old=old,
        new={
            "end_date": None,
            "end_reason": None,
            "invitations_planned_again": n_revived,
            "follow_ups_cancelled": n_cancelled,
        },
        reason=text,
    )
    return trajectory
