"""Bulk enrolment, registration and trajectories write what the single services write, and refuse
what they refuse, for the whole batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from study import services
from study.db import make_engine, make_sessions
from study.errors import Conflict, ConsentWithdrawn, InvalidInput, NotFound
from study.migrate import upgrade
from study.models import AuditEvent, Participant, Trajectory
from study.services import bulk

AT = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(days=40)


def coach(i: int) -> dict[str, Any]:
    return {
        "code": f"JC{i:02d}",
        "name": f"Jobcoach {i}",
        "coach_type": "external" if i % 2 else "internal",
        "method": "ips",
        "years_experience": i,
    }


def employer(i: int) -> dict[str, Any]:
    return {"name": f"Werkgever {i}", "sector": "zorg", "contact_email": f"hr{i}@w.example"}


def person(i: int) -> dict[str, Any]:
    return {
        "study_code": f"P{i:04d}",
        "birth_year": 1995 + i,
        "gender": "female" if i % 2 else "male",
        "benefit": "wajong",
        "doelgroepregister": bool(i % 2),
        "email": f"p{i}@d.example",
    }


def trajectory(participant: int, jobcoach: int, employer_id: int) -> dict[str, Any]:
    return {
        "participant_id": participant,
        "jobcoach_id": jobcoach,
        "employer_id": employer_id,
        "start_date": dt.date(2026, 1, 5),
        "funder": "uwv",
        "employment_form": "begeleid_werken",
        "contract_hours": 24,
        "loonwaarde": 60,
        "maatje": True,
        "method": "ips",
        "coach_type": "internal",
    }


def write(s: Session, *, use_bulk: bool) -> None:
    """The same small cohort, through the single services or their bulk forms."""
    study = services.create_study(s, code="S1", name="Studie", actor="t", at=AT)
    if use_bulk:
        coaches = bulk.add_jobcoaches(s, study.id, [coach(1), coach(2)], actor="t", at=AT)
        employers = bulk.add_employers(s, study.id, [employer(1), employer(2)], actor="t", at=AT)
        people = bulk.enrol_participants(s, study.id, [person(1), person(2)], actor="t", at=AT)
        ids = bulk.start_trajectories(
            s,
            study.id,
            [trajectory(p, c, e) for p, c, e in zip(people, coaches, employers, strict=True)],
            actor="t",
            at=AT,
        )
        bulk.end_trajectories(
            s,
            study.id,
            [(ids[0], {"end_date": dt.date(2026, 2, 1), "end_reason": "job_loss"})],
            actor="t",
            at=LATER,
        )
        return
    coaches = [services.add_jobcoach(s, study.id, coach(i), actor="t", at=AT).id for i in (1, 2)]
    employers = [
        services.add_employer(s, study.id, employer(i), actor="t", at=AT).id for i in (1, 2)
    ]
    people = [
        services.enrol_participant(s, study.id, person(i), actor="t", at=AT).id for i in (1, 2)
    ]
    ids = [
        services.start_trajectory(s, study.id, trajectory(p, c, e), actor="t", at=AT).id
        for p, c, e in zip(people, coaches, employers, strict=True)
    ]
    services.end_trajectory(
        s,
        study.id,
        ids[0],
        {"end_date": dt.date(2026, 2, 1), "end_reason": "job_loss"},
        actor="t",
        at=LATER,
    )


def dump(engine: Engine) -> dict[str, Any]:
    tables = (
        "jobcoach",
        "employer",
        "participant",
        "participant_identity",
        "consent",
        "trajectory",
    )
    out: dict[str, Any] = {}
    with engine.connect() as c:
        for table in tables:
            out[table] = sorted(tuple(r) for r in c.execute(text(f"SELECT * FROM {table}")))
        rows = c.execute(
            select(
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.entity,
                AuditEvent.entity_id,
                AuditEvent.old_values,
                AuditEvent.new_values,
            )
        )
        out["audit"] = sorted((tuple(r) for r in rows), key=repr)
    return out


def fresh(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def test_bulk_services_write_what_the_single_services_write(tmp_path: Path) -> None:
    single, many = fresh(tmp_path / "a.db"), fresh(tmp_path / "b.db")
    with make_sessions(single).begin() as s:
        write(s, use_bulk=False)
    with make_sessions(many).begin() as s:
        write(s, use_bulk=True)
    a, b = dump(single), dump(many)
    assert len(a["trajectory"]) == 2 and len(a["audit"]) == 10
    assert a == b


@pytest.fixture
def cohort(tmp_path: Path) -> tuple[Engine, dict[str, Any]]:
    engine = fresh(tmp_path / "c.db")
    with make_sessions(engine).begin() as s:
        study = services.create_study(s, code="S1", name="Studie", actor="t", at=AT)
        ids = {
            "study": study.id,
            "coach": bulk.add_jobcoaches(s, study.id, [coach(1)], actor="t", at=AT)[0],
            "employer": bulk.add_employers(s, study.id, [employer(1)], actor="t", at=AT)[0],
            "people": bulk.enrol_participants(
                s, study.id, [person(1), person(2)], actor="t", at=AT
            ),
        }
    return engine, ids


def test_bulk_refusals_leave_nothing_behind(cohort: tuple[Engine, dict[str, Any]]) -> None:
    engine, ids = cohort
    study, c, e, (p1, p2) = ids["study"], ids["coach"], ids["employer"], ids["people"]
    sessions = make_sessions(engine)
    refusals: list[tuple[type[Exception], Any]] = [
        (Conflict, lambda s: bulk.add_jobcoaches(s, study, [coach(2), coach(1)], actor="t", at=AT)),
        (Conflict, lambda s: bulk.add_jobcoaches(s, study, [coach(3), coach(3)], actor="t", at=AT)),
        (Conflict, lambda s: bulk.add_employers(s, study, [employer(1)], actor="t", at=AT)),
        (
            Conflict,
            lambda s: bulk.enrol_participants(s, study, [person(3), person(1)], actor="t", at=AT),
        ),
        (
            InvalidInput,
            lambda s: bulk.enrol_participants(
                s, study, [person(4), {**person(5), "benefit": "pensioen"}], actor="t", at=AT
            ),
        ),
        (
            Conflict,
            lambda s: bulk.start_trajectories(
                s, study, [trajectory(p1, c, e), trajectory(p1, c, e)], actor="t", at=AT
            ),
        ),
        (
            NotFound,
            lambda s: bulk.start_trajectories(
                s, study, [trajectory(p1, c, e), trajectory(p2, 9999, e)], actor="t", at=AT
            ),
        ),
    ]
    for error, call in refusals:
        with pytest.raises(error), sessions.begin() as s:
            call(s)
    with sessions() as s:
        assert s.scalar(select(func.count(Participant.id))) == 2
        assert s.scalar(select(func.count(Trajectory.id))) == 0
        assert (
            s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity == "jobcoach")) == 1
        )


def test_bulk_trajectories_need_consent_and_end_once(
    cohort: tuple[Engine, dict[str, Any]],
) -> None:
    engine, ids = cohort
    study, c, e, (p1, p2) = ids["study"], ids["coach"], ids["employer"], ids["people"]
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        services.withdraw_consent(s, study, p2, reason=None, actor="t", at=AT)
    with pytest.raises(ConsentWithdrawn), sessions.begin() as s:
        bulk.start_trajectories(
            s, study, [trajectory(p1, c, e), trajectory(p2, c, e)], actor="t", at=AT
        )
    with sessions.begin() as s:
        (t1,) = bulk.start_trajectories(s, study, [trajectory(p1, c, e)], actor="t", at=AT)
    end = {"end_date": dt.date(2026, 2, 1), "end_reason": "job_loss"}
    early = {"end_date": dt.date(2025, 12, 1), "end_reason": "job_loss"}
    for error, entries in [
        (Conflict, [(t1, end), (t1, end)]),
        (InvalidInput, [(t1, early)]),
        (NotFound, [(t1, end), (t1 + 100, end)]),
    ]:
        with pytest.raises(error), sessions.begin() as s:
            bulk.end_trajectories(s, study, entries, actor="t", at=LATER)
    with sessions() as s:
        assert s.get(Trajectory, t1).end_date is None
