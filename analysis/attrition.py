"""Attrition: response per wave and role, time to dropout, who stops responding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from analysis.frames import PERSON_WAVE, validate_frame

__all__ = ["invitations", "response_rates", "time_to_dropout", "who_stops"]

RESPONDED = ("on_time", "late")
CLOSED = ("on_time", "late", "missing")


def invitations(person_wave: pd.DataFrame) -> pd.DataFrame:
    """One row per invitation (trajectory, wave, respondent, instrument) from the long frame.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, wave, wave_index, months, respondent, instrument_id, status,
        submitted_at.
    """
    validate_frame(person_wave, PERSON_WAVE)
    keys = ["trajectory_id", "wave", "respondent", "instrument_id"]
    columns = [*keys, "jobcoach_id", "wave_index", "months", "status", "submitted_at"]
    return person_wave[columns].drop_duplicates(keys).reset_index(drop=True)


def response_rates(
    person_wave: pd.DataFrame, by: Sequence[str] = ("wave", "respondent")
) -> pd.DataFrame:
    """Response per wave and respondent role.

    Invitations still open and cancelled ones (e.g. after the trajectory ended) are not in the
    denominator: ``invited`` counts closed invitations only.

    Parameters
    ----------
    person_wave : DataFrame
        A ``PERSON_WAVE`` frame.
    by : sequence of str
        Grouping columns (default wave and respondent).

    Returns
    -------
    DataFrame
        by columns (with wave_index when grouping by wave), invited, responded, on_time, late,
        missing, open, cancelled, rate (responded / invited), on_time_rate.
    """
    inv = invitations(person_wave)
    keys = list(by)
    if "wave" in keys and "wave_index" not in keys:
        keys.insert(keys.index("wave") + 1, "wave_index")
    counts = pd.crosstab([inv[k] for k in keys], inv["status"], dropna=False).reindex(
        columns=["on_time", "late", "missing", "open", "cancelled"], fill_value=0
    )
    counts = counts.reset_index()
    counts["invited"] = counts[["on_time", "late", "missing"]].sum(axis=1)
    counts["responded"] = counts["on_time"] + counts["late"]
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["rate"] = counts["responded"] / counts["invited"].replace(0, np.nan)
        counts["on_time_rate"] = counts["on_time"] / counts["invited"].replace(0, np.nan)
    counts = counts[counts[["invited", "open", "cancelled"]].sum(axis=1) > 0]
    order = [k for k in ("wave_index", "respondent") if k in keys] or keys
    counts = counts.sort_values(order).reset_index(drop=True)
    counts.columns.name = None
    counts_columns = ["invited", "responded", "on_time", "late", "missing", "open", "cancelled"]
    return counts[[*keys, *counts_columns, "rate", "on_time_rate"]]


def time_to_dropout(person_wave: pd.DataFrame, respondent: str = "employee") -> pd.DataFrame:
    """Per trajectory, when the respondent stopped responding for good (KM-ready).

    The dropout wave is the first closed wave after the last wave with a response, provided
    every later closed wave is missed too. A respondent who answered their last closed wave is
    censored at that wave. Someone who never answered drops out at their first closed wave.
    Open and cancelled invitations are ignored (so an ended trajectory is not counted as
    dropout).

    Parameters
    ----------
    person_wave : DataFrame
        A ``PERSON_WAVE`` frame.
    respondent : str
        Whose responses count.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, last_wave_responded (label or None), dropout_wave (label or
        None), months (months since start at the dropout wave, or at the last closed wave when
        censored), dropped_out (1/0), waves_closed, waves_responded.
    """
    inv = invitations(person_wave)
    inv = inv[(inv["respondent"] == respondent) & inv["status"].isin(CLOSED)]
    # a wave counts as answered if any instrument of that wave was answered
    per_wave = (
        inv.assign(answered=inv["status"].isin(RESPONDED))
        .groupby(["trajectory_id", "jobcoach_id", "wave_index", "wave", "months"], as_index=False)[
            "answered"
        ]
        .any()
        .sort_values(["trajectory_id", "wave_index"])
    )
    rows = []
    for (traj, coach), sub in per_wave.groupby(["trajectory_id", "jobcoach_id"], sort=True):
        answered = sub["answered"].to_numpy()
        last = int(np.flatnonzero(answered)[-1]) if answered.any() else -1
        dropped = last < len(sub) - 1
        at = sub.iloc[last + 1] if dropped else sub.iloc[-1]
        rows.append(
            {
                "trajectory_id": traj,
                "jobcoach_id": coach,
                "last_wave_responded": sub["wave"].iloc[last] if last >= 0 else None,
                "dropout_wave": at["wave"] if dropped else None,
                "months": float(at["months"]),
                "dropped_out": int(dropped),
                "waves_closed": len(sub),
                "waves_responded": int(answered.sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "trajectory_id",
            "jobcoach_id",
            "last_wave_responded",
            "dropout_wave",
            "months",
            "dropped_out",
            "waves_closed",
            "waves_responded",
        ],
    )


def who_stops(
    person_wave: pd.DataFrame,
    trajectories: pd.DataFrame,
    covariates: Sequence[str],
    respondent: str = "employee",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Logistic regression of dropout (see :func:`time_to_dropout`) on trajectory covariates.

    Parameters
    ----------
    person_wave : DataFrame
        A ``PERSON_WAVE`` frame.
    trajectories : DataFrame
        A ``TRAJECTORIES`` frame with the covariates.
    covariates : sequence of str
        Covariate columns of ``trajectories``; strings and booleans enter as categories.
    respondent : str
        Whose dropout is modelled.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        term, estimate (odds ratio; for ``Intercept`` the baseline odds), lower, upper, p, coef
        (log odds), se, n (trajectories used), n_dropout.
    """
    covs = list(covariates)
    if not covs:
        raise ValueError("who_stops needs at least one covariate")
    missing = [c for c in ["trajectory_id", *covs] if c not in trajectories.columns]
    if missing:
        raise ValueError(f"trajectories lacks columns {missing}")
    dropout = time_to_dropout(person_wave, respondent=respondent)
    data = dropout[["trajectory_id", "dropped_out"]].merge(
        trajectories[["trajectory_id", *covs]], on="trajectory_id", how="inner"
    )
    data = data.dropna(subset=covs)
    terms = []
    for name in covs:
        col = data[name]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            terms.append(f"C(Q('{name}'))")
        else:
            terms.append(f"Q('{name}')")
    formula = "dropped_out ~ " + " + ".join(terms)
    model = smf.logit(formula, data=data.assign(dropped_out=data["dropped_out"].astype(float)))
    result = model.fit(disp=False, maxiter=200)
    q = stats.norm.ppf(1 - alpha / 2)
    coef = result.params.to_numpy()
    se = result.bse.to_numpy()
    clean = [
        t.replace("C(Q('", "").replace("Q('", "").replace("'))", "").replace("')", "")
        for t in result.params.index
    ]
    clean = [t.replace("[T.", "=").rstrip("]") if "[T." in t else t for t in clean]
    return pd.DataFrame(
        {
            "term": clean,
            "estimate": np.exp(coef),
            "lower": np.exp(coef - q * se),
            "upper": np.exp(coef + q * se),
            "p": result.pvalues.to_numpy(),
            "coef": coef,
            "se": se,
            "n": int(result.nobs),
            "n_dropout": int(data["dropped_out"].sum()),
        }
    )
