"""The read model of one participant's record: everything stored about them that a user may see.

A record is reached through the user's scope (a SELECT of visible trajectory ids from
:mod:`study.access`): a participant with no visible trajectory has no record for that user, and a
jobcoach sees only the trajectories of the participant that are theirs. Contact details
(``ParticipantIdentity``) are never part of a record.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from study.models import (
    AuditEvent,
    CoachingContact,
    Consent,
    Employer,
    EmploymentEvent,
    Invitation,
    Jobcoach,
    Participant,
    Response,
    Trajectory,
)
from study.read_models import rows_frame


def _frame(session: Session, stmt: Select) -> pd.DataFrame:
    """:func:`rows_frame` with enum members as their stored values."""
    frame = rows_frame(session, stmt)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v.value if hasattr(v, "value") else v)
    return frame


@dataclass(frozen=True)
class Record:
    """One participant's record, each part a DataFrame (columns in :func:`participant_record`)."""

    participant: dict[str, object]
    consents: pd.DataFrame
    trajectories: pd.DataFrame
    invitations: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame
    history: pd.DataFrame


def visible_participants(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """The participants with at least one trajectory in ``scope``, by study code.

    Returns
    -------
    DataFrame
        participant_id, study_code, n_trajectories.
    """
    from sqlalchemy import func

    stmt = (
        select(
            Participant.id.label("participant_id"),
            Participant.study_code,
            func.count(Trajectory.id).label("n_trajectories"),
        )
        .join(Trajectory, Trajectory.participant_id == Participant.id)
        .where(Trajectory.id.in_(scope))
        .group_by(Participant.id, Participant.study_code)
        .order_by(Participant.study_code)
    )
    return _frame(session, stmt)


def participant_of_code(session: Session, scope: Select[tuple[int]], code: str) -> int | None:
    """The id of the participant with study code ``code``, if one of their trajectories is in
    ``scope``."""
    return session.scalar(
        select(Participant.id)
        .join(Trajectory, Trajectory.participant_id == Participant.id)
        .where(Participant.study_code == code, Trajectory.id.in_(scope))
        .limit(1)
    )


def record_conditions(participant_id: int, tids: list[int]) -> list[ColumnElement[bool]]:
    """Conditions on ``AuditEvent`` that pick the events about one participant's record: the
    participant, the trajectories ``tids``, their contacts, events and responses."""
    response_ids = select(Response.id).where(
        Response.invitation_id.in_(select(Invitation.id).where(Invitation.trajectory_id.in_(tids)))
    )
    return [
        and_(AuditEvent.entity == "participant", AuditEvent.entity_id == participant_id),
        and_(AuditEvent.entity == "trajectory", AuditEvent.entity_id.in_(tids)),
        and_(
            AuditEvent.entity == "coaching_contact",
            AuditEvent.entity_id.in_(
                select(CoachingContact.id).where(CoachingContact.trajectory_id.in_(tids))
            ),
        ),
        and_(
            AuditEvent.entity == "employment_event",
            AuditEvent.entity_id.in_(
                select(EmploymentEvent.id).where(EmploymentEvent.trajectory_id.in_(tids))
            ),
        ),
        and_(AuditEvent.entity == "response", AuditEvent.entity_id.in_(response_ids)),
    ]


def participant_record(
    session: Session, scope: Select[tuple[int]], participant_id: int
) -> Record | None:
    """The record of ``participant_id`` as far as ``scope`` reaches; None when it reaches none.

    Returns
    -------
    Record or None
        ``participant``: study_code, birth_year, gender, benefit, doelgroepregister,
        enrolled_at. ``consents``: consent_id, version, given_at, withdrawn_at,
        withdrawal_reason. ``trajectories``: trajectory_id, start_date, end_date, end_reason,
        jobcoach_code, employer, employment_form, contract_hours, funder, method, coach_type.
        ``invitations``: invitation_id, trajectory_id, wave_code, respondent, instrument_id,
        status, opens_on, due_on, closes_on, reminders_sent, opened_at, completed_at.
        ``contacts``: contact_id, trajectory_id, contact_date, minutes, mode, with_whom,
        activity, note, deleted_at, deleted_by, delete_reason. ``events``: event_id,
        trajectory_id, event_date, kind, hours, job_end_reason, note, deleted_at, deleted_by,
        delete_reason. ``history``: at, actor, action, entity, entity_id, old_values,
        new_values, reason (newest first).
    """
    tids = list(
        session.scalars(
            select(Trajectory.id).where(
                Trajectory.participant_id == participant_id, Trajectory.id.in_(scope)
            )
        )
    )
    if not tids:
        return None
    p = session.get_one(Participant, participant_id)
    participant: dict[str, object] = {
        "participant_id": p.id,
        "study_code": p.study_code,
        "birth_year": p.birth_year,
        "gender": p.gender.value,
        "benefit": p.benefit.value,
        "doelgroepregister": p.doelgroepregister,
        "enrolled_at": p.enrolled_at,
    }
    consents = _frame(
        session,
        select(
            Consent.id.label("consent_id"),
            Consent.version,
            Consent.given_at,
            Consent.withdrawn_at,
            Consent.withdrawal_reason,
        )
        .where(Consent.participant_id == participant_id)
        .order_by(Consent.id),
    )
    trajectories = _frame(
        session,
        select(
            Trajectory.id.label("trajectory_id"),
            Trajectory.start_date,
            Trajectory.end_date,
            Trajectory.end_reason,
            Jobcoach.code.label("jobcoach_code"),
            Employer.name.label("employer"),
            Trajectory.employment_form,
            Trajectory.contract_hours,
            Trajectory.funder,
            Trajectory.method,
            Trajectory.coach_type,
        )
        .join(Jobcoach, Jobcoach.id == Trajectory.jobcoach_id)
        .join(Employer, Employer.id == Trajectory.employer_id)
        .where(Trajectory.id.in_(tids))
        .order_by(Trajectory.start_date, Trajectory.id),
    )
    invitations = _frame(
        session,
        select(
            Invitation.id.label("invitation_id"),
            Invitation.trajectory_id,
            Invitation.wave_code,
            Invitation.respondent,
            Invitation.instrument_id,
            Invitation.status,
            Invitation.opens_on,
            Invitation.due_on,
            Invitation.closes_on,
            Invitation.reminders_sent,
            Invitation.opened_at,
            Invitation.completed_at,
        )
        .where(Invitation.trajectory_id.in_(tids))
        .order_by(Invitation.due_on, Invitation.wave_index, Invitation.respondent, Invitation.id),
    )
    contacts = _frame(
        session,
        select(
            CoachingContact.id.label("contact_id"),
            CoachingContact.trajectory_id,
            CoachingContact.contact_date,
            CoachingContact.minutes,
            CoachingContact.mode,
            CoachingContact.with_whom,
            CoachingContact.activity,
            CoachingContact.note,
            CoachingContact.deleted_at,
            CoachingContact.deleted_by,
            CoachingContact.delete_reason,
        )
        .where(CoachingContact.trajectory_id.in_(tids))
        .order_by(CoachingContact.contact_date, CoachingContact.id),
    )
    events = _frame(
        session,
        select(
            EmploymentEvent.id.label("event_id"),
            EmploymentEvent.trajectory_id,
            EmploymentEvent.event_date,
            EmploymentEvent.kind,
            EmploymentEvent.hours,
            EmploymentEvent.job_end_reason,
            EmploymentEvent.note,
            EmploymentEvent.deleted_at,
            EmploymentEvent.deleted_by,
            EmploymentEvent.delete_reason,
        )
        .where(EmploymentEvent.trajectory_id.in_(tids))
        .order_by(EmploymentEvent.event_date, EmploymentEvent.id),
    )
    entities = record_conditions(participant_id, tids)
    history = _frame(
        session,
        select(
            AuditEvent.id.label("audit_id"),
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.old_values,
            AuditEvent.new_values,
            AuditEvent.reason,
        )
        .where(or_(*entities))
        .order_by(AuditEvent.id.desc())
        .limit(500),
    )
    return Record(participant, consents, trajectories, invitations, contacts, events, history)
