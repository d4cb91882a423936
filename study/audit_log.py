"""The audit log as researchers search it: by record (a participant's study code), user, action
and period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from study import audit
from study.models import AuditEvent, Participant, Trajectory
from study.record import record_conditions

#: rows one search returns at most (the CSV holds the same rows)
LIMIT = 5000


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; empty fields match everything. ``until`` is inclusive."""

    study_code: str | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def _filtered(session: Session, study_id: int, f: AuditFilter) -> Select:
    stmt = select(
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
    if f.study_code:
        pid = session.scalar(
            select(Participant.id).where(
                Participant.study_id == study_id, Participant.study_code == f.study_code
            )
        )
        if pid is None:
            stmt = stmt.where(false())
        else:
            tids = list(session.scalars(select(Trajectory.id).where(Trajectory.participant_id == pid)))  # fmt: skip
            stmt = stmt.where(or_(*record_conditions(pid, tids)))
    if f.actor:
        stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.since:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(f.since, dt.time(), tzinfo=dt.UTC))
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        stmt = stmt.where(AuditEvent.at < end)
    return stmt


def audit_events(
    session: Session, study_id: int, filters: AuditFilter, *, limit: int = LIMIT
) -> pd.DataFrame:
    """The audit events matching ``filters``, newest first, at most ``limit``.

    Returns
    -------
    DataFrame
        audit_id, at (UTC, ISO text), actor, action, entity, entity_id, old_values, new_values
        (JSON text), reason.
    """
    stmt = _filtered(session, study_id, filters).order_by(AuditEvent.id.desc()).limit(limit)
    rows = session.execute(stmt).all()
    columns = ["audit_id", "at", "actor", "action", "entity", "entity_id", "old_values", "new_values", "reason"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    if not frame.empty:
        import json

        frame["at"] = [v.strftime("%Y-%m-%d %H:%M:%S") for v in frame["at"]]
        for col in ("old_values", "new_values"):
            frame[col] = [
                "" if v is None else json.dumps(audit.jsonable(v), ensure_ascii=False)
                for v in frame[col]
            ]
        frame["reason"] = frame["reason"].fillna("")
    return frame


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """The users and the actions that occur in the audit log, sorted."""
    actors = sorted(session.scalars(select(AuditEvent.actor).distinct()))
    actions = sorted(session.scalars(select(AuditEvent.action).distinct()))
    return actors, actions
