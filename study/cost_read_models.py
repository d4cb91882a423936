"""Read models of the MKBA: the stored cost parameters, sick leave and registration per trajectory.

Set-based queries scoped by a SELECT of visible trajectory ids, like :mod:`study.read_models`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from study.models import CostParameter, CostParameterSet, EmploymentEvent, Participant, Trajectory
from study.read_models import rows_frame
from study.services.cost_parameters import PARAMETER_FIELDS
from study.sqldates import days_between
from study.vocab import EventKind

__all__ = [
    "cost_parameter_history",
    "cost_parameters_frame",
    "registers_frame",
    "sick_leave_frame",
]


def _latest_set(study_id: int) -> Select:
    return (
        select(CostParameterSet.id, CostParameterSet.version)
        .where(CostParameterSet.study_id == study_id)
        .order_by(CostParameterSet.version.desc())
        .limit(1)
    )


def cost_parameters_frame(session: Session, study_id: int) -> tuple[pd.DataFrame | None, int]:
    """The study's newest cost-parameter version and its number; (None, 0) when none is stored.

    Returns
    -------
    (DataFrame or None, int)
        key, coach_type, year, value, unit, payer, receiver, source; the version number.
    """
    latest = session.execute(_latest_set(study_id)).first()
    if latest is None:
        return None, 0
    stmt = (
        select(*[getattr(CostParameter, f) for f in PARAMETER_FIELDS])
        .where(CostParameter.set_id == latest.id)
        .order_by(CostParameter.key, CostParameter.coach_type, CostParameter.year)
    )
    frame = rows_frame(session, stmt)
    frame["value"] = frame["value"].astype(float)
    frame["year"] = frame["year"].astype(int)
    return frame, int(latest.version)


def cost_parameter_history(session: Session, study_id: int) -> pd.DataFrame:
    """Every stored version, newest first.

    Returns
    -------
    DataFrame
        version, created_at, created_by, reason.
    """
    stmt = (
        select(
            CostParameterSet.version,
            CostParameterSet.created_at,
            CostParameterSet.created_by,
            CostParameterSet.reason,
        )
        .where(CostParameterSet.study_id == study_id)
        .order_by(CostParameterSet.version.desc())
    )
    return rows_frame(session, stmt)


def _live(stmt: Select) -> Select:
    # corrected (removed) events keep their row but leave every count
    deleted = getattr(EmploymentEvent, "deleted_at", None)
    return stmt.where(deleted.is_(None)) if deleted is not None else stmt


def sick_leave_frame(
    session: Session, scope: Select[tuple[int]], *, as_of: dt.date
) -> pd.DataFrame:
    """Sick-leave spells per trajectory, in days since the trajectory's start.

    A spell runs from a sick-leave start to the next sick-leave end; a second start while a
    spell is open continues it; an end without a start is ignored.

    Returns
    -------
    DataFrame
        trajectory_id, start_days, end_days (NaN while the spell is open on ``as_of``).
    """
    stmt = _live(
        select(
            EmploymentEvent.trajectory_id,
            EmploymentEvent.kind,
            days_between(EmploymentEvent.event_date, Trajectory.start_date).label("day"),
        )
        .join(Trajectory, Trajectory.id == EmploymentEvent.trajectory_id)
        .where(
            EmploymentEvent.trajectory_id.in_(scope),
            EmploymentEvent.event_date <= as_of,
            EmploymentEvent.kind.in_([EventKind.SICK_LEAVE_START, EventKind.SICK_LEAVE_END]),
        )
        .order_by(EmploymentEvent.trajectory_id, EmploymentEvent.event_date, EmploymentEvent.id)
    )
    events = rows_frame(session, stmt)
    columns = ["trajectory_id", "start_days", "end_days"]
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    kind = events["kind"].map(lambda k: getattr(k, "value", k))
    start = kind == EventKind.SICK_LEAVE_START.value
    # a spell opens at a start that follows an end (or begins the trajectory's list)
    previous = start.groupby(events["trajectory_id"]).shift(1, fill_value=False)
    opens = start & ~previous
    closes = ~start & previous
    spell = opens.groupby(events["trajectory_id"]).cumsum()
    spells = events.assign(spell=spell, opens=opens, closes=closes)
    spells = spells[spells["spell"] > 0]
    first = spells[spells["opens"]].groupby(["trajectory_id", "spell"])["day"].first()
    last = spells[spells["closes"]].groupby(["trajectory_id", "spell"])["day"].first()
    out = pd.DataFrame({"start_days": first.astype(float)})
    out["end_days"] = last.reindex(out.index).astype(float)
    return out.reset_index()[columns]


def registers_frame(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """Whether each trajectory's employee is in the doelgroepregister.

    Returns
    -------
    DataFrame
        trajectory_id, doelgroepregister.
    """
    stmt = (
        select(Trajectory.id.label("trajectory_id"), Participant.doelgroepregister)
        .join(Participant, Participant.id == Trajectory.participant_id)
        .where(Trajectory.id.in_(scope))
        .order_by(Trajectory.id)
    )
    frame = rows_frame(session, stmt)
    frame["doelgroepregister"] = frame["doelgroepregister"].astype(bool)
    return frame
