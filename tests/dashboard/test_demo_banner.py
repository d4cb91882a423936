"""A demo's pages say which simulated date they show and what the numbers count; a real study's
pages carry no banner, and a viewer's banner holds no count."""

from __future__ import annotations

import datetime as dt

from dashboard.app import create_app
from klik.demo_cli import ShiftedClock
from study import services
from study.clock import SystemClock, local_date
from tests import factory
from tests.dashboard.conftest import Env, body_text

SIMULATED = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _demo_env(env: Env) -> Env:
    env.container.clock = ShiftedClock(SIMULATED - SystemClock().now())
    return Env(create_app(env.container), env.container, env.cohort, env.clock)


def _layout(env: Env, username: str) -> str:
    return body_text(env.login(username).get("/_dash-layout"))


def _replace(env: Env) -> None:
    """End the first trajectory with a job loss and start a new one, with another employer."""
    at = env.clock.now()
    with env.container.sessions.begin() as s:
        first = env.cohort.trajectory_ids[0]
        services.end_trajectory(
            s, env.cohort.study_id, first, {"end_date": "2025-09-01", "end_reason": "job_loss"},
            actor="test", at=at,
        )  # fmt: skip
        employer = factory.add_employer(s, env.cohort.study_id, at, "Tweede Werkgever")
        factory.start(s, env.cohort.study_id, at, env.cohort.participant_ids[0],
                      env.cohort.jobcoach_ids[0], employer.id, dt.date(2025, 10, 1))  # fmt: skip


def test_demo_banner_names_the_simulated_and_the_real_date(env: Env) -> None:
    demo = _demo_env(env)
    body = _layout(demo, "researcher")
    assert "klik-demo-banner" in body
    assert "05-01-2026" in body
    assert f"de echte datum is {local_date(SystemClock().now()):%d-%m-%Y}" in body
    assert "6 trajecten van 6 werknemers" in body


def test_re_placements_are_explained(env: Env) -> None:
    _replace(env)
    demo = _demo_env(env)
    body = _layout(demo, "researcher")
    assert "7 trajecten van 6 werknemers: 1 trajecten zijn een volgend traject" in body
    # a jobcoach's banner counts their own clients: coach1 has the first trajectory and its
    # successor, coach2 three others
    assert "4 trajecten van 3 werknemers" in _layout(demo, "coach1")
    assert "3 trajecten van 3 werknemers" in _layout(demo, "coach2")


def test_viewer_banner_has_the_date_but_no_counts(env: Env) -> None:
    _replace(env)
    body = _layout(_demo_env(env), "viewer")
    assert "klik-demo-banner" in body and "05-01-2026" in body
    assert "werknemers" not in body


def test_no_banner_outside_a_demo(env: Env) -> None:
    body = _layout(env, "researcher")
    assert "klik-demo-banner" not in body
    assert "gesimuleerd" not in body
