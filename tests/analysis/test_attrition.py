from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import attrition
from tests.analysis.bad_frames import assert_refused


def _pw(statuses: dict[int, list[str]]) -> pd.DataFrame:
    rows = []
    months = [0.0, 3.0, 6.0, 12.0]
    for traj, seq in statuses.items():
        for i, status in enumerate(seq):
            for score in ("klik", "capability_count"):
                rows.append(
                    (
                        traj,
                        7,
                        f"T{i}",
                        i,
                        months[i],
                        "employee",
                        "emp",
                        status,
                        pd.NaT,
                        score,
                        1.0 if status in ("on_time", "late") else np.nan,
                    )
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            "trajectory_id",
            "jobcoach_id",
            "wave",
            "wave_index",
            "months",
            "respondent",
            "instrument_id",
            "status",
            "submitted_at",
            "score",
            "value",
        ],
    )
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"])
    return frame


def test_response_rates_count_invitations_once():
    pw = _pw(
        {
            1: ["on_time", "late", "missing", "open"],
            2: ["on_time", "missing", "cancelled", "cancelled"],
            3: ["missing", "on_time", "on_time", "open"],
        }
    )
    rates = attrition.response_rates(pw).set_index("wave")
    assert rates.loc["T0", "invited"] == 3 and rates.loc["T0", "responded"] == 2
    assert rates.loc["T0", "rate"] == pytest.approx(2 / 3)
    assert rates.loc["T2", "invited"] == 2 and rates.loc["T2", "cancelled"] == 1
    assert rates.loc["T3", "invited"] == 0 and np.isnan(rates.loc["T3", "rate"])
    assert rates.loc["T3", "open"] == 2
    assert rates["wave_index"].tolist() == [0, 1, 2, 3]


def test_time_to_dropout_rules():
    pw = _pw(
        {
            1: ["on_time", "late", "missing", "missing"],  # drops out at T2
            2: ["on_time", "missing", "on_time", "on_time"],  # never drops out
            3: ["missing", "missing", "missing", "missing"],  # never answered
            4: ["on_time", "on_time", "cancelled", "cancelled"],  # ended: censored at T1
            5: ["on_time", "missing", "open", "open"],  # missed the last closed wave
        }
    )
    table = attrition.time_to_dropout(pw).set_index("trajectory_id")
    assert table.loc[1, ["dropout_wave", "months", "dropped_out"]].tolist() == ["T2", 6.0, 1]
    assert table.loc[2, "dropped_out"] == 0 and table.loc[2, "months"] == 12.0
    assert table.loc[3, ["dropout_wave", "months"]].tolist() == ["T0", 0.0]
    assert table.loc[3, "last_wave_responded"] is None
    assert table.loc[4, ["dropped_out", "months", "waves_closed"]].tolist() == [0, 3.0, 2]
    assert table.loc[5, ["dropout_wave", "dropped_out"]].tolist() == ["T1", 1]


def test_who_stops_recovers_a_predictor(trajectories, person_wave):
    # make dropout depend on klik: the lower the klik, the likelier an employee stops after T0
    rng = np.random.default_rng(8)
    z = (trajectories["baseline_klik"] - 3.5) / 0.7
    stops = rng.random(len(trajectories)) < 1 / (1 + np.exp(1.5 * z))
    low = trajectories.loc[stops, "trajectory_id"]
    pw = person_wave.copy()
    stop = pw["trajectory_id"].isin(low) & (pw["wave_index"] > 0) & (pw["respondent"] == "employee")
    pw.loc[stop, "status"] = "missing"
    keep = ~pw["trajectory_id"].isin(low) & (pw["respondent"] == "employee")
    pw.loc[keep, "status"] = "on_time"
    table = attrition.who_stops(pw, trajectories, ["baseline_klik", "coach_type"]).set_index("term")
    assert table.loc["baseline_klik", "estimate"] < 0.5
    assert table.loc["baseline_klik", "p"] < 0.01
    assert "coach_type=internal" in table.index
    assert (table["n"] == len(trajectories)).all()
    assert (table["lower"] < table["estimate"]).all()


def test_who_stops_needs_covariates(trajectories, person_wave):
    with pytest.raises(ValueError, match="covariate"):
        attrition.who_stops(person_wave, trajectories, [])


# --- bad frames: refused in words, never answered, no bare library error ----------------------


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from analysis.validation import BadInput  # noqa: E402

STATUSES = ["on_time", "late", "missing", "open", "cancelled"]


@st.composite
def person_waves(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 8))
    statuses = {
        t: draw(st.lists(st.sampled_from(STATUSES), min_size=4, max_size=4)) for t in range(1, n)
    }
    return _pw(statuses)


PW_SPOILS = {
    "missing_column": lambda f, c: f.drop(columns=[c]),
    "text": lambda f, c: f.assign(**{c: f[c].astype(str) + "x"}),
    "unknown_status": lambda f, c: f.assign(status="answered"),
}


@settings(max_examples=50, deadline=None)
@given(pw=person_waves(), data=st.data())
def test_attrition_functions_refuse_spoilt_person_wave(pw, data):
    how = data.draw(st.sampled_from(list(PW_SPOILS)))
    column = data.draw(st.sampled_from(["trajectory_id", "wave_index", "months", "status"]))
    if how == "unknown_status":
        column = "status"
    bad = PW_SPOILS[how](pw, column)
    trajectories = pd.DataFrame({"trajectory_id": pw["trajectory_id"].unique()}).assign(
        klik=lambda f: np.linspace(2, 5, len(f))
    )
    calls = {
        "invitations": lambda: attrition.invitations(bad),
        "response_rates": lambda: attrition.response_rates(bad),
        "time_to_dropout": lambda: attrition.time_to_dropout(bad),
        "who_stops": lambda: attrition.who_stops(bad, trajectories, ["klik"]),
    }
    name = data.draw(st.sampled_from(list(calls)))
    assert_refused(calls[name], column)


@settings(max_examples=50, deadline=None)
@given(pw=person_waves(), data=st.data())
def test_who_stops_refuses_spoilt_covariates(pw, data):
    ids = pw["trajectory_id"].unique()
    trajectories = pd.DataFrame(
        {"trajectory_id": ids, "klik": np.linspace(2, 5, len(ids)), "coach": "internal"}
    )
    how = data.draw(
        st.sampled_from(
            [
                "missing",
                "dates",
                "one_level",
                "text_ids",
                "empty",
                "infinite",
                "no_covariates",
                "respondent",
            ]
        )
    )
    covs, column, respondent = ["klik"], None, "employee"
    if how == "missing":
        covs, column = ["klik", "nope"], "nope"
    elif how == "dates":
        trajectories["klik"], column = pd.Timestamp("2024-01-01"), "klik"
    elif how == "one_level":
        covs = ["klik", "coach"]
    elif how == "text_ids":
        trajectories["trajectory_id"] = trajectories["trajectory_id"].astype(str)
    elif how == "empty":
        trajectories = trajectories.iloc[:0]
    elif how == "infinite":
        trajectories.loc[trajectories.index[0], "klik"], column = np.inf, "klik"
    elif how == "no_covariates":
        covs = []
    else:
        respondent, column = "manager", "respondent"
    assert_refused(
        lambda: attrition.who_stops(pw, trajectories, covs, respondent=respondent), column
    )


def test_empty_person_wave_gives_empty_tables():
    empty = _pw({1: ["on_time"] * 4}).iloc[:0]
    assert attrition.invitations(empty).empty
    assert attrition.time_to_dropout(empty).empty
    with pytest.raises(BadInput):
        attrition.who_stops(empty, pd.DataFrame({"trajectory_id": [1], "klik": [3.0]}), ["klik"])
