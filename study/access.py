"""Authorisation in one place: which trajectories a user may see, and at what level of detail.

Every page, route, callback and download asks these functions; none decides on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select

from study.clock import end_of_day
from study.errors import Forbidden
from study.models import Jobcoach, Participant, Trajectory, User
from study.vocab import Role


@dataclass(frozen=True)
class CohortFilter:
    """Filters a researcher or viewer applies to the cohort; empty means everything."""

    organisation_ids: tuple[int, ...] = ()
    coach_types: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    benefits: tuple[str, ...] = ()


def trajectory_scope(
    study_id: int, *, jobcoach_id: int | None = None, filters: CohortFilter | None = None
) -> Select[tuple[int]]:
    """A SELECT of the ids of the trajectories in a study, narrowed to one jobcoach and filters."""
    stmt = select(Trajectory.id).where(Trajectory.study_id == study_id)
    if jobcoach_id is not None:
        stmt = stmt.where(Trajectory.jobcoach_id == jobcoach_id)
    f = filters or CohortFilter()
    if f.coach_types:
        stmt = stmt.where(Trajectory.coach_type.in_(f.coach_types))
    if f.methods:
        stmt = stmt.where(Trajectory.method.in_(f.methods))
    if f.organisation_ids:
        stmt = stmt.where(
            Trajectory.jobcoach_id.in_(
                select(Jobcoach.id).where(Jobcoach.organisation_id.in_(f.organisation_ids))
            )
        )
    if f.benefits:
        stmt = stmt.where(
            Trajectory.participant_id.in_(
                select(Participant.id).where(Participant.benefit.in_(f.benefits))
            )
        )
    return stmt


def visible_trajectories(user: User, filters: CohortFilter | None = None) -> Select[tuple[int]]:
    """The trajectories ``user`` may see: a jobcoach only their own clients, others the study."""
    if not user.active:
        raise Forbidden("dit account is niet actief", "this account is not active")
    if user.role == Role.JOBCOACH:
        if user.jobcoach_id is None:
            raise Forbidden(
                "dit account is niet aan een jobcoach gekoppeld",
                "this account is not linked to a job coach",
            )
        return trajectory_scope(user.study_id, jobcoach_id=user.jobcoach_id, filters=filters)
    return trajectory_scope(user.study_id, filters=filters)


def entered_by(scope: Select[tuple[int]], day: dt.date) -> Select[tuple[int]]:
    """The trajectories of ``scope`` entered by the end of ``day`` (the study's timezone)."""
    return scope.where(Trajectory.created_at < end_of_day(day))


def may_see_rows(user: User) -> bool:
    """Whether ``user`` may see individual rows (a viewer sees aggregates only)."""
    return user.role in (Role.RESEARCHER, Role.JOBCOACH)


def require_role(user: User, *roles: Role) -> None:
    """Refuse unless ``user`` has one of ``roles``."""
    if user.role not in roles:
        raise Forbidden(
            "u heeft geen toegang tot deze functie", "you do not have access to this function"
        )
