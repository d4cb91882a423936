"""Builds small cohorts through the services, as a jobcoach and a researcher would."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from study import services, vocab
from study.models import Employer, Jobcoach, Participant, Study, Trajectory

#: how long before its start :func:`build_cohort` enters a trajectory, at the earliest
AHEAD = dt.timedelta(days=90)


@dataclass
class Cohort:
    """Ids of what :func:`build_cohort` created."""

    study_id: int
    jobcoach_ids: list[int] = field(default_factory=list)
    employer_ids: list[int] = field(default_factory=list)
    participant_ids: list[int] = field(default_factory=list)
    trajectory_ids: list[int] = field(default_factory=list)


def add_study(s: Session, at: dt.datetime, code: str = "S1") -> Study:
    return services.create_study(s, code=code, name=f"Studie {code}", actor="test", at=at)


def add_coach(s: Session, study_id: int, at: dt.datetime, code: str, **kw: object) -> Jobcoach:
    data = {
        "code": code,
        "name": f"Coach {code}",
        "email": f"{code.lower()}@coach.example",
        "coach_type": "external",
        "method": "ips",
        **kw,
    }
    return services.add_jobcoach(s, study_id, data, actor="test", at=at)


def add_employer(s: Session, study_id: int, at: dt.datetime, name: str) -> Employer:
    return services.add_employer(
        s, study_id, {"name": name, "contact_email": "hr@werk.example"}, actor="test", at=at
    )


def enrol(s: Session, study_id: int, at: dt.datetime, code: str, **kw: object) -> Participant:
    data = {
        "study_code": code,
        "birth_year": 2000,
        "gender": "female",
        "benefit": "wajong",
        "doelgroepregister": True,
        "email": f"{code.lower()}@mail.example",
        **kw,
    }
    return services.enrol_participant(s, study_id, data, actor="test", at=at)


def start(
    s: Session,
    study_id: int,
    at: dt.datetime,
    participant_id: int,
    jobcoach_id: int,
    employer_id: int,
    start_date: dt.date,
    **kw: object,
) -> Trajectory:
    data = {
        "participant_id": participant_id,
        "jobcoach_id": jobcoach_id,
        "employer_id": employer_id,
        "start_date": start_date,
        "funder": "uwv",
        "employment_form": "begeleid_werken",
        "contract_hours": 24,
        "loonwaarde": 60,
        "maatje": True,
        "method": "ips",
        "coach_type": "external",
        **kw,
    }
    return services.start_trajectory(s, study_id, data, actor="test", at=at)


def build_cohort(
    s: Session,
    at: dt.datetime,
    *,
    n_trajectories: int = 6,
    n_coaches: int = 2,
    first_start: dt.date = dt.date(2026, 1, 5),
    spacing_days: int = 7,
    seed: int = 1,
    study_code: str = "S1",
) -> Cohort:
    """A study with coaches, employers, participants and one trajectory each, all via services."""
    rng = random.Random(seed)
    study = add_study(s, at, study_code)
    cohort = Cohort(study.id)
    for i in range(n_coaches):
        coach = add_coach(
            s, study.id, at, f"JC{i + 1:02d}", coach_type=rng.choice(list(vocab.CoachType))
        )
        cohort.jobcoach_ids.append(coach.id)
    for i in range(n_trajectories):
        start_date = first_start + dt.timedelta(days=spacing_days * i)
        # a trajectory is entered no earlier than a few months before it starts (the services
        # refuse a start further ahead), so late starts of a long cohort are entered later
        when = max(at, dt.datetime.combine(start_date, dt.time(8), tzinfo=dt.UTC) - AHEAD)
        employer = add_employer(s, study.id, when, f"Werkgever {i + 1}")
        participant = enrol(
            s, study.id, when, f"P{i + 1:04d}", benefit=rng.choice(list(vocab.Benefit))
        )
        trajectory = start(
            s,
            study.id,
            when,
            participant.id,
            cohort.jobcoach_ids[i % n_coaches],
            employer.id,
            start_date,
            maatje=rng.random() < 0.5,
        )
        cohort.employer_ids.append(employer.id)
        cohort.participant_ids.append(participant.id)
        cohort.trajectory_ids.append(trajectory.id)
    return cohort
