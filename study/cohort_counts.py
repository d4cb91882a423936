"""How many trajectories and participants a scope holds, and how many trajectories are
re-enrolments (a second or later trajectory of the same participant)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from study.models import Trajectory


@dataclass(frozen=True)
class CohortCounts:
    """Trajectories, distinct participants and re-enrolments in a scope."""

    trajectories: int
    participants: int

    @property
    def re_enrolments(self) -> int:
        """Trajectories beyond each participant's first."""
        return self.trajectories - self.participants


def cohort_counts(session: Session, scope: Select[tuple[int]]) -> CohortCounts:
    """The counts of the trajectories in ``scope`` (a SELECT of trajectory ids)."""
    row = session.execute(
        select(
            func.count(Trajectory.id), func.count(func.distinct(Trajectory.participant_id))
        ).where(Trajectory.id.in_(scope))
    ).one()
    return CohortCounts(int(row[0]), int(row[1]))
