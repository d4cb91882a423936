"""The simulator through the front door: deterministic, matching its parameters, validated."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text

from study.clock import SimulatedClock
from study.db import make_engine, make_sessions
from study.errors import InvalidInput
from study.migrate import upgrade
from study.models import (
    Base,
    CoachingContact,
    EmploymentEvent,
    Invitation,
    Participant,
    Response,
    ResponseScore,
    Trajectory,
)
from study.simulator import truth
from study.simulator.build import Simulation, build, local_moment
from study.simulator.params import SimulationParams

SECRET = "k" * 64
#: random by design (link salts must not be predictable), so left out of the comparison
RANDOM_COLUMNS = {
    ("invitation", "token_salt"),
    ("invitation", "token_hash"),
    # each database its own, so a kept copy of frames is never taken for another's
    ("frame_epoch", "token"),
}


def run(path: Path, params: SimulationParams):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = make_sessions(engine)
    clock = SimulatedClock(local_moment(params.start_date, 9))
    report = build(sessions, params, clock=clock, secret_key=SECRET)
    return engine, sessions, report


def dump(engine) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    tables = {}
    with engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            cols = [
                col.name for col in table.columns if (table.name, col.name) not in RANDOM_COLUMNS
            ]
            order = ", ".join(col.name for col in table.primary_key.columns)
            rows = c.execute(text(f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {order}"))
            tables[table.name] = [tuple(r) for r in rows]
    return tables


def test_same_seed_gives_the_same_database(tmp_path: Path) -> None:
    params = SimulationParams(n_trajectories=25, n_coaches=6, months=4, seed=3)
    first, _, report = run(tmp_path / "a.db", params)
    second, _, _ = run(tmp_path / "b.db", params)
    a, b = dump(first), dump(second)
    assert report.counts["responses"] > 20 and report.counts["contacts"] > 50
    for table in a:
        assert a[table] == b[table], table
    third, _, _ = run(tmp_path / "c.db", params.model_copy(update={"seed": 4}))
    assert dump(third)["coaching_contact"] != a["coaching_contact"]


def test_simulated_marginals_match_the_parameters(tmp_path: Path) -> None:
    params = SimulationParams(
        n_trajectories=600,
        n_coaches=150,
        months=7,
        recruitment_months=0.5,
        wave_months=(),
        p_new_job_after_loss=0.0,
        tick_every_days=7,
        seed=11,
    )
    _engine, sessions, _report = run(tmp_path / "m.db", params)
    with sessions() as s:
        rows = s.execute(select(Trajectory.id, Trajectory.start_date, Trajectory.maatje)).all()
        n = len(rows)
        assert n == 600
        maatje = np.mean([r.maatje for r in rows])
        assert abs(maatje - params.share_maatje) < 4 * math.sqrt(0.25 / n)

        # retention: no job end within six months of the start, among those followed that long
        job_end = dict(
            s.execute(
                select(EmploymentEvent.trajectory_id, func.min(EmploymentEvent.event_date))
                .where(EmploymentEvent.kind == "job_end")
                .group_by(EmploymentEvent.trajectory_id)
            ).all()
        )
        six = dt.timedelta(days=182)
        followed = [r for r in rows if r.start_date + six <= params.end_date]
        kept = np.mean(
            [not (r.id in job_end and job_end[r.id] < r.start_date + six) for r in followed]
        )
        # other ends censor job loss, so the retention observed is at least the parameter's
        se = math.sqrt(0.88 * 0.12 / len(followed))
        assert params.retention_6m - 4 * se < kept < params.retention_6m + 0.06

        # response to the first wave, by role (no job loss before T0, so the parameters apply)
        statuses = s.execute(
            select(Invitation.respondent, Invitation.status).where(Invitation.wave_code == "T0")
        ).all()
    for role, expected in (
        ("employee", params.response_employee),
        ("jobcoach", params.response_jobcoach),
        ("employer", params.response_employer),
    ):
        closed = [st.value for r, st in statuses if r.value == role and st.value != "cancelled"]
        assert set(closed) <= {"completed", "missed"}
        rate = np.mean([st == "completed" for st in closed])
        assert abs(rate - expected) < 4 * math.sqrt(expected * (1 - expected) / len(closed)), role


def test_simulated_answers_carry_the_true_capability_and_klik(tmp_path: Path) -> None:
    params = SimulationParams(
        n_trajectories=80, n_coaches=20, months=2, recruitment_months=0.5, seed=5
    )
    _engine, sessions, _ = run(tmp_path / "k.db", params)
    sim_truth = truth.generate(params)
    with sessions() as s:
        rows = s.execute(
            select(Participant.study_code, ResponseScore.score_id, ResponseScore.value)
            .join(Trajectory, Trajectory.participant_id == Participant.id)
            .join(Invitation, Invitation.trajectory_id == Trajectory.id)
            .join(Response, Response.invitation_id == Invitation.id)
            .join(ResponseScore, ResponseScore.response_id == Response.id)
            .where(Invitation.wave_code == "T0", ResponseScore.score_id == "alliance")
        ).all()
    assert len(rows) > 40
    klik = np.array([sim_truth.trajectories.klik[int(code[1:]) - 1] for code, _, _ in rows])
    alliance = np.array([v for _, _, v in rows])
    assert np.corrcoef(klik, alliance)[0, 1] > 0.6


def test_the_simulator_cannot_bypass_validation(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    params = SimulationParams(n_trajectories=10, n_coaches=2, months=1, recruitment_months=0.2)
    clock = SimulatedClock(local_moment(params.start_date, 9))
    simulation = Simulation(sessions, params, clock=clock, secret_key=SECRET)
    simulation.truth.contacts.minutes[:] = 0  # a contact of zero minutes is not a contact
    with pytest.raises(InvalidInput) as refused:
        simulation.run()
    assert refused.value.field == "minutes"
    with sessions() as s:
        assert s.scalar(select(func.count(CoachingContact.id))) == 0


def test_a_benefit_outside_the_vocabulary_is_refused_by_enrolment(tmp_path: Path) -> None:
    params = SimulationParams(
        n_trajectories=3, n_coaches=1, months=1, benefit_shares={"pensioen": 1}
    )
    with pytest.raises(InvalidInput) as refused:
        run(tmp_path / "b.db", params)
    assert refused.value.field == "benefit"
