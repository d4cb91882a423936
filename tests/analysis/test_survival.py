from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter
from lifelines.datasets import load_rossi
from scipy import stats

from analysis import survival

# R: survfit(Surv(time, status) ~ 1, data = subset(aml, x == "Maintained"))
AML_MAINTAINED = pd.DataFrame(
    {
        "time": [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161],
        "status": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
    }
)
# R's printed survival and conf.type = "log" lower bounds at the event times
R_AML_TIMES = [9, 13, 18, 23, 31, 34, 48]
R_AML_SURVIVAL = [0.909, 0.818, 0.716, 0.614, 0.491, 0.368, 0.184]
R_AML_LOG_LOWER = [0.7541, 0.6192, 0.4884, 0.3769, 0.2549, 0.1549, 0.0359]
R_AML_LOG_UPPER = [1.000, 1.000, 1.000, 0.999, 0.946, 0.875, 0.944]

# R survival::coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi)
ROSSI_COEF = {
    "fin": -0.379422,
    "age": -0.057438,
    "race": 0.313900,
    "wexp": -0.149796,
    "mar": -0.433704,
    "paro": -0.084871,
    "prio": 0.091497,
}
ROSSI_SE = {
    "fin": 0.19138,
    "age": 0.02200,
    "race": 0.30799,
    "wexp": 0.21222,
    "mar": 0.38187,
    "paro": 0.19576,
    "prio": 0.02865,
}


def _hand_km(time, status, alpha=0.05):
    """Kaplan–Meier and Greenwood step by step, for event times only."""
    z = stats.norm.ppf(1 - alpha / 2)
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    s, gw, out = 1.0, 0.0, []
    for t in np.unique(time[status == 1]):
        n = (time >= t).sum()
        d = ((time == t) & (status == 1)).sum()
        s *= 1 - d / n
        gw += d / (n * (n - d)) if n > d else 0.0
        se = np.sqrt(gw)
        loglog = (
            s ** np.exp(-z * se / np.log(s)),
            s ** np.exp(z * se / np.log(s)),
        )
        out.append(
            (t, n, s, np.exp(np.log(s) - z * se), min(1, np.exp(np.log(s) + z * se)), *loglog)
        )
    return pd.DataFrame(out, columns=["time", "n", "s", "log_lo", "log_hi", "ll_lo", "ll_hi"])


def test_km_log_interval_matches_r_aml():
    curve = survival.kaplan_meier(AML_MAINTAINED, "time", "status", ci="log")
    at = curve.set_index("time").loc[R_AML_TIMES]
    np.testing.assert_allclose(at["survival"], R_AML_SURVIVAL, atol=5e-4)
    np.testing.assert_allclose(at["lower"], R_AML_LOG_LOWER, atol=5e-5)
    np.testing.assert_allclose(at["upper"], R_AML_LOG_UPPER, atol=5e-4)
    np.testing.assert_array_equal(at["at_risk"], [11, 10, 8, 7, 5, 4, 2])


@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_km_matches_hand_greenwood(ci, survival_frame):
    frame = survival_frame.head(60)
    curve = survival.kaplan_meier(frame, "duration_days", "event", ci=ci, alpha=0.1)
    hand = _hand_km(frame["duration_days"], frame["event"], alpha=0.1)
    at = curve.set_index("time").loc[hand["time"]]
    np.testing.assert_allclose(at["survival"], hand["s"], rtol=1e-12)
    np.testing.assert_array_equal(at["at_risk"], hand["n"])
    lo, hi = ("log_lo", "log_hi") if ci == "log" else ("ll_lo", "ll_hi")
    np.testing.assert_allclose(at["lower"], hand[lo], rtol=1e-9)
    np.testing.assert_allclose(at["upper"], hand[hi], rtol=1e-9)


def test_km_by_group_has_one_curve_per_group(survival_frame):
    curve = survival.kaplan_meier(survival_frame, "duration_days", "event", by="coach_type")
    assert set(curve["group"]) == {"internal", "external"}
    first = curve.groupby("group").first()
    assert (first["time"] == 0).all() and (first["survival"] == 1).all()
    sizes = survival_frame["coach_type"].value_counts()
    assert first["n"].to_dict() == sizes.to_dict()
    assert (curve.groupby("group")["survival"].apply(lambda s: s.is_monotonic_decreasing)).all()


def test_km_rejects_unknown_ci(survival_frame):
    with pytest.raises(ValueError, match="ci"):
        survival.kaplan_meier(survival_frame, "duration_days", "event", ci="plain")


def test_survival_at_reads_step_function():
    curve = survival.kaplan_meier(AML_MAINTAINED, "time", "status")
    at = survival.survival_at(curve, [0, 10, 13, 100, 200])
    assert at["survival"].round(3).tolist() == [1.0, 0.909, 0.818, 0.184, 0.184]
    assert at["at_risk"].tolist() == [11, 10, 10, 1, 0]


def test_logrank_two_groups_matches_r_aml():
    # R: survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.07
    nonmaintained = pd.DataFrame(
        {"time": [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45], "status": [1] * 5 + [0] + [1] * 6}
    )
    aml = pd.concat(
        [AML_MAINTAINED.assign(x="Maintained"), nonmaintained.assign(x="Nonmaintained")]
    )
    result = survival.logrank(aml, "time", "status", by="x")
    assert result["test_statistic"].iloc[0] == pytest.approx(3.396, abs=1e-3)
    assert result["df"].iloc[0] == 1
    assert result["p"].iloc[0] == pytest.approx(0.0653, abs=1e-4)
    assert result["n"].iloc[0] == 23


def test_logrank_three_groups_has_two_df(survival_frame):
    frame = survival_frame.assign(tertile=pd.qcut(survival_frame["baseline_klik"], 3, labels=False))
    result = survival.logrank(frame, "duration_days", "event", by="tertile")
    assert result["df"].iloc[0] == 2
    # klik drives the hazard in the fixture
    assert result["p"].iloc[0] < 0.05


def test_cox_matches_r_coxph_on_rossi():
    rossi = load_rossi()
    result = survival.cox(rossi, "week", "arrest", covariates=list(ROSSI_COEF))
    summary = result.summary.set_index("term")
    for term, coef in ROSSI_COEF.items():
        # agreement to every digit R prints (6 decimals) and 1e-6 relative where that is finer
        assert summary.loc[term, "coef"] == pytest.approx(coef, rel=1e-6, abs=5e-7)
        assert summary.loc[term, "se"] == pytest.approx(ROSSI_SE[term], abs=1e-4)
        assert summary.loc[term, "hr"] == pytest.approx(np.exp(summary.loc[term, "coef"]))
    assert result.lr_test["stat"] == pytest.approx(33.27, abs=5e-3)
    assert result.lr_test["df"] == 7
    assert result.n == 432 and result.events == 114
    assert result.concordance == pytest.approx(0.640, abs=1e-3)
    assert list(result.summary.columns) == survival.SUMMARY_COLUMNS
    lower = summary["hr_lower"]
    assert (lower < summary["hr"]).all() and (summary["hr"] < summary["hr_upper"]).all()
    np.testing.assert_allclose(
        np.log(summary["hr_upper"]), summary["coef"] + 1.959964 * summary["se"], rtol=1e-6
    )


def test_cox_ph_check_flags_age_in_rossi():
    # Rossi's known proportional-hazards violation is age (lifelines and R cox.zph agree)
    rossi = load_rossi()
    result = survival.cox(rossi, "week", "arrest", covariates=list(ROSSI_COEF))
    ph = result.ph_check.set_index("term")
    assert set(ROSSI_COEF) <= set(ph.index)
    assert ph.loc["age", "p"] < 0.05  # the known violation in Rossi
    assert ph.loc["fin", "p"] > 0.5


def test_cox_cluster_gives_robust_se(survival_frame):
    plain = survival.cox(survival_frame, "duration_days", "event", ["baseline_klik"])
    clustered = survival.cox(
        survival_frame, "duration_days", "event", ["baseline_klik"], cluster="jobcoach_id"
    )
    assert clustered.robust and not plain.robust
    a = plain.summary.iloc[0]
    b = clustered.summary.iloc[0]
    assert a["coef"] == pytest.approx(b["coef"], rel=1e-8)
    assert a["se"] != pytest.approx(b["se"], rel=1e-6)


def test_cox_cluster_matches_hand_sandwich():
    """Clustered sandwich (R coxph cluster=): D'D with D the per-cluster sums of dfbeta."""
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(0, 0.7, n)
    t = rng.exponential(np.exp(-0.5 * x))
    c = rng.exponential(2, n)
    frame = pd.DataFrame(
        {"T": np.minimum(t, c), "E": (t <= c).astype(int), "x": x, "g": rng.integers(0, 20, n)}
    )
    plain = survival.cox(frame, "T", "E", ["x"])
    beta = plain.summary["coef"].iloc[0]
    variance = plain.summary["se"].iloc[0] ** 2
    # score residuals without ties (Breslow = Efron), accumulated event by event
    risk_score = np.exp(beta * x)
    times = frame["T"].to_numpy()
    residual = np.zeros(n)
    for j in np.flatnonzero(frame["E"].to_numpy()):
        at_risk = times >= times[j]
        s0 = risk_score[at_risk].sum()
        xbar = (risk_score[at_risk] * x[at_risk]).sum() / s0
        residual[j] += x[j] - xbar
        residual[at_risk] -= risk_score[at_risk] / s0 * (x[at_risk] - xbar)
    dfbeta = pd.Series(residual * variance).groupby(frame["g"]).sum()
    hand_se = np.sqrt((dfbeta**2).sum())
    clustered = survival.cox(frame, "T", "E", ["x"], cluster="g")
    assert clustered.summary["se"].iloc[0] == pytest.approx(hand_se, rel=1e-5)


def test_cox_strata_and_categorical(survival_frame):
    # three strata of jobcoaches, each with events (a stratum without one is refused)
    frame = survival_frame.assign(coach_group=survival_frame["jobcoach_id"] % 3)
    result = survival.cox(
        frame,
        "duration_days",
        "event",
        ["baseline_klik", "coach_type"],
        strata="coach_group",
    )
    assert "coach_type=internal" in set(result.summary["term"])
    assert result.n == len(survival_frame)


def test_cox_drops_incomplete_rows_and_reports_n(survival_frame):
    frame = survival_frame.copy()
    frame.loc[frame.index[:10], "baseline_klik"] = np.nan
    result = survival.cox(frame, "duration_days", "event", ["baseline_klik"])
    assert result.n == len(frame) - 10


def test_cox_time_varying_equals_cox_when_covariates_constant(survival_frame):
    """Splitting follow-up into intervals with constant covariates must not change the fit."""
    rows = []
    for r in survival_frame.itertuples():
        cuts = [c for c in (90.0, 180.0, 365.0) if c < r.duration_days]
        bounds = [0.0, *cuts, r.duration_days]
        for i, (a, b) in enumerate(itertools.pairwise(bounds)):
            last = i == len(bounds) - 2
            rows.append((r.trajectory_id, a, b, int(r.event and last), r.baseline_klik))
    cp = pd.DataFrame(rows, columns=["trajectory_id", "start", "stop", "event", "klik_lag"])
    tv = survival.cox_time_varying(cp, "trajectory_id", "start", "stop", "event", ["klik_lag"])
    plain = survival.cox(survival_frame, "duration_days", "event", ["baseline_klik"])
    assert tv.summary["coef"].iloc[0] == pytest.approx(plain.summary["coef"].iloc[0], rel=1e-5)
    assert tv.summary["se"].iloc[0] == pytest.approx(plain.summary["se"].iloc[0], rel=1e-4)
    assert tv.n == len(survival_frame) and tv.n_intervals == len(cp)
    assert list(tv.summary.columns) == survival.SUMMARY_COLUMNS


def test_cumulative_incidence_matches_lifelines_without_ties():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {"t": rng.exponential(10, 80), "reason": rng.choice(["censored", "a", "b"], 80)}
    )
    ours = survival.cumulative_incidence(frame, "t", "reason", of="a").set_index("time")
    codes = frame["reason"].map({"censored": 0, "a": 1, "b": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aj = AalenJohansenFitter().fit(frame["t"], codes, event_of_interest=1)
    ref = aj.cumulative_density_.iloc[:, 0]
    np.testing.assert_allclose(ours["cif"].reindex(ref.index), ref, atol=1e-12)
    # lifelines leaves the interval undefined while the incidence is 0; ours is [0, 0] there
    bounds = aj.confidence_interval_[ref > 0]
    assert len(bounds) > 20
    np.testing.assert_allclose(ours["lower"].reindex(bounds.index), bounds.min(axis=1), atol=1e-10)
    np.testing.assert_allclose(ours["upper"].reindex(bounds.index), bounds.max(axis=1), atol=1e-10)
    assert (ours.loc[ours["cif"] == 0, ["lower", "upper"]] == 0).all().all()


def test_cumulative_incidences_and_survival_add_to_one(survival_frame):
    frame = survival_frame.copy()
    frame.loc[frame.index[::7], "end_type"] = "dropout"
    km = survival.kaplan_meier(
        frame.assign(any_end=(frame["end_type"] != "censored").astype(int)),
        "duration_days",
        "any_end",
    ).set_index("time")
    total = km["survival"].copy() * 0
    for reason in ("job_loss", "working_independently", "dropout"):
        cif = survival.cumulative_incidence(frame, "duration_days", "end_type", of=reason)
        total += cif.set_index("time")["cif"].reindex(km.index)
    np.testing.assert_allclose(total + km["survival"], 1.0, atol=1e-12)


def test_cumulative_incidence_exact_with_ties():
    frame = pd.DataFrame({"t": [1, 1, 2, 2, 3, 4], "k": [1, 2, 1, 0, 2, 1]})
    cif = survival.cumulative_incidence(frame, "t", "k", of=1).set_index("time")["cif"]
    # t=1: 1/6; S(1)=4/6; t=2: + 4/6 * 1/4; S(2)=4/6*3/4=0.5; t=4: + S(3)*1/1, S(3)=0.5*1/2
    assert cif.loc[1] == pytest.approx(1 / 6)
    assert cif.loc[2] == pytest.approx(1 / 6 + 1 / 6)
    assert cif.loc[4] == pytest.approx(1 / 3 + 0.25)


def test_cumulative_incidence_reads_whole_float_codes_as_the_integers() -> None:
    # an integer end-type column with one missing value arrives as floats (0.0, 1.0, 2.0)
    rng = np.random.default_rng(4)
    codes = rng.choice([0, 1, 2], 150)
    ints = pd.DataFrame({"d": rng.integers(1, 300, 150).astype(float), "e": codes})
    floats = ints.assign(e=ints["e"].astype(float))
    for of in (1, 2):
        a = survival.cumulative_incidence(ints, "d", "e", of=of)
        b = survival.cumulative_incidence(floats, "d", "e", of=float(of))
        pd.testing.assert_frame_equal(a, b)
