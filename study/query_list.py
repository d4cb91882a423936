"""Data queries as the pages show them, within a user's scope of trajectories."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from study.models import DataQuery, Participant, Trajectory


def _in_scope(scope: Select[tuple[int]]):
    return DataQuery.participant_id.in_(
        select(Trajectory.participant_id).where(Trajectory.id.in_(scope))
    )


def queries_frame(
    session: Session, scope: Select[tuple[int]], *, participant_id: int | None = None,
    open_only: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """The queries about participants with a trajectory in ``scope``, newest first.

    Returns
    -------
    DataFrame
        query_id, study_code, entity, entity_id, field, message, status, opened_by, opened_at,
        answer, answered_by, answered_at, closed_by, closed_at.
    """
    stmt = (
        select(
            DataQuery.id.label("query_id"), Participant.study_code, DataQuery.entity,
            DataQuery.entity_id, DataQuery.field, DataQuery.message, DataQuery.status,
            DataQuery.opened_by, DataQuery.opened_at, DataQuery.answer, DataQuery.answered_by,
            DataQuery.answered_at, DataQuery.closed_by, DataQuery.closed_at,
        )
        .join(Participant, Participant.id == DataQuery.participant_id)
        .where(_in_scope(scope))
        .order_by(DataQuery.id.desc())
    )  # fmt: skip
    if participant_id is not None:
        stmt = stmt.where(DataQuery.participant_id == participant_id)
    if open_only:
        stmt = stmt.where(DataQuery.status != "closed")
    result = session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def open_query_count(session: Session, scope: Select[tuple[int]]) -> int:
    """How many queries in ``scope`` are not closed (open or answered, awaiting the researcher)."""
    return int(
        session.scalar(
            select(func.count(DataQuery.id)).where(_in_scope(scope), DataQuery.status != "closed")
        )
        or 0
    )
