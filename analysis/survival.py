"""Survival analysis of time to job loss: Kaplan–Meier, log-rank, Cox models, competing risks.

Every function takes a tidy frame plus column names and returns tidy frames (or a small result
object holding them). Rows with a missing value in a column the analysis uses are dropped
(listwise); the number of rows used is always reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test
from scipy import stats

from analysis.minimum_data import (
    RULES,
    Minimums,
    TooLittleData,
    cox_shortfall,
    cut_km,
    logrank_shortfall,
    require,
)

__all__ = [
    "CoxResult",
    "TooLittleData",
    "cox",
    "cox_time_varying",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "survival_at",
]

SUMMARY_COLUMNS = ["term", "coef", "hr", "se", "hr_lower", "hr_upper", "z", "p"]
ALL_GROUP = "all"


def _as_list(columns: str | Sequence[str] | None) -> list[str]:
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def _group_labels(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    if not by:
        return pd.Series(ALL_GROUP, index=frame.index)
    if len(by) == 1:
        return frame[by[0]].astype(str)
    return frame[by].astype(str).agg(", ".join, axis=1)


def _check_survival_columns(frame: pd.DataFrame, duration: str, event: str) -> None:
    missing = [c for c in (duration, event) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    durations = frame[duration]
    if (durations < 0).any():
        raise ValueError(f"column {duration!r} has negative durations")
    if not frame[event].isin([0, 1, True, False]).all():
        raise ValueError(f"column {event!r} must hold 0/1")


def kaplan_meier(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    ci: str = "log-log",
    min_at_risk: int = 1,
) -> pd.DataFrame:
    """Kaplan–Meier survival curves with pointwise confidence intervals.

    Two interval types are offered; both use Greenwood's variance.

    * ``ci="log-log"`` (default): the interval for log(-log S(t)), which lifelines calls the
      "exponential Greenwood" interval and R's ``survfit`` gives with ``conf.type="log-log"``.
      It always stays within [0, 1].
    * ``ci="log"``: the interval for log S(t), R ``survfit``'s default
      (``conf.type="log"``); as in R the upper bound is capped at 1.

    Where the survival estimate is 0 the bounds are NaN (as in R).

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration : str
        Column with the follow-up time (>= 0).
    event : str
        Column with 1 = event, 0 = censored.
    by : str or sequence of str, optional
        Grouping column(s); one curve per group. Without it one curve labelled ``"all"``.
    alpha : float
        1 - confidence level.
    ci : {"log-log", "log"}
        Interval type, see above.
    min_at_risk : int
        Stop each curve where fewer than this many are at risk (see
        :func:`analysis.minimum_data.cut_km`); 1 keeps every step.

    Returns
    -------
    DataFrame
        Columns group, time, survival, lower, upper, at_risk (number at risk just before
        ``time``), n_events, n_censored, n (subjects in the group). The first row of each group is
        time 0 with survival 1; a group with fewer than ``min_at_risk`` subjects has no rows.
    """
    if ci not in ("log-log", "log"):
        raise ValueError('ci must be "log-log" or "log"')
    by_cols = _as_list(by)
    _check_survival_columns(frame, duration, event)
    data = frame.dropna(subset=[duration, event, *by_cols])
    labels = _group_labels(data, by_cols)
    z = stats.norm.ppf(1 - alpha / 2)
    parts = []
    for label in sorted(labels.unique(), key=str):
        sub = data[labels == label]
        kmf = KaplanMeierFitter(alpha=alpha).fit(sub[duration], sub[event].astype(int))
        table = kmf.event_table
        surv = kmf.survival_function_.iloc[:, 0].reindex(table.index).to_numpy()
        n_risk = table["at_risk"].to_numpy(dtype=float)
        d = table["observed"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            greenwood = np.cumsum(np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0))
            if ci == "log":
                se = np.sqrt(greenwood)
                lower = np.exp(np.log(surv) - z * se)
                upper = np.minimum(np.exp(np.log(surv) + z * se), 1.0)
            else:
                bounds = kmf.confidence_interval_survival_function_.reindex(table.index)
                lower = bounds.iloc[:, 0].to_numpy()
                upper = bounds.iloc[:, 1].to_numpy()
        zero = surv <= 0
        lower = np.where(zero, np.nan, lower)
        upper = np.where(zero, np.nan, upper)
        # at time 0 (nothing has happened yet) the interval is the point itself
        start = (table.index.to_numpy() == 0) & (d == 0)
        lower = np.where(start, 1.0, lower)
        upper = np.where(start, 1.0, upper)
        part = pd.DataFrame(
            {
                "group": str(label),
                "time": table.index.to_numpy(dtype=float),
                "survival": surv,
                "lower": lower,
                "upper": upper,
                "at_risk": n_risk.astype(int),
                "n_events": d.astype(int),
                "n_censored": table["censored"].to_numpy(dtype=int),
                "n": len(sub),
            }
        )
        if part["time"].iloc[0] != 0:
            first = pd.DataFrame(
                {
                    "group": [str(label)],
                    "time": [0.0],
                    "survival": [1.0],
                    "lower": [1.0],
                    "upper": [1.0],
                    "at_risk": [len(sub)],
                    "n_events": [0],
                    "n_censored": [0],
                    "n": [len(sub)],
                }
            )
            part = pd.concat([first, part], ignore_index=True)
        if min_at_risk > 1:
            part, _ = cut_km(part, min_at_risk)
        if len(part):
            parts.append(part)
    if not parts:
        return pd.DataFrame(
            columns=[
                "group",
                "time",
                "survival",
                "lower",
                "upper",
                "at_risk",
                "n_events",
                "n_censored",
                "n",
            ]
        )
    return pd.concat(parts, ignore_index=True)


def survival_at(curves: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """Read survival (step function) and the number at risk at given times from KM curves.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`kaplan_meier`.
    times : sequence of float
        Times at which to read the curves.

    Returns
    -------
    DataFrame
        Columns group, time, survival, lower, upper, at_risk (number still at risk at ``time``:
        subjects with follow-up >= time).
    """
    rows = []
    for group, sub in curves.groupby("group", sort=False):
        sub = sub.sort_values("time")
        n = int(sub["n"].iloc[0])
        exits = (sub["n_events"] + sub["n_censored"]).to_numpy()
        tvals = sub["time"].to_numpy()
        for t in times:
            idx = np.searchsorted(tvals, t, side="right") - 1
            row = sub.iloc[max(idx, 0)]
            # at risk at t = n minus everyone who left strictly before t
            left_before = int(exits[tvals < t].sum())
            rows.append(
                {
                    "group": group,
                    "time": float(t),
                    "survival": float(row["survival"]) if idx >= 0 else 1.0,
                    "lower": float(row["lower"]) if idx >= 0 else 1.0,
                    "upper": float(row["upper"]) if idx >= 0 else 1.0,
                    "at_risk": n - left_before,
                }
            )
    return pd.DataFrame(rows, columns=["group", "time", "survival", "lower", "upper", "at_risk"])


def logrank(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    by: str | Sequence[str],
    *,
    rules: Minimums = RULES,
) -> pd.DataFrame:
    """Log-rank test of equal survival across groups (multivariate for more than two groups).

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration, event : str
        Follow-up time and 0/1 event columns.
    by : str or sequence of str
        Grouping column(s).
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`).

    Returns
    -------
    DataFrame
        One row: test_statistic (chi-square), df (groups - 1), p, n, events, groups.

    Raises
    ------
    TooLittleData
        With fewer events than ``rules.logrank_events``.
    """
    by_cols = _as_list(by)
    _check_survival_columns(frame, duration, event)
    data = frame.dropna(subset=[duration, event, *by_cols])
    labels = _group_labels(data, by_cols)
    n_groups = labels.nunique()
    if n_groups < 2:
        raise ValueError("the log-rank test needs at least two groups")
    require(logrank_shortfall(int(data[event].sum()), rules=rules))
    result = multivariate_logrank_test(data[duration], labels, data[event].astype(int))
    return pd.DataFrame(
        {
            "test_statistic": [float(result.test_statistic)],
            "df": [int(result.degrees_of_freedom)],
            "p": [float(result.p_value)],
            "n": [len(data)],
            "events": [int(data[event].sum())],
            "groups": [int(n_groups)],
        }
    )


@dataclass
class CoxResult:
    """A fitted Cox model, as tables and numbers.

    Attributes
    ----------
    summary : DataFrame
        term, coef (log hazard ratio), hr, se, hr_lower, hr_upper, z, p.
    n : int
        Subjects (rows for the time-varying model: see ``n_intervals``) used.
    events : int
        Number of events.
    concordance : float
        Harrell's C (NaN for the time-varying model).
    loglik : float
        Partial log-likelihood at the estimate.
    lr_test : dict
        Likelihood-ratio test against the null model: stat, df, p.
    ph_check : DataFrame
        term, test_statistic, p: Schoenfeld-residual test of proportional hazards (rank time
        transform), one row per term plus ``GLOBAL`` when available; empty for the time-varying
        model.
    robust : bool
        Whether standard errors are sandwich (cluster-)robust.
    ties : str
        Tie handling (always ``"efron"``).
    warnings : list of str
        Warnings raised while fitting (e.g. convergence).
    n_intervals : int
        Rows (intervals) used by the time-varying model; equals ``n`` otherwise.
    """

    summary: pd.DataFrame
    n: int
    events: int
    concordance: float
    loglik: float
    lr_test: dict[str, float]
    ph_check: pd.DataFrame
    robust: bool = False
    ties: str = "efron"
    warnings: list[str] = field(default_factory=list)
    n_intervals: int = 0


def _design(frame: pd.DataFrame, covariates: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Numeric design columns; categorical covariates become indicators (first level dropped)."""
    parts = []
    for name in covariates:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(name))
        else:
            dummies = pd.get_dummies(col.astype("category"), prefix=name, prefix_sep="=")
            parts.append(dummies.iloc[:, 1:].astype(float))
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    return design, list(design.columns)


def _summary_from_lifelines(summary: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "term": [str(t) for t in summary.index],
            "coef": summary["coef"].to_numpy(),
            "hr": summary["exp(coef)"].to_numpy(),
            "se": summary["se(coef)"].to_numpy(),
            "hr_lower": np.exp(summary.filter(like="coef lower").iloc[:, 0].to_numpy()),
            "hr_upper": np.exp(summary.filter(like="coef upper").iloc[:, 0].to_numpy()),
            "z": summary["z"].to_numpy(),
            "p": summary["p"].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def _lr_test(model: CoxPHFitter | CoxTimeVaryingFitter) -> dict[str, float]:
    test = model.log_likelihood_ratio_test()
    return {
        "stat": float(test.test_statistic),
        "df": float(test.degrees_freedom),
        "p": float(test.p_value),
    }


def cox(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    cluster: str | None = None,
    strata: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    *,
    rules: Minimums = RULES,
) -> CoxResult:
    """Cox proportional-hazards model (Efron ties), as R's ``coxph``.

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration, event : str
        Follow-up time (> 0) and 0/1 event columns.
    covariates : sequence of str
        Covariate columns. Numeric and boolean columns enter as they are; other columns become
        indicators for every level but the first (term ``name=level``).
    cluster : str, optional
        Cluster column (e.g. jobcoach_id): standard errors become the clustered sandwich
        (robust) estimate, as ``coxph(..., cluster=)``.
    strata : str or sequence of str, optional
        Stratify the baseline hazard by these columns.
    alpha : float
        1 - confidence level of the hazard-ratio intervals.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`), checked on the complete rows.

    Returns
    -------
    CoxResult
        ``summary`` with columns term, coef, hr, se, hr_lower, hr_upper, z, p; ``n``, ``events``,
        ``concordance``, ``loglik``, ``lr_test`` (stat, df, p) and ``ph_check`` (term,
        test_statistic, p).

    Raises
    ------
    TooLittleData
        With fewer than ``rules.events_per_covariate`` events per design column, or a stratum
        with fewer than ``rules.events_per_stratum`` events.
    """
    covs = _as_list(covariates)
    strata_cols = _as_list(strata)
    if not covs:
        raise ValueError("cox needs at least one covariate")
    needed = [duration, event, *covs, *strata_cols] + ([cluster] if cluster else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    data = frame[list(dict.fromkeys(needed))].dropna()
    if len(data) == 0:
        raise ValueError("no complete rows to fit")
    if (data[duration] <= 0).any():
        raise ValueError(f"column {duration!r} must be > 0")
    design, _ = _design(data, covs)
    events = data[event].astype(int)
    per_stratum = events.groupby(_group_labels(data, strata_cols)).sum() if strata_cols else None
    require(
        cox_shortfall(
            int(events.sum()),
            design.shape[1],
            stratum_events=None if per_stratum is None else per_stratum.to_dict(),
            rules=rules,
        )
    )
    fit_frame = pd.concat([data[[duration, event]].astype(float), design], axis=1)
    extra = [c for c in strata_cols + ([cluster] if cluster else []) if c not in fit_frame]
    fit_frame = pd.concat([fit_frame, data[extra]], axis=1)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        model = CoxPHFitter(alpha=alpha).fit(
            fit_frame,
            duration_col=duration,
            event_col=event,
            cluster_col=cluster,
            robust=cluster is not None,
            strata=strata_cols or None,
        )
        caught += [str(r.message) for r in records]
    ph = _ph_check(model, fit_frame)
    return CoxResult(
        summary=_summary_from_lifelines(model.summary),
        n=len(fit_frame),
        events=int(fit_frame[event].sum()),
        concordance=float(model.concordance_index_),
        loglik=float(model.log_likelihood_),
        lr_test=_lr_test(model),
        ph_check=ph,
        robust=cluster is not None,
        warnings=caught,
        n_intervals=len(fit_frame),
    )


def _ph_check(model: CoxPHFitter, fit_frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["term", "test_statistic", "p"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = proportional_hazard_test(model, fit_frame, time_transform="rank")
    except Exception as exc:  # the check must not sink the model; say why it is missing
        return pd.DataFrame({"term": ["error"], "test_statistic": [np.nan], "p": [np.nan]}).assign(
            message=str(exc)
        )
    summary = test.summary
    index = summary.index
    terms = index.get_level_values(0) if isinstance(index, pd.MultiIndex) else index
    out = pd.DataFrame(
        {
            "term": [str(t) for t in terms],
            "test_statistic": summary["test_statistic"].to_numpy(dtype=float),
            "p": summary["p"].to_numpy(dtype=float),
        }
    )
    return out[columns].reset_index(drop=True)


def cox_time_varying(
    frame: pd.DataFrame,
    id: str,
    start: str,
    stop: str,
    event: str,
    covariates: Sequence[str],
    alpha: float = 0.05,
    *,
    rules: Minimums = RULES,
) -> CoxResult:
    """Cox model with time-varying covariates on a counting-process frame (start, stop].

    Parameters
    ----------
    frame : DataFrame
        One row per interval, e.g. a ``COUNTING_PROCESS`` frame; covariates constant within an
        interval (lag them so they are known at its start).
    id : str
        Subject column.
    start, stop : str
        Interval bounds (stop > start).
    event : str
        1 if the event happens at ``stop``.
    covariates : sequence of str
        Covariate columns (categorical ones become indicators as in :func:`cox`).
    alpha : float
        1 - confidence level.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`), checked on the complete rows.

    Returns
    -------
    CoxResult
        ``summary`` with columns term, coef, hr, se, hr_lower, hr_upper, z, p; ``n`` (subjects),
        ``n_intervals``, ``events``, ``loglik``, ``lr_test``; ``concordance`` is NaN and
        ``ph_check`` empty.

    Raises
    ------
    TooLittleData
        With fewer than ``rules.events_per_covariate`` events per design column.
    """
    covs = _as_list(covariates)
    if not covs:
        raise ValueError("cox_time_varying needs at least one covariate")
    needed = [id, start, stop, event, *covs]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    data = frame[needed].dropna()
    if (data[stop] <= data[start]).any():
        raise ValueError(f"{stop!r} must be greater than {start!r}")
    design, _ = _design(data, covs)
    require(cox_shortfall(int(data[event].sum()), design.shape[1], time_varying=True, rules=rules))
    fit_frame = pd.concat([data[[id]], data[[start, stop, event]].astype(float), design], axis=1)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        model = CoxTimeVaryingFitter(alpha=alpha).fit(
            fit_frame, id_col=id, event_col=event, start_col=start, stop_col=stop
        )
        caught += [str(r.message) for r in records]
    return CoxResult(
        summary=_summary_from_lifelines(model.summary),
        n=int(fit_frame[id].nunique()),
        events=int(fit_frame[event].sum()),
        concordance=float("nan"),
        loglik=float(model.log_likelihood_),
        lr_test=_lr_test(model),
        ph_check=pd.DataFrame(columns=["term", "test_statistic", "p"]),
        warnings=caught,
        n_intervals=len(fit_frame),
    )


def cumulative_incidence(
    frame: pd.DataFrame,
    duration: str,
    event_type: str,
    of: str | int,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of one of several competing end reasons.

    The estimate is CIF(t) = sum over event times t_i <= t of S(t_i-) d_i(of) / n_i, with S the
    Kaplan–Meier survival from any end reason. Its variance and the log(-log) interval follow
    lifelines' ``AalenJohansenFitter`` (Greenwood-type delta method, Collett 2015 p. 411). Unlike
    lifelines, tied times are kept exactly (no random jitter), so results are reproducible.

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration : str
        Follow-up time column.
    event_type : str
        Column holding the end reason per subject; ``0``, ``"censored"`` or missing = censored.
    of : str or int
        The end reason of interest; every other reason competes.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Columns time, cif, lower, upper, at_risk, n_events (of the reason of interest),
        n_competing, n. The first row is time 0 with cif 0.
    """
    for col in (duration, event_type):
        if col not in frame.columns:
            raise ValueError(f"frame lacks column {col!r}")
    data = frame.dropna(subset=[duration])
    kinds = data[event_type]
    censored = kinds.isna() | kinds.astype(str).isin(["0", "censored"])
    is_of = ~censored & (kinds.astype(str) == str(of))
    is_any = ~censored
    times = data[duration].to_numpy(dtype=float)
    grid = np.unique(times)
    order = np.searchsorted(grid, times)
    d_any = np.bincount(order, weights=is_any.to_numpy(dtype=float), minlength=len(grid))
    d_of = np.bincount(order, weights=is_of.to_numpy(dtype=float), minlength=len(grid))
    exits = np.bincount(order, minlength=len(grid)).astype(float)
    n_risk = len(times) - np.concatenate([[0.0], np.cumsum(exits)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - d_any / n_risk)
        lag_surv = np.concatenate([[1.0], surv[:-1]])
        cif = np.cumsum(lag_surv * d_of / n_risk)
        a = np.where((d_any > 0) & (n_risk > d_any), d_any / (n_risk * (n_risk - d_any)), 0.0)
        b = lag_surv**2 * d_of * (n_risk - d_of) / n_risk**3
        c = lag_surv * d_of / n_risk**2
        # sum_i a_i (F_j - F_i)^2 expanded into running sums so the whole curve is O(n)
        quad = cif**2 * np.cumsum(a) - 2 * cif * np.cumsum(a * cif) + np.cumsum(a * cif**2)
        lin = cif * np.cumsum(c) - np.cumsum(c * cif)
        variance = np.maximum(quad + np.cumsum(b) - 2 * lin, 0.0)
        z = stats.norm.ppf(1 - alpha / 2)
        transformed = np.log(-np.log(cif))
        se = np.sqrt(variance) / (cif * np.abs(np.log(cif)))
        lower = np.exp(-np.exp(transformed + z * se))
        upper = np.exp(-np.exp(transformed - z * se))
    positive = cif > 0
    lower = np.where(positive, lower, 0.0)
    upper = np.where(positive, upper, 0.0)
    out = pd.DataFrame(
        {
            "time": grid,
            "cif": cif,
            "lower": lower,
            "upper": upper,
            "at_risk": n_risk.astype(int),
            "n_events": d_of.astype(int),
            "n_competing": (d_any - d_of).astype(int),
            "n": len(times),
        }
    )
    if len(out) == 0 or out["time"].iloc[0] != 0:
        first = pd.DataFrame(
            {
                "time": [0.0],
                "cif": [0.0],
                "lower": [0.0],
                "upper": [0.0],
                "at_risk": [len(times)],
                "n_events": [0],
                "n_competing": [0],
                "n": [len(times)],
            }
        )
        out = pd.concat([first, out], ignore_index=True)
    return out
