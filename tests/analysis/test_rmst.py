"""RMST and its difference against R's survRM2 on the same data, to the printed decimals.

Source of the printed figures: the survRM2 vignette (Uno et al., survRM2 1.0-4, "Vignette for
survRM2 package", section 3), ``rmst2(D$time, D$status, D$arm, tau = 10)`` on
``rmst2.sample.data()``, the 312 randomised patients of the Mayo Clinic PBC trial from R
survival's ``pbc`` (time in years = days / 365.25, status 2 = death, arm 1 = D-penicillamine):

    RMST (arm=1)  7.146  0.283  6.592  7.701
    RMST (arm=0)  7.283  0.295  6.704  7.863
    RMST (arm=1)-(arm=0)  -0.137  -0.939  0.665  p 0.738

``data/pbc312.csv`` holds those 312 rows (days, status, trt) from R survival's ``pbc``.
lifelines' ``restricted_mean_survival_time`` on the same curves is a second check of the areas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from analysis.rmst import km_steps, rmst, rmst_difference, rmst_of_curve
from analysis.validation import BadInput

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "pbc312.csv")
    return pd.DataFrame(
        {
            "years": raw["time"] / 365.25,
            "death": (raw["status"] == 2).astype(int),
            "arm": (raw["trt"] == 1).astype(int),
        }
    )


def test_matches_survrm2_vignette(pbc: pd.DataFrame) -> None:
    table = rmst_difference(pbc, "years", "death", "arm", 10, reference=0).set_index("term")
    assert len(pbc) == 312 and pbc["death"].sum() == 125
    printed = {
        "rmst 1": (7.146, 0.283, 6.592, 7.701),
        "rmst 0": (7.283, 0.295, 6.704, 7.863),
    }
    for term, (est, se, lo, hi) in printed.items():
        row = table.loc[term]
        assert round(row["estimate"], 3) == est
        assert round(row["se"], 3) == se
        assert (round(row["lower"], 3), round(row["upper"], 3)) == (lo, hi)
    diff = table.loc["difference"]
    assert round(diff["estimate"], 3) == -0.137
    assert (round(diff["lower"], 3), round(diff["upper"], 3)) == (-0.939, 0.665)
    assert round(diff["p"], 3) == 0.738


def test_areas_agree_with_lifelines(pbc: pd.DataFrame) -> None:
    for arm in (0, 1):
        sub = pbc[pbc["arm"] == arm]
        fit = KaplanMeierFitter().fit(sub["years"], sub["death"])
        for tau in (2.5, 5.0, 10.0):
            ours = rmst(sub, "years", "death", tau)["estimate"].iloc[0]
            assert ours == pytest.approx(restricted_mean_survival_time(fit, t=tau), abs=1e-6)


def test_without_censoring_it_is_the_mean_of_min_t_tau() -> None:
    t = np.array([1.0, 2.0, 2.0, 5.0, 7.0, 9.0])
    frame = pd.DataFrame({"t": t, "e": 1})
    assert rmst(frame, "t", "e", 6)["estimate"].iloc[0] == pytest.approx(np.minimum(t, 6).mean())


def test_curve_area_by_hand() -> None:
    # 1 on [0, 2), 0.5 on [2, 4), 0.25 from 4: to 5 the area is 2 + 1 + 0.25
    assert rmst_of_curve([2, 4], [0.5, 0.25], 5) == pytest.approx(3.25)
    assert rmst_of_curve([], [], 3) == pytest.approx(3.0)
    steps = km_steps(np.array([1.0, 1.0, 3.0]), np.array([1, 0, 1]))
    assert steps["survival"].tolist() == pytest.approx([2 / 3, 0.0])


@pytest.mark.parametrize("tau", [0, -1, float("nan"), "10", True])
def test_bad_tau_is_refused(pbc: pd.DataFrame, tau: object) -> None:
    with pytest.raises(BadInput, match="tau"):
        rmst(pbc, "years", "death", tau)  # type: ignore[arg-type]


def test_bad_frames_are_refused(pbc: pd.DataFrame) -> None:
    with pytest.raises(BadInput, match="'death'"):
        rmst(pbc.assign(death=2), "years", "death", 5)
    with pytest.raises(BadInput, match="'years'"):
        rmst(pbc.assign(years="lang"), "years", "death", 5)
    with pytest.raises(BadInput, match="two groups"):
        rmst_difference(pbc.assign(arm=3), "years", "death", "arm", 5, reference=0)
    with pytest.raises(BadInput, match="increasing"):
        rmst_of_curve([3, 1], [0.9, 0.8], 5)
    with pytest.raises(BadInput, match="between 0 and 1"):
        rmst_of_curve([1, 3], [0.9, 1.8], 5)
