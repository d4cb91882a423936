"""The vectorised Cox paths (cluster-robust errors, PH check, concordance) against references.

``cox(..., cluster=)`` fits plainly and computes the clustered sandwich itself from vectorised
score residuals; the PH check and Harrell's C are vectorised too. References:

* without tied times: lifelines' own ``cluster_col`` standard errors, its
  ``proportional_hazard_test`` and its ``concordance_index_``;
* with tied times: a loop, event time by event time, over the definition of the Efron score
  residuals that R's ``coxph`` uses for ``cluster=`` (``coxscore2``: term k of d tied deaths
  gives the deaths weight 1 - k/d). lifelines' ``cluster_col`` is not that reference under ties:
  its score residuals break tied times by row order (each tied row sees only the rows sorted
  after it as its risk set), so its SEs depend on the row order there.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test
from lifelines.utils import concordance_index

from analysis import survival
from analysis.minimum_data import Minimums

FEW = Minimums(events_per_covariate=1)
COVS = ["a", "b", "flag"]


def _frame(n: int, seed: int, *, ties: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    flag = rng.integers(0, 2, n)
    t = rng.exponential(np.exp(-(0.5 * a - 0.3 * b + 0.4 * flag)))
    c = rng.exponential(1.5, n)
    time = np.minimum(t, c)
    if ties:
        time = np.ceil(time * 6) / 6  # a handful of distinct times, events tied with censorings
    return pd.DataFrame(
        {
            "T": time,
            "E": (t <= c).astype(int),
            "a": a,
            "b": b,
            "flag": flag,
            "g": rng.integers(0, 25, n),
            "s": rng.choice(["north", "south", "west"], n),
        }
    )


def _lifelines(frame: pd.DataFrame, *, cluster: bool, strata: str | None) -> CoxPHFitter:
    columns = ["T", "E", *COVS, *(["g"] if cluster else []), *([strata] if strata else [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter().fit(
            frame[columns],
            "T",
            "E",
            cluster_col="g" if cluster else None,
            strata=[strata] if strata else None,
        )


def _hand_score_residuals(
    frame: pd.DataFrame, beta: np.ndarray, *, ties: str, strata: str | None = None
) -> np.ndarray:
    """Score residuals by their definition, one event time and one tied death at a time."""
    x = frame[COVS].to_numpy(dtype=float)
    time = frame["T"].to_numpy()
    event = frame["E"].to_numpy() == 1
    layer = frame[strata].to_numpy() if strata else np.zeros(len(frame))
    risk = np.exp(x @ beta)
    out = np.zeros_like(x)
    for s in np.unique(layer):
        here = layer == s
        for t in np.unique(time[here & event]):
            at_risk = here & (time >= t)
            dead = here & (time == t) & event
            d = dead.sum()
            for k in range(d):
                c = k / d if ties == "efron" else 0.0
                w = np.where(dead, 1 - c, 1.0) * at_risk * risk
                xbar = w @ x / w.sum()
                out[dead] += (x[dead] - xbar) / d
                out -= (w / w.sum())[:, None] * (x - xbar)
    return out


def _sandwich_se(residuals: np.ndarray, variance: np.ndarray, cluster: pd.Series) -> np.ndarray:
    sums = pd.DataFrame(residuals @ variance).groupby(cluster.to_numpy()).sum().to_numpy()
    return np.sqrt(np.diag(sums.T @ sums))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("strata", [None, "s"])
def test_cluster_se_equals_lifelines_cluster_col_without_ties(seed, strata):
    frame = _frame(400, seed, ties=False)
    assert not frame["T"].duplicated().any()
    ours = survival.cox(frame, "T", "E", COVS, cluster="g", strata=strata)
    theirs = _lifelines(frame, cluster=True, strata=strata)
    assert ours.robust
    np.testing.assert_allclose(ours.summary["se"], theirs.standard_errors_, rtol=1e-8)
    np.testing.assert_allclose(ours.summary["coef"], theirs.params_, rtol=1e-12)
    np.testing.assert_allclose(ours.summary["p"], theirs.summary["p"], rtol=1e-8)
    np.testing.assert_allclose(
        ours.summary["hr_lower"], np.exp(theirs.confidence_intervals_.iloc[:, 0]), rtol=1e-8
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("strata", [None, "s"])
def test_cluster_se_with_ties_equals_efron_score_residuals_by_hand(seed, strata):
    frame = _frame(300, seed, ties=True)
    assert frame["T"].nunique() < 40
    ours = survival.cox(frame, "T", "E", COVS, cluster="g", strata=strata)
    plain = _lifelines(frame, cluster=False, strata=strata)
    beta = plain.params_.to_numpy()
    residuals = _hand_score_residuals(frame, beta, ties="efron", strata=strata)
    # at the Efron estimate the Efron score residuals add up to the score, zero
    assert np.abs(residuals.sum(axis=0)).max() < 1e-6 * np.abs(residuals).sum()
    expected = _sandwich_se(residuals, plain.variance_matrix_.to_numpy(), frame["g"])
    np.testing.assert_allclose(ours.summary["se"], expected, rtol=1e-8)
    np.testing.assert_allclose(ours.summary["coef"], beta, rtol=1e-12)


def test_cluster_se_with_ties_does_not_depend_on_row_order():
    frame = _frame(300, 4, ties=True)
    shuffled = frame.sample(frac=1.0, random_state=7)
    a = survival.cox(frame, "T", "E", COVS, cluster="g")
    b = survival.cox(shuffled, "T", "E", COVS, cluster="g")
    np.testing.assert_allclose(a.summary["se"], b.summary["se"], rtol=1e-10)


@pytest.mark.parametrize("ties", [False, True])
def test_breslow_cluster_se_equals_breslow_score_residuals_by_hand(ties):
    frame = _frame(300, 5, ties=ties)
    ours = survival.cox(frame, "T", "E", COVS, cluster="g", ties="breslow")
    plain = survival.cox(frame, "T", "E", COVS, ties="breslow")
    beta = plain.summary["coef"].to_numpy()
    residuals = _hand_score_residuals(frame, beta, ties="breslow")
    # the model-based variance of the Breslow fit: its printed SEs are its diagonal
    x = frame[COVS].to_numpy(dtype=float)
    fit = survival._breslow(
        np.full(len(frame), -np.inf),
        frame["T"].to_numpy(dtype=float),
        frame["E"].to_numpy(),
        x,
        np.zeros(len(frame)),
    )
    np.testing.assert_allclose(np.sqrt(np.diag(fit.variance)), plain.summary["se"], rtol=1e-10)
    expected = _sandwich_se(residuals, fit.variance, frame["g"])
    np.testing.assert_allclose(ours.summary["se"], expected, rtol=1e-8)
    # the vectorised residuals with Breslow weights give the same
    vectorised, _ = survival._cox_residuals(
        frame["T"].to_numpy(dtype=float), frame["E"].to_numpy(), x, beta, ties="breslow"
    )
    np.testing.assert_allclose(vectorised, residuals, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("strata", [None, "s"])
def test_ph_check_equals_lifelines_rank_test(ties, strata):
    frame = _frame(400, 6, ties=ties)
    ours = survival.cox(frame, "T", "E", COVS, strata=strata)
    model = _lifelines(frame, cluster=False, strata=strata)
    columns = ["T", "E", *COVS, *([strata] if strata else [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = proportional_hazard_test(model, frame[columns], time_transform="rank").summary
    assert ours.ph_check["term"].tolist() == COVS
    np.testing.assert_allclose(ours.ph_check["test_statistic"], theirs["test_statistic"], rtol=1e-8)
    np.testing.assert_allclose(ours.ph_check["p"], theirs["p"], rtol=1e-8)


def test_clustered_ph_check_equals_lifelines_cluster_col_without_ties():
    # lifelines' test divides by the model's reported (here robust) variance; so does ours
    frame = _frame(400, 7, ties=False)
    ours = survival.cox(frame, "T", "E", COVS, cluster="g")
    model = _lifelines(frame, cluster=True, strata=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = proportional_hazard_test(
            model, frame[["T", "E", *COVS, "g"]], time_transform="rank"
        ).summary
    np.testing.assert_allclose(ours.ph_check["test_statistic"], theirs["test_statistic"], rtol=1e-8)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("strata", [None, "s"])
@pytest.mark.parametrize("covariates", [["flag"], COVS])
def test_concordance_equals_lifelines(ties, strata, covariates):
    # one binary covariate ties most predictions; the tied times tie events with censorings
    frame = _frame(500, 8, ties=ties)
    ours = survival.cox(frame, "T", "E", covariates, strata=strata, rules=FEW)
    columns = ["T", "E", *covariates, *([strata] if strata else [])]
    theirs = CoxPHFitter().fit(frame[columns], "T", "E", strata=[strata] if strata else None)
    assert ours.concordance == theirs.concordance_index_


@pytest.mark.parametrize("ties", [False, True])
def test_breslow_concordance_equals_lifelines_concordance_index(ties):
    frame = _frame(500, 9, ties=ties)
    ours = survival.cox(frame, "T", "E", COVS, ties="breslow")
    x = frame[COVS].to_numpy(dtype=float)
    lp = (x - x.mean(axis=0)) @ ours.summary["coef"].to_numpy()
    assert ours.concordance == pytest.approx(
        concordance_index(frame["T"], -lp, frame["E"]), abs=1e-12
    )


def test_concordance_counts_equal_the_pairwise_definition():
    rng = np.random.default_rng(10)
    n = 120
    time = rng.integers(1, 15, n).astype(float)
    event = rng.random(n) < 0.6
    predicted = rng.integers(0, 6, n).astype(float)
    correct = tied = pairs = 0
    for s in range(n):
        for d in np.flatnonzero(event):
            if time[d] < time[s] or (time[d] == time[s] and not event[s]):
                pairs += 1
                correct += predicted[d] < predicted[s]
                tied += predicted[d] == predicted[s]
    assert survival._concordance_counts(time, predicted, event) == (correct, tied, pairs)
