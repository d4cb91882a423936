"""Starting and ending coaching trajectories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study.inputs import TrajectoryEndInput, TrajectoryInput
from study.models import Trajectory
from study.services import bulk


def start_trajectory(
    session: Session,
    study_id: int,
    data: TrajectoryInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Trajectory:
    """Start a trajectory for an enrolled, consenting participant with a jobcoach and an employer.

    Refuses a second open trajectory of the same employee with the same employer.
    """
    [trajectory_id] = bulk.start_trajectories(session, study_id, [data], actor=actor, at=at)
    return session.get_one(Trajectory, trajectory_id)


def end_trajectory(
    session: Session,
    study_id: int,
    trajectory_id: int,
    data: TrajectoryEndInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Trajectory:
    """End a trajectory with a date and a reason (the competing outcome)."""
    bulk.end_trajectories(session, study_id, [(trajectory_id, data)], actor=actor, at=at)
    trajectory = session.get_one(Trajectory, trajectory_id)
    session.refresh(trajectory)
    return trajectory
