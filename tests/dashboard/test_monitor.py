"""Cohort monitor: pure builders and the callback for each role."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from dashboard.monitor_views import (
    cohort_filter,
    completion_table,
    endings,
    enrolment_counts,
    monitor_view,
    overdue_forms,
    status_counts,
)
from study.access import visible_trajectories
from study.read_models import person_wave_frame, trajectories_frame
from tests.dashboard.conftest import Env, dash_post

MONITOR_INPUTS = ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")


def _frames(env: Env, username: str = "researcher"):
    from sqlalchemy import select

    from study.models import User

    with env.container.read_sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        scope = visible_trajectories(user)
        as_of = dt.date(2026, 1, 5)
        return (
            trajectories_frame(s, scope, as_of=as_of),
            person_wave_frame(s, scope, as_of=as_of, scores=()),
        )


def _monitor(client, values=(None, None, None, None)):
    resp = dash_post(
        client,
        [("monitor-content", "children")],
        [(i, "value", v) for i, v in zip(MONITOR_INPUTS, values, strict=True)],
    )
    return resp


def test_filter_values_from_callbacks_are_checked() -> None:
    f = cohort_filter(["3", 4, "x; DROP TABLE"], "internal", ["ips", "bogus"], None)
    assert f.organisation_ids == (3, 4)
    assert f.coach_types == ("internal",)
    assert f.methods == ("ips",)
    assert f.benefits == ()


def test_enrolment_counts_fill_empty_months() -> None:
    traj = pd.DataFrame({"start_date": pd.to_datetime(["2026-01-03", "2026-01-20", "2026-03-01"])})
    out = enrolment_counts(traj, "M")
    assert out["period"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert out["n"].tolist() == [2, 0, 1]
    assert out["cumulative"].tolist() == [2, 2, 3]


def test_status_counts_and_completion_table_match_the_database(forms_env: Env) -> None:
    _traj, pw = _frames(forms_env)
    counts = status_counts(pw)
    assert set(counts["respondent"]) == {"employee", "jobcoach", "employer"}
    # every opened invitation is counted exactly once
    n_invitations = pw.drop_duplicates(["trajectory_id", "wave", "respondent", "instrument_id"])
    assert counts[["on_time", "late", "missing", "open"]].to_numpy().sum() == (
        n_invitations["status"].isin(["on_time", "late", "missing", "open"]).sum()
    )
    shown = completion_table(counts, 0, "en")
    assert list(shown.columns)[:2] == ["Wave", "Role"]
    # a viewer's table hides every small count
    hidden = completion_table(counts, 10, "nl")
    numbers = hidden.iloc[:, 2:6].to_numpy(dtype=float)
    assert not ((numbers > 0) & (numbers < 10)).any()


def test_overdue_forms_are_open_and_past_due(forms_env: Env) -> None:
    traj, pw = _frames(forms_env)
    overdue = overdue_forms(pw, traj, dt.date(2026, 1, 5))
    assert (overdue["days_overdue"] > 0).all()
    assert set(overdue["study_code"]) <= set(traj["study_code"])


def test_endings_hide_small_groups_for_viewers() -> None:
    traj = pd.DataFrame({"end_reason": [None] * 30 + ["job_loss"] * 3 + ["moved"] * 12})
    shown = endings(traj, 0, "nl")
    assert shown.iloc[:, 1].tolist() == [30, 0, 3, 0, 12, 0]
    viewer = endings(traj, 10, "nl").iloc[:, 1].to_numpy(dtype=float)
    assert not ((viewer > 0) & (viewer < 10)).any()
    # the hidden job-loss group cannot be found by subtracting from the total (45)
    assert np.isnan(viewer).sum() != 1


def test_small_selection_shows_nothing_to_a_viewer(forms_env: Env) -> None:
    traj, pw = _frames(forms_env)
    view = monitor_view(traj, pw, as_of=dt.date(2026, 1, 5), k=10, lang="nl", show_rows=False)
    assert "minder dan 10" in json.dumps(view.to_plotly_json(), default=str)


def test_monitor_callback_per_role(forms_env: Env) -> None:
    researcher = forms_env.login("researcher")
    body = _monitor(researcher).get_data(as_text=True)
    assert "Vragenlijsten per meting en rol" in body and "Achterstallige" in body
    viewer = forms_env.login("viewer")
    body = _monitor(viewer).get_data(as_text=True)
    assert "minder dan 10" in body and "P000" not in body
    coach = forms_env.login("coach1")
    assert _monitor(coach).status_code == 403


def test_monitor_filters_narrow_the_cohort(forms_env: Env) -> None:
    c = forms_env.login("researcher")
    everyone = _monitor(c).get_data(as_text=True)
    none = _monitor(c, (None, None, ["eim"], None)).get_data(as_text=True)
    assert "Vragenlijsten per meting" in everyone
    assert "Nog geen gegevens" in none


def test_monitor_page_renders_for_researcher_and_viewer(forms_env: Env) -> None:
    from tests.dashboard.conftest import route_to

    for user in ("researcher", "viewer"):
        body = route_to(forms_env.login(user), "/monitor").get_data(as_text=True)
        assert "monitor-organisation" in body and "Cohortmonitor" in body
