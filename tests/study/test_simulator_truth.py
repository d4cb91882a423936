"""The simulated truth: deterministic, calibrated to the parameters, with the effects it claims."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from study.simulator import truth
from study.simulator.params import SimulationParams, add_months


def big(**kw: object) -> SimulationParams:
    return SimulationParams(n_trajectories=20_000, n_coaches=2_000, **kw)


def test_same_seed_same_truth_other_seed_other_truth() -> None:
    a, b = truth.generate(SimulationParams(seed=7)), truth.generate(SimulationParams(seed=7))
    c = truth.generate(SimulationParams(seed=8))
    assert np.array_equal(a.trajectories.job_loss, b.trajectories.job_loss)
    assert np.array_equal(a.contacts.minutes, b.contacts.minutes)
    assert not np.array_equal(a.trajectories.klik[:134], c.trajectories.klik[:134])


def test_retention_and_maatje_and_career_step_match_parameters() -> None:
    t = truth.generate(big()).trajectories
    n = len(t)
    se = math.sqrt(0.88 * 0.12 / n)
    assert abs(np.mean(t.job_loss > truth.SIX_MONTHS) - 0.88) < 4 * se
    assert abs(np.mean(t.maatje) - 0.5) < 4 * math.sqrt(0.25 / n)
    assert abs(np.mean(t.step < truth.SIX_MONTHS) - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
    assert abs(np.mean(t.contract_hours) - 24) < 0.3


@pytest.mark.parametrize("target,sd", [(0.88, 0.8), (0.5, 0.0), (0.95, 1.5)])
def test_calibrated_scale_gives_the_target_survival(target: float, sd: float) -> None:
    scale = truth.calibrate_scale(target, sd, 100.0, 0.8)
    rng = np.random.default_rng(0)
    lp = sd * rng.standard_normal(400_000)
    assert np.mean(np.exp(-scale * 100.0**0.8 * np.exp(lp))) == pytest.approx(target, abs=0.003)


def test_calibrated_logit_gives_the_target_mean() -> None:
    a = truth.calibrate_logit(0.8, math.log(1.6))
    z = np.random.default_rng(1).standard_normal(400_000)
    assert np.mean(1 / (1 + np.exp(-(a + math.log(1.6) * z)))) == pytest.approx(0.8, abs=0.003)


def test_cox_model_recovers_the_hazard_ratios() -> None:
    lifelines = pytest.importorskip("lifelines")
    t = truth.generate(big(hr_klik=0.5, hr_intensity=0.8, hr_match=0.65)).trajectories
    follow = 365.0
    frame = pd.DataFrame(
        {
            "time": np.minimum(t.job_loss, follow),
            "event": (t.job_loss <= follow).astype(int),
            "klik": t.klik,
            "intensity": t.intensity,
            "match": t.match,
        }
    )
    fit = lifelines.CoxPHFitter().fit(frame, "time", "event")
    hr = np.exp(fit.params_)
    assert hr["klik"] == pytest.approx(0.5, abs=0.04)
    assert hr["intensity"] == pytest.approx(0.8, abs=0.05)
    assert hr["match"] == pytest.approx(0.65, abs=0.05)


def test_traits_have_unit_variance_and_the_coach_share_asked_for() -> None:
    tr = truth.generate(big(klik_icc_coach=0.3))
    t = tr.trajectories
    first = t.parent < 0
    klik, coach = t.klik[first], t.coach[first]
    assert np.std(klik) == pytest.approx(1.0, abs=0.03)
    coach_means = pd.Series(klik).groupby(coach).mean()
    # the variance of coach means is the coach share plus the person part shrunk by caseload
    caseload = pd.Series(coach).value_counts().mean()
    expected = 0.3 + 0.7 / caseload
    assert coach_means.var() == pytest.approx(expected, rel=0.15)


def test_intensity_declines_and_follows_the_trait() -> None:
    tr = truth.generate(big(intensity_half_life_months=3.0))
    c, t = tr.contacts, tr.trajectories
    month = c.day // 30
    first, sixth = np.sum(month == 0), np.sum(month == 5)
    assert sixth < first * 0.45  # three halvings in the rate would give ~0.31, fewer at risk too
    per = np.bincount(c.trajectory, minlength=len(t))
    high = t.intensity > 1
    low = t.intensity < -1
    span = np.minimum(t.end, 120)
    assert np.sum(per[high]) / np.sum(span[high]) > 1.5 * np.sum(per[low]) / np.sum(span[low])


def test_capability_count_rises_with_klik_and_falls_after_job_loss() -> None:
    p = big()
    tr = truth.generate(p)
    t = tr.trajectories
    rows = range(0, 5000)
    star = np.array(
        [truth.capability_star(p, t, tr.coaches.u_capability, r, 0, 0.0, False) for r in rows]
    )
    slope = np.polyfit(t.klik[:5000], star, 1)[0]
    assert slope == pytest.approx(p.capability_klik, abs=0.06)
    lost = truth.capability_star(p, t, tr.coaches.u_capability, 0, 0, 0.0, True)
    assert lost == pytest.approx(star[0] + p.capability_after_job_loss)
    assert {truth.capability_count(x) for x in (-3.0, 3.4, 9.9)} == {0, 3, 7}


def test_response_probability_lower_after_job_loss_and_with_low_klik() -> None:
    p = SimulationParams()
    ic = truth.response_intercepts(p)
    base = truth.response_probability(p, ic, "employee", klik=0, wave_index=0, job_lost=False)
    assert (
        truth.response_probability(p, ic, "employee", klik=-1, wave_index=0, job_lost=False) < base
    )
    assert truth.response_probability(p, ic, "employee", klik=0, wave_index=0, job_lost=True) < base
    coach = truth.response_probability(p, ic, "jobcoach", klik=-2, wave_index=0, job_lost=True)
    assert coach == pytest.approx(p.response_jobcoach)


def test_response_delays_fall_in_the_reminder_weeks() -> None:
    p = SimulationParams()
    u = np.linspace(0, 0.999, 1000)
    days = np.array([truth.response_delay_days(p, x, 36) for x in u])
    assert np.mean(days < 7) == pytest.approx(p.share_before_first_reminder, abs=0.01)
    assert np.mean(days >= 14) == pytest.approx(p.share_after_second_reminder, abs=0.01)
    assert days.max() <= 35


def test_expected_retention_is_the_parameter_at_six_months() -> None:
    p = SimulationParams(retention_6m=0.8)
    assert truth.expected_job_retention(p, truth.SIX_MONTHS) == pytest.approx(0.8, abs=1e-6)
    assert truth.expected_job_retention(p, 30) > 0.8


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    import datetime as dt

    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 11, 6), 3) == dt.date(2026, 2, 6)


def test_parameters_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        SimulationParams(method_shares={"ips": -1.0})
    with pytest.raises(ValueError):
        SimulationParams(retention_6m=1.2)
