"""Property test: random bad frames fed to every public survival function are refused in words.

Each example takes a valid frame, spoils it one way (text or infinities where numbers belong,
negative or missing durations, a missing column, one level, no rows, no events, 1/2 event
coding) and checks that the function raises BadInput naming the spoilt column, or
TooLittleData: never a result, never a bare library error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import survival
from analysis.minimum_data import Minimums, TooLittleData
from tests.analysis.bad_frames import SETTINGS, assert_refused

FEW = Minimums(events_per_covariate=1, logrank_events=1)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(6, 30))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    event = (rng.random(n) < 0.6).astype(int)
    event[:2] = [1, 0]
    frame = pd.DataFrame(
        {
            "duration_days": rng.integers(1, 400, n).astype(float),
            "event": event,
            "klik": rng.normal(3.5, 0.7, n),
            "coach_type": np.where(np.arange(n) % 2 == 0, "internal", "external"),
            "end_type": np.where(event == 1, "job_loss", "censored"),
        }
    )
    frame["trajectory_id"] = np.arange(n)
    frame["start"] = 0.0
    return frame


SPOILS = {
    "text": lambda f, c: f.assign(**{c: f[c].astype(str)}),
    "negative": lambda f, c: f.assign(**{c: np.where(np.arange(len(f)) == 1, -5.0, f[c])}),
    "infinite": lambda f, c: f.assign(**{c: np.where(np.arange(len(f)) == 0, np.inf, f[c])}),
    "all_missing": lambda f, c: f.assign(**{c: np.nan}),
    "missing_column": lambda f, c: f.drop(columns=[c]),
    "one_level": lambda f, c: f.assign(**{c: f[c].iloc[0]}),
    "coded_1_2": lambda f, c: f.assign(**{c: f[c] + 1}),
    "dates": lambda f, c: f.assign(**{c: pd.Timestamp("2024-01-01")}),
}


def spoil(frame: pd.DataFrame, how: str, column: str) -> pd.DataFrame:
    return SPOILS[how](frame, column)


def _km(f):
    return survival.kaplan_meier(f, "duration_days", "event", by="coach_type")


def _median(f):
    return survival.median_survival(f, "duration_days", "event", by="coach_type")


def _logrank(f):
    return survival.logrank(f, "duration_days", "event", by="coach_type", rules=FEW)


def _cox(f, ties="efron"):
    return survival.cox(f, "duration_days", "event", ["klik", "coach_type"], ties=ties, rules=FEW)


def _cox_tv(f, ties="efron"):
    return survival.cox_time_varying(
        f, "trajectory_id", "start", "duration_days", "event", ["klik"], ties=ties, rules=FEW
    )


def _cif(f):
    return survival.cumulative_incidence(f, "duration_days", "end_type", of="job_loss")


# (function, spoil, column): every pair here is bad input for that function
DURATION_SPOILS = [
    (how, "duration_days") for how in ("text", "negative", "infinite", "all_missing", "dates")
]
EVENT_SPOILS = [("coded_1_2", "event"), ("text", "event"), ("all_missing", "event")]
MISSING = [("missing_column", c) for c in ("duration_days", "event", "coach_type")]
CASES = {
    "kaplan_meier": (_km, DURATION_SPOILS + EVENT_SPOILS + MISSING),
    "median_survival": (_median, DURATION_SPOILS + EVENT_SPOILS + MISSING),
    "logrank": (_logrank, [*DURATION_SPOILS, *EVENT_SPOILS, *MISSING, ("one_level", "coach_type")]),
    "cox": (
        _cox,
        [
            *DURATION_SPOILS,
            *EVENT_SPOILS,
            *MISSING,
            ("one_level", "coach_type"),
            ("one_level", "klik"),
            ("text", "klik"),
            ("infinite", "klik"),
            ("dates", "klik"),
            ("missing_column", "klik"),
        ],
    ),
    "cox_time_varying": (
        _cox_tv,
        [
            *[(h, c) for h, c in DURATION_SPOILS if h != "negative"],
            *EVENT_SPOILS,
            ("one_level", "klik"),
            ("text", "klik"),
            ("text", "start"),
            ("missing_column", "trajectory_id"),
        ],
    ),
    "cumulative_incidence": (
        _cif,
        [*DURATION_SPOILS, ("missing_column", "end_type"), ("one_level", "end_type")],
    ),
}
NAMED = {"all_missing"}  # the message lists every column needed; checked for non-empty only


@pytest.mark.parametrize("name", list(CASES))
@settings(**SETTINGS)
@given(frame=frames(), data=st.data())
def test_spoilt_frames_are_refused(name, frame, data):
    function, spoils = CASES[name]
    how, column = data.draw(st.sampled_from(spoils), label="spoil")
    bad = spoil(frame, how, column)
    if how == "one_level" and column == "end_type":
        bad = bad.assign(end_type="censored")  # the end reason asked for matches no row
    if name.startswith("cox") and data.draw(st.booleans(), label="breslow"):
        assert_refused(lambda: function(bad, ties="breslow"), None if how in NAMED else column)
    else:
        assert_refused(lambda: function(bad), None if how in NAMED else column)


@pytest.mark.parametrize("name", ["median_survival", "logrank", "cox", "cox_time_varying",
                                  "cumulative_incidence"])  # fmt: skip
@settings(**SETTINGS)
@given(frame=frames(), keep=st.integers(0, 0))
def test_empty_frames_are_refused(name, frame, keep):
    function, _ = CASES[name]
    assert_refused(lambda: function(frame.iloc[:keep]))


@pytest.mark.parametrize("name", ["logrank", "cox", "cox_time_varying"])
@settings(**SETTINGS)
@given(frame=frames())
def test_all_censored_is_too_little_data(name, frame):
    function, _ = CASES[name]
    censored = frame.assign(event=0, end_type="censored")
    with pytest.raises(TooLittleData, match="0 events"):
        function(censored)


@settings(**SETTINGS)
@given(frame=frames(), data=st.data())
def test_survival_at_refuses_bad_curves_and_times(frame, data):
    curves = _km(frame)
    kind = data.draw(st.sampled_from(["missing", "text", "times"]), label="kind")
    if kind == "missing":
        column = data.draw(st.sampled_from(["time", "survival", "n", "n_events"]))
        assert_refused(lambda: survival.survival_at(curves.drop(columns=[column]), [10]), column)
    elif kind == "text":
        column = data.draw(st.sampled_from(["time", "survival", "n"]))
        bad = curves.assign(**{column: curves[column].astype(str)})
        assert_refused(lambda: survival.survival_at(bad, [10]), column)
    else:
        times = data.draw(
            st.sampled_from([["soon"], [np.nan], [-1.0], [np.inf], "10", [None], [[1, 2]]])
        )
        assert_refused(lambda: survival.survival_at(curves, times))


def test_valid_edge_cases_still_answer():
    """What is not bad input keeps its documented answer."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": rng.integers(1, 50, 20).astype(float), "e": 0})
    curves = survival.kaplan_meier(frame, "t", "e")  # no events: S stays 1
    assert (curves["survival"] == 1).all() and (curves["se"] == 0).all()
    medians = survival.median_survival(frame, "t", "e")
    assert np.isnan(medians["median"].iloc[0])  # not reached, R's NA
    assert survival.kaplan_meier(frame.iloc[:0], "t", "e").empty
