"""Minimum data per analysis: exactly at a rule fits, one below refuses and names the numbers."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from analysis import minimum_data, mixed, reliability, survival
from analysis.minimum_data import Minimums, Shortfall, TooLittleData


def survival_rows(n: int, events: int, seed: int = 1) -> pd.DataFrame:
    """n subjects with two covariates, the first ``events`` of them with an event."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": rng.uniform(10, 400, n).round() + 1,
            "e": (np.arange(n) < events).astype(int),
            "x1": rng.normal(0, 1, n),
            "x2": rng.normal(0, 1, n),
            "arm": rng.choice(["a", "b", "c"], n),
            "site": np.arange(n) % 2,
        }
    )


# -- the reasons, as people read them -------------------------------------------------------


def test_cox_reason_in_dutch_and_english() -> None:
    reason = minimum_data.cox_shortfall(3, 2)
    assert reason is not None
    assert reason.text("nl") == (
        "Te weinig gegevens voor een Cox-model: 3 gebeurtenissen, minstens 20 nodig voor "
        "2 covariaten."
    )
    assert reason.text("en") == (
        "Too little data for a Cox model: 3 events, at least 20 needed for 2 covariates."
    )
    one = minimum_data.cox_shortfall(1, 1)
    assert one is not None
    assert one.text("nl").endswith("1 gebeurtenis, minstens 10 nodig voor 1 covariaat.")


def test_cox_rule_boundary() -> None:
    assert minimum_data.cox_shortfall(20, 2) is None
    below = minimum_data.cox_shortfall(19, 2)
    assert below is not None and below.numbers == {"events": 19, "needed": 20, "covariates": 2}
    assert minimum_data.cox_shortfall(30, 0) == minimum_data.no_variation("cox")
    # other rules are data too
    assert minimum_data.cox_shortfall(10, 2, rules=Minimums(events_per_covariate=5)) is None


def test_refusal_survives_a_pickle() -> None:
    # results travel from job processes as pickles
    exc = TooLittleData(minimum_data.cox_shortfall(3, 2))  # type: ignore[arg-type]
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, TooLittleData) and isinstance(back, ValueError)
    assert back.shortfall == exc.shortfall and str(back) == str(exc)


# -- Cox models ------------------------------------------------------------------------------


def test_cox_fits_at_ten_events_per_covariate_and_refuses_one_below() -> None:
    frame = survival_rows(80, events=20)
    result = survival.cox(frame, "t", "e", ["x1", "x2"])
    assert result.events == 20 and len(result.summary) == 2
    with pytest.raises(TooLittleData, match="19 events, at least 20 needed for 2 covariates"):
        survival.cox(survival_rows(80, events=19), "t", "e", ["x1", "x2"])


def test_cox_counts_events_in_the_rows_it_fits() -> None:
    frame = survival_rows(80, events=20)
    frame.loc[0, "x1"] = np.nan  # an event row with a missing covariate is not fitted
    with pytest.raises(TooLittleData, match="19 events"):
        survival.cox(frame, "t", "e", ["x1", "x2"])


def test_a_categorical_covariate_counts_once_per_indicator() -> None:
    # three arms: two indicator columns, so 20 events are needed
    with pytest.raises(TooLittleData, match="19 events, at least 20 needed for 2 covariates"):
        survival.cox(survival_rows(80, events=19), "t", "e", ["arm"])
    assert survival.cox(survival_rows(80, events=20), "t", "e", ["arm"]).events == 20


def test_stratified_cox_needs_an_event_in_every_stratum() -> None:
    frame = survival_rows(80, events=20)
    # events only in even rows' stratum 0 after this: every event row gets site 0
    lonely = frame.assign(site=np.where(frame["e"] == 1, 0, 1))
    with pytest.raises(TooLittleData, match="stratum 1 has 0 events, at least 1 needed"):
        survival.cox(lonely, "t", "e", ["x1"], strata="site")
    one = lonely.copy()
    one.loc[0, "site"] = 1  # a single event in stratum 1 is enough
    assert survival.cox(one, "t", "e", ["x1"], strata="site").events == 20


def test_time_varying_cox_rule() -> None:
    rows = []
    frame = survival_rows(60, events=10)
    for r in frame.itertuples():
        half = r.t / 2
        rows.append((r.Index, 0.0, half, 0, r.x1))
        rows.append((r.Index, half, r.t, r.e, r.x1 + 0.5))
    cp = pd.DataFrame(rows, columns=["id", "start", "stop", "e", "x"])
    assert survival.cox_time_varying(cp, "id", "start", "stop", "e", ["x"]).events == 10
    fewer = cp.assign(e=np.where(cp["id"] == 0, 0, cp["e"]))
    with pytest.raises(TooLittleData) as caught:
        survival.cox_time_varying(fewer, "id", "start", "stop", "e", ["x"])
    assert caught.value.shortfall.text("nl") == (
        "Te weinig gegevens voor een Cox-model met tijdsafhankelijke covariaten: "
        "9 gebeurtenissen, minstens 10 nodig voor 1 covariaat."
    )


# -- log-rank and Kaplan–Meier ---------------------------------------------------------------


def test_logrank_needs_an_event() -> None:
    frame = survival_rows(30, events=1)
    assert survival.logrank(frame, "t", "e", by="site")["events"].iloc[0] == 1
    with pytest.raises(TooLittleData) as caught:
        survival.logrank(frame.assign(e=0), "t", "e", by="site")
    assert caught.value.shortfall.text("nl") == (
        "Te weinig gegevens voor een log-ranktoets: 0 gebeurtenissen, minstens 1 nodig."
    )


def test_kaplan_meier_stops_where_the_risk_set_is_small() -> None:
    frame = survival_rows(40, events=25).assign(site=lambda f: np.where(f.index < 4, 9, 0))
    full = survival.kaplan_meier(frame, "t", "e", by="site")
    assert full["at_risk"].min() == 1 and "9" in set(full["group"])
    cut = survival.kaplan_meier(frame, "t", "e", by="site", min_at_risk=5)
    assert cut["at_risk"].min() == 5
    assert set(cut["group"]) == {"0"}  # a group of 4 never has 5 at risk
    kept = full[(full["group"] == "0") & (full["at_risk"] >= 5)].reset_index(drop=True)
    pd.testing.assert_frame_equal(cut, kept)
    same, truncated = minimum_data.cut_km(full, 1)
    assert not truncated and len(same) == len(full)


# -- mixed models ----------------------------------------------------------------------------


def grouped(units: int, per_unit: int, seed: int = 2, coaches: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(units):
        u = rng.normal(0, 1)
        for k in range(per_unit):
            x = rng.normal(0, 1)
            rows.append((unit, unit % (coaches or units), float(k), x, 1 + 0.5 * x + u))
    frame = pd.DataFrame(rows, columns=["trajectory_id", "jobcoach_id", "months", "x", "y"])
    return frame.assign(y=frame["y"] + rng.normal(0, 0.5, len(frame)))


def test_mixed_fits_with_five_units_and_refuses_four() -> None:
    result = mixed.fit(grouped(5, 2), "y ~ x", groups="trajectory_id")
    assert result.n_groups == 5 and result.n_obs == 10
    four = pd.concat([grouped(4, 3), grouped(1, 1).assign(trajectory_id=99)], ignore_index=True)
    with pytest.raises(TooLittleData) as caught:
        mixed.fit(four, "y ~ x", groups="trajectory_id")
    assert caught.value.shortfall.text("nl") == (
        "Te weinig gegevens voor een mixed model: 4 werknemers met minstens 2 metingen, "
        "minstens 5 nodig."
    )


def test_mixed_needs_ten_observations_per_fixed_effect() -> None:
    assert mixed.fit(grouped(5, 4), "y ~ x + months", groups="trajectory_id").n_obs == 20
    with pytest.raises(TooLittleData) as caught:
        mixed.fit(grouped(5, 4).iloc[1:], "y ~ x + months", groups="trajectory_id")
    assert caught.value.shortfall.text("en") == (
        "Too little data for a mixed model: 19 observations, at least 20 needed for "
        "2 fixed effects."
    )


def test_mixed_checks_every_level_and_both_engines() -> None:
    nested = {"employee": "0 + C(trajectory_id)"}
    frame = grouped(20, 3, coaches=4)
    with pytest.raises(TooLittleData, match="4 jobcoaches with at least 2 observations"):
        mixed.fit(frame, "y ~ x", groups="jobcoach_id", vc_formula=nested)
    five = grouped(20, 3, coaches=5)
    assert mixed.fit(five, "y ~ x", groups="jobcoach_id", vc_formula=nested).n_groups == 5
    # random slopes go to statsmodels, which applies the same rule
    with pytest.raises(TooLittleData, match="4 jobcoaches"):
        mixed.fit(frame, "y ~ x", groups="jobcoach_id", re_formula="~x")
    assert mixed.fit(five, "y ~ x", groups="jobcoach_id", re_formula="~x").engine == "statsmodels"


# -- reliability -----------------------------------------------------------------------------


def items(n: int, k: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trait = rng.normal(0, 1, n)
    return pd.DataFrame({f"i{j}": trait + rng.normal(0, 1, n) for j in range(k)})


def test_alpha_needs_thirty_complete_responses() -> None:
    assert reliability.cronbach_alpha(items(30), list(items(30).columns))["n"].iloc[0] == 30
    with pytest.raises(TooLittleData) as caught:
        reliability.cronbach_alpha(items(29), list(items(29).columns))
    assert caught.value.shortfall.text("nl") == (
        "Te weinig gegevens voor Cronbachs alfa: 29 volledige antwoorden, minstens 30 nodig."
    )


def test_alpha_by_keeps_small_groups_without_an_estimate() -> None:
    long = pd.concat(
        [
            items(n, seed=n)
            .assign(response_id=lambda f, n=n: f.index + 1000 * n, wave=wave)
            .melt(id_vars=["response_id", "wave"], var_name="item_id", value_name="value")
            for wave, n in (("T0", 30), ("T1", 29))
        ]
    ).assign(instrument_id="wai")
    table = reliability.alpha_by(long).set_index("wave")
    assert np.isfinite(table.loc["T0", "alpha"]) and table.loc["T0", "n"] == 30
    assert np.isnan(table.loc["T1", "alpha"]) and table.loc["T1", "n"] == 29


def ratings(targets: int, raters: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.normal(3, 1, targets)
    return pd.DataFrame(
        [(t, r, truth[t] + rng.normal(0, 0.5)) for t in range(targets) for r in range(raters)],
        columns=["target", "rater", "rating"],
    )


def test_icc_needs_two_raters_and_thirty_targets() -> None:
    table = reliability.icc(ratings(30, 2), "target", "rater", "rating")
    assert (table["n_targets"] == 30).all()
    with pytest.raises(TooLittleData, match="29 units rated by every rater, at least 30"):
        reliability.icc(ratings(29, 2), "target", "rater", "rating")
    with pytest.raises(TooLittleData, match="1 raters, at least 2 needed"):
        reliability.icc(ratings(40, 1), "target", "rater", "rating")


def test_shortfall_is_plain_data() -> None:
    reason = Shortfall("alpha", "items", {"items": 1, "needed": 2})
    assert reason.text("de") == reason.text("nl")  # unknown languages fall back to Dutch
    assert str(reason) == "Too little data for Cronbach's alpha: 1 item, at least 2 needed."


# -- the recovery benchmark's cohorts are not refused ----------------------------------------


def test_default_rules_accept_a_recovery_cohort_of_300() -> None:
    from benchmarks.recovery import fit_cohort

    out = fit_cohort((7, 300, 40))
    assert out["events"] >= 30
    assert all(f"mixed:{term}:covered" in out for term in ("months", "alliance_within"))
