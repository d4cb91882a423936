"""Restricted mean survival time: the area under a survival curve up to a horizon ``tau``.

RMST(tau) = E[min(T, tau)] = integral of S(t) from 0 to tau. For time to job loss it is the
expected time in work within ``tau``; the difference between two groups is the time in work
gained. Estimates and standard errors follow R's survRM2 (Uno et al.): the Kaplan–Meier area
with the variance sum over event times of A_i^2 d_i / (Y_i (Y_i - d_i)), A_i the area from
event time i to ``tau``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.validation import (
    BadInput,
    require_columns,
    require_frame,
    require_numeric,
    require_rows,
)

__all__ = ["km_arrays", "km_steps", "rmst", "rmst_difference", "rmst_of_curve"]


def _require_tau(tau: object, function: str) -> float:
    if isinstance(tau, bool) or not isinstance(tau, int | float) or not np.isfinite(tau):
        raise BadInput(function, None, f"tau must be a positive number, not {tau!r}")
    if tau <= 0:
        raise BadInput(function, None, f"tau must be positive, not {tau!r}")
    return float(tau)


def km_steps(durations: np.ndarray, events: np.ndarray) -> pd.DataFrame:
    """The Kaplan–Meier curve as a step table.

    Returns
    -------
    DataFrame
        time (distinct times with an event or a censoring), at_risk, events, survival (just
        after ``time``).
    """
    t, at_risk, deaths, surv = km_arrays(durations, events)
    return pd.DataFrame({"time": t, "at_risk": at_risk, "events": deaths, "survival": surv})


def km_arrays(
    durations: np.ndarray, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`km_steps` as arrays (time, at_risk, events, survival), for resampling loops."""
    order = np.argsort(durations, kind="stable")
    t = np.asarray(durations, dtype=float)[order]
    e = np.asarray(events, dtype=float)[order]
    times, first = np.unique(t, return_index=True)
    n = len(t)
    at_risk = n - first
    deaths = np.add.reduceat(e, first) if n else np.array([])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - deaths / at_risk, 1.0)
    return times, at_risk, deaths, np.cumprod(factor)


def rmst_of_curve(times: Sequence[float], survival: Sequence[float], tau: float) -> float:
    """Area under a right-continuous step curve up to ``tau``.

    ``survival[i]`` holds from ``times[i]`` until the next time; before the first time the curve
    is 1. Used for Kaplan–Meier, g-computed and benchmark curves alike.
    """
    tau = _require_tau(tau, "rmst_of_curve")
    t = np.asarray(times, dtype=float)
    s = np.asarray(survival, dtype=float)
    if t.shape != s.shape:
        raise BadInput("rmst_of_curve", None, "times and survival must have the same length")
    if len(t) and (np.any(np.diff(t) < 0) or np.any(~np.isfinite(t)) or np.any(~np.isfinite(s))):
        raise BadInput("rmst_of_curve", None, "times must be finite and increasing")
    if len(s) and (np.any(s < 0) or np.any(s > 1)):
        raise BadInput("rmst_of_curve", None, "survival must lie between 0 and 1")
    keep = t < tau
    knots = np.concatenate([[0.0], t[keep], [tau]])
    levels = np.concatenate([[1.0], s[keep]])
    knots = np.maximum(knots, 0.0)
    return float(np.sum(np.diff(knots) * levels))


def _one_arm(t: np.ndarray, e: np.ndarray, tau: float) -> tuple[float, float, int]:
    steps = km_steps(t, e)
    area = rmst_of_curve(steps["time"], steps["survival"], tau)
    ev = steps[(steps["events"] > 0) & (steps["time"] <= tau)]
    variance = 0.0
    if len(ev):
        # area from each event time to tau, under the curve just after that time
        knots = np.append(ev["time"].to_numpy(), tau)
        pieces = np.diff(knots) * ev["survival"].to_numpy()
        after = np.cumsum(pieces[::-1])[::-1]
        y, d = ev["at_risk"].to_numpy(float), ev["events"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(y - d > 0, d / (y * (y - d)), 0.0)
        variance = float(np.sum(after**2 * weight))
    return area, float(np.sqrt(variance)), len(t)


def _checked(frame: object, duration: str, event: str, function: str) -> pd.DataFrame:
    data = require_frame(frame, function)
    require_columns(data, [duration, event], function)
    require_numeric(data, duration, function, nonnegative=True)
    require_numeric(data, event, function)
    if not data[event].dropna().isin([0, 1]).all():
        raise BadInput(function, event, "must hold 0 (censored) or 1 (event)")
    data = data.dropna(subset=[duration, event])
    require_rows(data, function)
    return data


def rmst(
    frame: pd.DataFrame, duration: str, event: str, tau: float, *, alpha: float = 0.05
) -> pd.DataFrame:
    """RMST to ``tau`` from the Kaplan–Meier curve, with survRM2's standard error.

    Returns
    -------
    DataFrame
        One row: tau, estimate, se, lower, upper, n.
    """
    tau = _require_tau(tau, "rmst")
    data = _checked(frame, duration, event, "rmst")
    est, se, n = _one_arm(data[duration].to_numpy(float), data[event].to_numpy(float), tau)
    z = float(stats.norm.ppf(1 - alpha / 2))
    return pd.DataFrame(
        [(tau, est, se, est - z * se, est + z * se, n)],
        columns=["tau", "estimate", "se", "lower", "upper", "n"],
    )


def rmst_difference(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    tau: float,
    *,
    reference: object,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """RMST per group and the difference (other − reference), as survRM2's ``rmst2``.

    Returns
    -------
    DataFrame
        Rows per group and one contrast row: term ("rmst <group>" or "difference"), estimate,
        se, lower, upper, p (the contrast only), n.
    """
    tau = _require_tau(tau, "rmst_difference")
    data = _checked(frame, duration, event, "rmst_difference")
    require_columns(data, [group], "rmst_difference")
    levels = list(pd.unique(data[group].dropna()))
    if reference not in levels or len(levels) != 2:
        raise BadInput(
            "rmst_difference",
            group,
            f"must hold exactly two groups, one of them the reference {reference!r}",
        )
    other = next(v for v in levels if v != reference)
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows, parts = [], {}
    for level in (other, reference):
        sub = data[data[group] == level]
        est, se, n = _one_arm(sub[duration].to_numpy(float), sub[event].to_numpy(float), tau)
        parts[level] = (est, se)
        rows.append((f"rmst {level}", est, se, est - z * se, est + z * se, np.nan, n))
    diff = parts[other][0] - parts[reference][0]
    se = float(np.hypot(parts[other][1], parts[reference][1]))
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
    rows.append(("difference", diff, se, diff - z * se, diff + z * se, p, len(data)))
    return pd.DataFrame(rows, columns=["term", "estimate", "se", "lower", "upper", "p", "n"])
