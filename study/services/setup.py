"""Setting up a study: the study itself, its protocol, organisations, jobcoaches and employers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict
from study.inputs import EmployerInput, JobcoachInput, OrganisationInput, parse
from study.models import Employer, Jobcoach, Organisation, Protocol, Study, Wave, WaveInstrument
from study.protocol import WaveSpec, default_waves
from study.services import bulk
from study.services.common import columns_of, utc


def create_study(
    session: Session,
    *,
    code: str,
    name: str,
    actor: str,
    at: dt.datetime,
    waves: list[WaveSpec] | None = None,
    min_cell_size: int = 10,
) -> Study:
    """Create a study with its first protocol (the default waves unless ``waves`` is given)."""
    if session.scalar(select(Study.id).where(Study.code == code)) is not None:
        raise Conflict(
            f"er bestaat al een studie met code {code}",
            f"a study with code {code} already exists",
            field="code",
        )
    study = Study(code=code, name=name, created_at=utc(at), min_cell_size=min_cell_size)
    session.add(study)
    session.flush()
    install_protocol(session, study.id, waves or default_waves(), at=at)
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="create",
        entity="study",
        entity_id=study.id,
        new=columns_of(study),
    )
    return study


def install_protocol(
    session: Session, study_id: int, waves: list[WaveSpec], *, at: dt.datetime
) -> Protocol:
    """Store ``waves`` as the study's new current protocol version."""
    previous = session.scalars(
        select(Protocol).where(Protocol.study_id == study_id, Protocol.is_current)
    ).all()
    for p in previous:
        p.is_current = False
    version = 1 + max(
        (p.version for p in session.scalars(select(Protocol).where(Protocol.study_id == study_id))),
        default=0,
    )
    protocol = Protocol(study_id=study_id, version=version, is_current=True, created_at=utc(at))
    for spec in waves:
        wave = Wave(
            code=spec.code,
            label=spec.label,
            anchor=spec.anchor,
            offset_months=spec.offset_months,
            opens_days_before=spec.opens_days_before,
            reminder_days=list(spec.reminder_days),
            closes_days_after=spec.closes_days_after,
            requires_active=spec.requires_active,
        )
        wave.instruments = [
            WaveInstrument(respondent=r, instrument_id=i) for r, i in spec.instruments.items()
        ]
        protocol.waves.append(wave)
    session.add(protocol)
    session.flush()
    return protocol


def add_organisation(
    session: Session,
    study_id: int,
    data: OrganisationInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Organisation:
    """Register an organisation (jobcoachorganisatie, SW-bedrijf, gemeente, UWV, werkgever)."""
    inp = parse(OrganisationInput, data)
    if (
        session.scalar(
            select(Organisation.id).where(
                Organisation.study_id == study_id, Organisation.name == inp.name
            )
        )
        is not None
    ):
        raise Conflict(
            f"organisatie {inp.name} bestaat al",
            f"organisation {inp.name} already exists",
            field="name",
        )
    org = Organisation(study_id=study_id, **inp.model_dump())
    session.add(org)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="create",
        entity="organisation",
        entity_id=org.id,
        new=columns_of(org),
    )
    return org


def add_jobcoach(
    session: Session,
    study_id: int,
    data: JobcoachInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Jobcoach:
    """Register a jobcoach of the study."""
    [coach_id] = bulk.add_jobcoaches(session, study_id, [data], actor=actor, at=at)
    return session.get_one(Jobcoach, coach_id)


def add_employer(
    session: Session,
    study_id: int,
    data: EmployerInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Employer:
    """Register an employer of the study."""
    [employer_id] = bulk.add_employers(session, study_id, [data], actor=actor, at=at)
    return session.get_one(Employer, employer_id)
