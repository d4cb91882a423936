"""Read models on SQLite and PostgreSQL, against a cohort built through the services.

The cohort is ``tests.analysis_support.known_plans()``; every expected number below is derived
by hand from that plan (starts 5/12/19/26 January 2026, looked at on 15 May 2026).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.frames import (
    CONTACTS,
    COUNTING_PROCESS,
    PERSON_WAVE,
    RESPONSE_ITEMS,
    SURVIVAL,
    TRAJECTORIES,
    validate_frame,
)
from study import read_models, services
from study.access import CohortFilter, trajectory_scope
from study.report_data import FRAME_NAMES, analysis_frames, data_version
from tests.analysis_support import KNOWN_AS_OF, known_plans, run_plans
from tests.conftest import Database
from tests.factory import Cohort

DPM = 30.4375


@pytest.fixture
def known(any_db: Database) -> tuple[Database, Cohort, dict[str, pd.DataFrame]]:
    cohort = run_plans(any_db.sessions, known_plans(), as_of=KNOWN_AS_OF)
    with any_db.read_sessions() as s:
        frames = analysis_frames(s, trajectory_scope(cohort.study_id), as_of=KNOWN_AS_OF)
    return any_db, cohort, frames


def by_id(frame: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Rows indexed 1..4 in plan order, whatever ids the database gave."""
    order = {tid: i + 1 for i, tid in enumerate(cohort.trajectory_ids)}
    return frame.assign(k=frame["trajectory_id"].map(order)).set_index("k").sort_index()


def test_every_frame_meets_its_contract(known) -> None:
    _, _, frames = known
    assert tuple(frames) == FRAME_NAMES
    specs = [TRAJECTORIES, SURVIVAL, PERSON_WAVE, CONTACTS, COUNTING_PROCESS, RESPONSE_ITEMS]
    for name, spec in zip(FRAME_NAMES, specs, strict=True):
        validate_frame(frames[name], spec)


def test_trajectories_frame_baseline_and_intensity(known) -> None:
    _, cohort, frames = known
    t = by_id(frames["trajectories"], cohort)
    assert len(t) == 4
    assert list(t["start_date"].dt.date) == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 19),
        dt.date(2026, 1, 26),
    ]
    assert t.loc[2, "end_reason"] == "job_loss"
    assert t.loc[3, "end_reason"] == "working_independently"
    assert pd.isna(t.loc[1, "end_reason"]) and pd.isna(t.loc[4, "end_date"])
    # employee T0 answers: all 4s, all 5s, none, all 3s
    np.testing.assert_allclose(t["baseline_klik"], [4, 5, np.nan, 3])
    np.testing.assert_allclose(t["baseline_alliance"], [4, 5, np.nan, 3])
    np.testing.assert_allclose(t["baseline_match_quality"], [4, 5, np.nan, 3])
    # a value is a capability when important, enabled and achieved are all >= 4
    np.testing.assert_allclose(t["baseline_capability_count"], [7, 7, np.nan, 0])
    assert list(t["n_contacts"]) == [2, 1, 0, 1]
    # 1: 90 min within the first three months, observed three full months -> 30 per month
    # 2: 45 min, observed 48 days; 3: none; 4: its only contact falls after three months
    np.testing.assert_allclose(
        t["contact_minutes_per_month"], [30.0, 45 / (48 / DPM), 0.0, 0.0], rtol=1e-9
    )
    assert list(t["jobcoach_id"]) == [cohort.jobcoach_ids[i % 2] for i in range(4)]
    assert set(t["age_at_start"]) == {26}


def test_survival_frame_durations_events_and_end_types(known) -> None:
    _, cohort, frames = known
    s = by_id(frames["survival"], cohort)
    # open trajectories are censored on 15 May 2026
    np.testing.assert_allclose(s["duration_days"], [130, 48, 27, 109])
    assert list(s["event"]) == [0, 1, 0, 0]
    assert list(s["end_type"]) == ["censored", "job_loss", "working_independently", "censored"]


def test_person_wave_statuses_and_scores(known) -> None:
    _, cohort, frames = known
    pw = by_id(frames["person_wave"], cohort).reset_index()
    inv = pw.drop_duplicates(["k", "wave", "respondent"])
    status = {(r.k, r.wave, r.respondent): r.status for r in inv.itertuples()}
    # T0 opens on the start day; T1 (3 months) opens 7 days before its due date
    assert status[(1, "T0", "employee")] == "on_time"
    assert status[(1, "T1", "employee")] == "late"  # 15 days after the due date
    assert status[(1, "T0", "jobcoach")] == "on_time"
    assert status[(1, "T0", "employer")] == "missing"
    assert status[(2, "T0", "employee")] == "on_time"  # two days late is within the grace
    assert status[(3, "T0", "employee")] == "missing"
    # trajectory 4's T1 is due 26 April, closes 24 May: still open on 15 May
    assert status[(4, "T1", "employee")] == "open"
    # T2 (6 months) has opened for nobody by 15 May
    assert "T2" not in set(pw["wave"])
    assert len(inv) == 4 * 2 * 3  # T0 and T1 for three roles, four trajectories
    klik = pw[(pw["respondent"] == "employee") & (pw["score"] == "klik")]
    got = {(r.k, r.wave): r.value for r in klik.itertuples()}
    assert got == {(1, "T0"): 4.0, (1, "T1"): 2.0, (2, "T0"): 5.0, (4, "T0"): 3.0}
    t1 = pw[(pw["k"] == 1) & (pw["wave"] == "T1")]
    np.testing.assert_allclose(t1["months"].unique(), [90 / DPM])
    coach = pw[(pw["k"] == 1) & (pw["respondent"] == "jobcoach") & (pw["wave"] == "T0")]
    # all 5s, but match_04 is reverse-keyed: match quality = mean(5, 5, 5, 1)
    assert dict(zip(coach["score"], coach["value"], strict=True)) == {
        "coach_klik": 5.0,
        "match_quality": 4.0,
    }


def test_person_wave_without_scores_has_one_row_per_invitation(known) -> None:
    db, cohort, frames = known
    with db.read_sessions() as s:
        bare = read_models.person_wave_frame(
            s, trajectory_scope(cohort.study_id), as_of=KNOWN_AS_OF, scores=()
        )
    validate_frame(bare, PERSON_WAVE)
    keys = ["trajectory_id", "wave", "respondent", "instrument_id"]
    assert bare["score"].isna().all() and not bare.duplicated(keys).any()
    full = frames["person_wave"].drop_duplicates(keys)
    merged = bare.merge(full, on=keys, suffixes=("", "_full"), validate="one_to_one")
    assert len(merged) == len(bare) == len(full) == 24
    assert (merged["status"] == merged["status_full"]).all()


def test_contacts_frame(known) -> None:
    _, cohort, frames = known
    c = by_id(frames["contacts"], cohort)
    assert list(c.index) == [1, 1, 2, 4]
    np.testing.assert_allclose(c["minutes"], [60, 30, 45, 90])
    np.testing.assert_allclose(c["day"], [5, 46, 3, 100])


def test_counting_process_intervals_and_lags(known) -> None:
    _, cohort, frames = known
    cp = by_id(frames["counting_process"], cohort).reset_index()
    rows = [(r.k, r.start, r.stop, r.event) for r in cp.sort_values(["k", "start"]).itertuples()]
    # 1: cut at T1 (day 90), censored at 130; 2: job loss at 48, before T1; 3: one interval;
    # 4: cut at its T1 (day 90: 26 Jan + 3 months), censored at 109
    assert rows == [
        (1, 0.0, 90.0, 0),
        (1, 90.0, 130.0, 0),
        (2, 0.0, 48.0, 1),
        (3, 0.0, 27.0, 0),
        (4, 0.0, 90.0, 0),
        (4, 90.0, 109.0, 0),
    ]
    first = cp[cp["start"] == 0].set_index("k")
    np.testing.assert_allclose(first["klik_lag"], [4, 5, np.nan, 3])
    assert first["intensity_lag"].isna().all()
    second = cp[cp["start"] == 90].set_index("k")
    # klik measured at T1 (2 for trajectory 1; trajectory 4 has not answered yet)
    np.testing.assert_allclose(second["klik_lag"], [2, np.nan])
    # minutes in the first interval per month of it: 90 / (90 / 30.4375) and 0
    np.testing.assert_allclose(second["intensity_lag"], [DPM, 0.0])
    assert cp["event"].sum() == frames["survival"]["event"].sum()


def test_response_items_frame(known) -> None:
    _, _, frames = known
    items = frames["response_items"]
    # five submitted responses: employee T0 (1, 2, 4), employee T1 (1), jobcoach T0 (1)
    assert items["response_id"].nunique() == 5
    employee = items[items["respondent"] == "employee"]
    per_response = employee.groupby(["wave", "response_id"])["item_id"].nunique()
    # every employee answered every item of their wave's instrument: the baseline version at T0,
    # the follow-up version (two more questions on changes since last time) at T1
    assert set(per_response.loc["T0"]) == {46}
    assert set(per_response.loc["T1"]) == {48}
    coach = items[items["respondent"] == "jobcoach"]
    # all answered 5; match_04 is reverse-keyed (1-5), so it reads 1
    assert set(coach.loc[coach["item_id"] == "match_04", "value"]) == {1.0}
    assert coach.loc[coach["item_id"] == "match_04", "reversed"].all()
    assert set(coach.loc[coach["item_id"] == "match_01", "value"]) == {5.0}


def test_scope_limits_every_frame(known) -> None:
    database, cohort, _ = known
    coach = cohort.jobcoach_ids[0]
    with database.read_sessions() as s:
        frames = analysis_frames(
            s, trajectory_scope(cohort.study_id, jobcoach_id=coach), as_of=KNOWN_AS_OF
        )
    mine = {cohort.trajectory_ids[0], cohort.trajectory_ids[2]}
    for name, frame in frames.items():
        assert set(frame["trajectory_id"]) <= mine, name
    assert set(frames["trajectories"]["trajectory_id"]) == mine
    with database.read_sessions() as s:
        none = analysis_frames(
            s,
            trajectory_scope(cohort.study_id, filters=CohortFilter(methods=("eim",))),
            as_of=KNOWN_AS_OF,
        )
    for name, frame in none.items():
        assert frame.empty, name
        assert "trajectory_id" in frame.columns


def test_as_of_hides_the_future(known) -> None:
    database, cohort, _ = known
    early = dt.date(2026, 1, 20)
    with database.read_sessions() as s:
        frames = analysis_frames(s, trajectory_scope(cohort.study_id), as_of=early)
    surv = by_id(frames["survival"], cohort)
    # trajectory 4 starts after 20 January; the others are still open then
    assert list(surv.index) == [1, 2, 3]
    # ends and answers recorded after 20 January are not known then: all three are open
    np.testing.assert_allclose(surv["duration_days"], [15, 8, 1])
    assert list(surv["event"]) == [0, 0, 0]
    assert surv["end_type"].eq("censored").all()
    assert by_id(frames["trajectories"], cohort)["end_date"].isna().all()
    pw = by_id(frames["person_wave"], cohort).reset_index()
    assert set(pw["wave"]) == {"T0"}
    employee = pw[pw["respondent"] == "employee"].drop_duplicates("k").set_index("k")
    # 1 answered on 5 January, 2 on 14 January; 3 never, but its window was open on the 20th
    assert list(employee["status"]) == ["on_time", "on_time", "open"]
    assert not ((pw["submitted_at"] > pd.Timestamp(early) + pd.Timedelta(days=1)).any())


def test_data_version_changes_with_writes(known) -> None:
    database, cohort, _ = known
    with database.read_sessions() as s:
        before = data_version(s, cohort.study_id)
        again = data_version(s, cohort.study_id)
    assert before == again
    with database.sessions.begin() as s:
        services.record_contact(
            s,
            cohort.study_id,
            cohort.trajectory_ids[0],
            {
                "contact_date": dt.date(2026, 5, 1),
                "minutes": 20,
                "mode": "phone",
                "with_whom": "employee",
                "activity": "self_reliance",
            },
            actor="coach",
            at=dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC),
        )
    with database.read_sessions() as s:
        assert data_version(s, cohort.study_id) != before


def test_empty_scope_counting_process_and_survival() -> None:
    empty = read_models.survival_frame(TRAJECTORIES.empty(), as_of=KNOWN_AS_OF)
    assert empty.empty
    cp = read_models.counting_process_frame(empty, PERSON_WAVE.empty(), CONTACTS.empty())
    validate_frame(cp, COUNTING_PROCESS)
