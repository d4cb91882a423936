"""Linear mixed models for repeated outcomes, as lme4 would fit them.

Repeated sustainable-employability scores are nested in employees, and employees in jobcoaches;
employees also share employers across jobcoaches, so jobcoach and employer are *crossed*.
:func:`fit` takes the random part in either of two ways:

* lme4-style, in the formula: ``"y ~ x + (1 | jobcoach) + (1 | employer)"`` (crossed),
  ``"y ~ x + (1 | jobcoach/employee)"`` (nested: ``(1 | jobcoach) + (1 | jobcoach:employee)``),
  ``"y ~ days + (days | subject)"`` (random slopes);
* statsmodels-style: the top level as ``groups``, random slopes as ``re_formula`` and nested
  levels as ``vc_formula``. A variance component whose labels recur in several groups is
  ambiguous (cask ``a`` of every batch, or one employer shared by jobcoaches?) and is refused
  unless ``vc_nested`` says which.

Because the (RE)ML surface is flat near the optimum, one optimizer can stop early; :func:`fit`
tries several, keeps the converged fit with the highest likelihood, polishes it with Newton
steps, and says so when none converged.

Models whose random part is random intercepts only are fitted by
:mod:`analysis.nested_intercepts` when the factors nest (cost linear in the rows) and by
:mod:`analysis.crossed_intercepts` when they cross; random slopes go to statsmodels MixedLM.

Bad frames are refused at the door with :class:`~analysis.validation.BadInput` naming the
column (text outcome, missing columns, numbers stored as text, a random level that is not
estimable); too little data with :class:`~analysis.minimum_data.TooLittleData`.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from pandas.api import types as pdt
from patsy import PatsyError, dmatrices
from scipy import stats

from analysis import crossed_intercepts, lme4_formula, nested_intercepts
from analysis.minimum_data import RULES, Minimums, mixed_shortfall, require
from analysis.validation import BadInput, require_columns, require_frame, require_numeric

__all__ = ["MixedResult", "fit", "icc", "within_between"]

DEFAULT_METHODS: tuple[str, ...] = ("lbfgs", "bfgs", "cg")
FALLBACK_METHODS: tuple[str, ...] = ("powell", "nm")
RANDOM_COLUMNS = ["component", "variance", "sd", "corr"]
LEVEL_COLUMNS = ["level", "component", "nested_in", "n_units"]
ENGINES = ("auto", "nested", "crossed", "statsmodels")
FIT = "mixed.fit"
ICC = "mixed.icc"


@dataclass
class MixedResult:
    """A fitted linear mixed model, as tables and numbers.

    Attributes
    ----------
    fixed : DataFrame
        term, estimate, se, lower, upper, z, p (Wald, normal reference as statsmodels/lme4 print).
    random : DataFrame
        component, variance, sd, corr. One row per random-effect variance (``<groups>: <term>``,
        e.g. ``jobcoach: Intercept``), per covariance between random effects
        (``<groups>: cov(<a>, <b>)``, variance holds the covariance, corr the correlation), per
        variance component (``<name>``) and ``Residual``.
    cov_fixed : DataFrame
        Covariance matrix of the fixed effects, indexed and labelled by term.
    loglik : float
        Log-likelihood at the estimate; the REML log-likelihood when ``reml`` (lme4's "REML
        criterion at convergence" is -2 times this).
    n_obs : int
        Observations used (rows with a missing value in any model column are dropped).
    n_groups : int
        Number of units of the first random level (``groups``).
    n_levels : dict
        Units per random level.
    converged : bool
        Whether the kept fit converged (and its Hessian gave finite standard errors).
    method : str
        Optimizer of the kept fit (``newton`` when the polish improved on the optimizers).
    engine : str
        ``nested`` (:mod:`analysis.nested_intercepts`), ``crossed``
        (:mod:`analysis.crossed_intercepts`) or ``statsmodels``.
    reml : bool
        REML (True) or ML.
    warnings : list of str
        Every warning from the fits, prefixed with the optimizer.
    attempts : DataFrame
        method, converged, loglik for every optimizer tried (and the Newton polish).
    formula, groups, re_formula : str
        What was fitted (``groups`` is the first random level of an lme4 formula).
    vc_formula : dict
        Variance-component formulas.
    levels : DataFrame
        One row per random-intercept level: level, component (its row in ``random``),
        nested_in (the levels it lies within as found in the data, coarsest first and
        comma-separated; None at the top or when crossed), n_units.
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
    levels: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEVEL_COLUMNS))


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
    require_columns(frame, [*columns, *keys], "within_between")
    out = frame.copy()
    for name in columns:
        require_numeric(frame, name, "within_between")
        means = out.groupby(keys, dropna=False)[name].transform("mean")
        out[f"{name}_between"] = means
        out[f"{name}_within"] = out[name] - means
    return out


# -- the names a formula uses ------------------------------------------------------------------

# names patsy formulas may use that are not columns: functions, contrasts, numpy, constants
_KNOWN_NAMES = frozenset(
    {"np", "numpy", "C", "I", "Q", "center", "standardize", "scale", "bs", "cr", "cc", "te",
     "Treatment", "Sum", "Poly", "Helmert", "Diff", "True", "False", "None"}
)  # fmt: skip
_ALIAS = "_klik_col{}_"


@dataclass
class _Names:
    """Columns a set of formulas refer to, and the formulas rewritten for patsy."""

    columns: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    categorical: set[str] = field(default_factory=set)
    outcome: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # original -> alias

    def alias(self, column: str, taken: set[str]) -> str:
        if column not in self.aliases:
            k = len(self.aliases)
            while _ALIAS.format(k) in taken:
                k += 1
            self.aliases[column] = _ALIAS.format(k)
        return self.aliases[column]

    def original(self, text: str) -> str:
        """A patsy term name with the aliases replaced by the column names."""
        for column, alias in self.aliases.items():
            text = text.replace(alias, column)
        return text

    def rename(self, name: str) -> str:
        """The name a column has in the working frame."""
        return self.aliases.get(name, name)


def _needs_alias(name: str) -> bool:
    return keyword.iskeyword(name) or not name.isidentifier() or name in _KNOWN_NAMES


def _read(text: str, frame: pd.DataFrame, names: _Names, *, outcome: bool = False) -> str:
    """Record the columns ``text`` uses in ``names``; return it rewritten with aliases."""
    columns = set(map(str, frame.columns))
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT)
        ]
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise BadInput(FIT, None, f"the formula {text!r} cannot be read ({exc})") from None
    lines = [0]
    for line in text.splitlines(keepends=True):
        lines.append(lines[-1] + len(line))

    def offset(position: tuple[int, int]) -> int:
        return lines[position[0] - 1] + position[1]

    edits: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        before = tokens[i - 1].string if i else ""
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        wrapped = i >= 2 and before == "(" and tokens[i - 2].string == "C"
        column, span = None, None
        if tok.type == tokenize.NAME and before != ".":
            quoted = (
                tok.string == "Q"
                and after == "("
                and i + 3 < len(tokens)
                and tokens[i + 2].type == tokenize.STRING
                and tokens[i + 3].string == ")"
            )
            if quoted:
                column = str(ast.literal_eval(tokens[i + 2].string))
                span = (offset(tok.start), offset(tokens[i + 3].end))
                i += 3
            elif after in ("(", "="):
                pass  # a function or a keyword argument
            elif tok.string in columns:
                column, span = tok.string, (offset(tok.start), offset(tok.end))
            elif tok.string not in _KNOWN_NAMES and tok.string not in names.missing:
                names.missing.append(tok.string)
        if column is not None and span is not None:
            if column not in columns:
                if column not in names.missing:
                    names.missing.append(column)
            else:
                if column not in names.columns:
                    names.columns.append(column)
                if outcome and column not in names.outcome:
                    names.outcome.append(column)
                if wrapped:
                    names.categorical.add(column)
                if quoted or _needs_alias(column):
                    edits.append((*span, names.alias(column, columns)))
        i += 1
    for start, end, alias in sorted(edits, reverse=True):
        text = text[:start] + alias + text[end:]
    return text


def _read_formula(formula: str, frame: pd.DataFrame, names: _Names) -> str:
    if "~" not in formula:
        raise BadInput(FIT, None, f"the formula {formula!r} has no '~' between outcome and terms")
    lhs, rhs = formula.split("~", 1)
    if not lhs.strip():
        raise BadInput(FIT, None, f"the formula {formula!r} names no outcome left of '~'")
    return _read(lhs, frame, names, outcome=True) + "~" + _read(rhs, frame, names)


def _looks_numeric(series: pd.Series) -> bool:
    present = series.dropna()
    if present.empty:
        return False
    converted = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return bool(converted.notna().all())


def _check_columns(frame: pd.DataFrame, names: _Names, level_columns: Sequence[str]) -> None:
    """Every column there, the outcome numeric, covariates numeric or honest categories."""
    missing = list(names.missing)
    missing += [c for c in level_columns if c not in frame.columns and c not in missing]
    if len(missing) == 1:
        raise BadInput(FIT, missing[0], "is not in the frame")
    if missing:
        raise BadInput(FIT, None, f"the frame lacks the columns {missing}")
    for column in names.outcome:
        require_numeric(frame, column, FIT)
        values = frame[column].dropna()
        if values.nunique() < 2:
            found = f"only {values.iloc[0]!r}" if len(values) else "no values"
            raise BadInput(FIT, column, f"is the outcome but does not vary ({found})")
    for column in names.columns:
        if column in names.outcome:
            continue
        series = frame[column]
        if pdt.is_bool_dtype(series) or column in names.categorical:
            continue
        if pdt.is_numeric_dtype(series) and not pdt.is_complex_dtype(series):
            require_numeric(frame, column, FIT)
        elif pdt.is_datetime64_any_dtype(series) or pdt.is_timedelta64_dtype(series):
            raise BadInput(FIT, column, "holds dates; it must hold numbers or categories")
        elif _looks_numeric(series):
            shown = ", ".join(repr(v) for v in series.dropna().unique()[:3])
            raise BadInput(
                FIT,
                column,
                f"holds numbers as text ({shown}); convert it with pd.to_numeric, or write "
                f"C({column}) to treat it as categories",
            )


# -- the random part ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    """One random-intercept level: its name, the columns that define a unit, its table row."""

    name: str
    columns: tuple[str, ...]
    component: str


@dataclass(frozen=True)
class _Spec:
    """What :func:`fit` was asked, as the engines need it."""

    formula: str  # as given
    fixed: str  # the fixed part, patsy syntax (aliased)
    groups: str
    re_formula: str
    vc_formula: dict[str, str]
    reml: bool
    alpha: float
    methods: tuple[str, ...]
    fallback: tuple[str, ...]
    rules: Minimums
    names: _Names
    levels: tuple[_Level, ...] = ()  # random intercepts only, when set
    sm_vc: dict[str, str] = field(default_factory=dict)  # statsmodels vc (aliased)
    sm_re: str = "1"  # statsmodels re_formula (aliased)

    def described(self) -> dict[str, object]:
        """The :class:`MixedResult` fields that repeat the question."""
        return {
            "formula": self.formula,
            "groups": self.groups,
            "re_formula": self.re_formula,
            "vc_formula": self.vc_formula,
            "reml": self.reml,
        }


_INTERCEPT_ONLY = {"1", "~1", "~ 1", ""}
_NESTED_VC = re.compile(r"^\s*0\s*\+\s*C\(\s*(\w+)\s*\)\s*$")


def _units(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Each row's unit code (0..n-1) for the combination of the columns."""
    if len(columns) == 1:
        return pd.factorize(frame[columns[0]])[0]
    return frame.groupby(list(columns), sort=False).ngroup().to_numpy()


def _pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Distinct combinations of two unit codes."""
    return int(np.unique(a.astype(np.int64) * (int(b.max()) + 1) + b).size)


def _crossed_labels(frame: pd.DataFrame, groups: str, column: str) -> tuple[int, int]:
    """How many values of ``column`` occur in several ``groups``, of how many."""
    both = frame[[groups, column]].dropna().drop_duplicates()
    per_value = both.groupby(column, sort=False).size()
    return int((per_value > 1).sum()), len(per_value)


def _vc_levels(
    frame: pd.DataFrame,
    groups: str,
    vc: Mapping[str, str],
    vc_nested: bool | None,
    slopes: bool,
) -> tuple[list[_Level], bool]:
    """The variance components as levels (all of the ``0 + C(col)`` form), and whether they
    are; refuses a component whose labels recur across groups unless ``vc_nested`` says how."""
    levels: list[_Level] = []
    simple = True
    for name, text in vc.items():
        match = _NESTED_VC.match(text)
        if not match:
            simple = False
            continue
        column = match.group(1)
        if column not in frame.columns:
            raise BadInput(FIT, column, f"is not in the frame (variance component {name!r})")
        shared, total = _crossed_labels(frame, groups, column)
        nested = vc_nested if vc_nested is not None else (shared == 0 or None)
        if nested is None:
            raise BadInput(
                FIT,
                column,
                f"is not nested in {groups!r}: {shared} of its {total} values occur with more "
                f"than one {groups}, so a unit is ambiguous. Pass vc_nested=True if a value "
                f"names a different unit within each {groups} (as casks a, b, c in every "
                f"batch), or vc_nested=False if it names the same unit everywhere (crossed, "
                f"lme4's (1 | {groups}) + (1 | {column})); fitting crossed factors as nested "
                "would be wrong",
            )
        if not nested and slopes:
            raise BadInput(
                FIT,
                column,
                f"is crossed with {groups!r}; crossed random effects are fitted for random "
                "intercepts only (no re_formula)",
            )
        levels.append(_Level(name, (groups, column) if nested else (column,), name))
    return levels, simple


def _from_lme4(parsed: lme4_formula.Formula) -> tuple[list[_Level] | None, str, str, dict]:
    """Levels for the intercept engines, or (None, groups, re_formula, vc) for statsmodels."""
    terms = parsed.random
    if all(t.intercept and not t.slopes for t in terms):
        levels = [_Level(t.name, t.columns, f"{t.name}: Intercept") for t in terms]
        return levels, terms[0].name, "1", {}
    tops = {t.columns[0] for t in terms}
    sloped = [t for t in terms if t.slopes]
    group = sloped[0].columns[0]
    unsupported = [
        t.name for t in terms if t.columns[0] != group or len(t.columns) > 2 or tops != {group}
    ]
    unsupported += [t.name for t in terms if len(t.columns) == 2 and t.slopes]
    if unsupported:
        raise BadInput(
            FIT,
            None,
            f"random slopes are fitted by statsmodels, which needs every random term grouped "
            f"by one factor ({group}) or nested in it; ({unsupported[0]}) is not: crossed "
            "random slopes are not supported",
        )
    on_group = [t for t in terms if len(t.columns) == 1]
    correlated = [t for t in on_group if t.intercept]
    if len(correlated) > 1:
        raise BadInput(FIT, group, "has two random intercepts in the formula")
    re_term = correlated[0] if correlated else max(on_group, key=lambda t: len(t.slopes))
    vc: dict[str, str] = {}
    for t in on_group:
        if t is re_term:
            continue
        if t.intercept or len(t.slopes) != 1:
            raise BadInput(
                FIT, group, f"({t.re_formula[1:]} | {group}): write extra slopes one by one"
            )
        vc[f"{group}: {t.slopes[0]}"] = f"0 + {t.slopes[0]}"
    for t in terms:
        if len(t.columns) == 2:
            vc[t.name] = f"0 + C({t.columns[1]})"
    return None, group, re_term.re_formula, vc


def fit(
    frame: pd.DataFrame,
    formula: str,
    groups: str | None = None,
    re_formula: str | None = None,
    vc_formula: Mapping[str, str] | None = None,
    reml: bool = True,
    alpha: float = 0.05,
    methods: Sequence[str] = DEFAULT_METHODS,
    fallback: Sequence[str] = FALLBACK_METHODS,
    engine: str = "auto",
    *,
    vc_nested: bool | None = None,
    rules: Minimums = RULES,
) -> MixedResult:
    """Fit a linear mixed model.

    Parameters
    ----------
    frame : DataFrame
        Long frame, one row per observation.
    formula : str
        Fixed part in patsy syntax, e.g. ``"capability_count ~ months + alliance_within"``
        (interactions ``a:b`` and ``a * b`` allowed; columns named like Python keywords, e.g.
        ``class``, are quoted for patsy and keep their names in the tables). Or an lme4
        formula with the random part: ``"y ~ x + (1 | jobcoach) + (1 | employer)"`` (crossed),
        ``"y ~ x + (1 | jobcoach/employee)"`` (nested), ``"y ~ x + (x | g)"`` (random slope);
        then ``groups``, ``re_formula`` and ``vc_formula`` stay unset.
    groups : str, optional
        Top-level grouping column (e.g. ``jobcoach_id``, or ``trajectory_id`` for two levels);
        needed unless the formula has a random part.
    re_formula : str, optional
        Random part per group, e.g. ``"~months"`` for a random intercept and slope (lme4
        ``(months | group)``). ``None`` means a random intercept only, lme4's ``(1 | group)``,
        also when ``vc_formula`` is given (statsmodels itself would then leave the intercept out).
    vc_formula : mapping of str to str, optional
        Further levels as variance components, e.g. ``{"employee": "0 + C(trajectory_id)"}``
        for employees nested in jobcoaches.
    reml : bool
        REML (default, as lme4) or maximum likelihood (needed to compare fixed parts by LR test).
    alpha : float
        1 - confidence level of the fixed-effect intervals.
    methods : sequence of str
        Optimizers tried in turn, each from the same start; the converged fit with the highest
        likelihood is kept (random-intercept models: then polished by Newton steps).
    fallback : sequence of str
        Optimizers tried only when none of ``methods`` converged.
    engine : {"auto", "nested", "crossed", "statsmodels"}
        ``auto`` fits random-intercept models with :mod:`analysis.nested_intercepts` when the
        levels nest and :mod:`analysis.crossed_intercepts` when they cross, and everything else
        with statsmodels MixedLM.
    vc_nested : bool, optional
        How to read a ``0 + C(col)`` variance component whose values occur in more than one
        group: True, a value names a different unit in each group (a unit is the pair, as in
        statsmodels and lme4's ``(1 | groups/col)``); False, the same unit everywhere (crossed,
        lme4's ``(1 | groups) + (1 | col)``). None (default) refuses such a component, since
        fitting crossed factors as nested would be wrong without a word.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`), checked on the rows that would be fitted.

    Returns
    -------
    MixedResult
        ``fixed`` (term, estimate, se, lower, upper, z, p), ``random`` (component, variance, sd,
        corr), ``cov_fixed``, ``loglik``, ``n_obs``, ``n_groups``, ``n_levels``, ``converged``,
        ``method``, ``engine``, ``warnings``, ``attempts`` (method, converged, loglik),
        ``levels`` (level, component, nested_in, n_units).

    Raises
    ------
    BadInput
        Naming the column: not in the frame; the outcome holds text or does not vary; a
        covariate holds numbers as text, dates or infinities; a variance component is crossed
        with the groups (see ``vc_nested``); a random level is not estimable (one unit, one row
        per unit, or the same grouping as another level); collinear fixed effects; a formula
        patsy cannot read.
    TooLittleData
        With fewer than ``rules.mixed_units`` units of at least
        ``rules.mixed_observations_per_unit`` observations at a random level, or fewer than
        ``rules.mixed_observations_per_fixed_effect`` observations per fixed effect.
    """
    frame = require_frame(frame, FIT)
    if not isinstance(formula, str):
        raise BadInput(FIT, None, f"the formula must be a string, got {type(formula).__name__}")
    if engine not in ENGINES:
        raise BadInput(FIT, None, f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    names = _Names()
    vc = dict(vc_formula or {})
    levels: list[_Level] | None
    try:
        lme4_style = lme4_formula.has_random_terms(formula)
    except ValueError as exc:
        raise BadInput(FIT, None, f"the formula {formula!r} cannot be read: {exc}") from None
    if lme4_style:
        if groups is not None or re_formula is not None or vc:
            raise BadInput(
                FIT,
                None,
                "the formula has a random part (… | …); leave groups, re_formula and "
                "vc_formula unset",
            )
        try:
            parsed = lme4_formula.parse(formula)
        except ValueError as exc:
            raise BadInput(FIT, None, str(exc)) from None
        fixed = _read_formula(parsed.fixed, frame, names)
        level_columns = [c for t in parsed.random for c in t.columns]
        _check_columns(frame, names, level_columns)
        levels, top, re_, sm_vc = _from_lme4(parsed)
        described_re, described_vc = re_, {}
    else:
        if groups is None:
            raise BadInput(
                FIT,
                None,
                "needs the grouping: pass groups='jobcoach_id' or write the random part in the "
                "formula, e.g. 'y ~ x + (1 | jobcoach_id)'",
            )
        fixed = _read_formula(formula, frame, names)
        top, re_ = groups, "1" if re_formula is None else re_formula
        vc_columns = [m.group(1) for m in map(_NESTED_VC.match, vc.values()) if m]
        _check_columns(frame, names, [groups, *vc_columns])
        slopes = re_.strip() not in _INTERCEPT_ONLY
        vc_levels, simple = _vc_levels(frame, groups, vc, vc_nested, slopes)
        levels = None
        if not slopes and simple:
            levels = [_Level(groups, (groups,), f"{groups}: Intercept"), *vc_levels]
        sm_vc = vc
        described_re, described_vc = re_, vc
    # the random part's own formulas name columns too (statsmodels route)
    sm_re = _read(re_.lstrip("~") or "1", frame, names) if levels is None else "1"
    sm_vc = {k: _read(v, frame, names) for k, v in sm_vc.items()} if levels is None else {}
    _check_columns(frame, names, [top])
    spec = _Spec(
        formula=formula,
        fixed=fixed,
        groups=top,
        re_formula=described_re,
        vc_formula=described_vc,
        reml=reml,
        alpha=alpha,
        methods=tuple(methods),
        fallback=tuple(fallback),
        rules=rules,
        names=names,
        levels=tuple(levels or ()),
        sm_vc=sm_vc,
        sm_re="~" + sm_re,
    )
    level_columns = sorted({c for lv in spec.levels for c in lv.columns} | {top})
    work = _working_frame(frame, names, level_columns)
    if levels is None:
        if engine in ("nested", "crossed"):
            raise BadInput(
                FIT, None, f"the {engine} engine fits random intercepts only (no random slopes)"
            )
        return _fit_statsmodels(work, spec)
    return _fit_intercepts(work, spec, engine)


def _working_frame(
    frame: pd.DataFrame, names: _Names, level_columns: Sequence[str]
) -> pd.DataFrame:
    """The columns the model uses, renamed to their aliases, outcome as float; rows with a
    missing grouping value dropped."""
    wanted = list(dict.fromkeys([*names.columns, *level_columns]))
    work = frame[wanted].dropna(subset=list(level_columns))
    if work.empty:
        raise BadInput(FIT, None, "has no row with every grouping column filled in")
    work = work.copy()
    for column in names.outcome:
        work[column] = pd.to_numeric(work[column]).astype(float)
    for column in names.columns:
        if pdt.is_extension_array_dtype(work[column]) and pdt.is_numeric_dtype(work[column]):
            work[column] = work[column].astype(float)  # pandas' nullable numbers confuse patsy
    return work.rename(columns={c: names.rename(c) for c in work.columns})


def _design(work: pd.DataFrame, spec: _Spec) -> tuple[pd.Series, pd.DataFrame]:
    """Outcome and fixed-effects design of the complete rows; library errors as BadInput."""
    try:
        y, x = dmatrices(spec.fixed, work, return_type="dataframe", NA_action="drop")
    except PatsyError as exc:
        raise BadInput(
            FIT, None, f"the formula cannot be used: {spec.names.original(exc.message)}"
        ) from None
    except (KeyError, NameError, TypeError, ValueError) as exc:
        raise BadInput(
            FIT, None, f"the formula cannot be used: {spec.names.original(str(exc))}"
        ) from None
    if y.shape[1] != 1:
        raise BadInput(FIT, None, "the outcome must be one numeric column")
    if len(y) == 0:
        raise BadInput(FIT, None, "has no complete row (every row misses a model column)")
    x.columns = [spec.names.original(c) for c in x.columns]
    if x.shape[1] and np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise BadInput(
            FIT,
            None,
            "the fixed effects are collinear (one term is a combination of others): "
            + ", ".join(x.columns),
        )
    return y.iloc[:, 0], x


def _estimable(levels: Sequence[_Level], codes: Sequence[np.ndarray], n_obs: int) -> None:
    """Refuse random levels whose variance the data cannot tell apart from another one."""
    counts = [int(c.max()) + 1 for c in codes]
    for level, n in zip(levels, counts, strict=True):
        column = level.columns[-1] if len(level.columns) == 1 else level.name
        if n < 2:
            raise BadInput(
                FIT,
                column,
                "is not estimable because it has one group only: its variance cannot be told "
                "apart from the intercept",
            )
        if n == n_obs:
            raise BadInput(
                FIT,
                column,
                "is not estimable because every group has one row: its variance cannot be "
                "told apart from the residual variance",
            )
    for i in range(len(levels)):
        for j in range(i):
            if counts[i] == counts[j] == _pairs(codes[i], codes[j]):
                raise BadInput(
                    FIT,
                    levels[i].name,
                    f"is not estimable because it groups the rows exactly as {levels[j].name!r} "
                    "does: the two variances cannot be told apart",
                )


def _nesting(codes: Sequence[np.ndarray]) -> list[list[int]]:
    """For each level, the other levels it lies within, coarsest first (empty: top or crossed)."""
    counts = [int(c.max()) + 1 for c in codes]
    within: list[list[int]] = []
    for i in range(len(codes)):
        found = [
            j for j in range(len(codes)) if j != i and counts[j] < counts[i]
            and _pairs(codes[i], codes[j]) == counts[i]
        ]  # fmt: skip
        within.append(sorted(found, key=lambda j: counts[j]))
    return within


def _chain(within: Sequence[Sequence[int]], counts: Sequence[int]) -> list[int] | None:
    """The levels coarse to fine when each lies within every one before, else None."""
    order = sorted(range(len(counts)), key=lambda i: counts[i])
    for k, below in enumerate(order):
        if sorted(within[below]) != sorted(order[:k]):
            return None
    return order


def _fit_intercepts(work: pd.DataFrame, spec: _Spec, engine: str) -> MixedResult:
    names = spec.names
    y, x = _design(work, spec)
    used = work.loc[x.index]
    levels = spec.levels
    codes = [_units(used, [names.rename(c) for c in lv.columns]) for lv in levels]
    sizes = {lv.name: np.bincount(c).tolist() for lv, c in zip(levels, codes, strict=True)}
    slopes = [c for c in x.columns if c != "Intercept"]
    require(mixed_shortfall(len(used), len(slopes), sizes, rules=spec.rules))
    _estimable(levels, codes, len(used))
    counts = [int(c.max()) + 1 for c in codes]
    within = _nesting(codes)
    chain = _chain(within, counts)
    if engine == "statsmodels":
        return _fit_statsmodels(work, _as_statsmodels(spec, within))
    if engine == "nested" and chain is None:
        crossed = [lv.name for lv, w in zip(levels, within, strict=True) if not w]
        raise BadInput(
            FIT,
            None,
            f"the nested engine needs nested levels; {' and '.join(crossed)} are crossed "
            "(use engine='crossed' or 'auto')",
        )
    design, response = x.to_numpy(), y.to_numpy()
    if engine == "nested" or (engine == "auto" and chain is not None):
        order = list(chain)  # type: ignore[arg-type]
        problem = nested_intercepts.problem(
            design, response, nested_intercepts.structure([codes[i] for i in order])
        )
        used_engine = "nested"
    else:
        order = list(range(len(levels)))
        problem = crossed_intercepts.problem(design, response, codes)
        used_engine = "crossed"
    messages: list[str] = []
    attempts: list[_Attempt] = []
    for group_of_methods in (spec.methods, spec.fallback):
        try:
            found_all = nested_intercepts.fit_problem(
                problem, reml=spec.reml, methods=group_of_methods
            )
        except ValueError as exc:
            raise BadInput(FIT, None, str(exc)) from None
        for found in found_all:
            attempts.append(_intercept_attempt(found))
            if not found.converged:
                messages.append(f"{found.method}: {found.message}")
        if any(a.usable for a in attempts):
            break
    candidates = [a for a in attempts if a.estimate is not None]
    if candidates:
        start = max(candidates, key=lambda a: (a.usable, a.loglik))
        polished = nested_intercepts.polish(start.estimate, problem, reml=spec.reml)
        if polished is not start.estimate:
            attempts.append(_intercept_attempt(polished))
    best, converged = _choose(attempts, messages)
    chosen: nested_intercepts.NestedFit = best.estimate  # type: ignore[assignment]
    theta = np.empty(len(levels))
    theta[order] = chosen.theta
    terms = list(x.columns)
    rows = [
        (lv.component, float(t**2 * chosen.sigma2), float(t * np.sqrt(chosen.sigma2)), np.nan)
        for lv, t in zip(levels, theta, strict=True)
    ]
    rows.append(("Residual", chosen.sigma2, float(np.sqrt(chosen.sigma2)), np.nan))
    level_rows = [
        (lv.name, lv.component, ", ".join(levels[j].name for j in w) or None, n)
        for lv, w, n in zip(levels, within, counts, strict=True)
    ]
    return MixedResult(
        fixed=_fixed_table(terms, chosen.beta, chosen.cov_beta, spec.alpha),
        random=pd.DataFrame(rows, columns=RANDOM_COLUMNS),
        cov_fixed=pd.DataFrame(chosen.cov_beta, index=terms, columns=terms),
        loglik=float(chosen.loglik),
        n_obs=len(used),
        n_groups=counts[0],
        n_levels={lv.name: n for lv, n in zip(levels, counts, strict=True)},
        converged=converged,
        method=best.method,
        engine=used_engine,
        warnings=messages,
        attempts=_attempts_frame(attempts),
        levels=pd.DataFrame(level_rows, columns=LEVEL_COLUMNS),
        **spec.described(),
    )


def _intercept_attempt(found: nested_intercepts.NestedFit) -> _Attempt:
    estimated = found.beta.size > 0
    se_ok = estimated and bool(np.all(np.diag(found.cov_beta) > 0))
    return _Attempt(
        found.method, found.converged and se_ok, found.loglik, found if estimated else None
    )


def _as_statsmodels(spec: _Spec, within: Sequence[Sequence[int]]) -> _Spec:
    """The random-intercept levels as statsmodels' groups and variance components."""
    levels = spec.levels
    top = levels[0]
    vc: dict[str, str] = {}
    for lv, inside_of in zip(levels[1:], within[1:], strict=True):
        inside = 0 in inside_of and top.columns[0] in lv.columns
        if len(top.columns) != 1 or not inside or len(lv.columns) > 2:
            raise BadInput(
                FIT,
                None,
                f"statsmodels fits levels nested in one grouping column; {lv.name!r} is not "
                f"nested in {top.name!r} (use engine='auto' for crossed levels)",
            )
        vc[lv.component] = f"0 + C({spec.names.rename(lv.columns[-1])})"
    return _Spec(**{**spec.__dict__, "levels": (), "sm_vc": vc, "sm_re": "~1"})


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


def _random_table(result: object, groups: str, alias: str, names: _Names) -> pd.DataFrame:
    rows = []
    cov = np.asarray(result.cov_re, dtype=float)
    # statsmodels names the random intercept after the grouping column; lme4 says (Intercept)
    labels = [
        "Intercept" if n in (alias, groups) else names.original(str(n))
        for n in result.cov_re.columns
    ]
    for i, name in enumerate(labels):
        var = float(cov[i, i])
        rows.append((f"{groups}: {name}", var, np.sqrt(max(var, 0.0)), np.nan))
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            denom = np.sqrt(cov[i, i] * cov[j, j])
            corr = float(cov[i, j] / denom) if denom > 0 else np.nan
            rows.append(
                (f"{groups}: cov({labels[i]}, {labels[j]})", float(cov[i, j]), np.nan, corr)
            )
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
        raise BadInput(
            FIT, None, "could not be fitted, every optimizer failed: " + "; ".join(messages)
        )
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


def _fit_statsmodels(work: pd.DataFrame, spec: _Spec) -> MixedResult:
    names = spec.names
    groups = spec.groups
    alias = names.rename(groups)
    _design(work, spec)  # refuses what patsy or the data cannot carry, by name
    try:
        model = smf.mixedlm(
            spec.fixed,
            work,
            groups=alias,
            re_formula=spec.sm_re,
            vc_formula=spec.sm_vc or None,
            missing="drop",
        )
    except PatsyError as exc:
        raise BadInput(
            FIT, None, f"the random part cannot be used: {names.original(exc.message)}"
        ) from None
    except (KeyError, ValueError, np.linalg.LinAlgError) as exc:
        raise BadInput(
            FIT, None, f"the random part cannot be used: {names.original(str(exc))}"
        ) from None
    sizes = {groups: pd.Series(model.groups).value_counts().tolist()}
    if model.k_vc:
        for name, mats in zip(model.exog_vc.names, model.exog_vc.mats, strict=True):
            # one column per unit of the component within each group
            sizes[name] = [int(n) for m in mats for n in (np.asarray(m) != 0).sum(axis=0)]
    slopes = [c for c in model.exog_names[: model.k_fe] if c != "Intercept"]
    require(mixed_shortfall(int(model.nobs), len(slopes), sizes, rules=spec.rules))
    if model.n_groups < 2:
        raise BadInput(
            FIT,
            groups,
            "is not estimable because it has one group only: its variance cannot be told "
            "apart from the intercept",
        )
    if model.n_groups == model.nobs:
        raise BadInput(
            FIT,
            groups,
            "is not estimable because every group has one row: its variance cannot be told "
            "apart from the residual variance",
        )
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
    level_rows = [(groups, f"{groups}: Intercept", None, int(model.n_groups))]
    if model.k_vc:
        for name, per_group in zip(model.exog_vc.names, model.exog_vc.colnames, strict=True):
            n_levels[name] = int(sum(len(cols) for cols in per_group))
            level_rows.append((name, name, groups, n_levels[name]))
    k_fe = model.k_fe
    terms = [names.original(t) for t in model.exog_names[:k_fe]]
    cov = np.asarray(chosen.cov_params(), dtype=float)[:k_fe, :k_fe]
    return MixedResult(
        fixed=_fixed_table(terms, np.asarray(chosen.fe_params, dtype=float), cov, spec.alpha),
        random=_random_table(chosen, groups, alias, names),
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
        levels=pd.DataFrame(level_rows, columns=LEVEL_COLUMNS),
        **spec.described(),
    )


def icc(result: MixedResult) -> pd.DataFrame:
    """Intraclass correlations of a random-intercept model.

    Each level's ICC is the correlation of two observations that share a unit of that level
    (and so every level it lies within): for a two-level model var(group) / (var(group) +
    residual); with employees nested in jobcoaches, jobcoach = var(coach) / total and employee
    = (var(coach) + var(employee)) / total. For crossed levels (jobcoach and employer) each
    ICC is that level's variance over the total: two employees with the same employer but
    different jobcoaches share only the employer.

    Parameters
    ----------
    result : MixedResult
        A fit whose random part is random intercepts only.

    Returns
    -------
    DataFrame
        Columns level, variance, share (of the total variance), icc, n_units.

    Raises
    ------
    BadInput
        When ``result`` is not a :class:`MixedResult`, or the model has random slopes (the
        ICC then depends on the covariate).
    """
    if not isinstance(result, MixedResult):
        raise BadInput(
            ICC, None, f"expects a MixedResult from mixed.fit, got {type(result).__name__}"
        )
    random = result.random.set_index("component")
    levels = result.levels
    if levels is None or levels.empty:  # a result made by hand: groups plus vc_formula
        rows = [(result.groups, f"{result.groups}: Intercept", None)]
        rows += [(name, name, result.groups) for name in result.vc_formula]
        levels = pd.DataFrame(
            [(*r, result.n_levels.get(r[0], 0)) for r in rows], columns=LEVEL_COLUMNS
        )
    known = {*levels["component"], "Residual"}
    extra = [c for c in random.index if c not in known]
    if extra or not set(levels["component"]) <= set(random.index):
        raise BadInput(
            ICC,
            None,
            "ICCs are defined here for random-intercept models only "
            f"(this one also has {', '.join(extra) or 'other random effects'})",
        )
    variance = {
        lv: float(random.loc[c, "variance"])
        for lv, c in zip(levels["level"], levels["component"], strict=True)
    }
    above = {
        lv: [] if p is None or (isinstance(p, float) and np.isnan(p)) else str(p).split(", ")
        for lv, p in zip(levels["level"], levels["nested_in"], strict=True)
    }
    residual = float(random.loc["Residual", "variance"])
    total = sum(variance.values()) + residual
    rows = []
    for lv, n in zip(levels["level"], levels["n_units"], strict=True):
        shared = variance[lv] + sum(variance[a] for a in above[lv] if a in variance)
        rows.append((lv, variance[lv], variance[lv] / total, shared / total, int(n)))
    rows.append(("Residual", residual, residual / total, np.nan, result.n_obs))
    return pd.DataFrame(rows, columns=["level", "variance", "share", "icc", "n_units"])
