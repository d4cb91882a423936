"""The signal statistics page: researchers see fired, seen, how fast and how well the signals
predicted job loss; viewers only rounded totals; jobcoaches nothing; organisations only when
each holds enough clients, and never a jobcoach."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
from dash import html
from sqlalchemy import update

from dashboard.disclosure import release_day
from dashboard.signal_stats_views import organisation_table
from study import services
from study.access import entered_by, trajectory_scope
from study.models import Study
from study.services.signals import acknowledge_signal
from study.signal_data import study_signals
from tests.dashboard.conftest import Env, body_text, route_to
from tests.dashboard.test_viewer_attack import components


def _page(client) -> str:
    return body_text(route_to(client, "/signals"))


def _sick(env: Env, tid: int, day: dt.date) -> None:
    with env.container.sessions.begin() as s:
        services.record_employment_event(
            s, env.cohort.study_id, tid, {"event_date": day, "kind": "sick_leave_start"},
            actor="test", at=env.clock.now(),
        )  # fmt: skip


def test_researcher_sees_follow_up_and_predictive_value(env: Env) -> None:
    _sick(env, env.cohort.trajectory_ids[0], dt.date(2025, 12, 10))
    body = _page(env.login("researcher"))
    assert "Afgegaan en gezien" in body and "signal-follow-up" in body
    assert "signal-quality" in body and "Voorspellende waarde" in body
    assert "Ter vergelijking" in body  # the base rate beside the predictive values
    assert "Verzuim" in body
    # no jobcoach is named or ranked
    assert "JC01" not in body and "Coach Een" not in body and "JC02" not in body


def test_viewer_sees_only_rounded_totals(env: Env) -> None:
    _sick(env, env.cohort.trajectory_ids[0], dt.date(2025, 12, 10))
    body = _page(env.login("viewer"))
    assert "signal-follow-up" in body and "Verzuim" in body
    assert "×" in body  # one client with sick leave: under k, hidden
    assert "signal-quality" not in body and "signal-orgs" not in body
    assert "P0001" not in body


def test_jobcoach_gets_no_statistics(env: Env) -> None:
    body = _page(env.login("coach1"))
    assert "signal-follow-up" not in body and "signal-quality" not in body


def _frames(sizes: dict[int, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids, orgs = [], []
    for org, n in sizes.items():
        orgs += [org] * n
    ids = list(range(1, len(orgs) + 1))
    trajectories = pd.DataFrame({"trajectory_id": ids, "organisation_id": orgs})
    signals = pd.DataFrame({
        "trajectory_id": ids, "signal": "sick_leave", "rule": "sick_reported", "level": "amber",
        "fired_on": pd.Timestamp(2025, 3, 1),
    })  # fmt: skip
    return trajectories, signals


NAMES = pd.DataFrame({"organisation_id": [1, 2], "name": ["Zuid Coaching", "Aan het Werk"]})
SEEN = pd.DataFrame(columns=["trajectory_id", "signal", "rule", "fired_on", "seen_at", "action"])


def _text(component: html.Div) -> str:
    return str(component.to_plotly_json())


def test_organisations_only_when_each_holds_ten_clients_listed_by_name() -> None:
    trajectories, signals = _frames({1: 12, 2: 10})
    shown = _text(organisation_table(signals, SEEN, trajectories, NAMES, "nl", min_clients=10))
    assert "signal-orgs-table" in shown
    assert shown.index("Aan het Werk") < shown.index("Zuid Coaching")  # alphabetical, not ranked
    trajectories, signals = _frames({1: 12, 2: 9})
    hidden = _text(organisation_table(signals, SEEN, trajectories, NAMES, "nl", min_clients=10))
    assert "signal-orgs-table" not in hidden and "minstens 10" in hidden
    # clients without an organisation would make the rest a difference of two shown totals
    trajectories, signals = _frames({1: 12, 2: 10})
    trajectories.loc[0, "organisation_id"] = None
    assert "signal-orgs-table" not in _text(
        organisation_table(signals, SEEN, trajectories, NAMES, "nl", min_clients=10)
    )


def test_a_viewers_signals_are_those_of_the_release_day(env: Env) -> None:
    """What a viewer's page counts is the study as it stood on the release day: trajectories
    entered later, firings after that day and acknowledgements made after it wait."""
    assert "Cijfers tot en met vandaag" in _page(env.login("viewer"))
    tid, today = env.cohort.trajectory_ids[0], env.clock.now().date()
    _sick(env, tid, today - dt.timedelta(days=1))
    with env.container.read_sessions() as s:
        now = study_signals(s, env.cohort.study_id, as_of=today)
    fired = now.signals[
        (now.signals["trajectory_id"] == tid) & (now.signals["signal"] == "sick_leave")
    ]
    assert len(fired) == 1
    first = fired.iloc[0]
    with env.container.sessions.begin() as s:
        acknowledge_signal(
            s, trajectory_scope(env.cohort.study_id),
            {"trajectory_id": tid, "signal": "sick_leave", "rule": first["rule"],
             "level": first["level"], "fired_on": first["fired_on"].date(), "action": None},
            actor="test", at=env.clock.now(),
        )  # fmt: skip
    scope = trajectory_scope(env.cohort.study_id)
    with env.container.read_sessions() as s:
        seen_today = study_signals(s, env.cohort.study_id, as_of=today).seen
        day_before = study_signals(s, env.cohort.study_id, as_of=today - dt.timedelta(days=1))
        month = release_day(today, "month")
        released = study_signals(
            s, env.cohort.study_id, as_of=month, scope=entered_by(scope, month)
        )
    assert len(seen_today) == 1 and day_before.seen.empty  # marked today, not yet the day before
    # the cohort was entered today: on the last month's release day there was nobody yet
    assert released.trajectories.empty and released.signals.empty and released.seen.empty


def test_a_viewers_signal_counts_rest_on_ten_clients_whatever_the_studys_k(env: Env) -> None:
    with env.container.sessions.begin() as s:
        s.execute(update(Study).values(min_cell_size=3))
    for tid in env.cohort.trajectory_ids[:4]:
        _sick(env, tid, dt.date(2025, 12, 10))
    page = route_to(env.login("viewer"), "/signals").get_json()["response"]
    text = json.dumps(page, ensure_ascii=False)
    assert "veelvoud van 10" in text
    for c in components(page):
        if c["props"].get("id") == "signal-follow-up":
            rows = json.dumps(c, ensure_ascii=False)
            counts = [int(v) for v in re.findall(r"≈ (\d+)(?!\d|%)", rows)]
            assert all(v % 10 == 0 for v in counts), counts
            assert "×" in rows
            break
    else:
        raise AssertionError("no follow-up table")
