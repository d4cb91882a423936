"""Survival analysis of time to job loss: Kaplan–Meier, log-rank, Cox models, competing risks.

Every function takes a tidy frame plus column names and returns tidy frames (or a small result
object holding them). Rows with a missing value in a column the analysis uses are dropped
(listwise); the number of rows used is always reported.

Every public function checks its input before anything is fitted: a frame with a missing
column, text or infinite values where numbers belong, negative durations, an event column that
is not 0/1, a covariate that does not vary, or an end reason that matches no row is refused with
:class:`~analysis.validation.BadInput` naming the column and the problem; valid data that are
too few (e.g. no events) are refused with :class:`~analysis.minimum_data.TooLittleData`. Both
are ``ValueError`` subclasses; no bare library error escapes for a bad frame.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import multivariate_logrank_test
from pandas.api import types as pdt
from scipy import stats

from analysis.minimum_data import (
    RULES,
    Minimums,
    Shortfall,
    TooLittleData,
    cox_shortfall,
    cut_km,
    logrank_shortfall,
    require,
)
from analysis.validation import (
    BadInput,
    column_names,
    plain,
    require_binary,
    require_frame,
    require_level,
    require_numeric,
    require_present,
)

__all__ = [
    "CoxResult",
    "TooLittleData",
    "cox",
    "cox_time_varying",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "median_survival",
    "survival_at",
]

SUMMARY_COLUMNS = ["term", "coef", "hr", "se", "hr_lower", "hr_upper", "z", "p"]
KM_COLUMNS = [
    "group",
    "time",
    "survival",
    "lower",
    "upper",
    "at_risk",
    "n_events",
    "n_censored",
    "n",
    "se",
]
MEDIAN_COLUMNS = ["group", "n", "events", "median", "lower", "upper"]
ALL_GROUP = "all"
TIES = ("efron", "breslow")
# R's quantile.survfit: a curve within this distance of 0.5 counts as flat at 0.5
QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


# ---------------------------------------------------------------------------------------------
# checks at the door


def _require_duration_event(
    frame: pd.DataFrame, duration: str, event: str, function: str, *, positive: bool = False
) -> None:
    require_numeric(frame, duration, function, nonnegative=not positive, positive=positive)
    require_binary(frame, event, function)


def _require_covariate(frame: pd.DataFrame, column: str, function: str) -> None:
    """A covariate holds numbers, booleans or text categories (not dates, not a mix)."""
    series = frame[column]
    if pdt.is_bool_dtype(series):
        return
    if pdt.is_datetime64_any_dtype(series) or pdt.is_timedelta64_dtype(series):
        raise BadInput(function, column, "holds dates or durations; a covariate must hold numbers")
    if pdt.is_numeric_dtype(series):
        require_numeric(frame, column, function)
        return
    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        return
    kinds = {type(v) for v in present}
    if kinds <= {bool, np.bool_}:
        return
    if not kinds <= {str}:
        odd = [v for v in present if not isinstance(v, str)][:3]
        raise BadInput(
            function, column, f"mixes text with other values ({odd!r}); use one kind of value"
        )
    if len(present) and pd.to_numeric(present, errors="coerce").notna().all():
        # numbers read as text would be fitted as one category per value
        shown = list(present.unique()[:3])
        raise BadInput(
            function, column, f"holds numbers as text ({shown!r}); convert it to numbers"
        )


def _no_complete_rows(function: str, columns: Sequence[str]) -> BadInput:
    return BadInput(
        function, None, f"no row has a value in every column it needs ({list(columns)})"
    )


def _no_events(analysis: str) -> TooLittleData:
    return TooLittleData(Shortfall(analysis, "events", {"events": 0, "needed": 1}))


def _group_labels(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    if not by:
        return pd.Series(ALL_GROUP, index=frame.index)
    if len(by) == 1:
        return frame[by[0]].astype(str)
    return frame[by].astype(str).agg(", ".join, axis=1)


# ---------------------------------------------------------------------------------------------
# Kaplan–Meier


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
        Columns

        * group: the group label (``"all"`` without ``by``);
        * time: the distinct follow-up times (events and censorings);
        * survival: the Kaplan–Meier estimate S(t);
        * lower, upper: the pointwise interval;
        * at_risk: number at risk just before ``time``;
        * n_events, n_censored: events and censorings at ``time``;
        * n: subjects in the group;
        * se: Greenwood standard error of S(t) itself, S(t) * sqrt(sum d / (n (n - d))),
          what R's ``summary(survfit(...))$std.err`` prints (``survfit``'s own
          ``$std.err`` is that of -log S, i.e. this divided by S); NaN where S(t) = 0.

        The first row of each group is time 0 with survival 1 (se 0); a group with fewer than
        ``min_at_risk`` subjects has no rows. A frame without rows gives a table without rows.

    Raises
    ------
    BadInput
        For a missing column, durations that are not numbers or negative or infinite, an event
        column that is not 0/1 in every row, a bad ``ci``, ``alpha`` or ``min_at_risk``, or a
        frame none of whose rows is complete.
    """
    function = "kaplan_meier"
    if ci not in ("log-log", "log"):
        raise BadInput(function, None, f'ci must be "log-log" or "log", got {ci!r}')
    alpha = require_level(alpha, function, "alpha")
    if not isinstance(min_at_risk, (int, np.integer)) or isinstance(min_at_risk, bool):
        raise BadInput(function, None, f"min_at_risk must be a whole number, got {min_at_risk!r}")
    if min_at_risk < 1:
        raise BadInput(function, None, f"min_at_risk must be at least 1, got {min_at_risk}")
    by_cols = column_names(by, function, "by")
    frame = require_present(frame, [duration, event, *by_cols], function)
    if len(frame) == 0:
        return pd.DataFrame(columns=KM_COLUMNS)
    _require_duration_event(frame, duration, event, function)
    data = frame.dropna(subset=[duration, event, *by_cols])
    if len(data) == 0:
        raise _no_complete_rows(function, [duration, event, *by_cols])
    labels = _group_labels(data, by_cols)
    z = stats.norm.ppf(1 - alpha / 2)
    parts = []
    for label in sorted(labels.unique(), key=str):
        sub = data[labels == label]
        kmf = KaplanMeierFitter(alpha=alpha).fit(
            sub[duration].astype(float), sub[event].astype(int)
        )
        table = kmf.event_table
        surv = kmf.survival_function_.iloc[:, 0].reindex(table.index).to_numpy()
        n_risk = table["at_risk"].to_numpy(dtype=float)
        d = table["observed"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            greenwood = np.cumsum(np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0))
            se_log = np.sqrt(greenwood)
            if ci == "log":
                lower = np.exp(np.log(surv) - z * se_log)
                upper = np.minimum(np.exp(np.log(surv) + z * se_log), 1.0)
            else:
                bounds = kmf.confidence_interval_survival_function_.reindex(table.index)
                lower = bounds.iloc[:, 0].to_numpy()
                upper = bounds.iloc[:, 1].to_numpy()
            se = surv * se_log
        zero = surv <= 0
        lower = np.where(zero, np.nan, lower)
        upper = np.where(zero, np.nan, upper)
        se = np.where(zero, np.nan, se)
        # at time 0 (nothing has happened yet) the interval is the point itself
        start = (table.index.to_numpy() == 0) & (d == 0)
        lower = np.where(start, 1.0, lower)
        upper = np.where(start, 1.0, upper)
        se = np.where(start, 0.0, se)
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
                "se": se,
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
                    "se": [0.0],
                }
            )
            part = pd.concat([first, part], ignore_index=True)
        if min_at_risk > 1:
            part, _ = cut_km(part, min_at_risk)
        if len(part):
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=KM_COLUMNS)
    return pd.concat(parts, ignore_index=True)[KM_COLUMNS]


def _findq(x: np.ndarray, y: np.ndarray, p: float, xmax: float) -> float:
    """Where the rising curve y = 1 - S(x) reaches p, as R's ``findq`` (quantile.survfit)."""
    tol = QUANTILE_TOLERANCE
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(y) == 0 or y.max() < p:
        return float("nan")
    _, first = np.unique(y, return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]

    def first_reaching(values: np.ndarray) -> int | None:
        # approx(values, 1:n, p, method="constant", f=1): the first index with values >= p
        if p < values[0] or p > values[-1]:
            return None
        return int(np.searchsorted(values, p, side="left"))

    i1 = first_reaching(y + tol)
    i2 = first_reaching(y - tol)
    quant = (x[i1] + x[i2]) / 2 if i1 is not None and i2 is not None else float("nan")
    if abs(p - y[-1]) < tol and i1 is not None:
        # the curve ends flat at p: the midpoint of the flat and the last follow-up time
        quant = (x[i1] + xmax) / 2
    return float(quant)


def median_survival(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    *,
    ci: str = "log",
) -> pd.DataFrame:
    """Median survival time with its confidence interval, the way R's ``survfit`` prints it.

    The median is the first time the Kaplan–Meier curve reaches 0.5 or below; the interval's
    bounds are where the curve's pointwise confidence bands reach 0.5 (Brookmeyer & Crowley
    1982), with the bands of R's default ``conf.type="log"`` unless ``ci`` says otherwise.
    Where a curve is flat at exactly 0.5 the midpoint of the flat is taken, as in R's
    ``quantile.survfit``. A median or bound that is never reached is NaN (R prints NA).

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration, event : str
        Follow-up time (>= 0) and 0/1 event columns.
    by : str or sequence of str, optional
        Grouping column(s); one row per group.
    alpha : float
        1 - confidence level.
    ci : {"log", "log-log"}
        Which bands give the interval (see :func:`kaplan_meier`).

    Returns
    -------
    DataFrame
        Columns group, n (subjects), events, median, lower, upper (NaN where not reached).

    Raises
    ------
    BadInput
        As :func:`kaplan_meier`, and for a frame without rows.
    """
    function = "median_survival"
    frame = require_frame(frame, function)
    if len(frame) == 0:
        raise BadInput(function, None, "the frame has no rows")
    curves = kaplan_meier(frame, duration, event, by=by, alpha=alpha, ci=ci)
    rows = []
    for group, sub in curves.groupby("group", sort=False):
        sub = sub.sort_values("time")
        x = np.concatenate([[0.0], sub["time"].to_numpy(dtype=float)])
        xmax = float(x[-1])
        values = {}
        for name, column in (("median", "survival"), ("lower", "lower"), ("upper", "upper")):
            y = np.concatenate([[0.0], 1 - sub[column].to_numpy(dtype=float)])
            values[name] = _findq(x, y, 0.5, xmax)
        rows.append(
            {
                "group": group,
                "n": int(sub["n"].iloc[0]),
                "events": int(sub["n_events"].sum()),
                **values,
            }
        )
    return pd.DataFrame(rows, columns=MEDIAN_COLUMNS)


def survival_at(curves: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """Read survival (step function) and the number at risk at given times from KM curves.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`kaplan_meier`.
    times : sequence of float
        Times (>= 0) at which to read the curves.

    Returns
    -------
    DataFrame
        Columns group, time, survival, lower, upper, at_risk (number still at risk at ``time``:
        subjects with follow-up >= time).

    Raises
    ------
    BadInput
        When ``curves`` lacks a column of :func:`kaplan_meier`'s table or holds text in it, or
        ``times`` holds something other than finite numbers >= 0.
    """
    function = "survival_at"
    needed = ["group", "time", "survival", "lower", "upper", "n", "n_events", "n_censored"]
    curves = require_present(curves, needed, function)
    for column in needed[1:]:
        require_numeric(curves, column, function)
    for column in ("time", "n", "n_events", "n_censored"):
        if curves[column].isna().any():
            raise BadInput(function, column, "has missing values; pass kaplan_meier's table")
    require_numeric(curves, "time", function, nonnegative=True)
    if isinstance(times, (str, bytes)):
        raise BadInput(function, None, f"times must be numbers, got {times!r}")
    try:
        values = np.asarray(list(np.atleast_1d(times)), dtype=float)
    except (TypeError, ValueError):
        raise BadInput(function, None, f"times must be numbers, got {times!r}") from None
    if values.ndim != 1:
        raise BadInput(function, None, f"times must be a flat list of numbers, got {times!r}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise BadInput(function, None, f"times must be finite numbers >= 0, got {list(values)}")
    rows = []
    for group, sub in curves.groupby("group", sort=False):
        sub = sub.sort_values("time")
        n = int(sub["n"].iloc[0])
        exits = (sub["n_events"] + sub["n_censored"]).to_numpy()
        tvals = sub["time"].to_numpy(dtype=float)
        for t in values:
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
    BadInput
        For a missing column, bad durations or event codes, no complete rows, or fewer than
        two groups.
    TooLittleData
        Without events, or with fewer than ``rules.logrank_events``.
    """
    function = "logrank"
    by_cols = column_names(by, function, "by")
    if not by_cols:
        raise BadInput(function, None, "needs a grouping column (by)")
    frame = require_present(frame, [duration, event, *by_cols], function)
    _require_duration_event(frame, duration, event, function)
    data = frame.dropna(subset=[duration, event, *by_cols])
    if len(data) == 0:
        raise _no_complete_rows(function, [duration, event, *by_cols])
    labels = _group_labels(data, by_cols)
    n_groups = labels.nunique()
    if n_groups < 2:
        raise BadInput(
            function,
            ", ".join(by_cols),
            f"has one group only ({labels.iloc[0]!r}); the log-rank test needs at least two",
        )
    events = int(data[event].sum())
    if events == 0:
        raise _no_events("logrank")
    require(logrank_shortfall(events, rules=rules))
    result = multivariate_logrank_test(
        data[duration].astype(float), labels, data[event].astype(int)
    )
    return pd.DataFrame(
        {
            "test_statistic": [float(result.test_statistic)],
            "df": [int(result.degrees_of_freedom)],
            "p": [float(result.p_value)],
            "n": [len(data)],
            "events": [events],
            "groups": [int(n_groups)],
        }
    )


# ---------------------------------------------------------------------------------------------
# Cox models


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
        Tie handling, ``"efron"`` or ``"breslow"``.
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


Term = tuple[str, ...]


def _parse_terms(frame: pd.DataFrame, covariates: list[str], function: str) -> list[Term]:
    """Covariate entries as terms: a column, ``a:b`` (interaction) or ``a*b`` (a + b + a:b).

    A name that is a column of the frame is always that column, whatever characters it holds.
    Main effects come first, then interactions by degree, as in R's model formulae.
    """
    terms: list[Term] = []
    for raw in covariates:
        if not isinstance(raw, str) or not raw.strip():
            raise BadInput(function, None, f"covariates must be column names, got {raw!r}")
        name = raw.strip()
        if name in frame.columns or raw in frame.columns:
            found = [(name if name in frame.columns else raw,)]
        elif "*" in name or ":" in name:
            factors = [tuple(f.strip() for f in part.split(":")) for part in name.split("*")]
            if any(not f for part in factors for f in part):
                raise BadInput(function, None, f"the term {raw!r} has an empty part")
            found = []
            for size in range(1, len(factors) + 1):
                for combo in itertools.combinations(factors, size):
                    found.append(tuple(dict.fromkeys(itertools.chain.from_iterable(combo))))
        else:
            found = [(name,)]
        for term in found:
            if not any(set(term) == set(t) for t in terms):
                terms.append(term)
    return sorted(terms, key=len)


def _factor_columns(data: pd.DataFrame, column: str, function: str) -> list[tuple[str, np.ndarray]]:
    """The design columns of one covariate: itself (numbers, booleans) or level indicators."""
    series = data[column]
    if (
        pdt.is_bool_dtype(series)
        or pdt.is_numeric_dtype(series)
        or {type(v) for v in series} <= {bool, np.bool_}
    ):
        values = series.astype(float).to_numpy()
        if np.unique(values).size < 2:
            raise BadInput(
                function,
                column,
                f"does not vary (only {plain(values[0])!r}) in the complete rows; it cannot explain "
                "anything",
            )
        return [(column, values)]
    levels = (
        [c for c in series.cat.categories if (series == c).any()]
        if isinstance(series.dtype, pd.CategoricalDtype)
        else sorted(series.unique(), key=str)
    )
    if len(levels) < 2:
        raise BadInput(
            function,
            column,
            f"does not vary (only {[plain(v) for v in levels[:1]]!r}) in the complete rows; it cannot explain "
            "anything",
        )
    return [(f"{column}={level}", (series == level).to_numpy(dtype=float)) for level in levels[1:]]


def _design(data: pd.DataFrame, terms: list[Term], function: str) -> tuple[np.ndarray, list[str]]:
    """Numeric design matrix and its term names; refuses constant columns.

    Categorical covariates become indicators for every level but the first (``name=level``);
    an interaction is the product of its factors' columns (``a:b``, ``a:b=level``).
    """
    per_column = {c: _factor_columns(data, c, function) for term in terms for c in term}
    names: list[str] = []
    columns: list[np.ndarray] = []
    for term in terms:
        for combo in itertools.product(*(per_column[c] for c in term)):
            name = ":".join(n for n, _ in combo)
            values = np.prod(np.vstack([v for _, v in combo]), axis=0)
            if len(term) > 1 and np.unique(values).size < 2:
                raise BadInput(function, name, "does not vary in the complete rows")
            names.append(name)
            columns.append(values)
    matrix = np.column_stack(columns) if columns else np.empty((len(data), 0))
    return matrix, names


def _require_not_collinear(matrix: np.ndarray, names: list[str], function: str) -> None:
    """Each design column adds a dimension to the ones before it (after centring)."""
    centred = matrix - matrix.mean(axis=0)
    rank = 0
    for j in range(matrix.shape[1]):
        new_rank = np.linalg.matrix_rank(centred[:, : j + 1])
        if new_rank == rank:
            raise BadInput(
                function,
                names[j],
                "is a linear combination of the covariates before it (collinear); leave one out",
            )
        rank = new_rank


def _summary_table(
    names: list[str], coef: np.ndarray, se: np.ndarray, alpha: float
) -> pd.DataFrame:
    z_crit = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / se
    return pd.DataFrame(
        {
            "term": names,
            "coef": coef,
            "hr": np.exp(coef),
            "se": se,
            "hr_lower": np.exp(coef - z_crit * se),
            "hr_upper": np.exp(coef + z_crit * se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


def _summary_from_lifelines(summary: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "term": [names.get(str(t), str(t)) for t in summary.index],
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


def _not_estimable(function: str, exc: Exception) -> BadInput:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BadInput(
        function,
        None,
        "the model is not estimable on these rows (the partial likelihood has no finite "
        f"maximum or is singular, e.g. a covariate separates events from non-events): {reason}",
    )


@dataclass
class _BreslowFit:
    coef: np.ndarray
    variance: np.ndarray
    loglik: float
    loglik_null: float
    linear_predictor: np.ndarray
    score_residuals: np.ndarray
    converged: bool


def _breslow(
    start: np.ndarray,
    stop: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    strata: np.ndarray,
    *,
    max_iter: int = 100,
) -> _BreslowFit:
    """Newton–Raphson on the Breslow partial likelihood for (start, stop] data, with strata.

    At each event time t of a stratum, with risk set R (start < t <= stop) and d events,
    the log-likelihood adds sum over the events of x·b - d log sum over R of exp(x·b), the
    score sum over the events of x - d x̄, and the information d (sum_R w x x' / W - x̄ x̄'),
    with w = exp(x·b), W = sum_R w and x̄ = sum_R w x / W. Right-censored data are the case
    start = -inf. Steps that lower the likelihood are halved, as in R's ``coxph``.
    """
    n, p = x.shape
    centred = x - x.mean(axis=0)
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for s in np.unique(strata):
        in_s = strata == s
        for t in np.unique(stop[in_s & (event == 1)]):
            risk = np.flatnonzero(in_s & (start < t) & (stop >= t))
            dead = np.flatnonzero(in_s & (stop == t) & (event == 1))
            groups.append((risk, dead))

    def evaluate(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = centred @ beta
        loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
        for risk, dead in groups:
            e = eta[risk]
            top = e.max()
            w = np.exp(e - top)
            total = w.sum()
            xr = centred[risk]
            mean = w @ xr / total
            d = len(dead)
            loglik += eta[dead].sum() - d * (top + np.log(total))
            score += centred[dead].sum(axis=0) - d * mean
            info += d * ((xr.T * w) @ xr / total - np.outer(mean, mean))
        return loglik, score, info

    beta = np.zeros(p)
    loglik, score, info = evaluate(beta)
    loglik_null = loglik
    converged = False
    for _ in range(max_iter):
        step = np.linalg.solve(info, score)
        candidate = beta + step
        new_loglik, new_score, new_info = evaluate(candidate)
        halvings = 0
        while (not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12) and halvings < 30:
            step = step / 2
            candidate = beta + step
            new_loglik, new_score, new_info = evaluate(candidate)
            halvings += 1
        beta, loglik, score, info = candidate, new_loglik, new_score, new_info
        if np.max(np.abs(step)) < 1e-10 * max(1.0, np.max(np.abs(beta))):
            converged = True
            break
    variance = np.linalg.inv(info)
    eta = centred @ beta
    # score residuals (for the robust variance): each row's share of the score at the estimate
    residuals = np.zeros((n, p))
    for risk, dead in groups:
        e = eta[risk]
        w = np.exp(e - e.max())
        total = w.sum()
        mean = w @ centred[risk] / total
        residuals[dead] += centred[dead] - mean
        residuals[risk] -= len(dead) * (w / total)[:, None] * (centred[risk] - mean)
    return _BreslowFit(beta, variance, float(loglik), float(loglik_null), eta, residuals, converged)


def _breslow_result(
    fit: _BreslowFit,
    names: list[str],
    alpha: float,
    cluster: np.ndarray | None,
    function: str,
) -> tuple[pd.DataFrame, dict[str, float], list[str]]:
    caught = []
    if not fit.converged or not np.isfinite(fit.coef).all():
        raise _not_estimable(function, ValueError("Newton–Raphson did not converge"))
    variance = fit.variance
    if cluster is not None:
        dfbeta = fit.score_residuals @ fit.variance
        sums = pd.DataFrame(dfbeta).groupby(cluster).sum().to_numpy()
        variance = sums.T @ sums
    se = np.sqrt(np.diag(variance))
    if not np.isfinite(se).all():
        raise _not_estimable(function, ValueError("the information matrix is singular"))
    if np.max(np.abs(fit.coef)) > 20:
        caught.append("a coefficient is very large; it may be infinite (monotone likelihood)")
    stat = 2 * (fit.loglik - fit.loglik_null)
    df = float(len(names))
    lr = {"stat": float(stat), "df": df, "p": float(stats.chi2.sf(stat, df))}
    return _summary_table(names, fit.coef, se, alpha), lr, caught


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Column sums of ``values`` (rows x columns) per code 0..size-1."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=size)
    return np.column_stack(
        [np.bincount(codes, weights=values[:, j], minlength=size) for j in range(values.shape[1])]
    ).reshape(size, values.shape[1])


def _stratum_keys(data: pd.DataFrame, strata: list[str]) -> list[np.ndarray]:
    """Each stratum column as integer codes in the sorted order of its text labels."""
    return [pd.factorize(data[c].astype(str), sort=True)[0] for c in strata]


def _residuals_in_stratum(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, eta: np.ndarray, ties: str
) -> tuple[np.ndarray, np.ndarray]:
    """Score and Schoenfeld residuals of one stratum sorted by time (then event).

    At an event time with d deaths D among the risk set R, term k = 0..d-1 of the partial
    likelihood has the risk sum S0_k = S0(R) - c_k S0(D) and S1_k likewise, with c_k = k/d
    for Efron and 0 for Breslow; x̄_k = S1_k / S0_k and the hazard increment 1 / S0_k. A
    subject at risk there (not dying) has score residual -r (x Σ_k 1/S0_k - Σ_k x̄_k/S0_k);
    a death has weight (1 - c_k) in each term and adds x - mean_k x̄_k, its Schoenfeld
    residual (R's ``coxscore2``). Summing over the event times up to each subject's own is a
    cumulative sum over the sorted times.
    """
    n = len(time)
    risk = np.exp(eta - eta.max())
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(time[1:], time[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    size = len(starts)
    rx = risk[:, None] * x
    s0 = np.cumsum(risk[::-1])[::-1][starts]
    s1 = np.cumsum(rx[::-1], axis=0)[::-1][starts]
    deaths = np.flatnonzero(event)
    gd = group[deaths]
    d = np.bincount(gd, minlength=size).astype(float)
    k = np.arange(len(deaths)) - np.searchsorted(gd, gd)
    c = k / d[gd] if ties == "efron" else np.zeros(len(deaths))
    s0_k = s0[gd] - c * np.bincount(gd, weights=risk[deaths], minlength=size)[gd]
    s1_k = s1[gd] - c[:, None] * _sum_by(gd, rx[deaths], size)[gd]
    xbar = s1_k / s0_k[:, None]
    hazard = 1.0 / s0_k
    a = np.bincount(gd, weights=hazard, minlength=size)
    b = _sum_by(gd, hazard[:, None] * xbar, size)
    a_dead = np.bincount(gd, weights=hazard * (1 - c), minlength=size)
    b_dead = _sum_by(gd, (hazard * (1 - c))[:, None] * xbar, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_xbar = _sum_by(gd, xbar, size) / d[:, None]
    cum_a = np.cumsum(a)[group]
    cum_b = np.cumsum(b, axis=0)[group]
    cum_a[deaths] += (a_dead - a)[gd]
    cum_b[deaths] += (b_dead - b)[gd]
    score = -risk[:, None] * (x * cum_a[:, None] - cum_b)
    schoenfeld = x[deaths] - mean_xbar[gd]
    score[deaths] += schoenfeld
    return score, schoenfeld


def _cox_residuals(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    strata: Sequence[np.ndarray] = (),
    ties: str = "efron",
) -> tuple[np.ndarray, np.ndarray]:
    """Score residuals (one row per subject, in row order) and Schoenfeld residuals.

    The Schoenfeld residuals come one row per event, ordered as lifelines orders them: a
    stable sort by stratum, time and event, so ``rank`` time transforms pair up as there.
    Vectorised: cumulative sums over each stratum's sorted risk sets, no loop over subjects.
    """
    event = np.asarray(event).astype(bool)
    order = np.lexsort((event, time, *reversed(list(strata))))
    t, e = time[order], event[order]
    xs = x[order] - x.mean(axis=0)
    eta = xs @ beta
    bounds = [0, len(t)]
    if len(strata):
        keys = np.column_stack([s[order] for s in strata])
        change = np.flatnonzero((keys[1:] != keys[:-1]).any(axis=1)) + 1
        bounds = [0, *change.tolist(), len(t)]
    score = np.empty_like(xs)
    schoenfeld = []
    for lo, hi in itertools.pairwise(bounds):
        part, sch = _residuals_in_stratum(t[lo:hi], e[lo:hi], xs[lo:hi], eta[lo:hi], ties)
        score[lo:hi] = part
        schoenfeld.append(sch)
    out = np.empty_like(score)
    out[order] = score
    return out, np.concatenate(schoenfeld)


def _concordance_counts(
    time: np.ndarray, predicted: np.ndarray, event: np.ndarray
) -> tuple[int, int, int]:
    """Harrell's C counts as lifelines' ``_concordance_summary_statistics``, vectorised.

    Every subject is compared with the events before it (for a censored subject: at or before
    its time): ``pairs`` counts those comparisons, ``correct`` those whose predicted time is
    below the subject's, ``tied`` those predicted equal. lifelines walks a binary tree in
    Python, one subject at a time. Here the distinct event times are cut into aligned blocks of
    1, 2, 4, ... times, the events of each block sorted by prediction, and each subject's
    earlier events are counted block by block with ``searchsorted`` (a Fenwick decomposition
    done a level at a time); ties are counted apart, per predicted value, along time.
    """
    died = np.asarray(event).astype(bool)
    if not died.any():
        return 0, 0, 0
    time = np.asarray(time, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    values, ranks = np.unique(predicted, return_inverse=True)
    death_times, death_group = np.unique(time[died], return_inverse=True)
    death_rank = ranks[died]
    # how many distinct event times lie before each subject's comparisons stop
    before = np.where(
        died,
        np.searchsorted(death_times, time, side="left"),
        np.searchsorted(death_times, time, side="right"),
    )
    deaths_before = np.concatenate([[0], np.cumsum(np.bincount(death_group))])
    pairs = int(deaths_before[before].sum())
    big = len(values) + 1
    below = 0
    level = 0
    while (1 << level) <= len(death_times):
        keys = np.sort((death_group >> level).astype(np.int64) * big + death_rank)
        use = np.flatnonzero(before & (1 << level))
        block = (before[use] >> (level + 1)) << 1
        found = np.searchsorted(keys, block * big + ranks[use], side="left")
        below += int((found - deaths_before[block << level]).sum())
        level += 1
    # ties: per predicted value, the events at earlier times (at or before, for the censored)
    keys = np.sort(death_rank.astype(np.int64) * (len(death_times) + 1) + death_group)
    start = ranks.astype(np.int64) * (len(death_times) + 1)
    tied = int((np.searchsorted(keys, start + before) - np.searchsorted(keys, start)).sum())
    return below, tied, pairs


def _concordance(
    time: np.ndarray, predicted: np.ndarray, event: np.ndarray, strata: Sequence[np.ndarray] = ()
) -> float:
    """Harrell's C of predicted event times, summed over strata as lifelines does."""
    groups: Iterable[np.ndarray] = [np.arange(len(time))]
    if len(strata):
        keys = pd.DataFrame({f"s{i}": key for i, key in enumerate(strata)})
        groups = keys.groupby(list(keys.columns)).indices.values()
    correct = tied = pairs = 0
    for rows in groups:
        c, t, n = _concordance_counts(time[rows], predicted[rows], event[rows])
        correct, tied, pairs = correct + c, tied + t, pairs + n
    if pairs == 0:
        raise ZeroDivisionError("No admissable pairs in the dataset.")
    return (correct + tied / 2) / pairs


def _model_concordance(model: CoxPHFitter) -> float:
    """lifelines' ``concordance_index_`` of a fitted model, from the same predictions."""
    fitted = getattr(model, "_predicted_partial_hazards_", None)
    if fitted is None:  # a lifelines without the attribute: its own (slow) computation
        return float(model.concordance_index_)
    names = [model.strata] if isinstance(model.strata, str) else list(model.strata or [])
    strata = [pd.factorize(fitted.index.get_level_values(name))[0] for name in names]
    return _concordance(
        fitted["T"].to_numpy(dtype=float),
        -fitted["P"].to_numpy(dtype=float),
        fitted["E"].to_numpy(),
        strata,
    )


def _cluster_variance(score: np.ndarray, variance: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Clustered sandwich D'D, D the per-cluster sums of dfbeta = score residuals x variance."""
    codes, uniques = pd.factorize(cluster)
    sums = _sum_by(codes, score @ variance, len(uniques))
    return sums.T @ sums


def _ph_check(
    schoenfeld: np.ndarray, variance: np.ndarray, se: np.ndarray, names: list[str]
) -> pd.DataFrame:
    """Schoenfeld-residual test of proportional hazards with the rank time transform.

    The statistic of lifelines' ``proportional_hazard_test(model, frame, time_transform="rank")``
    (Grambsch & Therneau's approximation): with d events, scaled residuals s* = d s V and the
    events' ranks g in lifelines' order, T_j = (Σ (g - ḡ) s*_j)² / (d se_j² Σ (g - ḡ)²), chi²
    on 1 df. As in lifelines, se is the model's reported standard error (the robust one when
    clustered). Computed here from the vectorised Schoenfeld residuals.
    """
    deaths = len(schoenfeld)
    scaled = deaths * schoenfeld @ variance
    ranks = np.arange(1, deaths + 1, dtype=float)
    centred = ranks - ranks.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (centred @ scaled) ** 2 / (deaths * se**2 * (centred**2).sum())
    return pd.DataFrame(
        {
            "term": list(names),
            "test_statistic": statistic.astype(float),
            "p": stats.chi2.sf(statistic, 1).astype(float),
        }
    )


def _require_ties(ties: object, function: str) -> str:
    if ties not in TIES:
        raise BadInput(function, None, f'ties must be "efron" or "breslow", got {ties!r}')
    return str(ties)


def cox(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    cluster: str | None = None,
    strata: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    *,
    ties: str = "efron",
    rules: Minimums = RULES,
) -> CoxResult:
    """Cox proportional-hazards model, as R's ``coxph``.

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    duration, event : str
        Follow-up time (> 0) and 0/1 event columns.
    covariates : sequence of str
        Covariate columns, or terms: ``"a:b"`` is the interaction (product) of a and b,
        ``"a*b"`` stands for a, b and a:b (as in R formulae). Numeric and boolean columns enter
        as they are; other columns become indicators for every level but the first (term
        ``name=level``; in an interaction ``a:name=level``). Any column name works, Python
        keywords (``class``, ``lambda``) and names with dots or spaces included; a name that is
        a column is never read as a term.
    cluster : str, optional
        Cluster column (e.g. jobcoach_id): standard errors become the clustered sandwich
        (robust) estimate, as ``coxph(..., cluster=)``: D'D with D the per-cluster sums of the
        dfbeta residuals (score residuals x model variance). The score residuals are R's for
        the chosen ties (for Efron, each of d tied deaths weighted 1 - k/d in term k),
        computed vectorised here; lifelines' ``cluster_col`` gives the same without tied
        times, but breaks tied times by row order.
    strata : str or sequence of str, optional
        Stratify the baseline hazard by these columns.
    alpha : float
        1 - confidence level of the hazard-ratio intervals.
    ties : {"efron", "breslow"}
        Tie handling, as ``coxph(ties=)``. Efron (R's default) is fitted by lifelines; Breslow
        by Newton–Raphson on the Breslow partial likelihood here (lifelines has no Breslow).
        With Breslow the proportional-hazards check (``ph_check``) is lifelines' test on the
        Efron fit of the same design: lifelines computes it only for its own fits.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`), checked on the complete rows.

    Returns
    -------
    CoxResult
        ``summary`` with columns term, coef, hr, se, hr_lower, hr_upper, z, p; ``n``, ``events``,
        ``concordance``, ``loglik``, ``lr_test`` (stat, df, p), ``ph_check`` (term,
        test_statistic, p) and ``ties``.

    Raises
    ------
    BadInput
        For a missing column, durations that are not positive finite numbers, an event column
        that is not 0/1, a covariate holding dates or mixed values, a covariate (or
        interaction) that does not vary or is collinear with others, no complete rows, an
        unknown ``ties``, or a likelihood without a finite maximum.
    TooLittleData
        Without events, with fewer than ``rules.events_per_covariate`` events per design column,
        or a stratum with fewer than ``rules.events_per_stratum`` events.
    """
    function = "cox"
    ties = _require_ties(ties, function)
    alpha = require_level(alpha, function, "alpha")
    covs = column_names(covariates, function, "covariates")
    strata_cols = column_names(strata, function, "strata")
    if cluster is not None and (not isinstance(cluster, str) or not cluster):
        raise BadInput(function, None, f"cluster must name a column, got {cluster!r}")
    if not covs:
        raise BadInput(function, None, "needs at least one covariate")
    frame = require_frame(frame, function)
    terms = _parse_terms(frame, covs, function)
    term_columns = list(dict.fromkeys(c for term in terms for c in term))
    needed = list(
        dict.fromkeys(
            [duration, event, *term_columns, *strata_cols, *([cluster] if cluster else [])]
        )
    )
    frame = require_present(frame, needed, function)
    _require_duration_event(frame, duration, event, function, positive=True)
    for column in term_columns:
        _require_covariate(frame, column, function)
    data = frame[needed].dropna()
    if len(data) == 0:
        raise _no_complete_rows(function, needed)
    events = data[event].astype(int)
    matrix, names = _design(data, terms, function)
    per_stratum = events.groupby(_group_labels(data, strata_cols)).sum() if strata_cols else None
    require(
        cox_shortfall(
            int(events.sum()),
            len(names),
            stratum_events=None if per_stratum is None else per_stratum.to_dict(),
            rules=rules,
        )
    )
    if events.sum() == 0:
        raise _no_events("cox")
    _require_not_collinear(matrix, names, function)
    # lifelines sees internal names only, so any column name (keywords, ':' and '=') works
    internal = [f"x{j}" for j in range(len(names))]
    back = dict(zip(internal, names, strict=True))
    fit_frame = pd.DataFrame(matrix, columns=internal, index=data.index)
    fit_frame.insert(0, "_event", events.astype(float))
    fit_frame.insert(0, "_time", data[duration].astype(float))
    strata_internal = []
    for i, column in enumerate(strata_cols):
        fit_frame[f"_stratum{i}"] = data[column].astype(str)
        strata_internal.append(f"_stratum{i}")
    clusters = data[cluster].astype(str).to_numpy() if cluster else None
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            # a plain fit: lifelines' own sandwich (cluster_col) loops over every pair of rows
            model = CoxPHFitter(alpha=alpha).fit(
                fit_frame,
                duration_col="_time",
                event_col="_event",
                strata=strata_internal or None,
            )
            caught += [str(r.message) for r in records]
    except (ConvergenceError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
        if ties == "efron":
            raise _not_estimable(function, exc) from None
        model = None
    ph = pd.DataFrame({"term": ["error"], "test_statistic": [np.nan], "p": [np.nan]})
    robust_se = None
    if model is not None:
        coef = model.params_.to_numpy(dtype=float)
        variance = model.variance_matrix_.to_numpy(dtype=float)
        score, schoenfeld = _cox_residuals(
            fit_frame["_time"].to_numpy(dtype=float),
            events.to_numpy(),
            matrix,
            coef,
            _stratum_keys(data, strata_cols),
        )
        se = np.sqrt(np.diag(variance))
        if clusters is not None:
            # R's coxph(cluster=): per-cluster sums of the Efron score residuals x variance
            robust_se = np.sqrt(np.diag(_cluster_variance(score, variance, clusters)))
            se = robust_se
        ph = _ph_check(schoenfeld, variance, se, names)
    if ties == "efron":
        assert model is not None
        summary = (
            _summary_from_lifelines(model.summary, back)
            if robust_se is None
            else _summary_table(names, coef, robust_se, alpha)
        )
        return CoxResult(
            summary=summary,
            n=len(fit_frame),
            events=int(events.sum()),
            concordance=_model_concordance(model),
            loglik=float(model.log_likelihood_),
            lr_test=_lr_test(model),
            ph_check=ph,
            robust=cluster is not None,
            ties=ties,
            warnings=caught,
            n_intervals=len(fit_frame),
        )
    times = data[duration].to_numpy(dtype=float)
    labels = _group_labels(data, strata_cols).to_numpy()
    try:
        fit = _breslow(np.full(len(times), -np.inf), times, events.to_numpy(), matrix, labels)
    except np.linalg.LinAlgError as exc:
        raise _not_estimable(function, exc) from None
    summary, lr, notes = _breslow_result(fit, names, alpha, clusters, function)
    return CoxResult(
        summary=summary,
        n=len(data),
        events=int(events.sum()),
        concordance=_concordance(times, -fit.linear_predictor, events.to_numpy()),
        loglik=fit.loglik,
        lr_test=lr,
        ph_check=ph,
        robust=cluster is not None,
        ties=ties,
        warnings=notes,
        n_intervals=len(data),
    )


def cox_time_varying(
    frame: pd.DataFrame,
    id: str,
    start: str,
    stop: str,
    event: str,
    covariates: Sequence[str],
    alpha: float = 0.05,
    *,
    ties: str = "efron",
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
        Interval bounds (stop > start); a subject's intervals must not overlap.
    event : str
        1 if the event happens at ``stop``.
    covariates : sequence of str
        Covariate columns or terms (``a:b``, ``a*b``), as in :func:`cox`.
    alpha : float
        1 - confidence level.
    ties : {"efron", "breslow"}
        Tie handling, as ``coxph(Surv(start, stop, event) ~ ..., ties=)``; Breslow is fitted
        here by Newton–Raphson (lifelines has Efron only).
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
    BadInput
        As :func:`cox`, and for intervals with stop <= start or overlapping intervals of one
        subject.
    TooLittleData
        Without events, or with fewer than ``rules.events_per_covariate`` events per design
        column.
    """
    function = "cox_time_varying"
    ties = _require_ties(ties, function)
    alpha = require_level(alpha, function, "alpha")
    covs = column_names(covariates, function, "covariates")
    if not covs:
        raise BadInput(function, None, "needs at least one covariate")
    frame = require_frame(frame, function)
    terms = _parse_terms(frame, covs, function)
    term_columns = list(dict.fromkeys(c for term in terms for c in term))
    needed = list(dict.fromkeys([id, start, stop, event, *term_columns]))
    frame = require_present(frame, needed, function)
    require_numeric(frame, start, function)
    require_numeric(frame, stop, function)
    require_binary(frame, event, function)
    for column in term_columns:
        _require_covariate(frame, column, function)
    data = frame[needed].dropna()
    if len(data) == 0:
        raise _no_complete_rows(function, needed)
    begin = data[start].astype(float)
    end = data[stop].astype(float)
    bad = data[end <= begin]
    if len(bad):
        first = bad.iloc[0]
        raise BadInput(
            function,
            stop,
            f"must be greater than {start!r} in every row (subject {plain(first[id])!r}: "
            f"{plain(first[start])!r} to {plain(first[stop])!r})",
        )
    order = data.assign(_b=begin, _e=end).sort_values([id, "_b"], kind="stable")
    previous_end = order.groupby(id, sort=False)["_e"].shift()
    overlapping = order[order["_b"] < previous_end]
    if len(overlapping):
        raise BadInput(
            function,
            start,
            f"has overlapping intervals for subject {plain(overlapping.iloc[0][id])!r}; each "
            "subject's "
            "intervals must follow one another",
        )
    events = data[event].astype(int)
    matrix, names = _design(data, terms, function)
    require(cox_shortfall(int(events.sum()), len(names), time_varying=True, rules=rules))
    if events.sum() == 0:
        raise _no_events("cox_time_varying")
    _require_not_collinear(matrix, names, function)
    if ties == "breslow":
        try:
            fit = _breslow(
                begin.to_numpy(), end.to_numpy(), events.to_numpy(), matrix, np.zeros(len(data))
            )
        except np.linalg.LinAlgError as exc:
            raise _not_estimable(function, exc) from None
        summary, lr, notes = _breslow_result(fit, names, alpha, None, function)
        return CoxResult(
            summary=summary,
            n=int(data[id].nunique()),
            events=int(events.sum()),
            concordance=float("nan"),
            loglik=fit.loglik,
            lr_test=lr,
            ph_check=pd.DataFrame(columns=["term", "test_statistic", "p"]),
            ties=ties,
            warnings=notes,
            n_intervals=len(data),
        )
    internal = [f"x{j}" for j in range(len(names))]
    back = dict(zip(internal, names, strict=True))
    fit_frame = pd.DataFrame(matrix, columns=internal, index=data.index)
    fit_frame.insert(0, "_event", events.astype(float))
    fit_frame.insert(0, "_stop", end)
    fit_frame.insert(0, "_start", begin)
    fit_frame.insert(0, "_id", data[id].to_numpy())
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            model = CoxTimeVaryingFitter(alpha=alpha).fit(
                fit_frame, id_col="_id", event_col="_event", start_col="_start", stop_col="_stop"
            )
            caught += [str(r.message) for r in records]
    except (ConvergenceError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
        raise _not_estimable(function, exc) from None
    return CoxResult(
        summary=_summary_from_lifelines(model.summary, back),
        n=int(data[id].nunique()),
        events=int(events.sum()),
        concordance=float("nan"),
        loglik=float(model.log_likelihood_),
        lr_test=_lr_test(model),
        ph_check=pd.DataFrame(columns=["term", "test_statistic", "p"]),
        ties=ties,
        warnings=caught,
        n_intervals=len(fit_frame),
    )


# ---------------------------------------------------------------------------------------------
# competing risks

CENSORING_CODES = ("0", "censored")


def _code(value: object) -> str:
    """An end-type code as text; a whole number read as a float (1.0, from a column with a
    missing value) is the same code as the integer."""
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


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
        Follow-up time column (>= 0; rows without one are dropped).
    event_type : str
        Column holding the end reason per subject; ``0``, ``"censored"`` or missing = censored.
    of : str or int
        The end reason of interest; every other reason competes. It must occur in
        ``event_type`` and must not be a censoring code.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Columns time, cif, lower, upper, at_risk, n_events (of the reason of interest),
        n_competing, n. The first row is time 0 with cif 0.

    Raises
    ------
    BadInput
        For a missing column, durations that are not finite numbers >= 0, no rows with a
        duration, ``of`` naming the censoring code, or ``of`` matching no row.
    """
    function = "cumulative_incidence"
    alpha = require_level(alpha, function, "alpha")
    frame = require_present(frame, [duration, event_type], function)
    require_numeric(frame, duration, function, nonnegative=True)
    if of is None or (isinstance(of, float) and np.isnan(of)):
        raise BadInput(function, event_type, "of must name an end reason, got a missing value")
    if _code(of) in CENSORING_CODES:
        raise BadInput(function, event_type, f"of={of!r} is the censoring code, not an end reason")
    data = frame.dropna(subset=[duration])
    if len(data) == 0:
        raise _no_complete_rows(function, [duration])
    kinds = data[event_type]
    codes = kinds.map(_code)
    censored = kinds.isna() | codes.isin(CENSORING_CODES)
    is_of = ~censored & (codes == _code(of))
    if not is_of.any():
        present = sorted(set(codes[~censored]))[:6]
        raise BadInput(
            function,
            event_type,
            f"has no row with the end reason {of!r} (end reasons found: {present})",
        )
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
