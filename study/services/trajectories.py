"""Starting and ending coaching trajectories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict, InvalidInput
from study.inputs import TrajectoryEndInput, TrajectoryInput, parse
from study.models import Employer, Jobcoach, Participant, Trajectory
from study.services.common import columns_of, ensure_consent, get_in_study, trajectory_in_study, utc


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
    inp = parse(TrajectoryInput, data)
    get_in_study(session, Participant, inp.participant_id, study_id)
    get_in_study(session, Jobcoach, inp.jobcoach_id, study_id)
    get_in_study(session, Employer, inp.employer_id, study_id)
    ensure_consent(session, inp.participant_id)
    open_id = session.scalar(
        select(Trajectory.id).where(
            Trajectory.participant_id == inp.participant_id,
            Trajectory.employer_id == inp.employer_id,
            Trajectory.end_date.is_(None),
        )
    )
    if open_id is not None:
        raise Conflict(
            f"deze werknemer heeft al een lopend traject (nr. {open_id}) bij deze werkgever",
            f"this employee already has an open trajectory (no. {open_id}) with this employer",
        )
    trajectory = Trajectory(study_id=study_id, created_at=utc(at), **inp.model_dump())
    session.add(trajectory)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="start",
        entity="trajectory",
        entity_id=trajectory.id,
        new=inp.model_dump(),
    )
    return trajectory


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
    inp = parse(TrajectoryEndInput, data)
    trajectory = get_in_study(session, Trajectory, trajectory_id, study_id)
    if trajectory.end_date is not None:
        raise Conflict(
            f"dit traject is al beëindigd op {trajectory.end_date:%d-%m-%Y}",
            f"this trajectory already ended on {trajectory.end_date:%Y-%m-%d}",
        )
    if inp.end_date < trajectory.start_date:
        raise InvalidInput(
            f"de einddatum ({inp.end_date:%d-%m-%Y}) ligt vóór de startdatum "
            f"({trajectory.start_date:%d-%m-%Y})",
            f"the end date ({inp.end_date}) is before the start date ({trajectory.start_date})",
            field="end_date",
        )
    old = columns_of(trajectory, ["end_date", "end_reason"])
    trajectory.end_date = inp.end_date
    trajectory.end_reason = inp.end_reason
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="end",
        entity="trajectory",
        entity_id=trajectory.id,
        old=old,
        new=inp.model_dump(),
    )
    return trajectory


__all__ = ["end_trajectory", "start_trajectory", "trajectory_in_study"]
