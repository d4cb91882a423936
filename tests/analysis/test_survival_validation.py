"""Bad frames are refused at the door of the survival functions, in words naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import survival
from analysis.minimum_data import Minimums, TooLittleData
from analysis.validation import BadInput

FEW = Minimums(events_per_covariate=1, logrank_events=0)


def _frame(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    t = rng.exponential(np.exp(-0.5 * x)) + 0.01
    return pd.DataFrame(
        {
            "t": t.round(2),
            "e": (rng.random(n) < 0.7).astype(int),
            "x": x,
            "g": rng.choice(["a", "b"], n),
            "reason": rng.choice(["censored", "job_loss", "moved"], n),
        }
    )


def test_cox_one_level_text_covariate_does_not_vary():
    frame = _frame().assign(g="a")
    with pytest.raises(BadInput, match=r"column 'g' does not vary"):
        survival.cox(frame, "t", "e", ["x", "g"], rules=FEW)


def test_cox_constant_numeric_covariate_does_not_vary():
    with pytest.raises(BadInput, match=r"column 'x' does not vary"):
        survival.cox(_frame().assign(x=1.0), "t", "e", ["x"], rules=FEW)


def test_cox_collinear_covariates_are_named():
    frame = _frame().assign(y=lambda f: 2 * f["x"] + 1)
    with pytest.raises(BadInput, match=r"column 'y' is a linear combination"):
        survival.cox(frame, "t", "e", ["x", "y"], rules=FEW)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_all_censored_is_too_little_data(ties):
    frame = _frame().assign(e=0)
    with pytest.raises(TooLittleData, match="0 events"):
        survival.cox(frame, "t", "e", ["x"], ties=ties, rules=FEW)
    with pytest.raises(TooLittleData, match="0 events"):
        survival.logrank(frame, "t", "e", by="g", rules=FEW)


def test_logrank_needs_two_groups():
    with pytest.raises(BadInput, match=r"column 'g' has one group only"):
        survival.logrank(_frame().assign(g="a"), "t", "e", by="g")


def test_text_durations_are_named():
    frame = _frame().assign(t=lambda f: f["t"].astype(str))
    for call in (
        lambda: survival.kaplan_meier(frame, "t", "e"),
        lambda: survival.cox(frame, "t", "e", ["x"], rules=FEW),
        lambda: survival.logrank(frame, "t", "e", by="g"),
        lambda: survival.cumulative_incidence(frame, "t", "reason", of="job_loss"),
        lambda: survival.median_survival(frame, "t", "e"),
    ):
        with pytest.raises(BadInput, match=r"column 't' holds text"):
            call()


def test_cumulative_incidence_refuses_negative_durations_and_unknown_reason():
    frame = _frame()
    with pytest.raises(BadInput, match=r"column 't' holds negative values"):
        survival.cumulative_incidence(frame.assign(t=-frame["t"]), "t", "reason", of="job_loss")
    with pytest.raises(BadInput, match=r"column 'reason' has no row with the end reason 'lost'"):
        survival.cumulative_incidence(frame, "t", "reason", of="lost")
    with pytest.raises(BadInput, match="censoring code"):
        survival.cumulative_incidence(frame, "t", "reason", of="censored")


def test_wrong_event_coding_is_named():
    frame = _frame().assign(e=lambda f: f["e"] + 1)  # R's lung coding 1/2
    with pytest.raises(BadInput, match=r"column 'e' must hold 0/1"):
        survival.kaplan_meier(frame, "t", "e")


def test_missing_columns_and_bad_arguments():
    frame = _frame()
    with pytest.raises(BadInput, match=r"column 'nope' is not in the frame"):
        survival.cox(frame, "t", "e", ["x", "nope"])
    with pytest.raises(BadInput, match=r"column 'nope' is not in the frame"):
        survival.cox(frame, "t", "e", ["x*nope"])
    with pytest.raises(BadInput, match="ties"):
        survival.cox(frame, "t", "e", ["x"], ties="exact")
    with pytest.raises(BadInput, match="covariate"):
        survival.cox(frame, "t", "e", [])
    with pytest.raises(BadInput, match="alpha"):
        survival.kaplan_meier(frame, "t", "e", alpha=5)
    with pytest.raises(BadInput, match="times"):
        survival.survival_at(survival.kaplan_meier(frame, "t", "e"), ["soon"])


def test_time_varying_refuses_backward_and_overlapping_intervals():
    frame = pd.DataFrame(
        {
            "id": [1, 1, 2, 3],
            "start": [0, 5, 0, 0],
            "stop": [6, 9, 4, 3],
            "e": [0, 1, 1, 0],
            "x": [1.0, 2.0, 0.5, 0.1],
        }
    )
    with pytest.raises(BadInput, match="overlapping intervals for subject 1"):
        survival.cox_time_varying(frame, "id", "start", "stop", "e", ["x"], rules=FEW)
    backwards = frame.assign(stop=[5, 4, 4, 3])
    with pytest.raises(BadInput, match=r"column 'stop' must be greater than 'start'"):
        survival.cox_time_varying(backwards, "id", "start", "stop", "e", ["x"], rules=FEW)


def test_kaplan_meier_of_an_empty_frame_is_an_empty_table():
    empty = _frame().iloc[:0]
    curves = survival.kaplan_meier(empty, "t", "e")
    assert curves.empty and list(curves.columns) == survival.KM_COLUMNS
    with pytest.raises(BadInput):
        survival.median_survival(empty, "t", "e")
