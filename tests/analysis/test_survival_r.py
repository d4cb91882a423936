"""Breslow ties, interactions, median survival and the KM standard error against printed R output.

Sources of the printed figures:

* ``jasa1``: R survival's tests/jasa.Rout.save (survival 3.5, R 2023-01), the six models of
  Kalbfleisch & Prentice (1980) p. 139 fitted with ``coxph(Surv(start, stop, event) ~ ...,
  jasa1, method="breslow")``. The data are R survival's ``jasa1`` (170 intervals, 103 subjects,
  75 events), vendored from the Rdatasets CSV in ``data/jasa1.csv``.
* ``test1``: R survival's tests/book1.Rout.save (Therneau & Grambsch, appendix E): the Breslow
  estimate 1.4752849 of ``coxph(Surv(time, status) ~ x, test1, method="breslow")``, with its
  closed-form log-likelihood and information.
* ``lung``: ``print(survfit(Surv(time, status) ~ 1, lung))``: n 228, events 165, median 310,
  0.95LCL 285, 0.95UCL 363; ``~ sex``: 270 (212, 310) and 426 (348, 550);
  ``summary(fit, times = 365.25)``: survival 0.409, std.err 0.0358. lifelines bundles the same
  data with status recoded to 0/1.
* ``aml`` (maintained arm): ``summary(survfit(...))`` std.err column.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_lung, load_rossi

from analysis import survival
from analysis.minimum_data import Minimums

DATA = Path(__file__).parent / "data"
FEW = Minimums(events_per_covariate=1)


@pytest.fixture(scope="module")
def jasa1() -> pd.DataFrame:
    return pd.read_csv(DATA / "jasa1.csv", index_col=0)


# term -> (coef, se(coef)) as printed (5 significant decimals), and the printed LR statistic
JASA1_MODELS = {
    "sfit.1": (
        ["age*transplant", "surgery*transplant"],
        {
            "age": (0.01386, 0.01813),
            "surgery": (-0.54652, 0.61091),
            "transplant": (0.11572, 0.32729),
            "age:transplant": (0.03473, 0.02725),
            "surgery:transplant": (-0.29037, 0.75819),
        },
        12.45,
    ),
    "sfit.2": (
        ["year*transplant"],
        {
            "year": (-0.2652, 0.1051),
            "transplant": (-0.2871, 0.5137),
            "year:transplant": (0.1371, 0.1409),
        },
        8.61,
    ),
    "sfit.3": (
        ["age*transplant", "year*transplant"],
        {
            "age": (0.01558, 0.01734),
            "year": (-0.27413, 0.10588),
            "transplant": (-0.59388, 0.54222),
            "age:transplant": (0.03380, 0.02795),
            "year:transplant": (0.20228, 0.14247),
        },
        14.85,
    ),
    "sfit.4": (
        ["year*transplant", "surgery*transplant"],
        {
            "year": (-0.2541, 0.1077),
            "surgery": (-0.2365, 0.6282),
            "transplant": (-0.2969, 0.5054),
            "year:transplant": (0.1653, 0.1416),
            "surgery:transplant": (-0.5499, 0.7759),
        },
        12.36,
    ),
    "sfit.5": (
        ["age*transplant", "surgery*transplant", "year"],
        {
            "age": (0.01504, 0.01760),
            "surgery": (-0.42025, 0.61564),
            "transplant": (0.07412, 0.33113),
            "year": (-0.13631, 0.07097),
            "age:transplant": (0.02691, 0.02712),
            "surgery:transplant": (-0.29656, 0.75800),
        },
        16.2,
    ),
    "sfit.6": (
        ["age", "transplant", "surgery", "year", "age:transplant"],
        {
            "age": (0.01527, 0.01750),
            "transplant": (0.04457, 0.32171),
            "surgery": (-0.62113, 0.36786),
            "year": (-0.13608, 0.07090),
            "age:transplant": (0.02703, 0.02714),
        },
        16.06,
    ),
}


def _decimals(value: float) -> float:
    """Half a unit of the last printed decimal."""
    text = f"{value}"
    places = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10**-places


@pytest.mark.parametrize("model", list(JASA1_MODELS))
def test_breslow_counting_process_matches_r_jasa1(model, jasa1):
    covariates, expected, lr = JASA1_MODELS[model]
    result = survival.cox_time_varying(
        jasa1, "id", "start", "stop", "event", covariates, ties="breslow", rules=FEW
    )
    summary = result.summary.set_index("term")
    assert set(summary.index) == set(expected)
    for term, (coef, se) in expected.items():
        assert summary.loc[term, "coef"] == pytest.approx(coef, abs=_decimals(coef) + 1e-12)
        assert summary.loc[term, "se"] == pytest.approx(se, abs=_decimals(se) + 1e-12)
    assert result.lr_test["stat"] == pytest.approx(lr, abs=_decimals(lr))
    assert (result.n, result.n_intervals, result.events) == (103, 170, 75)
    assert result.ties == "breslow"


def test_efron_on_jasa1_differs_from_breslow(jasa1):
    covs = ["age*transplant", "surgery*transplant"]
    efron = survival.cox_time_varying(jasa1, "id", "start", "stop", "event", covs, rules=FEW)
    breslow = survival.cox_time_varying(
        jasa1, "id", "start", "stop", "event", covs, ties="breslow", rules=FEW
    )
    assert efron.ties == "efron"
    a = efron.summary.set_index("term")["coef"]
    b = breslow.summary.set_index("term")["coef"].reindex(a.index)
    assert not np.allclose(a, b, atol=1e-5)  # jasa1 has tied death days
    assert np.allclose(a, b, atol=0.05)


def test_breslow_fixed_matches_r_test1():
    # Therneau & Grambsch's test1 (the row with a missing status left out)
    test1 = pd.DataFrame({"time": [9, 1, 1, 6, 6, 8], "status": [1, 1, 0, 1, 1, 0],
                          "x": [0, 1, 1, 1, 0, 0]})  # fmt: skip
    result = survival.cox(test1, "time", "status", ["x"], ties="breslow", rules=FEW)
    row = result.summary.iloc[0]
    assert row["coef"] == pytest.approx(1.4752849, abs=5e-8)
    r = np.exp(row["coef"])
    # byhand1(): the closed-form Breslow log-likelihood and information at the estimate
    assert result.loglik == pytest.approx(2 * row["coef"] - (np.log(3 * r + 3) + 2 * np.log(r + 3)))
    assert row["se"] ** 2 == pytest.approx(1 / (r / (r + 1) ** 2 + 6 * r / (r + 3) ** 2))
    assert result.ties == "breslow" and list(result.summary.columns) == survival.SUMMARY_COLUMNS


def test_breslow_fixed_equals_breslow_counting_process():
    rossi = load_rossi()
    covs = ["fin", "age", "prio"]
    fixed = survival.cox(rossi, "week", "arrest", covs, ties="breslow")
    rows = []
    for i, r in enumerate(rossi.itertuples()):
        bounds = [0, *[c for c in (10, 30) if c < r.week], r.week]
        for k, (a, b) in enumerate(itertools.pairwise(bounds)):
            rows.append((i, a, b, int(r.arrest and k == len(bounds) - 2), r.fin, r.age, r.prio))
    split = pd.DataFrame(rows, columns=["id", "start", "stop", "arrest", *covs])
    tv = survival.cox_time_varying(split, "id", "start", "stop", "arrest", covs, ties="breslow")
    np.testing.assert_allclose(tv.summary["coef"], fixed.summary["coef"], rtol=1e-8)
    np.testing.assert_allclose(tv.summary["se"], fixed.summary["se"], rtol=1e-8)
    assert tv.loglik == pytest.approx(fixed.loglik, rel=1e-10)


def test_breslow_robust_equals_lifelines_style_sandwich_without_ties():
    # without tied times Breslow and Efron coincide, so do their clustered sandwiches
    rng = np.random.default_rng(2)
    n = 150
    x = rng.normal(0, 0.7, n)
    t = rng.exponential(np.exp(-0.5 * x))
    c = rng.exponential(2, n)
    frame = pd.DataFrame(
        {"T": np.minimum(t, c), "E": (t <= c).astype(int), "x": x, "g": rng.integers(0, 15, n)}
    )
    efron = survival.cox(frame, "T", "E", ["x"], cluster="g")
    breslow = survival.cox(frame, "T", "E", ["x"], cluster="g", ties="breslow")
    assert breslow.summary["coef"].iloc[0] == pytest.approx(efron.summary["coef"].iloc[0], rel=1e-7)
    assert breslow.summary["se"].iloc[0] == pytest.approx(efron.summary["se"].iloc[0], rel=1e-5)
    assert breslow.robust and breslow.concordance == pytest.approx(efron.concordance)


def test_keyword_and_dotted_covariate_names():
    rossi = load_rossi().rename(columns={"fin": "class", "age": "lambda", "prio": "prior.count"})
    result = survival.cox(rossi, "week", "arrest", ["class", "lambda", "prior.count"])
    plain = survival.cox(load_rossi(), "week", "arrest", ["fin", "age", "prio"])
    assert result.summary["term"].tolist() == ["class", "lambda", "prior.count"]
    np.testing.assert_allclose(result.summary["coef"], plain.summary["coef"], rtol=1e-10)
    assert set(result.ph_check["term"]) >= {"class", "lambda", "prior.count"}
    both = survival.cox(rossi, "week", "arrest", ["class*lambda"], ties="breslow")
    assert both.summary["term"].tolist() == ["class", "lambda", "class:lambda"]


def test_interaction_with_a_categorical_covariate():
    rossi = load_rossi().assign(group=lambda f: np.where(f["race"] == 1, "b", "a"))
    result = survival.cox(rossi, "week", "arrest", ["age * group", "prio"])
    assert result.summary["term"].tolist() == ["age", "group=b", "prio", "age:group=b"]
    # the same model with the product column made by hand
    by_hand = rossi.assign(product=rossi["age"] * rossi["race"])
    plain = survival.cox(by_hand, "week", "arrest", ["age", "race", "prio", "product"])
    np.testing.assert_allclose(result.summary["coef"], plain.summary["coef"], rtol=1e-8)


def test_median_survival_matches_r_lung():
    lung = load_lung()
    whole = survival.median_survival(lung, "time", "status").iloc[0]
    assert (whole["n"], whole["events"]) == (228, 165)
    assert (whole["median"], whole["lower"], whole["upper"]) == (310, 285, 363)
    by_sex = survival.median_survival(lung, "time", "status", by="sex").set_index("group")
    assert by_sex.loc["1", ["median", "lower", "upper"]].tolist() == [270, 212, 310]
    assert by_sex.loc["2", ["median", "lower", "upper"]].tolist() == [426, 348, 550]
    assert by_sex["n"].tolist() == [138, 90] and by_sex["events"].tolist() == [112, 53]


def test_median_survival_not_reached_and_flat_at_half():
    # survival stays above 0.5: median and upper bound not reached (R prints NA)
    frame = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1, 0, 0, 1, 0, 0, 0, 0]})
    row = survival.median_survival(frame, "t", "e").iloc[0]
    assert np.isnan(row["median"]) and np.isnan(row["upper"])
    # S = 0.5 exactly from t=2 until the next event at t=4: the midpoint, 3 (R's rule)
    frame = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 1]})
    assert survival.median_survival(frame, "t", "e")["median"].iloc[0] == pytest.approx(3.0)


def test_km_se_matches_r_std_err():
    aml = pd.DataFrame(
        {
            "time": [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161],
            "status": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
        }
    )
    curve = survival.kaplan_meier(aml, "time", "status").set_index("time")
    r_se = [0.0867, 0.1163, 0.1397, 0.1526, 0.1642, 0.1627, 0.1535]
    np.testing.assert_allclose(curve.loc[[9, 13, 18, 23, 31, 34, 48], "se"], r_se, atol=5e-5)
    assert curve.loc[0, "se"] == 0
    lung = survival.kaplan_meier(load_lung(), "time", "status", ci="log")
    at = lung[lung["time"] <= 365.25].iloc[-1]
    assert at["survival"] == pytest.approx(0.409, abs=5e-4)
    assert at["se"] == pytest.approx(0.0358, abs=5e-5)
    assert list(lung.columns)[-1] == "se"
