"""Reliability and agreement: Cronbach's alpha per scale and wave, ICCs, rater agreement.

Every public function checks its input first: a missing column, text where ratings belong, one
rater, the same target rated twice by one rater, or ratings that do not vary are refused with
:class:`~analysis.validation.BadInput` (naming the column) or
:class:`~analysis.minimum_data.TooLittleData`, never answered with NaN or a bare library error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from analysis.minimum_data import (
    RULES,
    Minimums,
    Shortfall,
    TooLittleData,
    alpha_shortfall,
    icc_shortfall,
    require,
)
from analysis.validation import (
    BadInput,
    column_names,
    plain,
    require_level,
    require_numeric,
    require_present,
)

__all__ = ["agreement", "alpha_by", "cronbach_alpha", "icc", "paired_ratings"]

ALPHA_COLUMNS = ["alpha", "lower", "upper", "n", "k"]
MCGRAW_WONG = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}
SHROUT_FLEISS = {v: k for k, v in MCGRAW_WONG.items()}
ICC_DESCRIPTIONS = {
    "ICC1": "Single raters absolute",
    "ICC2": "Single random raters",
    "ICC3": "Single fixed raters",
    "ICC1k": "Average raters absolute",
    "ICC2k": "Average random raters",
    "ICC3k": "Average fixed raters",
}


def _total_does_not_vary(function: str) -> BadInput:
    return BadInput(
        function,
        None,
        "the total score does not vary (every complete response has the same sum); alpha is "
        "not estimable",
    )


def cronbach_alpha(
    frame: pd.DataFrame, items: Sequence[str], ci: float = 0.95, *, rules: Minimums = RULES
) -> pd.DataFrame:
    """Cronbach's alpha of a set of items with its Feldt confidence interval (pingouin).

    Rows with a missing item are dropped (listwise deletion).

    Parameters
    ----------
    frame : DataFrame
        Wide frame, one row per response, one column per item.
    items : sequence of str
        Item columns (at least two).
    ci : float
        Confidence level of the interval.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`).

    Returns
    -------
    DataFrame
        One row: alpha, lower, upper, n (complete responses), k (items).

    Raises
    ------
    BadInput
        For a missing item column, an item holding text, dates or infinities, a bad ``ci``, or
        a total score that does not vary (alpha is then 0/0).
    TooLittleData
        With fewer than ``rules.alpha_items`` items or ``rules.alpha_respondents`` complete
        responses.
    """
    function = "cronbach_alpha"
    columns = column_names(items, function, "items")
    ci = require_level(ci, function, "ci")
    require(alpha_shortfall(rules.alpha_respondents, len(columns), rules=rules))
    frame = require_present(frame, columns, function)
    for column in columns:
        require_numeric(frame, column, function)
    data = frame[columns].astype(float).dropna()
    n, k = len(data), len(columns)
    require(alpha_shortfall(n, k, rules=rules))
    if float(data.sum(axis=1).var(ddof=1)) == 0.0:
        raise _total_does_not_vary(function)
    alpha, _ = pg.cronbach_alpha(data=data, nan_policy="listwise", ci=ci)
    # pingouin rounds the interval to 3 decimals; recompute Feldt's bounds in full precision
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - ci) / 2
    lower = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    return pd.DataFrame([[float(alpha), lower, upper, n, k]], columns=ALPHA_COLUMNS)


def alpha_by(
    frame_long: pd.DataFrame,
    by: Sequence[str] = ("instrument_id", "wave"),
    *,
    scales: Mapping[str, Sequence[str]] | None = None,
    item: str = "item_id",
    value: str = "value",
    subject: str = "response_id",
    ci: float = 0.95,
    rules: Minimums = RULES,
) -> pd.DataFrame:
    """Cronbach's alpha per scale and group (e.g. instrument and wave) from item answers.

    Parameters
    ----------
    frame_long : DataFrame
        One row per item answer, e.g. a ``RESPONSE_ITEMS`` frame.
    by : sequence of str
        Grouping columns; one alpha per group and scale.
    scales : mapping of str to sequence of str, optional
        Scale name -> item ids (subscales). Without it every group's items form one scale named
        after nothing (``scale`` = ``"all"``).
    item, value, subject : str
        Item id, numeric answer and response (row) identifier columns.
    ci : float
        Confidence level.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`).

    Returns
    -------
    DataFrame
        The ``by`` columns, scale, alpha, lower, upper, n, k. Scales with fewer than two of
        their items present in a group are left out; where fewer complete responses than
        ``rules.alpha_respondents`` remain, or their total score does not vary, alpha and its
        bounds are NaN (n and k say why).

    Raises
    ------
    BadInput
        For a missing column, answers that are not numbers, a bad ``ci`` or an empty frame.
    """
    function = "alpha_by"
    keys = column_names(by, function, "by")
    ci = require_level(ci, function, "ci")
    frame_long = require_present(frame_long, [*keys, item, value, subject], function)
    require_numeric(frame_long, value, function)
    if scales is not None and not isinstance(scales, Mapping):
        raise BadInput(function, None, "scales must map scale names to lists of item ids")
    if len(frame_long) == 0:
        raise BadInput(function, None, "the frame has no rows")
    rows = []
    for group, sub in frame_long.groupby(keys, sort=True, dropna=False):
        wide = sub.pivot_table(index=subject, columns=item, values=value, aggfunc="mean")
        wide.columns = [str(c) for c in wide.columns]
        scale_items = (
            {name: [str(i) for i in its] for name, its in scales.items()}
            if scales is not None
            else {"all": list(wide.columns)}
        )
        for scale, its in scale_items.items():
            present = [i for i in its if i in wide.columns]
            if len(present) < 2:
                continue
            complete = wide[present].dropna()
            no_estimate = {"alpha": np.nan, "lower": np.nan, "upper": np.nan,
                           "n": len(complete), "k": len(present)}  # fmt: skip
            if len(complete) >= 2 and float(complete.sum(axis=1).var(ddof=1)) == 0.0:
                result = no_estimate  # alpha is 0/0: the total score does not vary
            else:
                try:
                    result = cronbach_alpha(wide, present, ci=ci, rules=rules).iloc[0].to_dict()
                except TooLittleData:
                    result = no_estimate
            key_values = group if isinstance(group, tuple) else (group,)
            rows.append({**dict(zip(keys, key_values, strict=True)), "scale": scale, **result})
    out = pd.DataFrame(rows, columns=[*keys, "scale", *ALPHA_COLUMNS])
    return out.astype({"n": int, "k": int}) if len(out) else out


def icc(
    frame: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    nan_policy: str = "omit",
    *,
    rules: Minimums = RULES,
) -> pd.DataFrame:
    """Intraclass correlations (Shrout & Fleiss; pingouin.intraclass_corr).

    Parameters
    ----------
    frame : DataFrame
        Long frame: one row per target and rater.
    targets, raters, ratings : str
        Columns with the rated unit, the rater and the rating.
    nan_policy : {"omit", "raise"}
        ``omit`` drops targets not rated by every rater.
    rules : Minimums
        Minimum data (:mod:`analysis.minimum_data`).

    Returns
    -------
    DataFrame
        One row per ICC type: type (Shrout & Fleiss: ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k),
        mcgraw_wong (ICC(1,1), ICC(A,1), ICC(C,1), ...), description, icc, lower, upper (95%),
        f, df1, df2, p, n_targets, n_raters.

    Raises
    ------
    BadInput
        For a missing column, ratings that are not numbers, a target rated twice by one rater,
        ratings that do not vary, a bad ``nan_policy``, or (with ``nan_policy="raise"``) a
        missing rating.
    TooLittleData
        With fewer than two raters or ``rules.icc_raters``, or fewer than two or
        ``rules.icc_targets`` units rated by every rater.
    """
    function = "icc"
    frame = require_present(frame, [targets, raters, ratings], function)
    if nan_policy not in ("omit", "raise"):
        raise BadInput(function, None, f'nan_policy must be "omit" or "raise", got {nan_policy!r}')
    require_numeric(frame, ratings, function)
    used = frame[[targets, raters, ratings]].dropna(subset=[targets, raters])
    twice = used.duplicated([targets, raters], keep=False)
    if twice.any():
        first = used[twice].iloc[0]
        raise BadInput(
            function,
            ratings,
            f"has more than one rating of target {plain(first[targets])!r} by rater "
            f"{plain(first[raters])!r}; give one rating per target and rater",
        )
    n_raters = used[raters].nunique()
    if n_raters < 2:
        numbers = {"raters": int(n_raters), "needed": max(2, rules.icc_raters)}
        raise TooLittleData(Shortfall("icc", "raters", numbers))
    rated = used.dropna(subset=[ratings])
    complete = rated.groupby(targets)[raters].nunique()
    full = complete[complete == n_raters].index
    if nan_policy == "raise" and len(full) < used[targets].nunique():
        raise BadInput(
            function, ratings, "is missing for some target and rater (nan_policy='raise')"
        )
    if len(full) < 2:
        numbers = {"targets": len(full), "needed": max(2, rules.icc_targets)}
        raise TooLittleData(Shortfall("icc", "targets", numbers))
    require(icc_shortfall(len(full), int(n_raters), rules=rules))
    data = rated[rated[targets].isin(full)]
    if data[ratings].astype(float).nunique() < 2:
        raise BadInput(function, ratings, "does not vary; an ICC is not estimable")
    table = pg.intraclass_corr(
        data=data.assign(**{ratings: data[ratings].astype(float)}),
        targets=targets,
        raters=raters,
        ratings=ratings,
        nan_policy="omit",
    )
    # pingouin renamed "CI95%" to "CI95" and dropped "Description" in 0.7
    ci_column = "CI95" if "CI95" in table.columns else "CI95%"
    bounds = np.vstack(table[ci_column].to_numpy())
    types = [SHROUT_FLEISS.get(t, t) for t in table["Type"]]
    return pd.DataFrame(
        {
            "type": types,
            "mcgraw_wong": [MCGRAW_WONG[t] for t in types],
            "description": [ICC_DESCRIPTIONS[t] for t in types],
            "icc": table["ICC"].to_numpy(dtype=float),
            "lower": bounds[:, 0],
            "upper": bounds[:, 1],
            "f": table["F"].to_numpy(dtype=float),
            "df1": table["df1"].to_numpy(dtype=float),
            "df2": table["df2"].to_numpy(dtype=float),
            "p": table["pval"].to_numpy(dtype=float),
            "n_targets": len(full),
            "n_raters": int(n_raters),
        }
    )


def paired_ratings(
    person_wave: pd.DataFrame,
    a: tuple[str, str],
    b: tuple[str, str],
    keys: Sequence[str] = ("trajectory_id", "wave"),
) -> pd.DataFrame:
    """Put two ratings of the same construct side by side, e.g. employee klik and coach klik.

    Parameters
    ----------
    person_wave : DataFrame
        A ``PERSON_WAVE`` frame (long over scores).
    a, b : tuple of (respondent, score)
        The two ratings, e.g. ``("employee", "klik")`` and ``("jobcoach", "coach_klik")``.
    keys : sequence of str
        What makes a pair (default: same trajectory and wave).

    Returns
    -------
    DataFrame
        The key columns, then columns ``<respondent>_<score>`` for a and b (NaN when absent).

    Raises
    ------
    BadInput
        For a missing column, values that are not numbers, a and b the same, or a rating with
        no row at all.
    """
    function = "paired_ratings"
    key_list = column_names(keys, function, "keys")
    for pair in (a, b):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise BadInput(
                function, None, f"a and b must be (respondent, score) pairs, got {pair!r}"
            )
    if a == b:
        raise BadInput(function, None, "a and b are the same rating")
    person_wave = require_present(
        person_wave, ["respondent", "score", "value", *key_list], function
    )
    require_numeric(person_wave, "value", function)
    names = []
    parts = []
    for respondent, score in (a, b):
        name = f"{respondent}_{score}"
        names.append(name)
        sel = person_wave[
            (person_wave["respondent"] == respondent) & (person_wave["score"] == score)
        ]
        if len(sel) == 0:
            raise BadInput(
                function,
                "score",
                f"has no row with score {score!r} from respondent {respondent!r}",
            )
        parts.append(sel.groupby(key_list)["value"].mean().rename(name))
    return pd.concat(parts, axis=1).reset_index()


def agreement(
    frame: pd.DataFrame,
    a: str,
    b: str,
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Agreement between two ratings of the same construct (e.g. employee vs jobcoach klik).

    Only rows with both ratings count.

    Parameters
    ----------
    frame : DataFrame
        Wide frame with one column per rating (see :func:`paired_ratings`).
    a, b : str
        The two rating columns.
    by : str or sequence of str, optional
        Grouping columns (e.g. wave); one row per group.
    alpha : float
        1 - confidence level of the interval of the mean difference. The limits of agreement
        are always Bland & Altman's 95% limits (mean ± 1.96 SD).

    Returns
    -------
    DataFrame
        by columns, a, b, n, pearson_r, pearson_p, spearman_r, spearman_p, mean_difference (a - b),
        md_lower, md_upper (CI of the mean difference), sd_difference, loa_lower, loa_upper
        (Bland–Altman 95% limits of agreement). A group with fewer than 2 (3 for the
        correlations) pairs, or without spread, has NaN where the figure is not estimable; n
        says why.

    Raises
    ------
    BadInput
        For a missing column, ratings that are not numbers, a and b the same column, no row
        with both ratings, or a bad ``alpha``.
    """
    function = "agreement"
    keys = [] if by is None else column_names(by, function, "by")
    require_level(alpha, function, "alpha")
    if a == b:
        raise BadInput(function, a, "is given as both ratings; compare two different columns")
    frame = require_present(frame, [a, b, *keys], function)
    for column in (a, b):
        require_numeric(frame, column, function)
    if not frame[[a, b]].notna().all(axis=1).any():
        raise BadInput(function, None, f"no row has both {a!r} and {b!r}")
    groups = frame.groupby(keys, sort=True) if keys else [((), frame)]
    rows = []
    for group, sub in groups:
        pair = sub[[a, b]].astype(float).dropna()
        n = len(pair)
        row: dict[str, object] = {}
        if keys:
            key_values = group if isinstance(group, tuple) else (group,)
            row.update(dict(zip(keys, key_values, strict=True)))
        row.update({"a": a, "b": b, "n": n})
        diff = pair[a] - pair[b]
        if n >= 3 and pair[a].std() > 0 and pair[b].std() > 0:
            pr, pp = stats.pearsonr(pair[a], pair[b])
            sr, sp = stats.spearmanr(pair[a], pair[b])
        else:
            pr = pp = sr = sp = np.nan
        mean = float(diff.mean()) if n else np.nan
        sd = float(diff.std(ddof=1)) if n >= 2 else np.nan
        half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n) if n >= 2 else np.nan
        row.update(
            {
                "pearson_r": float(pr),
                "pearson_p": float(pp),
                "spearman_r": float(sr),
                "spearman_p": float(sp),
                "mean_difference": mean,
                "md_lower": mean - half,
                "md_upper": mean + half,
                "sd_difference": sd,
                "loa_lower": mean - 1.96 * sd,
                "loa_upper": mean + 1.96 * sd,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)
