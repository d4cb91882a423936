"""The analysis pages: pure views, the background job runner, and authorisation in callbacks."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import reliability
from analysis import study_models as models
from analysis.frames import PERSON_WAVE, SURVIVAL
from analysis.minimum_data import TooLittleData
from dashboard import analysis_views as views
from dashboard.disclosure import ProtectedCounts
from dashboard.disclosure_audit import MonitorTables
from dashboard.jobs import DONE, FAILED, RUNNING, JobKey, JobRunner
from study.clock import SimulatedClock
from tests.analysis_support import random_plans, run_plans
from tests.conftest import Database
from tests.dashboard.conftest import Env, add_logins, dash_post, make_container, route_to

# -- frames made by hand ------------------------------------------------------------------------


def survival_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A SURVIVAL frame with klik driving job loss, two coach types and a method."""
    rng = np.random.default_rng(seed)
    klik = rng.normal(3.5, 0.8, n)
    hazard = np.exp(-0.8 * (klik - 3.5)) / 200
    time_ = rng.exponential(1 / hazard)
    censor = rng.uniform(60, 400, n)
    frame = SURVIVAL.empty().reindex(range(n))
    frame = frame.assign(
        trajectory_id=np.arange(1, n + 1),
        jobcoach_id=rng.integers(1, 8, n),
        duration_days=np.ceil(np.minimum(time_, censor)),
        event=(time_ <= censor).astype(int),
        baseline_klik=klik,
        baseline_alliance=klik + rng.normal(0, 0.3, n),
        baseline_match_quality=rng.normal(3.5, 0.8, n),
        baseline_capability_count=rng.integers(0, 8, n).astype(float),
        contact_minutes_per_month=rng.gamma(4, 10, n),
        n_contacts=rng.integers(0, 20, n),
        coach_type=rng.choice(["internal", "external"], n, p=[0.3, 0.7]),
        method=np.where(np.arange(n) % 50 == 0, "eim", "ips"),
    )
    frame["end_type"] = np.where(frame["event"] == 1, "job_loss", "censored")
    return frame


# -- survival view ------------------------------------------------------------------------------


def test_tertiles_split_in_thirds_and_keep_missing() -> None:
    values = pd.Series([5.0, 1.0, np.nan, 3.0, 2.0, 4.0, 6.0])
    got = models.tertiles(values, "en")
    assert got.isna().tolist() == [False, False, True, False, False, False, False]
    assert got.value_counts().to_dict() == {"low": 2, "middle": 2, "high": 2}
    assert got[1] == "low" and got[6] == "high"
    assert models.tertiles(pd.Series([1.0, 1.0, 2.0]), "en").isna().all()


@pytest.mark.parametrize("by", list(models.STRATA))
def test_every_stratification_gives_curves_and_a_test(by: str) -> None:
    frame = survival_frame(300)
    view = views.survival_view(frame, by, language="en")
    groups = view.curves["group"].unique()
    assert view.n == 300
    if by == "none":
        assert list(groups) == ["all"] and view.logrank is None
    else:
        assert len(groups) >= 2
        assert view.logrank is not None and view.logrank["n"].iloc[0] == 300
    if by in models.TERTILED:
        assert list(groups) == ["low", "middle", "high"]


def test_klik_tertiles_separate_survival() -> None:
    view = views.survival_view(survival_frame(600), "klik", language="en")
    assert view.logrank["p"].iloc[0] < 0.01
    last = view.curves.groupby("group")["survival"].last()
    assert last["high"] > last["low"]


def test_viewer_gets_no_small_strata_and_no_small_risk_sets() -> None:
    frame = survival_frame(300)
    full = views.survival_view(frame, "method", language="en")
    small_n = int((frame["method"] == "eim").sum())
    assert 0 < small_n < 10
    assert "eim" in set(full.curves["group"])
    release = views.viewer_survival_release(frame, language="en", min_cell=10)
    viewer = views.survival_view(
        frame, "method", language="en", rows_allowed=False, release=release
    )
    # the small stratum is merged, not dropped: the strata still add up to everyone
    assert "eim" not in set(viewer.curves["group"])
    assert set(viewer.curves["group"]) & {"Other", "Everyone"}
    assert viewer.n == 300
    assert viewer.curves["at_risk"].min() >= 10
    # every time a viewer receives is an end of a grid interval of whole months
    months = viewer.curves["time"] / (365.25 / 12)
    assert np.allclose(months, months.round())
    assert viewer.curves["time"].max() <= release.curves["method"].horizon + 1e-9
    # every stratification's grid is part of the grid of everyone together
    whole = set(release.curves["none"].grid)
    assert all(set(c.grid) <= whole for c in release.curves.values())
    # in every curve of every stratification, each interval has 0 or at least 10 events and
    # 0 or at least 10 censorings (at the horizon everyone left is censored at once)
    for by in models.STRATA:
        view = views.survival_view(frame, by, language="en", rows_allowed=False, release=release)
        for _group, curve in view.curves.groupby("group"):
            events = curve["n_events"].to_numpy()
            censored = curve["n_censored"].to_numpy()
            before = curve["time"].to_numpy() < release.curves[by].horizon
            for counts in (events, censored[before]):
                assert ((counts == 0) | (counts >= 10)).all(), (by, counts)
        if view.logrank is not None:
            assert set(view.logrank.columns) <= {"test_statistic", "df", "p"}


def endings_monitor(frame: pd.DataFrame, hidden: set[str]) -> MonitorTables:
    """A monitor that shows the people per method and end reason, except ``hidden`` methods."""
    ending = frame["end_type"].where(frame["end_type"] != "censored", "__active__")
    counts = pd.crosstab(frame["method"], ending).astype(float)
    rows = counts.sum(axis=1)
    cells = counts.copy()
    cells.loc[list(hidden)] = np.nan
    rows[list(hidden)] = np.nan
    table = ProtectedCounts(cells, rows, counts.sum(axis=0), float(counts.to_numpy().sum()))
    return MonitorTables({"method": table}, {}, event_cell="job_loss", active_cell="__active__")


def test_viewer_strata_merge_the_values_the_monitor_hides() -> None:
    frame = survival_frame(600)
    frame = frame.assign(method=np.where(np.arange(len(frame)) % 2 == 0, "eim", "ips"))
    methods = frame["method"].astype(object)
    hidden_one = "ips"
    release = views.viewer_survival_release(
        frame, language="nl", min_cell=10, monitor=endings_monitor(frame, {hidden_one})
    )
    strata = release.curves["method"].strata
    assert hidden_one not in set(strata)
    assert set(strata[methods == hidden_one]) <= {"Overige", "Iedereen"}
    shown = views.viewer_survival_release(frame, language="nl", min_cell=10).curves["method"]
    assert hidden_one in set(shown.strata)


def test_viewer_figure_carries_no_small_number_at_risk() -> None:
    frame = survival_frame(40)
    release = views.viewer_survival_release(frame, language="nl", min_cell=10)
    view = views.survival_view(frame, "none", language="nl", rows_allowed=False, release=release)
    fig = views.km_view_figure(view, language="nl", rows_allowed=False, min_cell=10)
    at_risk = [tr for tr in fig.data if str(tr.name).endswith(" at risk")]
    shown = [str(v) for tr in at_risk for v in tr.text]
    assert shown and not any(v.isdigit() and int(v) < 10 for v in shown)
    lines = [tr for tr in fig.data if tr.mode == "lines" and tr.customdata is not None]
    assert all(not (str(v).isdigit() and int(v) < 10) for tr in lines for v in tr.customdata[:, 2])
    # the researcher sees the numbers themselves
    full_view = views.survival_view(frame, "none", language="nl")
    fig_full = views.km_view_figure(full_view, language="nl")
    full = [str(v) for tr in fig_full.data if str(tr.name).endswith(" at risk") for v in tr.text]
    assert all(v.isdigit() for v in full)


def test_cox_models_on_made_up_data() -> None:
    frame = survival_frame(500)
    result = models.job_loss_cox(frame).result
    assert result is not None
    row = result.summary.set_index("term").loc["baseline_klik"]
    # simulated: hazard falls with klik (coefficient -0.8 per point, SD 0.8 -> about -0.64)
    assert row["hr"] < 1 and row["p"] < 0.05
    assert result.robust
    with pytest.raises(TooLittleData, match="0 events, at least"):
        models.job_loss_cox(frame.assign(event=0))


def test_time_varying_model_needs_spread_and_events() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for tid in range(1, 201):
        stop1, stop2 = 90.0, 90.0 + rng.uniform(10, 200)
        k1, k2 = rng.normal(3.5, 1), rng.normal(3.5, 1)
        event = int(rng.random() < 1 / (1 + np.exp(k2 - 2)))
        rows.append((tid, 1, 0.0, stop1, 0, k1, np.nan, 3.0))
        rows.append((tid, 1, stop1, stop2, event, k2, rng.gamma(3, 10), 3.0))
    cp = pd.DataFrame(
        rows,
        columns=[
            "trajectory_id",
            "jobcoach_id",
            "start",
            "stop",
            "event",
            "klik_lag",
            "intensity_lag",
            "match_quality_lag",
        ],
    )
    cp = cp.assign(alliance_lag=np.nan)
    result = models.time_varying_cox(cp).result
    assert result is not None
    assert set(result.summary["term"]) == {"klik_lag", "intensity_lag"}  # match has no spread
    assert result.summary.set_index("term").loc["klik_lag", "hr"] < 1
    with pytest.raises(TooLittleData, match="0 events, at least"):
        models.time_varying_cox(cp.assign(event=0))


# -- trajectories -------------------------------------------------------------------------------


def person_wave(n: int, seed: int = 3) -> pd.DataFrame:
    """A PERSON_WAVE frame: capability count and alliance at T0, T1, T2 for n employees."""
    rng = np.random.default_rng(seed)
    rows = []
    for tid in range(1, n + 1):
        person = rng.normal(0, 1)
        coach = tid % 5 + 1
        for index, (wave, months) in enumerate((("T0", 0.0), ("T1", 2.96), ("T2", 5.98))):
            alliance = float(np.clip(3.5 + 0.6 * person + rng.normal(0, 0.4), 1, 5))
            count = float(np.clip(round(3 + 0.8 * (alliance - 3.5) + 0.1 * months), 0, 7))
            exact = months + rng.uniform(0, 0.05)
            for score, value in (("capability_count", count), ("alliance", alliance)):
                rows.append(
                    (tid, coach, wave, index, exact, "employee",
                     "employee_followup", "on_time", pd.Timestamp("2026-01-05"), score, value)
                )  # fmt: skip
    frame = pd.DataFrame(rows, columns=PERSON_WAVE.names)
    return frame.assign(anchor="start", due_date=pd.Timestamp("2026-01-05"))


def test_capability_long_groups_waves_by_nominal_month() -> None:
    long = models.capability_long(person_wave(20))
    assert len(long) == 60
    assert sorted(long["wave_months"].unique()) == [0.0, 3.0, 6.0]


def test_mixed_model_table_and_model_trajectories() -> None:
    pw = person_wave(120)
    trajectories = pd.DataFrame(
        {
            "trajectory_id": range(1, 121),
            "contact_minutes_per_month": np.random.default_rng(4).gamma(4, 10, 120),
            "baseline_match_quality": np.random.default_rng(5).normal(3.5, 0.7, 120),
        }
    )
    frame = models.employability_frame(pw, trajectories)
    assert {"alliance_within", "alliance_between", "intensity", "match"} <= set(frame.columns)
    assert frame.groupby("trajectory_id")["alliance_within"].sum().abs().max() < 1e-9
    model = models.employability_model(frame)
    result = model.result
    assert result is not None and result.converged
    fixed = result.fixed.set_index("term")
    assert fixed.loc["alliance_between", "estimate"] > 0.3
    assert "employee" in set(result.random["component"])
    predicted = model.predicted(language="en")
    assert list(predicted["group"].unique()) == ["low", "middle", "high"]
    at0 = predicted[predicted["months"] == 0].set_index("group")["estimate"]
    assert at0["low"] < at0["middle"] < at0["high"]
    assert (predicted["lower"] < predicted["estimate"]).all()
    with pytest.raises(
        TooLittleData, match="2 employees with at least 2 observations, at least 5 needed"
    ):
        models.employability_model(frame.head(5))


def test_viewer_trajectory_figure_has_no_lines_and_no_small_waves() -> None:
    long = models.capability_long(person_wave(30))
    # keep only 5 answers at 6 months
    long = long[(long["wave_months"] != 6) | (long["trajectory_id"] <= 5)]
    fig = views.trajectory_view_figure(long, individual=True, rows_allowed=False, min_cell=10)
    assert not [tr for tr in fig.data if tr.name == "individual"]
    means = [tr for tr in fig.data if tr.name != "individual"]
    assert sorted(means[0].x) == [0.0, 3.0]
    # the viewer's hover carries no exact number of answers
    assert list(means[0].customdata) == ["≈ 30", "≈ 30"]
    full = views.trajectory_view_figure(long, individual=True)
    assert len([tr for tr in full.data if tr.name == "individual"]) == 30
    some = views.trajectory_view_figure(long, individual=True, lines={1, 2, 3})
    assert [tr.name for tr in some.data][:3] == ["individual"] * 3
    assert len([tr for tr in some.data if tr.name == "individual"]) == 3
    # the means still use everyone
    assert max(some.data[3].customdata) == 30


# -- data quality -------------------------------------------------------------------------------


def items_frame(t0: int = 12) -> pd.DataFrame:
    """Item answers: ``t0`` responses at T0 (three items, one skipped twice), 4 at T1."""
    rng = np.random.default_rng(6)
    rows = []
    rid = 0
    for wave, n in (("T0", t0), ("T1", 4)):
        for i in range(n):
            rid += 1
            base = rng.integers(1, 6)
            for item in ("a", "b", "c"):
                if item == "c" and wave == "T0" and i < 2:
                    continue
                value = float(np.clip(base + rng.integers(-1, 2), 1, 5))
                rows.append((rid, rid, wave, "employee", "inst", item, value))
    return pd.DataFrame(
        rows,
        columns=[
            "response_id",
            "trajectory_id",
            "wave",
            "respondent",
            "instrument_id",
            "item_id",
            "value",
        ],
    )


def test_alpha_table_matches_reliability_and_suppresses_for_viewers() -> None:
    items = items_frame(t0=32)
    table = views.alpha_table(items, {"inst": {"scale": ["a", "b", "c"]}})
    assert list(table["wave"]) == ["T0", "T1"]
    t0 = items[items["wave"] == "T0"].pivot(index="response_id", columns="item_id", values="value")
    direct = reliability.cronbach_alpha(t0, ["a", "b", "c"])
    assert table["alpha"].iloc[0] == pytest.approx(direct["alpha"].iloc[0])
    assert table["n"].tolist() == [30, 4]  # listwise: two T0 responses skipped c
    # 4 responses are too few for an alpha: the row stays, with n, but without an estimate
    assert table[["alpha", "lower", "upper"]].iloc[1].isna().all()
    viewer = views.alpha_table(
        items, {"inst": {"scale": ["a", "b", "c"]}}, rows_allowed=False, min_cell=10
    )
    assert viewer["wave"].tolist() == ["T0"]


def test_missingness_counts_unanswered_items() -> None:
    table = views.missingness_table(items_frame(), {"inst": ["a", "b", "c", "d"]})
    row = table.set_index(["wave", "item_id"])
    assert row.loc[("T0", "c"), "missing"] == 2
    assert row.loc[("T0", "c"), "missing_share"] == pytest.approx(2 / 12)
    assert row.loc[("T0", "d"), "missing_share"] == 1.0  # never answered
    assert row.loc[("T0", "a"), "missing"] == 0
    assert table["missing_share"].is_monotonic_decreasing


def test_timeliness_counts_late_answers_and_their_delay() -> None:
    due = pd.Timestamp("2026-03-01")
    base = {"jobcoach_id": 1, "months": 3.0, "wave_index": 1, "instrument_id": "i",
            "score": None, "value": np.nan, "due_date": due}  # fmt: skip
    rows = [
        {**base, "trajectory_id": 1, "wave": "T1", "respondent": "employee",
         "status": "on_time", "submitted_at": due + pd.Timedelta(days=2)},
        {**base, "trajectory_id": 2, "wave": "T1", "respondent": "employee",
         "status": "late", "submitted_at": due + pd.Timedelta(days=10, hours=5)},
        {**base, "trajectory_id": 3, "wave": "T1", "respondent": "employee",
         "status": "late", "submitted_at": due + pd.Timedelta(days=20)},
        {**base, "trajectory_id": 4, "wave": "T1", "respondent": "employee",
         "status": "missing", "submitted_at": pd.NaT},
    ]  # fmt: skip
    table = views.timeliness_table(pd.DataFrame(rows))
    row = table.iloc[0]
    assert (row["responded"], row["on_time"], row["late"], row["missing"]) == (3, 1, 2, 1)
    assert row["late_share"] == pytest.approx(2 / 3)
    assert row["median_days_after_due"] == 15.0
    assert views.timeliness_table(pd.DataFrame(rows), rows_allowed=False).empty


# -- the job runner -----------------------------------------------------------------------------


def key(name: str = "a", **params: object) -> JobKey:
    return JobKey.make("v1", {"study": 1}, name, **params)


def test_runner_computes_once_per_key_and_caches() -> None:
    runner = JobRunner(max_workers=2)
    calls = []

    def job(progress):
        calls.append(1)
        return 42

    first = runner.submit(key(), job)
    assert runner.wait(key(), 5).result == 42
    again = runner.submit(key(), job)
    assert again.state == DONE and again.result == 42
    assert len(calls) == 1 and runner.computed == 1
    assert first.key == again.key
    runner.submit(key(x=1), job)
    runner.wait(key(x=1), 5)
    assert len(calls) == 2
    runner.shutdown()


def test_runner_reports_progress_and_never_blocks_status() -> None:
    runner = JobRunner(max_workers=1)
    release = threading.Event()
    reached = threading.Event()

    def slow(progress):
        progress(0.4, "mixed_model", partial={"first": 1})
        reached.set()
        release.wait(10)
        return "done"

    runner.submit(key("slow"), slow)
    assert reached.wait(5)
    status = runner.status(key("slow"))
    # the answer came while the job still waits for its release: status never waits for a job
    assert not release.is_set()
    assert status.state == RUNNING and status.progress == 0.4
    assert status.message == "mixed_model" and status.partial == {"first": 1}
    # a second submit of the same key while it runs does not start another computation
    assert runner.submit(key("slow"), slow).state == RUNNING
    # ... and another analysis queues behind it without anyone waiting
    queued = runner.submit(key("other"), lambda p: 1)
    assert queued.state in ("queued", RUNNING)
    release.set()
    assert runner.wait(key("slow"), 5).result == "done"
    assert runner.wait(key("other"), 5).result == 1
    runner.shutdown()


def test_runner_reports_failure_and_retries() -> None:
    runner = JobRunner()
    attempts = []

    def flaky(progress):
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("singular matrix")
        return "ok"

    runner.submit(key("f"), flaky)
    failed = runner.wait(key("f"), 5)
    assert failed.state == FAILED and "singular matrix" in failed.error
    runner.submit(key("f"), flaky)
    assert runner.wait(key("f"), 5).result == "ok"
    runner.shutdown()


def test_runner_evicts_least_recently_used() -> None:
    runner = JobRunner(cache_size=2)
    for name in ("a", "b"):
        runner.submit(key(name), lambda p, n=name: n)
        runner.wait(key(name), 5)
    runner.submit(key("a"), lambda p: "again")  # touch a
    runner.submit(key("c"), lambda p: "c")
    runner.wait(key("c"), 5)
    assert runner.status(key("b")) is None
    assert runner.result(key("a")) == "a"
    runner.shutdown()


def test_disk_cache_survives_a_new_runner(tmp_path: Path) -> None:
    first = JobRunner(cache_dir=tmp_path)
    first.submit(key("d"), lambda p: {"table": pd.DataFrame({"x": [1, 2]})})
    first.wait(key("d"), 5)
    first.shutdown()
    second = JobRunner(cache_dir=tmp_path)
    status = second.submit(key("d"), lambda p: pytest.fail("recomputed"))
    assert status.state == DONE and status.cached
    assert status.result["table"]["x"].tolist() == [1, 2]
    assert second.computed == 0
    second.shutdown()


# -- callbacks through the web application ------------------------------------------------------

SURVIVAL_OUT = [
    ("survival-km", "figure"),
    ("survival-logrank", "children"),
    ("survival-cox", "children"),
    ("survival-tv", "children"),
    ("survival-status", "children"),
    ("survival-poll", "disabled"),
]


def survival_call(client, by="none", methods=None, tick=None):
    return dash_post(
        client,
        SURVIVAL_OUT,
        [
            ("survival-stratify", "value", by),
            ("survival-coach-types", "value", None),
            ("survival-methods", "value", methods),
            ("survival-poll", "n_intervals", tick),
        ],
    )


def until_done(call, *args, **kw) -> dict:
    """Post the callback (as the page's interval would) until the job is done."""
    for tick in range(60):
        resp = call(*args, tick=tick, **kw)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        body = resp.get_json()["response"]
        if any(v.get("disabled") is True for v in body.values()):
            return body
        time.sleep(0.25)
    raise AssertionError("the job did not finish")


def footnote_n(body: dict, status_id: str) -> int:
    text = json.dumps(body[status_id])
    start = text.index("n = ") + 4
    return int(text[start:].split(" ")[0])


@pytest.fixture
def rich_env(db: Database) -> Env:
    """30 trajectories with answers, contacts and ends; logins as in the dashboard fixtures."""
    as_of = dt.date(2026, 9, 30)
    cohort = run_plans(db.sessions, random_plans(30, seed=5), as_of=as_of, n_coaches=3,
                       spacing_days=3)  # fmt: skip
    clock = SimulatedClock(dt.datetime(2026, 9, 30, 9, tzinfo=dt.UTC))
    container = make_container(db, clock)
    add_logins(container, cohort, clock.now())
    from dashboard.app import create_app

    return Env(create_app(container), container, cohort, clock)


def test_jobcoach_callback_sees_only_own_clients(rich_env: Env) -> None:
    researcher = until_done(survival_call, rich_env.login("researcher"))
    coach = until_done(survival_call, rich_env.login("coach1"))
    n_all = footnote_n(researcher, "survival-status")
    n_coach = footnote_n(coach, "survival-status")
    assert n_all == 30
    assert n_coach == 10  # trajectories 1, 4, 7, ... go to the first of three coaches
    # a crafted request cannot widen the scope: unknown filter values are ignored
    crafted = until_done(survival_call, rich_env.login("coach1"), methods=["ips", "x' OR 1=1"])
    assert footnote_n(crafted, "survival-status") == n_coach


def test_viewer_callback_is_suppressed(rich_env: Env) -> None:
    body = until_done(survival_call, rich_env.login("viewer"), by="method")
    figure = body["survival-km"]["figure"]
    # 30 people give a viewer no curve at all, or curves without small numbers at risk
    texts = [str(v) for tr in figure.get("data", []) if str(tr.get("name", "")).endswith(" at risk")
             for v in tr.get("text", [])]  # fmt: skip
    assert not any(v.isdigit() and int(v) < 10 for v in texts)
    status = json.dumps(body["survival-status"])
    assert "10" in status  # the note about the minimum cell size


def test_jobcoach_may_not_open_quality(rich_env: Env) -> None:
    client = rich_env.login("coach1")
    page = route_to(client, "/quality")
    assert "quality-alpha" not in page.get_data(as_text=True)
    resp = dash_post(
        client,
        [
            ("quality-alpha", "children"),
            ("quality-missing", "children"),
            ("quality-late", "children"),
            ("quality-status", "children"),
            ("quality-poll", "disabled"),
        ],
        [
            ("quality-coach-types", "value", None),
            ("quality-methods", "value", None),
            ("quality-poll", "n_intervals", None),
        ],
    )
    assert resp.status_code in (401, 403)


def test_pages_render_for_their_roles(rich_env: Env) -> None:
    for user, pages in {
        "researcher": ("/survival", "/trajectories", "/quality"),
        "viewer": ("/survival", "/trajectories", "/quality"),
        "coach1": ("/survival", "/trajectories"),
    }.items():
        client = rich_env.login(user)
        for path in pages:
            resp = route_to(client, path)
            assert resp.status_code == 200
            text = resp.get_data(as_text=True)
            assert "-status" in text, (user, path)


def test_filters_from_callback_inputs_keep_only_known_values() -> None:
    from dashboard.analysis_page import parse_filters

    got = parse_filters(["internal", "bogus", 3], ["ips", "eim", "x' OR 1=1", None])
    assert got.coach_types == ("internal",)
    assert got.methods == ("eim", "ips")
    assert parse_filters("external", {"a": 1}).coach_types == ("external",)
    assert parse_filters(None, None).methods == ()


# -- too little data ------------------------------------------------------------------------------


def test_model_figure_keeps_predictions_on_the_capability_scale() -> None:
    predicted = pd.DataFrame(
        {
            "group": ["laag", "laag", "hoog", "hoog"],
            "months": [0.0, 6.0, 0.0, 6.0],
            "estimate": [3.0, 4.0, 5.0, 9.0],
            "lower": [-34.0, 3.5, 4.5, 8.0],
            "upper": [42.0, 4.5, 5.5, 10.0],
        }
    )
    fig = views.model_figure(predicted)
    axis = fig.layout.yaxis.range
    assert axis[0] <= 0 and axis[1] >= 7 and axis[1] - axis[0] < 7.5
    for trace in (tr for tr in fig.data if tr.error_y.array is not None):
        y = np.asarray(trace.y, dtype=float)
        drawn = np.isfinite(y)
        assert ((y - np.asarray(trace.error_y.arrayminus))[drawn] >= 0).all()
        assert ((y + np.asarray(trace.error_y.array))[drawn] <= 7).all()
    high = next(tr for tr in fig.data if tr.name == "hoog")
    assert np.isnan(high.y[1])  # an estimate of 9 capabilities is not drawn
    marks = [tr for tr in fig.data if tr.name == "interval afgekapt aan de rand van de as"]
    assert sorted(float(v) for tr in marks for v in tr.y) == [0.0, 7.0, 7.0]


TRAJECTORIES_OUT = [
    ("trajectories-means", "figure"),
    ("trajectories-model", "children"),
    ("trajectories-status", "children"),
    ("trajectories-poll", "disabled"),
]


def trajectories_call(client, tick=None):
    return dash_post(
        client,
        TRAJECTORIES_OUT,
        [
            ("trajectories-individual", "value", ["on"]),
            ("trajectories-coach-types", "value", None),
            ("trajectories-methods", "value", None),
            ("trajectories-poll", "n_intervals", tick),
        ],
    )


@pytest.fixture
def three_clients_env(db: Database) -> Env:
    """9 trajectories over three jobcoaches: each jobcoach has 3 clients."""
    as_of = dt.date(2026, 9, 30)
    cohort = run_plans(db.sessions, random_plans(9, seed=5), as_of=as_of, n_coaches=3,
                       spacing_days=3)  # fmt: skip
    clock = SimulatedClock(dt.datetime(2026, 9, 30, 9, tzinfo=dt.UTC))
    container = make_container(db, clock)
    add_logins(container, cohort, clock.now())
    from dashboard.app import create_app

    return Env(create_app(container), container, cohort, clock)


def test_jobcoach_with_three_clients_gets_reasons_not_estimates(three_clients_env: Env) -> None:
    client = three_clients_env.login("coach1")
    body = until_done(survival_call, client)
    assert footnote_n(body, "survival-status") == 3
    for part in ("survival-cox", "survival-tv"):
        text = json.dumps(body[part], ensure_ascii=False)
        assert "Te weinig gegevens voor een Cox-model" in text, text
        assert "minstens" in text and "nodig voor" in text
        # no hazard ratio, no table, no forest plot
        assert "hr_upper" not in text and '"hr"' not in text
        assert f"{part}-table" not in text and f"{part}-forest" not in text
    # three people never make a risk set of five: the curves are left out, and the page says so
    figure = body["survival-km"]["figure"]
    assert not [tr for tr in figure["data"] if tr.get("mode") == "lines"]
    assert "Curves stoppen waar minder dan 5 personen at risk zijn" in json.dumps(
        body["survival-status"], ensure_ascii=False
    )
    traj = until_done(trajectories_call, client)
    model = json.dumps(traj["trajectories-model"], ensure_ascii=False)
    assert "Te weinig gegevens voor een mixed model: " in model, model
    assert "trajectories-fixed-table" not in model and "trajectories-predicted" not in model
    # the researcher, with all nine, is refused the Cox model too: 3 covariates need 30 events
    researcher = until_done(survival_call, three_clients_env.login("researcher"))
    assert "Te weinig gegevens voor een Cox-model" in json.dumps(
        researcher["survival-cox"], ensure_ascii=False
    )
