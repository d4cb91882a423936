"""Read queries behind the enrolment form: coaches, employers, the next free study code.

Like :mod:`study.worklists`, each function takes a session and a study id (or a SELECT of visible
trajectory ids from :mod:`study.access`) and runs one or two small queries.
"""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from study.models import Employer, Jobcoach, Participant, Study, Trajectory
from study.read_models import rows_frame

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def study_jobcoaches(session: Session, study_id: int) -> pd.DataFrame:
    """Every jobcoach of the study, also those without a trajectory yet.

    Returns
    -------
    DataFrame
        jobcoach_id, code, name, coach_type, method.
    """
    stmt = (
        select(
            Jobcoach.id.label("jobcoach_id"),
            Jobcoach.code,
            Jobcoach.name,
            Jobcoach.coach_type,
            Jobcoach.method,
        )
        .where(Jobcoach.study_id == study_id)
        .order_by(Jobcoach.code)
    )
    df = rows_frame(session, stmt)
    for col in ("coach_type", "method"):
        if not df.empty:
            df[col] = df[col].map(str)
    return df


def study_employers(session: Session, study_id: int) -> pd.DataFrame:
    """The employers of the study by name (no contact details: the picker needs none).

    Returns
    -------
    DataFrame
        employer_id, name.
    """
    stmt = (
        select(Employer.id.label("employer_id"), Employer.name)
        .where(Employer.study_id == study_id)
        .order_by(Employer.name)
    )
    return rows_frame(session, stmt)


def jobcoach_profile(session: Session, study_id: int, jobcoach_id: int) -> tuple[str, str] | None:
    """The jobcoach's (coach_type, method), or None when they are not a jobcoach of the study."""
    row = session.execute(
        select(Jobcoach.coach_type, Jobcoach.method).where(
            Jobcoach.id == jobcoach_id, Jobcoach.study_id == study_id
        )
    ).first()
    return (str(row[0]), str(row[1])) if row is not None else None


def consent_version(session: Session, study_id: int) -> str:
    """The version of the consent form participants of the study sign now."""
    return session.scalar(select(Study.consent_version).where(Study.id == study_id)) or "1.0"


def next_study_code(session: Session, study_id: int, *, default_prefix: str = "P") -> str:
    """A free study code following the numbering of the latest enrolment (P0006 -> P0007).

    Codes without a trailing number are skipped; an empty study starts at ``{prefix}0001``.
    """
    latest = session.scalars(
        select(Participant.study_code)
        .where(Participant.study_id == study_id)
        .order_by(Participant.id.desc())
        .limit(50)
    ).all()
    match = next((m for m in map(_NUMBERED.match, latest) if m is not None), None)
    prefix, width = (
        (match["prefix"], len(match["number"])) if match is not None else (default_prefix, 4)
    )
    taken = set(
        session.scalars(
            select(Participant.study_code).where(
                Participant.study_id == study_id,
                Participant.study_code.startswith(prefix, autoescape=True),
            )
        ).all()
    )
    numbers = [int(m["number"]) for m in map(_NUMBERED.match, taken) if m and m["prefix"] == prefix]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def participant_of(session: Session, scope: Select[tuple[int]], trajectory_id: int) -> int | None:
    """The participant of ``trajectory_id`` if that trajectory is in ``scope``, else None."""
    return session.scalar(
        select(Trajectory.participant_id).where(
            Trajectory.id == trajectory_id, Trajectory.id.in_(scope)
        )
    )
