"""Dose and klik: time in work under a set coaching intensity or klik, by g-computation.

From the study's Cox model of job loss (klik, coaching intensity and match at baseline:
:data:`analysis.study_models.COX_MEASURES`; Breslow's estimator of the baseline hazard), the
survival curve of every participant is predicted with the exposure set to a value and the
others as observed; their mean is the curve "had everyone been coached at that dose":

    S_a(t) = 1/n sum_i S(t | A = a, X_i)

The contrasts are the difference in restricted mean time in work (RMST, :mod:`analysis.rmst`)
to ``tau`` between

* coaching at the UWV regime (contact hours per month = 15% of the contract hours per week x
  52/12, the first-year ceiling) and at half of it;
* high and low klik (the middle of the top and bottom thirds: the 5/6 and 1/6 quantiles).

Intervals: percentile bootstrap clustered by jobcoach. These are associations within a coached
cohort, never the effect of coaching: the label :data:`LABEL` goes with every number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.frames import SURVIVAL, validate_frame
from analysis.minimum_data import TooLittleData, cox_shortfall, no_variation
from analysis.rmst import rmst_of_curve
from analysis.validation import BadInput, require_columns, require_numeric

__all__ = [
    "COVARIATES",
    "LABEL",
    "REGIME_SHARE",
    "breslow_cox",
    "dose_contrasts",
    "g_formula_rmst",
]

LABEL = {
    "nl": "samenhang, geen bewezen effect: veronderstelt geen ongemeten confounding",
    "en": "association, not a proven effect: assumes no unmeasured confounding",
}
"""The label of every dose and klik contrast."""

COVARIATES = ("baseline_klik", "contact_minutes_per_month", "baseline_match_quality")
"""The Cox model's covariates (those of the study's model of job loss)."""

REGIME_SHARE = 0.15
"""UWV's first-year ceiling: coaching hours at most 15% of the hours worked."""

WEEKS_PER_MONTH = 52 / 12


@dataclass(frozen=True)
class CoxFit:
    """A Breslow Cox fit: coefficients on centred covariates and the baseline hazard steps."""

    beta: np.ndarray
    centre: np.ndarray
    times: np.ndarray
    hazard: np.ndarray


def breslow_cox(
    durations: np.ndarray, events: np.ndarray, x: np.ndarray, *, iterations: int = 30
) -> CoxFit:
    """Cox proportional hazards by Newton–Raphson on Breslow's partial likelihood.

    Returns the coefficients, the centring and the Breslow cumulative baseline hazard at the
    distinct event times (for covariates at their centre).
    """
    t = np.asarray(durations, float)
    e = np.asarray(events, float)
    centre = x.mean(axis=0)
    z = x - centre
    order = np.argsort(-t, kind="stable")
    t, e, z = t[order], e[order], z[order]
    # risk sets as cumulative sums over descending time; ties share the last index of their time
    last = np.searchsorted(-t, -t, side="right") - 1
    beta = np.zeros(z.shape[1])
    for _ in range(iterations):
        w = np.exp(z @ beta)
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w[:, None] * z, axis=0)[last]
        s2 = np.cumsum(w[:, None, None] * z[:, :, None] * z[:, None, :], axis=0)[last]
        mean = s1 / s0[:, None]
        grad = (e[:, None] * (z - mean)).sum(axis=0)
        info = (
            e[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])
        ).sum(axis=0)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as exc:
            raise BadInput("breslow_cox", None, "the covariates are collinear") from exc
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    w = np.exp(z @ beta)
    s0 = np.cumsum(w)[last]
    event_times = np.unique(t[e > 0])
    increments = np.array([e[t == u].sum() / s0[t == u][0] for u in event_times], dtype=float)
    return CoxFit(beta, centre, event_times, np.cumsum(increments))


def g_formula_rmst(fit: CoxFit, x: np.ndarray, tau: float) -> float:
    """RMST to ``tau`` of the mean predicted survival curve of the rows of ``x``."""
    risk = np.exp((x - fit.centre) @ fit.beta)
    keep = fit.times < tau
    curve = np.exp(-np.outer(fit.hazard[keep], risk)).mean(axis=1)
    return rmst_of_curve(fit.times[keep], curve, tau)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    validate_frame(frame, SURVIVAL, extra=["jobcoach_id"])
    require_columns(frame, ["contract_hours"], "dose_contrasts")
    for column in (*COVARIATES, "contract_hours"):
        require_numeric(frame, column, "dose_contrasts", nonnegative=column != "baseline_klik")
    data = frame.dropna(subset=[*COVARIATES, "contract_hours"])
    if any(data[c].nunique() < 2 for c in COVARIATES):
        raise TooLittleData(no_variation("cox"))
    shortfall = cox_shortfall(int(data["event"].sum()), len(COVARIATES))
    if shortfall is not None:
        raise TooLittleData(shortfall)
    return data.reset_index(drop=True)


def _contrasts(
    data: pd.DataFrame, tau: float, klik_levels: tuple[float, float]
) -> dict[str, tuple]:
    x = data[list(COVARIATES)].to_numpy(float)
    fit = breslow_cox(data["duration_days"].to_numpy(float), data["event"].to_numpy(float), x)
    regime = REGIME_SHARE * data["contract_hours"].to_numpy(float) * WEEKS_PER_MONTH * 60
    out = {}
    for name, column, high, low in (
        ("intensity", 1, regime, regime / 2),
        ("klik", 0, np.full(len(x), klik_levels[1]), np.full(len(x), klik_levels[0])),
    ):
        at_high, at_low = x.copy(), x.copy()
        at_high[:, column], at_low[:, column] = high, low
        a, b = g_formula_rmst(fit, at_high, tau), g_formula_rmst(fit, at_low, tau)
        out[name] = (a, b, a - b)
    return out


def dose_contrasts(
    frame: pd.DataFrame,
    *,
    tau: float,
    replicates: int = 200,
    seed: int = 20250102,
    alpha: float = 0.05,
    language: str = "nl",
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """G-computed differences in time in work (days within ``tau``) for dose and klik.

    Parameters
    ----------
    frame : DataFrame
        A ``SURVIVAL`` frame with ``contract_hours`` (from the trajectories frame).
    tau : float
        Horizon in days (e.g. 182.6 or 365.25).

    Returns
    -------
    DataFrame
        contrast (intensity, klik), high, low (what was compared, in words), high_level,
        low_level (the klik values compared; NaN for intensity, set per person), rmst_high,
        rmst_low, difference, lower, upper (the percentile interval, days), se (the bootstrap
        standard deviation), n, events, replicates, label.

    Raises
    ------
    TooLittleData
        When the Cox model's rule of events per covariate is not met.
    """
    if not isinstance(tau, int | float) or isinstance(tau, bool) or not tau > 0:
        raise BadInput("dose_contrasts", None, "tau must be a positive number of days")
    if not isinstance(replicates, int) or replicates < 0:
        raise BadInput("dose_contrasts", None, "replicates must be a whole number >= 0")
    data = _prepare(frame)
    klik = tuple(float(v) for v in data["baseline_klik"].quantile([1 / 6, 5 / 6]))
    estimate = _contrasts(data, float(tau), klik)  # type: ignore[arg-type]
    coaches = data["jobcoach_id"].to_numpy()
    members = {c: np.flatnonzero(coaches == c) for c in np.unique(coaches)}
    keys = list(members)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {"intensity": [], "klik": []}
    for b in range(replicates):
        chosen = rng.choice(len(keys), size=len(keys), replace=True)
        sample = data.iloc[np.concatenate([members[keys[i]] for i in chosen])]
        try:
            result = _contrasts(sample, float(tau), klik)  # type: ignore[arg-type]
        except (BadInput, np.linalg.LinAlgError, FloatingPointError):
            continue
        for name, value in result.items():
            if math.isfinite(value[2]):
                draws[name].append(value[2])
        if progress is not None and b % 20 == 0:
            progress(b / max(replicates, 1))
    words = {
        "intensity": {
            "nl": ("UWV-regime (15% van de contracturen)", "de helft daarvan"),
            "en": ("UWV regime (15% of contract hours)", "half of it"),
        },
        "klik": {
            "nl": (f"hoge klik ({klik[1]:.2f})", f"lage klik ({klik[0]:.2f})"),
            "en": (f"high klik ({klik[1]:.2f})", f"low klik ({klik[0]:.2f})"),
        },
    }
    lang = "en" if language == "en" else "nl"
    rows = []
    for name, (a, b_, diff) in estimate.items():
        values = np.array(draws[name])
        lo, hi = (
            np.quantile(values, [alpha / 2, 1 - alpha / 2]) if len(values) else (np.nan, np.nan)
        )
        high, low = words[name][lang]
        levels = klik[::-1] if name == "klik" else (np.nan, np.nan)
        se = float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
        rows.append(
            (name, high, low, *levels, a, b_, diff, float(lo), float(hi), se, len(data),
             int(data["event"].sum()), len(values), LABEL[lang])
        )  # fmt: skip
    columns = ["contrast", "high", "low", "high_level", "low_level", "rmst_high", "rmst_low", "difference", "lower",
               "upper", "se", "n", "events", "replicates", "label"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
