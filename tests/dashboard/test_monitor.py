"""Cohort monitor: pure builders and the callback for each role."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

from dashboard.monitor_views import (
    STATUS_COLUMNS,
    Selection,
    cohort_filter,
    completeness_counts,
    completion_table,
    end_reason_counts,
    endings,
    enrolment_counts,
    monitor_release,
    overdue_forms,
    status_counts,
    viewer_monitor_view,
)
from study.access import visible_trajectories
from study.read_models import person_wave_frame, trajectories_frame
from tests.dashboard.conftest import Env, HeldJobs, dash_post

MONITOR_INPUTS = ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")
MONITOR_OUTPUTS = [
    ("monitor-content", "children"),
    ("monitor-status", "children"),
    ("monitor-poll", "disabled"),
]


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
    """Post the monitor callback as the page's interval would, until its job is done."""
    inputs = [(i, "value", v) for i, v in zip(MONITOR_INPUTS, values, strict=True)]
    for tick in range(80):
        resp = dash_post(client, MONITOR_OUTPUTS, [*inputs, ("monitor-poll", "n_intervals", tick)])
        if resp.status_code != 200 or resp.get_json()["response"]["monitor-poll"]["disabled"]:
            return resp
        time.sleep(0.25)
    raise AssertionError("the monitor job did not finish")


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
    shown = completion_table(counts, "en")
    assert list(shown.columns)[:2] == ["Wave", "Role"]
    # a viewer's release hides every small count, in every row of every characteristic
    release = monitor_release(*_frames(forms_env), k=10)
    for protected in release.tables.values():
        numbers = protected.with_totals().to_numpy(dtype=float)
        assert not ((numbers > 0) & (numbers < 10)).any()


def test_overdue_forms_are_open_and_past_due(forms_env: Env) -> None:
    traj, pw = _frames(forms_env)
    overdue = overdue_forms(pw, traj, dt.date(2026, 1, 5))
    assert (overdue["days_overdue"] > 0).all()
    assert set(overdue["study_code"]) <= set(traj["study_code"])


def _cohort(reasons: list[str | None], benefits: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(reasons)
    traj = pd.DataFrame(
        {
            "trajectory_id": range(1, n + 1),
            "organisation_id": 1,
            "coach_type": "external",
            "method": "ips",
            "benefit": benefits,
            "start_date": pd.to_datetime(["2026-01-05"] * n),
            "end_reason": reasons,
        }
    )
    return traj, pd.DataFrame()


def test_endings_hide_small_groups_for_viewers() -> None:
    reasons = [None] * 30 + ["job_loss"] * 3 + ["moved"] * 12
    traj, pw = _cohort(reasons, ["wajong"] * 20 + ["ww"] * 25)
    shown = endings(end_reason_counts(traj), "nl")
    assert shown.iloc[:, 1].tolist() == [30, 0, 3, 0, 12, 0]
    release = monitor_release(traj, pw, k=10)
    whole, n = release.row("endings", None)
    assert n == 45
    viewer = whole.to_numpy(dtype=float)
    assert not ((viewer > 0) & (viewer < 10)).any()
    # the hidden job-loss group cannot be found by subtracting from the total (45)
    assert np.isnan(viewer).sum() != 1
    # nor from the rows of a characteristic: each row hides none or at least two numbers
    for value in ("wajong", "ww"):
        row, _ = release.row("endings", Selection("benefit", value))
        assert row.isna().sum() != 1


def test_small_selection_shows_nothing_to_a_viewer() -> None:
    traj, pw = _cohort([None] * 6, ["ww"] * 6)
    view = viewer_monitor_view(monitor_release(traj, pw, k=10), None, lang="nl")
    text = json.dumps(view.to_plotly_json(), default=str)
    assert "minder dan 10" in text and '"6"' not in text


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


def test_a_slow_monitor_shows_progress_and_blocks_no_one(forms_env: Env, monkeypatch) -> None:
    from dashboard.jobs import JobRunner
    from dashboard.pages import monitor
    from dashboard.pages.outbox import CONTENT as OUTBOX_CONTENT

    held = HeldJobs(monitor.monitor_job)
    monkeypatch.setattr(monitor, "monitor_job", held)
    # the job waits for an event of this process: it must run on a thread of this process
    forms_env.app.extensions["klik_jobs"] = JobRunner()
    researcher = forms_env.login("researcher")
    inputs = [(i, "value", None) for i in MONITOR_INPUTS]
    first = dash_post(researcher, MONITOR_OUTPUTS, [*inputs, ("monitor-poll", "n_intervals", 0)])
    body = first.get_json()["response"]
    assert body["monitor-poll"]["disabled"] is False  # the page keeps polling
    assert "Bezig met berekenen" in json.dumps(body["monitor-status"], ensure_ascii=False)
    # meanwhile another researcher's page answers at once
    other = forms_env.login("researcher")
    answers: list[int] = []

    def ask() -> None:
        outbox = dash_post(
            other, [(OUTBOX_CONTENT, "children")], [("outbox-refresh", "n_intervals", 1)]
        )
        answers.append(outbox.status_code)

    asked = threading.Thread(target=ask)
    asked.start()
    asked.join(60)  # a guard against hanging, not a speed limit: the monitor's job is held
    assert answers == [200] and not held.release.is_set()
    held.release.set()
    done = _monitor(researcher)
    assert "Vragenlijsten per meting en rol" in done.get_data(as_text=True)
    # the same selection again is answered from the finished job, on the first request
    again = dash_post(researcher, MONITOR_OUTPUTS, [*inputs, ("monitor-poll", "n_intervals", 0)])
    assert again.get_json()["response"]["monitor-poll"]["disabled"] is True


def test_polls_follow_the_running_job_while_the_data_changes(forms_env: Env, monkeypatch) -> None:
    from dashboard.jobs import JobRunner
    from dashboard.pages import monitor
    from study import services

    held = HeldJobs(monitor.monitor_job)
    monkeypatch.setattr(monitor, "monitor_job", held)
    runner = JobRunner()
    forms_env.app.extensions["klik_jobs"] = runner
    c = forms_env.login("researcher")
    inputs = [(i, "value", None) for i in MONITOR_INPUTS]
    dash_post(c, MONITOR_OUTPUTS, inputs)  # the page opens: the job starts
    # a form is answered, a contact logged... the data version moves on
    with forms_env.container.sessions.begin() as s:
        services.record_contact(
            s, forms_env.cohort.study_id, forms_env.cohort.trajectory_ids[0],
            {"contact_date": dt.date(2026, 1, 2), "minutes": 20, "mode": "phone",
             "with_whom": "employee", "activity": "self_reliance"},
            actor="coach", at=dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC),
        )  # fmt: skip
    poll = [*inputs, ("monitor-poll", "n_intervals", 1)]
    for _ in range(3):  # the page's interval: these follow the job, they do not start another
        body = _post_as_poll(c, poll).get_json()["response"]
        assert body["monitor-poll"]["disabled"] is False
    held.release.set()
    for _ in range(60):
        body = _post_as_poll(c, poll).get_json()["response"]
        if body["monitor-poll"]["disabled"]:
            break
        time.sleep(0.25)
    assert body["monitor-poll"]["disabled"] is True
    assert len(held.started) == 1 and runner.computed == 1


def _post_as_poll(client, inputs):
    """A callback request that the interval triggered (the last input changed)."""
    from tests.dashboard.conftest import csrf_headers

    body = {
        "output": "..monitor-content.children...monitor-status.children...monitor-poll.disabled..",
        "outputs": [{"id": i, "property": p} for i, p in MONITOR_OUTPUTS],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": ["monitor-poll.n_intervals"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp


def _forms(traj: pd.DataFrame, sent: dict[int, list[int]]) -> pd.DataFrame:
    """One employee and one jobcoach form per trajectory and wave it was sent; statuses vary."""
    rows = []
    statuses = ["on_time", "late", "missing", "open"]
    for wave_index, ids in sent.items():
        for n, trajectory_id in enumerate(ids):
            for role in ("employee", "jobcoach"):
                rows.append(
                    {"trajectory_id": trajectory_id, "jobcoach_id": 1, "wave": f"T{wave_index}",
                     "wave_index": wave_index, "months": 3.0 * wave_index, "respondent": role,
                     "instrument_id": f"{role}_form", "status": statuses[n % 4],
                     "submitted_at": pd.NaT, "score": None, "value": np.nan}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_people_minus_a_waves_forms_is_no_small_group() -> None:
    # 30 + 30 people; the second wave reached all but 4 of the WW group (they started later)
    traj, _ = _cohort([None] * 60, ["wajong"] * 30 + ["ww"] * 30)
    ids = traj["trajectory_id"].tolist()
    pw = _forms(traj, {0: ids, 1: ids[:56]})
    release = monitor_release(traj, pw, k=10)
    checked = 0
    for selection in (None, Selection("benefit", "wajong"), Selection("benefit", "ww")):
        _, people = release.row("endings", selection)
        forms = release.completion(selection)
        for _, row in forms.iterrows():
            counts = row[list(STATUS_COLUMNS)].to_numpy(dtype=float)
            if np.isnan(people) or np.isnan(counts).any():
                continue
            checked += 1
            not_sent = people - counts.sum()
            assert not_sent == 0 or not_sent >= 10, (selection, row["wave"], not_sent)
    # the first wave, sent to everyone, is still shown whole
    assert checked >= 2
    whole = release.completion(None)
    assert not whole[whole["wave_index"] == 0][list(STATUS_COLUMNS)].isna().any().any()


def test_completeness_counts_separate_complete_partial_and_unknown() -> None:
    responses = pd.DataFrame({
        "wave": ["T0", "T0", "T0", "T1"], "wave_index": [0, 0, 0, 1],
        "respondent": ["employee"] * 4,
        "answered": [20, 1, None, 5], "applicable": [20, 20, None, 10],
    })  # fmt: skip
    out = completeness_counts(responses).set_index("wave")
    assert out.loc["T0", ["sent_in", "complete", "partial", "unknown"]].tolist() == [3, 1, 1, 1]
    assert out.loc["T0", "median_answered"] == pytest.approx((1.0 + 0.05) / 2)
    assert out.loc["T1", ["complete", "partial"]].tolist() == [0, 1]


def test_a_near_empty_form_shows_as_partial_to_researchers_only(forms_env: Env) -> None:
    from sqlalchemy import select, update

    from study.models import Response

    with forms_env.container.sessions.begin() as s:
        first, second = s.scalars(select(Response.id).order_by(Response.id).limit(2)).all()
        s.execute(update(Response).where(Response.id == first).values(answered_items=1))
        s.execute(
            update(Response)
            .where(Response.id == second)
            .values(answered_items=None, applicable_items=None)
        )
    body = _monitor(forms_env.login("researcher")).get_data(as_text=True)
    assert "Volledigheid van de ingevulde vragenlijsten" in body and "monitor-completeness" in body
    rows = json.loads(body)["response"]["monitor-content"]["children"]
    text = json.dumps(rows, ensure_ascii=False)
    assert "Gedeeltelijk" in text and "Onbekend" in text
    viewer = _monitor(forms_env.login("viewer")).get_data(as_text=True)
    assert "monitor-completeness" not in viewer
