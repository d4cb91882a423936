"""A viewer's figures move on at release days only: a trajectory entered today changes the
researcher's monitor at once and the viewer's only after the next release day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from dashboard.app import create_app
from dashboard.disclosure import release_day
from study.clock import SimulatedClock
from study.models import AuditEvent, Study
from tests.conftest import Database
from tests.dashboard.conftest import Env, add_logins, body_text, make_container, route_to
from tests.dashboard.test_exports import _download
from tests.dashboard.test_monitor import _monitor
from tests.dashboard.test_viewer_attack import components, number
from tests.factory import add_employer, build_cohort, enrol, start


@pytest.mark.parametrize(
    ("today", "cadence", "day"),
    [
        (dt.date(2026, 12, 2), "month", dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 1), "month", dt.date(2026, 11, 30)),
        (dt.date(2024, 3, 31), "month", dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 5), "month", dt.date(2025, 12, 31)),
        (dt.date(2026, 12, 2), "week", dt.date(2026, 11, 29)),  # a Wednesday
        (dt.date(2026, 11, 30), "week", dt.date(2026, 11, 29)),  # a Monday
        (dt.date(2026, 11, 29), "week", dt.date(2026, 11, 22)),  # a Sunday: the one before
        (dt.date(2026, 12, 2), "day", dt.date(2026, 12, 2)),
    ],
)
def test_release_days(today: dt.date, cadence: str, day: dt.date) -> None:
    assert release_day(today, cadence) == day


def test_an_unknown_cadence_is_refused() -> None:
    with pytest.raises(ValueError, match="day, week or month"):
        release_day(dt.date(2026, 12, 2), "hourly")


def _people(client) -> float | None:
    resp = _monitor(client)
    assert resp.status_code == 200
    for c in components(resp.get_json()["response"]["monitor-content"]["children"]):
        if c["props"].get("className") == "klik-kpi":
            value, label = c["props"]["children"]
            if label["props"]["children"] == "Trajecten":
                return number(value["props"]["children"])
    raise AssertionError("no number of trajectories")


@pytest.fixture
def entered_earlier(db: Database, clock: SimulatedClock) -> Env:
    """Six trajectories entered in May 2025; the clock then at 5 January 2026."""
    clock.set(dt.datetime(2025, 5, 12, 9, tzinfo=dt.UTC))
    container = make_container(db, clock, viewer_release="month")
    with container.sessions.begin() as s:
        cohort = build_cohort(s, clock.now(), first_start=dt.date(2025, 6, 2))
        # every count shown, so that a change of one is visible at all
        s.execute(update(Study).values(min_cell_size=1))
    add_logins(container, cohort, clock.now())
    clock.set(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    return Env(create_app(container), container, cohort, clock)


def test_a_new_trajectory_reaches_viewers_at_the_next_release_day(entered_earlier: Env) -> None:
    env = entered_earlier
    viewer, researcher = env.login("viewer"), env.login("researcher")
    before = _people(viewer)
    assert before == _people(researcher) == 6
    text = _monitor(viewer).get_data(as_text=True)
    assert "Cijfers tot en met 31-12-2025" in text

    now = env.clock.now()
    with env.container.sessions.begin() as s:
        employer = add_employer(s, env.cohort.study_id, now, "Werkgever nieuw")
        participant = enrol(s, env.cohort.study_id, now, "P0099")
        start(s, env.cohort.study_id, now, participant.id, env.cohort.jobcoach_ids[0],
              employer.id, now.date())  # fmt: skip
    assert _people(researcher) == 7
    assert _people(viewer) == before  # a second tab a minute later: the same figures

    env.clock.set(dt.datetime(2026, 2, 2, 9, tzinfo=dt.UTC))
    viewer = env.login("viewer")  # a month later: a new session
    assert _people(viewer) == 7
    assert "Cijfers tot en met 31-01-2026" in _monitor(viewer).get_data(as_text=True)


def test_a_viewers_signals_and_downloads_are_of_the_release_day(entered_earlier: Env) -> None:
    env = entered_earlier
    viewer = env.login("viewer")
    signals = body_text(route_to(viewer, "/signals"))
    assert "Cijfers tot en met 31-12-2025" in signals
    assert _download(viewer, "codebook").status_code == 200
    with env.container.read_sessions() as s:
        days = s.scalars(
            select(AuditEvent.new_values).where(
                AuditEvent.action == "export", AuditEvent.actor == "viewer"
            )
        ).all()
    assert [d["as_of"] for d in days] == ["2025-12-31"]  # the day the file shows, not today
