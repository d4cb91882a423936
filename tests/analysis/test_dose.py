"""Dose and klik by g-computation: the Cox fit against the checked Breslow fit, the g-formula
against a closed form, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from analysis import survival
from analysis.dose import LABEL, breslow_cox, dose_contrasts, g_formula_rmst
from analysis.minimum_data import TooLittleData
from analysis.validation import BadInput


def test_cox_matches_the_checked_breslow_fit() -> None:
    rossi = load_rossi()
    covs = ["fin", "age", "prio"]
    ours = breslow_cox(
        rossi["week"].to_numpy(), rossi["arrest"].to_numpy(), rossi[covs].to_numpy(float)
    )
    checked = survival.cox(rossi, "week", "arrest", covs, ties="breslow").summary
    assert ours.beta == pytest.approx(
        checked.set_index("term").loc[covs, "coef"].to_numpy(), abs=1e-6
    )


def cohort(n: int, beta_dose: float, beta_klik: float, seed: int) -> pd.DataFrame:
    """Exponential times to job loss; hazard from the dose (minutes a month) and klik."""
    rng = np.random.default_rng(seed)
    hours = rng.choice([16.0, 24.0, 32.0], n)
    dose = rng.uniform(0.5, 1.5, n) * 0.15 * hours * 52 / 12 * 60
    klik = rng.normal(3.5, 0.7, n)
    match = rng.normal(3.5, 0.6, n)
    rate = 0.004 * np.exp(beta_dose * dose + beta_klik * (klik - 3.5))
    time = rng.exponential(1 / rate)
    censor = rng.uniform(200, 500, n)
    return pd.DataFrame(
        {
            "trajectory_id": np.arange(n),
            "jobcoach_id": rng.integers(0, max(n // 4, 2), n),
            "duration_days": np.minimum(time, censor).round(1) + 0.1,
            "event": (time <= censor).astype(int),
            "end_type": np.where(time <= censor, "job_loss", "censored"),
            "contact_minutes_per_month": dose,
            "baseline_klik": klik,
            "baseline_match_quality": match,
            "baseline_alliance": klik,
            "baseline_capability_count": 3.0,
            "n_contacts": 5,
            "contract_hours": hours,
        }
    )


def true_difference(frame: pd.DataFrame, beta_dose: float, tau: float) -> float:
    """Closed-form RMST of exponentials, each person at the regime and at half of it."""
    regime = 0.15 * frame["contract_hours"].to_numpy() * 52 / 12 * 60
    klik = frame["baseline_klik"].to_numpy() - 3.5

    def rmst(dose: np.ndarray) -> float:
        rate = 0.004 * np.exp(beta_dose * dose + -0.5 * klik)
        return float(np.mean((1 - np.exp(-rate * tau)) / rate))

    return rmst(regime) - rmst(regime / 2)


def test_g_formula_recovers_a_known_difference() -> None:
    beta = -0.004  # per minute a month: more coaching, fewer job losses
    frame = cohort(4000, beta, -0.5, seed=11)
    table = dose_contrasts(frame, tau=365.25, replicates=0).set_index("contrast")
    truth = true_difference(frame, beta, 365.25)
    assert truth > 5
    assert table.loc["intensity", "difference"] == pytest.approx(truth, rel=0.15)
    # higher klik lowers the hazard here, so high klik means more time in work
    assert table.loc["klik", "difference"] > 0
    assert (table["label"] == LABEL["nl"]).all()


def test_no_association_gives_no_difference() -> None:
    frame = cohort(3000, 0.0, 0.0, seed=3)
    table = dose_contrasts(frame, tau=365.25, replicates=60, seed=4).set_index("contrast")
    for name in ("intensity", "klik"):
        row = table.loc[name]
        assert abs(row["difference"]) < 8
        assert row["lower"] <= row["difference"] <= row["upper"]
        assert row["replicates"] == 60


def test_g_formula_of_a_null_model_is_the_baseline_area() -> None:
    frame = cohort(300, 0.0, 0.0, seed=5)
    x = frame[["baseline_klik"]].to_numpy()
    fit = breslow_cox(frame["duration_days"].to_numpy(), frame["event"].to_numpy(), x)
    fit = type(fit)(np.zeros(1), fit.centre, fit.times, fit.hazard)
    keep = fit.times < 200
    expected = np.sum(np.diff(np.r_[0, fit.times[keep], 200]) * np.r_[1, np.exp(-fit.hazard[keep])])
    assert g_formula_rmst(fit, x, 200) == pytest.approx(expected)


def test_too_few_events_are_refused() -> None:
    frame = cohort(40, 0.0, 0.0, seed=1).assign(event=0)
    frame.loc[:5, "event"] = 1
    with pytest.raises(TooLittleData):
        dose_contrasts(frame, tau=180, replicates=0)


def test_bad_input_is_refused() -> None:
    frame = cohort(200, 0.0, 0.0, seed=2)
    with pytest.raises(BadInput, match="tau"):
        dose_contrasts(frame, tau=0)
    with pytest.raises(BadInput, match="'contract_hours'"):
        dose_contrasts(frame.drop(columns="contract_hours"), tau=180)
    with pytest.raises(BadInput, match="'contract_hours'"):
        dose_contrasts(frame.assign(contract_hours=-1.0), tau=180)
