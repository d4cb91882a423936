"""Small read models for the dashboard's lists: organisations, jobcoaches, forms to fill in.

Like :mod:`study.read_models`, every function takes a SELECT of visible trajectory ids from
:mod:`study.access` (or a study id for study-wide lookups) and returns a DataFrame from one query.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from study.models import Invitation, Jobcoach, Organisation, Participant, Trajectory
from study.read_models import rows_frame
from study.vocab import InvitationStatus


def organisations(session: Session, study_id: int) -> pd.DataFrame:
    """The organisations of a study.

    Returns
    -------
    DataFrame
        organisation_id, name, kind.
    """
    stmt = (
        select(Organisation.id.label("organisation_id"), Organisation.name, Organisation.kind)
        .where(Organisation.study_id == study_id)
        .order_by(Organisation.name)
    )
    df = rows_frame(session, stmt)
    df["kind"] = df["kind"].map(str) if not df.empty else pd.Series([], dtype=object)
    return df


def jobcoaches(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """The jobcoaches of the visible trajectories, with their number of trajectories.

    Returns
    -------
    DataFrame
        jobcoach_id, code, name, organisation_id, n_trajectories.
    """
    from sqlalchemy import func

    stmt = (
        select(
            Jobcoach.id.label("jobcoach_id"),
            Jobcoach.code,
            Jobcoach.name,
            Jobcoach.organisation_id,
            func.count(Trajectory.id).label("n_trajectories"),
        )
        .join(Trajectory, Trajectory.jobcoach_id == Jobcoach.id)
        .where(Trajectory.id.in_(scope))
        .group_by(Jobcoach.id, Jobcoach.code, Jobcoach.name, Jobcoach.organisation_id)
        .order_by(Jobcoach.code)
    )
    return rows_frame(session, stmt)


def open_forms(
    session: Session,
    scope: Select[tuple[int]],
    *,
    as_of: dt.date,
    horizon_days: int = 14,
) -> pd.DataFrame:
    """Forms of the visible trajectories that are open now or open within ``horizon_days``.

    Returns
    -------
    DataFrame
        invitation_id, trajectory_id, study_code, jobcoach_id, wave, wave_index, respondent,
        instrument_id, status, opens_on, due_on, closes_on, link_sent (whether the scheduler
        has opened the form and given it a personal link; the link itself never leaves the
        sender).
    """
    stmt = (
        select(
            Invitation.id.label("invitation_id"),
            Invitation.trajectory_id,
            Participant.study_code,
            Trajectory.jobcoach_id,
            Invitation.wave_code.label("wave"),
            Invitation.wave_index,
            Invitation.respondent,
            Invitation.instrument_id,
            Invitation.status,
            Invitation.opens_on,
            Invitation.due_on,
            Invitation.closes_on,
            Invitation.token_hash.is_not(None).label("link_sent"),
        )
        .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
        .join(Participant, Participant.id == Trajectory.participant_id)
        .where(
            Invitation.trajectory_id.in_(scope),
            Invitation.status.in_([InvitationStatus.SCHEDULED, InvitationStatus.OPEN]),
            Invitation.opens_on <= as_of + dt.timedelta(days=horizon_days),
            Invitation.closes_on >= as_of,
        )
        .order_by(Invitation.due_on, Participant.study_code, Invitation.respondent)
    )
    df = rows_frame(session, stmt)
    for col in ("respondent", "status"):
        if not df.empty:
            df[col] = df[col].map(str)
    return df


def visible_invitation(
    session: Session, scope: Select[tuple[int]], invitation_id: int
) -> Invitation | None:
    """The invitation if it belongs to one of the visible trajectories, else None."""
    return session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.trajectory_id.in_(scope)
        )
    )


def narrow(scope: Select[tuple[int]], trajectory_id: int) -> Select[tuple[int]]:
    """``scope`` narrowed to one trajectory (empty when that trajectory is not in it)."""
    return scope.where(Trajectory.id == trajectory_id)


def is_visible(session: Session, scope: Select[tuple[int]], trajectory_id: int) -> bool:
    """Whether ``trajectory_id`` is one of the trajectories in ``scope``."""
    return session.scalar(narrow(scope, trajectory_id)) is not None


def min_cell_size(session: Session, study_id: int) -> int:
    """The study's smallest cell shown to viewers."""
    from study.models import Study

    value = session.scalar(select(Study.min_cell_size).where(Study.id == study_id))
    return int(value or 10)


def scheduler_leases(session: Session) -> pd.DataFrame:
    """Which process holds the scheduler lease, until when.

    Returns
    -------
    DataFrame
        name, holder, expires_at (UTC).
    """
    from study.models import SchedulerLease

    return rows_frame(
        session,
        select(SchedulerLease.name, SchedulerLease.holder, SchedulerLease.expires_at),
    )


def trajectory_events(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """Employment events of the visible trajectories, newest first.

    Returns
    -------
    DataFrame
        trajectory_id, event_date, kind, hours, job_end_reason.
    """
    from study.models import EmploymentEvent

    stmt = (
        select(
            EmploymentEvent.trajectory_id,
            EmploymentEvent.event_date,
            EmploymentEvent.kind,
            EmploymentEvent.hours,
            EmploymentEvent.job_end_reason,
        )
        .where(EmploymentEvent.trajectory_id.in_(scope), EmploymentEvent.deleted_at.is_(None))
        .order_by(EmploymentEvent.event_date.desc(), EmploymentEvent.id.desc())
    )
    df = rows_frame(session, stmt)
    for col in ("kind", "job_end_reason"):
        if not df.empty:
            df[col] = df[col].map(lambda v: None if v is None else str(v))
    return df


def for_jobcoach(scope: Select[tuple[int]], jobcoach_id: int) -> Select[tuple[int]]:
    """``scope`` narrowed to one jobcoach's trajectories."""
    return scope.where(Trajectory.jobcoach_id == jobcoach_id)
