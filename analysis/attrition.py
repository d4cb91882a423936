"""Attrition: response per wave and role, time to dropout, who stops responding.

Every public function checks its frames first: a ``PERSON_WAVE`` frame that breaks its contract
(missing columns, wrong types, unknown statuses) or covariates that are missing, hold dates or
do not vary are refused with :class:`~analysis.validation.BadInput` naming the column. A valid
frame without rows (a study that has sent nothing yet) gives tables without rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from analysis.frames import PERSON_WAVE, RESPONDENTS, validate_frame
from analysis.validation import BadInput, require_columns, require_frame, require_numeric

__all__ = ["invitations", "response_rates", "time_to_dropout", "who_stops"]

RESPONDED = ("on_time", "late")
CLOSED = ("on_time", "late", "missing")


def _person_wave(person_wave: object, function: str) -> pd.DataFrame:
    """The frame if it meets the ``PERSON_WAVE`` contract, else :class:`BadInput`."""
    frame = require_frame(person_wave, function)
    try:
        validate_frame(frame, PERSON_WAVE)
    except BadInput as exc:
        raise BadInput(function, exc.column, f"person_wave: {exc.problem}") from None
    except ValueError as exc:
        raise BadInput(function, None, str(exc)) from None
    return frame


def _require_respondent(respondent: object, function: str) -> None:
    if respondent not in RESPONDENTS:
        raise BadInput(
            function, "respondent", f"has no role {respondent!r} (roles: {list(RESPONDENTS)})"
        )


def invitations(person_wave: pd.DataFrame) -> pd.DataFrame:
    """One row per invitation (trajectory, wave, respondent, instrument) from the long frame.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, wave, wave_index, months, respondent, instrument_id, status,
        submitted_at.

    Raises
    ------
    BadInput
        When ``person_wave`` breaks the ``PERSON_WAVE`` contract.
    """
    person_wave = _person_wave(person_wave, "invitations")
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

    Raises
    ------
    BadInput
        When ``person_wave`` breaks its contract or lacks a ``by`` column.
    """
    function = "response_rates"
    person_wave = _person_wave(person_wave, function)
    keys = [by] if isinstance(by, str) else list(by)
    require_columns(person_wave, keys, function)
    inv = invitations(person_wave)
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

    Raises
    ------
    BadInput
        When ``person_wave`` breaks its contract or ``respondent`` is not a role.
    """
    _person_wave(person_wave, "time_to_dropout")
    _require_respondent(respondent, "time_to_dropout")
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

    Raises
    ------
    BadInput
        For no covariates, a broken ``person_wave`` frame, a missing or date covariate, a
        covariate or the dropout that does not vary, no usable trajectory, or perfect
        separation.
    """
    function = "who_stops"
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise BadInput(function, None, "needs at least one covariate")
    _person_wave(person_wave, function)
    _require_respondent(respondent, function)
    ok = isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 < alpha < 1
    if not ok:
        raise BadInput(function, None, f"alpha must be a number between 0 and 1, got {alpha!r}")
    trajectories = require_frame(trajectories, function)
    require_columns(trajectories, ["trajectory_id", *covs], function)
    require_numeric(trajectories, "trajectory_id", function)  # the keys of person_wave
    for name in covs:
        col = trajectories[name]
        if isinstance(col, pd.DataFrame):
            raise BadInput(function, name, "appears more than once in the frame")
        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
            raise BadInput(function, name, "holds dates; a covariate must hold numbers or text")
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            require_numeric(trajectories, name, function)
    dropout = time_to_dropout(person_wave, respondent=respondent)
    data = dropout[["trajectory_id", "dropped_out"]].merge(
        trajectories[["trajectory_id", *covs]], on="trajectory_id", how="inner"
    )
    data = data.dropna(subset=covs)
    if len(data) == 0:
        raise BadInput(
            function,
            None,
            f"no trajectory has both a closed wave for {respondent!r} and every covariate",
        )
    if data["dropped_out"].nunique() < 2:
        state = "dropped out" if data["dropped_out"].iloc[0] else "kept responding"
        raise BadInput(
            function,
            "dropped_out",
            f"does not vary: every trajectory {state}; the odds of dropout are not estimable",
        )
    terms = []
    for name in covs:
        col = data[name]
        if col.nunique() < 2:
            raise BadInput(function, name, "does not vary in the trajectories used")
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            terms.append(f"C(Q('{name}'))")
        else:
            terms.append(f"Q('{name}')")
    formula = "dropped_out ~ " + " + ".join(terms)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = smf.logit(
                formula, data=data.assign(dropped_out=data["dropped_out"].astype(float))
            )
            result = model.fit(disp=False, maxiter=200)
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
        raise BadInput(
            function,
            None,
            "the odds ratios are not estimable: a covariate separates those who stop from "
            f"those who do not, or the covariates are collinear ({type(exc).__name__})",
        ) from None
    if not np.isfinite(result.bse.to_numpy()).all():
        raise BadInput(function, None, "the odds ratios are not estimable (singular fit)")
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
