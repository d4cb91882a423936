"""The study's cost-benefit analysis end to end on synthetic frames: no balance without a
comparison, the comparison arm taken from the trajectories with method 'none', and the dose
contrasts refused on too few job losses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cost_benefit import NO_ARM, NO_COMPARISON, cost_benefit
from analysis.costs import default_parameters
from analysis.mkba import Comparison
from tests.analysis.conftest import make_survival, make_trajectories

HORIZON = 365.25


def frames(n: int = 120, seed: int = 3) -> tuple[pd.DataFrame, ...]:
    trajectories = make_trajectories(n, seed).assign(
        funder=lambda f: np.where(np.arange(len(f)) % 2, "uwv", "gemeente"),
        benefit=lambda f: np.where(np.arange(len(f)) % 3, "wajong", "bijstand"),
    )
    survival = make_survival(trajectories).merge(
        trajectories[["trajectory_id", "contract_hours"]], on="trajectory_id"
    )
    rng = np.random.default_rng(seed)
    contacts = pd.DataFrame(
        {
            "trajectory_id": np.repeat(trajectories["trajectory_id"], 4),
            "date": np.repeat(trajectories["start_date"], 4).to_numpy()
            + pd.to_timedelta(np.tile([5, 40, 90, 200], n), unit="D"),
            "minutes": rng.integers(30, 120, 4 * n).astype(float),
        }
    )
    sick = pd.DataFrame(
        {"trajectory_id": [1, 2], "start_days": [10.0, 30.0], "end_days": [20.0, np.nan]}
    )
    return trajectories, survival, contacts, sick


def test_without_a_comparison_there_is_no_balance() -> None:
    trajectories, survival, contacts, sick = frames()
    cb = cost_benefit(trajectories, survival, contacts, sick, default_parameters(),
                      horizon_days=HORIZON, year=2025, dose_replicates=20)  # fmt: skip
    assert cb.result is None and cb.intervals is None and cb.tornado is None
    assert cb.reason == NO_COMPARISON
    summary = cb.summary.set_index("measure")["value"]
    assert summary["n"] == 120
    assert 0 < summary["rmst_6"] <= 6 * 30.4375 < summary["rmst_12"] <= HORIZON
    assert summary["external_coach_cost"] > 0
    # klik drives job loss in these frames: the g-computed klik contrast is positive
    assert cb.dose is not None
    assert cb.dose.set_index("contrast").loc["klik", "difference"] > 0


def test_the_arm_is_the_trajectories_without_a_method() -> None:
    trajectories, survival, contacts, sick = frames()
    arm = (trajectories["method"] == "none").sum()
    assert 0 < arm < len(trajectories)
    cb = cost_benefit(trajectories, survival, contacts, sick, default_parameters(),
                      horizon_days=HORIZON, year=2025, comparison=Comparison("arm", "controle"),
                      replicates=50, dose_replicates=0)  # fmt: skip
    assert cb.arm_n == arm and cb.n == len(trajectories) - arm
    assert cb.result is not None and cb.result.null.n == arm
    assert cb.intervals is not None and len(cb.intervals) == 7
    none = trajectories[trajectories["method"] != "none"]
    cb = cost_benefit(none, survival, contacts, sick, default_parameters(), horizon_days=HORIZON,
                      year=2025, comparison=Comparison("arm", "controle"), dose_replicates=0)  # fmt: skip
    assert cb.result is None and cb.reason == NO_ARM


def test_dose_is_refused_on_too_few_job_losses() -> None:
    trajectories, survival, contacts, sick = frames(40)
    survival = survival.assign(event=0)
    cb = cost_benefit(trajectories, survival, contacts, sick, default_parameters(),
                      horizon_days=HORIZON, year=2025, dose_replicates=0)  # fmt: skip
    assert cb.dose is None and cb.dose_refused is not None
    assert "30" in cb.dose_refused.text("en")


def test_bad_parameters_are_refused() -> None:
    trajectories, survival, contacts, sick = frames(30)
    params = default_parameters()
    with pytest.raises(ValueError, match="missing parameters"):
        cost_benefit(trajectories, survival, contacts, sick, params[params["key"] != "lks_cap"],
                     horizon_days=HORIZON, year=2025)  # fmt: skip
