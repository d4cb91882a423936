"""Linear mixed models for repeated outcomes, as lme4 would fit them.

Repeated sustainable-employability scores are nested in employees, and employees in jobcoaches.
:func:`fit` takes the top level as ``groups`` and adds nested levels through ``vc_formula``.
Because the (RE)ML surface is flat near the optimum, one optimizer can stop early; :func:`fit`
tries several and keeps the converged fit with the highest likelihood, and says so when none
converged.

Models whose random part is random intercepts only, nested (``(1 | coach/employee)``) or not
(``(1 | group)``), are fitted by :mod:`analysis.nested_intercepts`, whose cost grows with the
rows and not with the number of groups; random slopes go to statsmodels MixedLM.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from patsy import dmatrices
from scipy import stats

from analysis import nested_intercepts
from analysis.minimum_data import RULES, Minimums, mixed_shortfall, require

__all__ = ["MixedResult", "fit", "icc", "within_between"]

DEFAULT_METHODS: tuple[str, ...] = ("lbfgs", "bfgs", "cg")
FALLBACK_METHODS: tuple[str, ...] = ("powell", "nm")
RANDOM_COLUMNS = ["component", "variance", "sd", "corr"]


@dataclass
class MixedResult:
    """A fitted linear mixed model, as tables and numbers.

    Attributes
    ----------
    fixed : DataFrame
        term, estimate, se, lower, upper, z, p (Wald, normal reference as statsmodels/lme4 print).
    random : DataFrame
        component, variance, sd, corr. One row per random-effect variance (``<groups>: <term>``),
        per covariance between random effects (``<groups>: cov(<a>, <b>)``, variance holds the
        covariance, corr the correlation), per variance component (``<name>``) and
        ``Residual``.
    cov_fixed : DataFrame
        Covariance matrix of the fixed effects, indexed and labelled by term.
    loglik : float
        Log-likelihood at the estimate; the REML log-likelihood when ``reml`` (lme4's "REML
        criterion at convergence" is -2 times this).
    n_obs : int
        Observations used (rows with a missing value in any model column are dropped).
    n_groups : int
        Number of top-level groups.
    n_levels : dict
        Units per level: the ``groups`` column and every variance component.
    converged : bool
        Whether the kept fit converged (and its Hessian gave finite standard errors).
    method : str
        Optimizer of the kept fit.
    engine : str
        ``nested`` (random intercepts, :mod:`analysis.nested_intercepts`) or ``statsmodels``.
    reml : bool
        REML (True) or ML.
    warnings : list of str
        Every warning from the fits, prefixed with the optimizer.
    attempts : DataFrame
        method, converged, loglik for every optimizer tried.
    formula, groups, re_formula : str
        What was fitted.
    vc_formula : dict
        Variance-component formulas.
    """

    fixed: pd.DataFrame
    random: pd.DataFrame
    cov_fixed: pd.DataFrame
    loglik: float
    n_obs: int
    n_groups: int
    n_levels: dict[str, int]
    converged: bool
    method: str
    engine: str
    reml: bool
    warnings: list[str]
    attempts: pd.DataFrame
    formula: str
    groups: str
    re_formula: str
    vc_formula: dict[str, str] = field(default_factory=dict)


def within_between(
    frame: pd.DataFrame, column: str | Sequence[str], by: str | Sequence[str]
) -> pd.DataFrame:
    """Split time-varying predictors into between-person and within-person parts.

    Person-mean centring: ``<column>_between`` is the mean of the column over a person's rows
    (missing values ignored), ``<column>_within`` the row's deviation from it.

    Parameters
    ----------
    frame : DataFrame
        Long frame, one row per person and occasion.
    column : str or sequence of str
        Predictor column(s).
    by : str or sequence of str
        Person identifier column(s), e.g. ``trajectory_id``.

    Returns
    -------
    DataFrame
        A copy of ``frame`` with ``<column>_between`` and ``<column>_within`` added.
    """
    columns = [column] if isinstance(column, str) else list(column)
    keys = [by] if isinstance(by, str) else list(by)
    out = frame.copy()
    for name in columns:
        if name not in out.columns:
            raise ValueError(f"frame lacks column {name!r}")
        means = out.groupby(keys, dropna=False)[name].transform("mean")
        out[f"{name}_between"] = means
        out[f"{name}_within"] = out[name] - means
    return out


def _fixed_table(
    terms: Sequence[str], est: np.ndarray, cov: np.ndarray, alpha: float
) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    z = est / se
    q = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": est,
            "se": se,
            "lower": est - q * se,
            "upper": est + q * se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


def _random_table(result: object, groups: str) -> pd.DataFrame:
    rows = []
    cov = np.asarray(result.cov_re, dtype=float)
    # statsmodels names the random intercept after the grouping column; lme4 says (Intercept)
    names = ["Intercept" if n == groups else str(n) for n in result.cov_re.columns]
    for i, name in enumerate(names):
        var = float(cov[i, i])
        rows.append((f"{groups}: {name}", var, np.sqrt(max(var, 0.0)), np.nan))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            denom = np.sqrt(cov[i, i] * cov[j, j])
            corr = float(cov[i, j] / denom) if denom > 0 else np.nan
            rows.append((f"{groups}: cov({names[i]}, {names[j]})", float(cov[i, j]), np.nan, corr))
    vc_names = list(result.model.exog_vc.names) if result.model.k_vc else []
    for name, var in zip(vc_names, np.asarray(result.vcomp, dtype=float), strict=True):
        rows.append((name, float(var), np.sqrt(max(var, 0.0)), np.nan))
    scale = float(result.scale)
    rows.append(("Residual", scale, np.sqrt(scale), np.nan))
    return pd.DataFrame(rows, columns=RANDOM_COLUMNS)


@dataclass
class _Attempt:
    """One optimizer's outcome in a form both engines share."""

    method: str
    usable: bool
    loglik: float
    estimate: object | None


def _choose(attempts: list[_Attempt], messages: list[str]) -> tuple[_Attempt, bool]:
    """The usable fit with the highest likelihood (else the best unusable one), and whether
    it converged."""
    good = [a for a in attempts if a.usable]
    candidates = good or [a for a in attempts if a.estimate is not None]
    if not candidates:
        raise ValueError("every optimizer failed: " + "; ".join(messages))
    top = max(a.loglik if np.isfinite(a.loglik) else -np.inf for a in candidates)
    # the surface is flat: a likelihood lower by 1e-8 can still move an SE in the 4th digit, so
    # only differences at rounding level (1e-10) count as ties, broken by the listed order
    best = next((a for a in candidates if a.loglik >= top - 1e-10), candidates[0])
    if not good:
        messages.append(
            "no optimizer converged; the estimates shown are from the best non-converged fit"
        )
    return best, bool(good)


def _attempts_frame(attempts: list[_Attempt]) -> pd.DataFrame:
    return pd.DataFrame(
        [(a.method, a.usable, a.loglik) for a in attempts],
        columns=["method", "converged", "loglik"],
    )


def _fit_one(model: object, reml: bool, method: str) -> tuple[object | None, list[str]]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            result = model.fit(reml=reml, method=[method])
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            return None, [f"{method}: {exc}"]
    messages = list(dict.fromkeys(f"{method}: {r.message}" for r in records))
    return result, messages


def _usable(result: object) -> bool:
    if result is None or not bool(result.converged) or not np.isfinite(result.llf):
        return False
    se = np.asarray(result.bse_fe, dtype=float)
    return bool(np.all(np.isfinite(se)) and np.all(se > 0))


_INTERCEPT_ONLY = {"1", "~1", "~ 1"}
_NESTED_VC = re.compile(r"^\s*0\s*\+\s*C\(\s*(\w+)\s*\)\s*$")


def _nested_column(re_formula: str | None, vc: Mapping[str, str]) -> str | None:
    """The column of the one nested level, "" for none, or None when the model has another
    random part (random slopes, several variance components) and needs statsmodels."""
    if re_formula is not None and re_formula.strip() not in _INTERCEPT_ONLY:
        return None
    if not vc:
        return ""
    if len(vc) > 1:
        return None
    match = _NESTED_VC.match(next(iter(vc.values())))
    return match.group(1) if match else None


def fit(
    frame: pd.DataFrame,
    formula: str,
    groups: str,
    re_formula: str | None = None,
    vc_formula: Mapping[str, str] | None = None,
    reml: bool = True,
    alpha: float = 0.05,
    methods: Sequence[str] = DEFAULT_METHODS,
    fallback: Sequence[str] = FALLBACK_METHODS,
    engine: str = "auto",
    *,
    rules: Minimums = RULES,
) -> MixedResult:
    """Fit a linear mixed model.

    Parameters
    ----------
    frame : DataFrame
        Long frame, one row per observation.
    formula : str
        Fixed part, patsy syntax, e.g. ``"capability_count ~ months + alliance_within"``.
    groups : str
        Top-level grouping column (e.g. ``jobcoach_id``, or ``trajectory_id`` for two levels).
    re_formula : str, optional
        Random part per group, e.g. ``"~months"`` for a random intercept and slope (lme4
        ``(months | group)``). ``None`` means a random intercept only, lme4's ``(1 | group)``,
        also when ``vc_formula`` is given (statsmodels itself would then leave the intercept out).
    vc_formula : mapping of str to str, optional
        Nested levels as variance components, e.g.
        ``{"employee": "0 + C(trajectory_id)"}`` for employees nested in jobcoaches (lme4's
        ``(1 | jobcoach_id/trajectory_id)``: a unit is the pair, as in statsmodels).
    reml : bool
        REML (default, as lme4) or maximum likelihood (needed to compare fixed parts by LR test).
    alpha : float
        1 - confidence level of the fixed-effect intervals.
    methods : sequence of str
        Optimizers tried in turn, each from the same start; the converged fit with the highest
        likelihood is kept.
    fallback : sequence of str
        Optimizers tried only when none of ``methods`` converged.
    engine : {"auto", "nested", "statsmodels"}
        ``auto`` fits random-intercept models (nested or not) with
        :mod:`analysis.nested_intercepts` and everything else with statsmodels MixedLM.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`), checked on the rows that would be fitted.

    Returns
    -------
    MixedResult
        ``fixed`` (term, estimate, se, lower, upper, z, p), ``random`` (component, variance, sd,
        corr), ``cov_fixed``, ``loglik``, ``n_obs``, ``n_groups``, ``n_levels``, ``converged``,
        ``method``, ``engine``, ``warnings``, ``attempts`` (method, converged, loglik).

    Raises
    ------
    TooLittleData
        With fewer than ``rules.mixed_units`` units of at least
        ``rules.mixed_observations_per_unit`` observations at a random level, or fewer than
        ``rules.mixed_observations_per_fixed_effect`` observations per fixed effect.
    """
    vc = dict(vc_formula or {})
    re_ = "1" if re_formula is None else re_formula
    nested = _nested_column(re_formula, vc)
    if engine not in ("auto", "nested", "statsmodels"):
        raise ValueError(f"unknown engine {engine!r}")
    if engine == "nested" and nested is None:
        raise ValueError("the nested engine fits random intercepts only (no random slopes)")
    spec = _Spec(formula, groups, re_, vc, reml, alpha, tuple(methods), tuple(fallback), rules)
    if engine != "statsmodels" and nested is not None:
        return _fit_nested(frame, nested, spec)
    return _fit_statsmodels(frame, spec)


@dataclass(frozen=True)
class _Spec:
    """What :func:`fit` was asked, as both engines need it."""

    formula: str
    groups: str
    re_formula: str
    vc_formula: dict[str, str]
    reml: bool
    alpha: float
    methods: tuple[str, ...]
    fallback: tuple[str, ...]
    rules: Minimums = RULES

    def described(self) -> dict[str, object]:
        """The :class:`MixedResult` fields that repeat the question."""
        return {
            "formula": self.formula,
            "groups": self.groups,
            "re_formula": self.re_formula,
            "vc_formula": self.vc_formula,
            "reml": self.reml,
        }


def _fit_nested(frame: pd.DataFrame, nested: str, spec: _Spec) -> MixedResult:
    groups = spec.groups
    keys = [groups, nested] if nested else [groups]
    for key in keys:
        if key not in frame.columns:
            raise ValueError(f"frame lacks column {key!r}")
    # drop incomplete rows first, so every count below refers to the rows fitted
    complete = frame.dropna(subset=keys)
    y, x = dmatrices(spec.formula, complete, return_type="dataframe", NA_action="drop")
    used = complete.loc[x.index, keys]
    codes = [pd.factorize(used[groups])[0]]
    if nested:
        codes.append(used.groupby(keys, sort=False).ngroup().to_numpy())
    if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise ValueError(
            "the fixed effects are collinear (one term is a combination of others): "
            + ", ".join(x.columns)
        )
    sizes = {groups: used[groups].value_counts().tolist()}
    if nested:
        sizes[next(iter(spec.vc_formula))] = used.groupby(keys).size().tolist()
    slopes = [c for c in x.columns if c != "Intercept"]
    require(mixed_shortfall(len(used), len(slopes), sizes, rules=spec.rules))
    nest = nested_intercepts.structure(codes)
    messages: list[str] = []
    attempts: list[_Attempt] = []
    for group_of_methods in (spec.methods, spec.fallback):
        for found in nested_intercepts.fit_nested(
            x.to_numpy(), y.iloc[:, 0].to_numpy(), nest, reml=spec.reml, methods=group_of_methods
        ):
            estimated = found.beta.size > 0
            se_ok = estimated and bool(np.all(np.diag(found.cov_beta) > 0))
            usable = found.converged and se_ok
            attempts.append(
                _Attempt(found.method, usable, found.loglik, found if estimated else None)
            )
            if not found.converged:
                messages.append(f"{found.method}: {found.message}")
        if any(a.usable for a in attempts):
            break
    best, converged = _choose(attempts, messages)
    chosen: nested_intercepts.NestedFit = best.estimate  # type: ignore[assignment]
    terms = list(x.columns)
    names = [f"{groups}: Intercept", *spec.vc_formula]
    rows = [
        (name, float(t**2 * chosen.sigma2), float(t * np.sqrt(chosen.sigma2)), np.nan)
        for name, t in zip(names, chosen.theta, strict=True)
    ]
    rows.append(("Residual", chosen.sigma2, float(np.sqrt(chosen.sigma2)), np.nan))
    return MixedResult(
        fixed=_fixed_table(terms, chosen.beta, chosen.cov_beta, spec.alpha),
        random=pd.DataFrame(rows, columns=RANDOM_COLUMNS),
        cov_fixed=pd.DataFrame(chosen.cov_beta, index=terms, columns=terms),
        loglik=float(chosen.loglik),
        n_obs=len(used),
        n_groups=nest.n_units[0],
        n_levels=dict(zip([groups, *spec.vc_formula], nest.n_units, strict=True)),
        converged=converged,
        method=best.method,
        engine="nested",
        warnings=messages,
        attempts=_attempts_frame(attempts),
        **spec.described(),
    )


def _fit_statsmodels(frame: pd.DataFrame, spec: _Spec) -> MixedResult:
    groups = spec.groups
    # drop incomplete rows up front so every level count below refers to the rows fitted
    model = smf.mixedlm(
        spec.formula,
        frame,
        groups=groups,
        re_formula=spec.re_formula,
        vc_formula=spec.vc_formula or None,
        missing="drop",
    )
    sizes = {groups: pd.Series(model.groups).value_counts().tolist()}
    if model.k_vc:
        for name, mats in zip(model.exog_vc.names, model.exog_vc.mats, strict=True):
            # one column per unit of the component within each group
            sizes[name] = [int(n) for m in mats for n in (np.asarray(m) != 0).sum(axis=0)]
    slopes = [c for c in model.exog_names[: model.k_fe] if c != "Intercept"]
    require(mixed_shortfall(int(model.nobs), len(slopes), sizes, rules=spec.rules))
    messages: list[str] = []
    attempts: list[_Attempt] = []
    for group_of_methods in (spec.methods, spec.fallback):
        for method in group_of_methods:
            result, notes = _fit_one(model, spec.reml, method)
            messages += notes
            llf = float(result.llf) if result is not None else np.nan
            attempts.append(_Attempt(method, _usable(result), llf, result))
        if any(a.usable for a in attempts):
            break
    best, converged = _choose(attempts, messages)
    chosen = best.estimate
    n_levels = {groups: int(model.n_groups)}
    if model.k_vc:
        for name, per_group in zip(model.exog_vc.names, model.exog_vc.colnames, strict=True):
            n_levels[name] = int(sum(len(cols) for cols in per_group))
    k_fe = model.k_fe
    terms = list(model.exog_names[:k_fe])
    cov = np.asarray(chosen.cov_params(), dtype=float)[:k_fe, :k_fe]
    return MixedResult(
        fixed=_fixed_table(terms, np.asarray(chosen.fe_params, dtype=float), cov, spec.alpha),
        random=_random_table(chosen, groups),
        cov_fixed=pd.DataFrame(cov, index=terms, columns=terms),
        loglik=float(chosen.llf),
        n_obs=int(model.nobs),
        n_groups=int(model.n_groups),
        n_levels=n_levels,
        converged=converged,
        method=best.method,
        engine="statsmodels",
        warnings=messages,
        attempts=_attempts_frame(attempts),
        **spec.described(),
    )


def icc(result: MixedResult) -> pd.DataFrame:
    """Intraclass correlations of a random-intercept model.

    For a two-level model (random intercept per group): ICC = var(group) / (var(group) +
    residual). With nested variance components (e.g. employees within jobcoaches) each level's
    ICC is the correlation of two observations that share that level and every level above it:
    jobcoach = var(coach) / total, employee = (var(coach) + var(employee)) / total.

    Parameters
    ----------
    result : MixedResult
        A fit whose random part per group is an intercept only.

    Returns
    -------
    DataFrame
        Columns level, variance, share (of the total variance), icc, n_units.

    Raises
    ------
    ValueError
        When the model has random slopes (the ICC then depends on the covariate).
    """
    random = result.random
    group_rows = random[random["component"].str.startswith(f"{result.groups}: ")]
    if len(group_rows) != 1 or not group_rows["component"].iloc[0].endswith(": Intercept"):
        raise ValueError("ICCs are defined here for random-intercept models only")
    variances = [(result.groups, float(group_rows["variance"].iloc[0]))]
    for name in result.vc_formula:
        row = random[random["component"] == name]
        variances.append((name, float(row["variance"].iloc[0])))
    residual = float(random.loc[random["component"] == "Residual", "variance"].iloc[0])
    total = sum(v for _, v in variances) + residual
    rows = []
    running = 0.0
    for level, var in variances:
        running += var
        rows.append((level, var, var / total, running / total, result.n_levels.get(level, 0)))
    rows.append(("Residual", residual, residual / total, np.nan, result.n_obs))
    return pd.DataFrame(rows, columns=["level", "variance", "share", "icc", "n_units"])
