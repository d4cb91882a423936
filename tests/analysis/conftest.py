"""Shared fixtures: small synthetic frames shaped by analysis.frames contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_trajectories(n: int = 120, seed: int = 3) -> pd.DataFrame:
    """A TRAJECTORIES-shaped frame with job loss driven by klik."""
    rng = np.random.default_rng(seed)
    klik = rng.normal(3.5, 0.7, n)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    hazard = 0.004 * np.exp(-0.6 * (klik - 3.5) / 0.7)
    time = rng.exponential(1 / hazard)
    censor = rng.uniform(180, 540, n)
    other = rng.exponential(900, n)
    duration = np.minimum.reduce([time, censor, other]).round() + 1
    reason = np.where(
        time <= np.minimum(censor, other),
        "job_loss",
        np.where(other < censor, "working_independently", None),
    )
    end = start + pd.to_timedelta(duration, unit="D")
    end = end.where(reason != None, pd.NaT)  # noqa: E711
    return pd.DataFrame(
        {
            "trajectory_id": np.arange(1, n + 1),
            "study_code": [f"K{i:04d}" for i in range(1, n + 1)],
            "jobcoach_id": rng.integers(1, 25, n),
            "organisation_id": rng.integers(1, 5, n),
            "employer_id": rng.integers(1, 60, n),
            "start_date": start,
            "end_date": end,
            "end_reason": pd.Series(reason, dtype=object),
            "funder": rng.choice(["UWV", "gemeente"], n),
            "employment_form": rng.choice(["begeleid werken", "detachering"], n),
            "contract_hours": rng.uniform(12, 36, n).round(),
            "loonwaarde": rng.uniform(30, 90, n).round(),
            "maatje": rng.random(n) < 0.5,
            "method": rng.choice(["SE", "IPS", "none"], n),
            "coach_type": rng.choice(["internal", "external"], n),
            "benefit": rng.choice(["Wajong", "none"], n),
            "gender": rng.choice(["f", "m"], n),
            "birth_year": rng.integers(1995, 2006, n),
            "age_at_start": rng.integers(18, 30, n),
            "baseline_alliance": rng.normal(3.8, 0.5, n),
            "baseline_klik": klik,
            "baseline_match_quality": rng.normal(3.5, 0.6, n),
            "baseline_capability_count": rng.integers(0, 8, n).astype(float),
            "contact_minutes_per_month": rng.gamma(4, 30, n),
            "n_contacts": rng.integers(1, 30, n),
            "_duration": duration,
        }
    )


def make_survival(trajectories: pd.DataFrame) -> pd.DataFrame:
    """A SURVIVAL-shaped frame derived from a trajectories frame."""
    reason = trajectories["end_reason"]
    return pd.DataFrame(
        {
            "trajectory_id": trajectories["trajectory_id"],
            "jobcoach_id": trajectories["jobcoach_id"],
            "duration_days": trajectories["_duration"].astype(float),
            "event": (reason == "job_loss").astype(int),
            "end_type": reason.fillna("censored"),
            "baseline_alliance": trajectories["baseline_alliance"],
            "baseline_klik": trajectories["baseline_klik"],
            "baseline_match_quality": trajectories["baseline_match_quality"],
            "baseline_capability_count": trajectories["baseline_capability_count"],
            "contact_minutes_per_month": trajectories["contact_minutes_per_month"],
            "n_contacts": trajectories["n_contacts"],
            "coach_type": trajectories["coach_type"],
        }
    )


def make_person_wave(trajectories: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """A PERSON_WAVE-shaped frame: klik and capability_count from employee and jobcoach."""
    rng = np.random.default_rng(seed)
    waves = [("T0", 0, 0.0), ("T1", 1, 3.0), ("T2", 2, 6.0), ("T3", 3, 12.0)]
    rows = []
    for traj in trajectories.itertuples():
        person = rng.normal(0, 0.8)
        dropout_after = rng.integers(1, 6)
        for wave, index, months in waves:
            for respondent in ("employee", "jobcoach"):
                if index >= dropout_after and respondent == "employee":
                    status = "missing"
                else:
                    status = rng.choice(["on_time", "late", "missing"], p=[0.75, 0.15, 0.10])
                submitted = (
                    traj.start_date
                    + pd.Timedelta(days=30 * months + (3 if status == "late" else 0))
                    if status in ("on_time", "late")
                    else pd.NaT
                )
                for score, mean in (("klik", 3.6), ("capability_count", 3.0 + 0.1 * months)):
                    value = mean + person + rng.normal(0, 0.5) if status != "missing" else np.nan
                    rows.append(
                        (
                            traj.trajectory_id,
                            traj.jobcoach_id,
                            wave,
                            index,
                            months,
                            respondent,
                            f"{respondent}_followup",
                            status,
                            submitted,
                            score,
                            value,
                        )
                    )
    frame = pd.DataFrame(
        rows,
        columns=[
            "trajectory_id",
            "jobcoach_id",
            "wave",
            "wave_index",
            "months",
            "respondent",
            "instrument_id",
            "status",
            "submitted_at",
            "score",
            "value",
        ],
    )
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"])
    return frame


@pytest.fixture(scope="session")
def trajectories() -> pd.DataFrame:
    return make_trajectories()


@pytest.fixture(scope="session")
def survival_frame(trajectories: pd.DataFrame) -> pd.DataFrame:
    return make_survival(trajectories)


@pytest.fixture(scope="session")
def person_wave(trajectories: pd.DataFrame) -> pd.DataFrame:
    return make_person_wave(trajectories)
