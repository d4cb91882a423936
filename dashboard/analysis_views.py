"""Pure building blocks of the analysis pages: frames in, tables and figures out.

Nothing here touches the database, the request or the clock; the pages and the background jobs
call these. For everyone, the models refuse below the rules of :mod:`analysis.minimum_data`
(raising ``TooLittleData`` with the reason) and curves stop where fewer than its minimum are at
risk. What a viewer receives passes :mod:`dashboard.disclosure`: survival curves from its
release (:func:`viewer_survival_release`), means per wave only where at least ``min_cell``
answered, in two decimals and with rounded counts, and never an individual line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from analysis import figures, mixed, reliability, survival
from analysis.frames import person_wave_wide
from analysis.minimum_data import (
    RULES,
    Shortfall,
    TooLittleData,
    cut_km,
    mixed_shortfall,
    no_variation,
    require,
)
from dashboard.disclosure import (
    SurvivalRelease,
    coarse_means,
    survival_release,
    viewer_count,
)

DAYS_PER_MONTH = 30.4375

#: the range of the capability count (Capability Set for Work: 0–7 capabilities)
CAPABILITY_RANGE = (0.0, 7.0)

TEXT: dict[str, dict[str, str]] = {
    "none": {"nl": "Geen (hele cohort)", "en": "None (whole cohort)"},
    "klik": {"nl": "Klik bij de start (tertielen)", "en": "Klik at baseline (tertiles)"},
    "intensity": {
        "nl": "Coachingsintensiteit (tertielen)",
        "en": "Coaching intensity (tertiles)",
    },
    "match": {"nl": "Match bij de start (tertielen)", "en": "Match at baseline (tertiles)"},
    "coach_type": {"nl": "Interne/externe jobcoach", "en": "Internal/external jobcoach"},
    "method": {"nl": "Methode", "en": "Method"},
    "low": {"nl": "laag", "en": "low"},
    "middle": {"nl": "midden", "en": "middle"},
    "high": {"nl": "hoog", "en": "high"},
    "all": {"nl": "allen", "en": "all"},
    "internal": {"nl": "interne jobcoach", "en": "internal jobcoach"},
    "external": {"nl": "externe jobcoach", "en": "external jobcoach"},
}

STRATA: dict[str, str | None] = {
    "none": None,
    "klik": "baseline_klik",
    "intensity": "contact_minutes_per_month",
    "match": "baseline_match_quality",
    "coach_type": "coach_type",
    "method": "method",
}
"""Stratification choices of the survival explorer -> the column they use."""

TERTILED = ("klik", "intensity", "match")

COX_COVARIATES: dict[str, dict[str, str]] = {
    "baseline_klik": {"nl": "klik (start, per SD)", "en": "klik (baseline, per SD)"},
    "contact_minutes_per_month": {
        "nl": "coachingsintensiteit (per SD)",
        "en": "coaching intensity (per SD)",
    },
    "baseline_match_quality": {"nl": "match (start, per SD)", "en": "match (baseline, per SD)"},
}

TV_COVARIATES: dict[str, dict[str, str]] = {
    "klik_lag": {"nl": "klik vorige meting (per SD)", "en": "klik at previous wave (per SD)"},
    "intensity_lag": {
        "nl": "intensiteit vorige periode (per SD)",
        "en": "intensity in previous interval (per SD)",
    },
    "match_quality_lag": {
        "nl": "match vorige meting (per SD)",
        "en": "match at previous wave (per SD)",
    },
}

MIXED_TERMS: dict[str, dict[str, str]] = {
    "Intercept": {"nl": "intercept", "en": "intercept"},
    "months": {"nl": "maanden sinds start", "en": "months since start"},
    "alliance_within": {
        "nl": "werkalliantie binnen persoon",
        "en": "working alliance, within person",
    },
    "alliance_between": {
        "nl": "werkalliantie tussen personen",
        "en": "working alliance, between persons",
    },
    "intensity": {"nl": "intensiteit (uur/maand)", "en": "intensity (hours/month)"},
    "match": {"nl": "match (start)", "en": "match (baseline)"},
}

MIXED_FORMULA = "capability_count ~ months + alliance_within + alliance_between + intensity + match"


def t(key: str, language: str) -> str:
    """A UI text of this module in ``language``."""
    texts = TEXT.get(key)
    return key if texts is None else texts.get(language, texts["nl"])


def small(n: int, min_cell: int) -> str:
    """A count as shown to a viewer: the number, or ``"<min_cell"`` when below it."""
    return f"<{min_cell}" if n < min_cell else str(n)


# -- survival --------------------------------------------------------------------------------


def tertiles(values: pd.Series, language: str = "nl") -> pd.Series:
    """Low / middle / high thirds of ``values`` (ties split by order); missing stays missing."""
    labels = [t("low", language), t("middle", language), t("high", language)]
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    present = values.dropna()
    if present.nunique() < 3:
        return out
    ranks = present.rank(method="first")
    out.loc[present.index] = pd.qcut(ranks, 3, labels=labels).astype(str)
    return out


def stratify(frame: pd.DataFrame, by: str, language: str = "nl") -> pd.DataFrame:
    """``frame`` with a ``stratum`` column for the choice ``by`` (a key of :data:`STRATA`).

    Returns
    -------
    DataFrame
        A copy with ``stratum`` (str; missing when the stratifying value is missing).
    """
    if by not in STRATA:
        raise ValueError(f"unknown stratification {by!r}")
    out = frame.copy()
    column = STRATA[by]
    if column is None:
        out["stratum"] = t("all", language)
    elif by in TERTILED:
        out["stratum"] = tertiles(out[column], language)
    elif by == "coach_type":
        out["stratum"] = out[column].map(lambda v: t(v, language) if isinstance(v, str) else pd.NA)
    else:
        out["stratum"] = out[column].astype(object).where(out[column].notna(), pd.NA)
    return out


@dataclass
class SurvivalView:
    """What the survival explorer shows for one stratification.

    Attributes
    ----------
    curves : DataFrame
        ``analysis.survival.kaplan_meier`` output (group, time, survival, lower, upper,
        at_risk, n_events, n_censored, n), suppressed for viewers.
    logrank : DataFrame or None
        test_statistic, df, p, n, events, groups; None with fewer than two strata.
    n : int
        People in the strata shown.
    events : int
        Job losses among them.
    truncated : bool
        Whether curves were cut where the risk set fell under the minimum.
    logrank_refused : Shortfall or None
        Why there is no log-rank test although there are strata (too few events).
    min_at_risk : int
        The risk set below which curves stop.
    """

    curves: pd.DataFrame
    logrank: pd.DataFrame | None
    n: int
    events: int
    truncated: bool = False
    logrank_refused: Shortfall | None = None
    min_at_risk: int = RULES.km_at_risk


def survival_view(
    survival_frame: pd.DataFrame,
    by: str,
    *,
    language: str = "nl",
    rows_allowed: bool = True,
    release: SurvivalRelease | None = None,
) -> SurvivalView:
    """Kaplan–Meier curves (log-log intervals) and the log-rank test for a stratification.

    For viewers (``rows_allowed`` False) the curves come from ``release`` (see
    :func:`viewer_survival_release`): the whole study on the viewers' grid, and the log-rank
    test without its per-group counts.

    Parameters
    ----------
    survival_frame : DataFrame
        A ``SURVIVAL`` frame (with the trajectory columns the strata use).
    by : str
        A key of :data:`STRATA`.
    language : {"nl", "en"}
    rows_allowed : bool
        False for viewers: apply the disclosure rules of this module.
    release : SurvivalRelease, optional
        Required for viewers.
    """
    if not rows_allowed:
        if release is None:
            raise ValueError("a viewer's curves come from a SurvivalRelease")
        return _released_view(survival_frame, by, release, language)
    data = stratify(survival_frame, by, language).dropna(subset=["stratum"])
    if data.empty:
        return SurvivalView(survival.kaplan_meier(data, "duration_days", "event"), None, 0, 0)
    curves = survival.kaplan_meier(data, "duration_days", "event", by="stratum")
    order = _stratum_order(language)
    curves = curves.sort_values(
        ["group", "time"], key=lambda s: s.map(order).fillna(s) if s.name == "group" else s
    ).reset_index(drop=True)
    minimum = RULES.km_at_risk
    curves, truncated = cut_km(curves, minimum)
    test = None
    refused = None
    if data["stratum"].nunique() >= 2:
        try:
            test = survival.logrank(data, "duration_days", "event", by="stratum")
        except TooLittleData as exc:
            refused = exc.shortfall
    events = int(data["event"].sum())
    return SurvivalView(curves, test, len(data), events, truncated, refused, minimum)


def viewer_survival_release(
    survival_frame: pd.DataFrame, *, language: str, min_cell: int
) -> SurvivalRelease:
    """The viewers' survival data: every stratification of :data:`STRATA` on one grid."""
    strata = {by: stratify(survival_frame, by, language)["stratum"] for by in STRATA if STRATA[by]}
    return survival_release(
        survival_frame["duration_days"], survival_frame["event"], strata,
        min_size=min_cell, language=language,
    )  # fmt: skip


def _released_view(
    survival_frame: pd.DataFrame, by: str, release: SurvivalRelease, language: str
) -> SurvivalView:
    released = release.curves[by if by in release.curves else "none"]
    data = survival_frame.assign(
        duration_days=released.durations,
        event=released.events,
        stratum=released.strata if by != "none" else t("all", language),
    )
    curves = survival.kaplan_meier(data, "duration_days", "event", by="stratum")
    order = _stratum_order(language)
    curves = curves.sort_values(
        ["group", "time"], key=lambda s: s.map(order).fillna(s) if s.name == "group" else s
    ).reset_index(drop=True)
    test, refused = None, None
    if data["stratum"].nunique() >= 2:
        try:
            full = survival.logrank(data, "duration_days", "event", by="stratum")
            test = full[[c for c in ("test_statistic", "df", "p") if c in full.columns]]
        except TooLittleData as exc:
            refused = exc.shortfall
    return SurvivalView(
        curves, test, len(data), int(data["event"].sum()), True, refused, release.min_size
    )


def _stratum_order(language: str) -> dict[str, int]:
    return {t(k, language): i for i, k in enumerate(("low", "middle", "high"))}


def km_view_figure(
    view: SurvivalView, *, language: str = "nl", rows_allowed: bool = True, min_cell: int = 10
) -> go.Figure:
    """The KM figure of a :class:`SurvivalView`, in months, with numbers at risk below.

    For viewers every number at risk under ``min_cell`` (in the table and in the hover text)
    reads ``"<min_cell"``.
    """
    fig = figures.km_figure(view.curves, time_scale=DAYS_PER_MONTH, lang=language)
    if rows_allowed:
        return fig
    for trace in fig.data:
        name = str(trace.name or "")
        if name.endswith(" at risk") and trace.text is not None:
            trace.text = [small(int(v), min_cell) if str(v).isdigit() else v for v in trace.text]
        elif trace.customdata is not None and trace.mode == "lines":
            data = np.asarray(trace.customdata, dtype=object)
            if data.ndim == 2 and data.shape[1] >= 3:
                data[:, 2] = [small(int(v), min_cell) for v in data[:, 2]]
                trace.customdata = data
    return fig


def standardised(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy with each column turned into z-scores (columns without spread left out)."""
    out = frame.copy()
    for col in columns:
        sd = out[col].std()
        out[col] = (out[col] - out[col].mean()) / sd if sd and np.isfinite(sd) else np.nan
    return out


def usable(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns with at least two distinct present values."""
    return [c for c in columns if c in frame.columns and frame[c].dropna().nunique() > 1]


def cox_model(survival_frame: pd.DataFrame) -> survival.CoxResult:
    """Cox model of job loss on klik, intensity and match at baseline (per SD), clustered by
    jobcoach.

    Raises
    ------
    TooLittleData
        When no covariate varies or the events are too few for the covariates
        (:mod:`analysis.minimum_data`).
    """
    covs = usable(survival_frame, list(COX_COVARIATES))
    if not covs:
        raise TooLittleData(no_variation("cox"))
    data = standardised(survival_frame, covs).dropna(subset=covs)
    cluster = "jobcoach_id" if data["jobcoach_id"].nunique() > 1 else None
    return survival.cox(data, "duration_days", "event", covs, cluster=cluster)


def time_varying_model(counting: pd.DataFrame) -> survival.CoxResult:
    """Cox model with klik, intensity and match lagged one interval (counting process, per SD).

    Raises
    ------
    TooLittleData
        When no covariate varies or the events are too few for the covariates.
    """
    covs = usable(counting, list(TV_COVARIATES))
    if not covs:
        raise TooLittleData(no_variation("cox_time_varying"))
    data = standardised(counting, covs).dropna(subset=covs)
    return survival.cox_time_varying(data, "trajectory_id", "start", "stop", "event", covs)


def labelled_summary(
    summary: pd.DataFrame, labels: Mapping[str, Mapping[str, str]], language: str
) -> pd.DataFrame:
    """A model summary with its terms in words."""
    return summary.assign(term=summary["term"].map(lambda v: labels.get(v, {}).get(language, v)))


# -- trajectories ----------------------------------------------------------------------------


def capability_long(person_wave: pd.DataFrame) -> pd.DataFrame:
    """Employee capability counts per trajectory and wave.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, wave, wave_index, months (exact), wave_months (months
        rounded to the protocol's nominal month, for grouping), capability_count, alliance.
    """
    scores = ["capability_count", "alliance"]
    if person_wave.empty:
        cols = ["trajectory_id", "jobcoach_id", "wave", "wave_index", "months", "wave_months"]
        return pd.DataFrame(columns=[*cols, *scores])
    start = person_wave
    if "anchor" in person_wave.columns:
        start = person_wave[person_wave["anchor"] == "start"]
    wide = person_wave_wide(start, scores, respondent="employee")
    wide = wide.dropna(subset=["capability_count"]).drop(columns="respondent")
    return wide.assign(wave_months=wide["months"].round()).reset_index(drop=True)


def mixed_frame(person_wave: pd.DataFrame, trajectories: pd.DataFrame) -> pd.DataFrame:
    """The long frame of the mixed model of :data:`MIXED_FORMULA`.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, months, capability_count, alliance, alliance_within,
        alliance_between (person-mean centring), intensity (contact hours per month over the
        first three months), match (person–job fit at baseline); complete rows only.
    """
    long = capability_long(person_wave)
    if long.empty:
        return long.assign(alliance_within=[], alliance_between=[], intensity=[], match=[])
    long = mixed.within_between(long, "alliance", by="trajectory_id")
    extra = trajectories[["trajectory_id", "contact_minutes_per_month", "baseline_match_quality"]]
    long = long.merge(extra, on="trajectory_id", how="left")
    long["intensity"] = long.pop("contact_minutes_per_month") / 60.0
    long["match"] = long.pop("baseline_match_quality")
    needed = ["capability_count", "months", "alliance_within", "alliance_between", "intensity"]
    return long.dropna(subset=[*needed, "match"]).reset_index(drop=True)


def fit_mixed(frame: pd.DataFrame) -> mixed.MixedResult:
    """Fit :data:`MIXED_FORMULA` with a random intercept per jobcoach and per employee within
    jobcoach (REML, several optimizers). Terms without spread are dropped; with fewer jobcoaches
    (with repeated observations) than the mixed-model rule asks for, the model has employees as
    its only level.

    Raises
    ------
    TooLittleData
        Below the mixed-model rule of :mod:`analysis.minimum_data` (too few employees or
        jobcoaches with repeated observations, or too few observations per fixed effect).
    """
    terms = usable(frame, ["months", "alliance_within", "alliance_between", "intensity", "match"])
    # an empty selection is refused before patsy sees it
    sizes = {"trajectory_id": frame.groupby("trajectory_id").size().tolist()}
    require(mixed_shortfall(len(frame), len(terms), sizes))
    formula = "capability_count ~ " + (" + ".join(terms) if terms else "1")
    per_coach = frame.groupby("jobcoach_id").size()
    # a jobcoach variance from two or three jobcoaches is noise; leave that level out
    if (per_coach >= RULES.mixed_observations_per_unit).sum() >= RULES.mixed_units:
        return mixed.fit(
            frame,
            formula,
            groups="jobcoach_id",
            vc_formula={"employee": "0 + C(trajectory_id)"},
        )
    return mixed.fit(frame, formula, groups="trajectory_id")


def model_trajectories(
    result: mixed.MixedResult,
    frame: pd.DataFrame,
    *,
    months: Sequence[float] = (0, 3, 6, 12, 18, 24),
    alpha: float = 0.05,
    language: str = "nl",
) -> pd.DataFrame:
    """Model-estimated mean capability count over time for low, middle and high alliance.

    The between-person alliance is set to its 1st, 2nd and 3rd sextile midpoints (1/6, 1/2,
    5/6 quantiles), within-person alliance to 0 and the other predictors to their means; the
    interval comes from the fixed effects' covariance.

    Returns
    -------
    DataFrame
        group, months, estimate, lower, upper.
    """
    fe = result.fixed.set_index("term")["estimate"]
    cov = result.cov_fixed.loc[fe.index, fe.index]
    z = float(stats.norm.ppf(1 - alpha / 2))
    horizon = float(frame["months"].max()) if len(frame) else 0.0
    grid = [m for m in months if m <= max(horizon, 0.0) + 0.5] or [0.0]
    levels = {"alliance_between": frame["alliance_between"].quantile([1 / 6, 0.5, 5 / 6])}
    names = [t("low", language), t("middle", language), t("high", language)]
    rows = []
    for i, name in enumerate(names):
        for m in grid:
            x = pd.Series(0.0, index=fe.index)
            for term in fe.index:
                if term == "Intercept":
                    x[term] = 1.0
                elif term == "months":
                    x[term] = m
                elif term == "alliance_between":
                    x[term] = float(levels["alliance_between"].iloc[i])
                elif term == "alliance_within":
                    x[term] = 0.0
                else:
                    x[term] = float(frame[term].mean())
            est = float(x @ fe)
            se = float(np.sqrt(max(x @ cov @ x, 0.0)))
            rows.append((name, float(m), est, est - z * se, est + z * se))
    return pd.DataFrame(rows, columns=["group", "months", "estimate", "lower", "upper"])


def model_figure(predicted: pd.DataFrame, *, language: str = "nl") -> go.Figure:
    """Model-estimated trajectories with their intervals, one line per alliance level.

    The axis is the capability count's range (0–7); an interval reaching past it is cut at the
    edge and marked with an arrow.
    """
    low, high = CAPABILITY_RANGE
    marked = False
    fig = go.Figure()
    for i, (group, sub) in enumerate(predicted.groupby("group", sort=False)):
        colour = figures.PALETTE[i % len(figures.PALETTE)]
        cut = figures.clip_interval(sub["estimate"], sub["lower"], sub["upper"], low, high)
        fig.add_trace(
            go.Scatter(
                x=sub["months"],
                y=cut["estimate"],
                mode="lines+markers",
                name=str(group),
                line={"color": colour},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": np.nan_to_num(cut["upper"] - cut["estimate"], nan=0.0),
                    "arrayminus": np.nan_to_num(cut["estimate"] - cut["lower"], nan=0.0),
                },
            )
        )
        marks = figures.clipped_marks(sub["months"], cut, low=low, high=high, lang=language)
        if marks is not None:
            # one legend entry for the arrows of every line
            fig.add_trace(marks.update(showlegend=not marked, legendgroup="clipped"))
            marked = True
    pad = 0.03 * (high - low)
    fig.update_layout(
        template="plotly_white",
        xaxis_title=figures.TEXT["time_months"][language],
        yaxis_title={"nl": "Aantal capabilities (0-7)", "en": "Number of capabilities (0-7)"}[
            language
        ],
        yaxis_range=[low - pad, high + pad],
        legend_title={"nl": "werkalliantie", "en": "working alliance"}[language],
    )
    return fig


def trajectory_view_figure(
    long: pd.DataFrame,
    *,
    language: str = "nl",
    individual: bool = False,
    lines: Collection[int] | None = None,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> go.Figure:
    """Mean capability count per wave (95% t-interval), with individual lines when allowed.

    ``lines`` limits the individual lines to these trajectory ids (all when None); the means
    always use every trajectory. For viewers waves with fewer than ``min_cell`` answers are left
    out and no individual line is drawn, whatever ``individual`` says.
    """
    data = long
    if not rows_allowed:
        counts = data.groupby("wave_months")["capability_count"].transform("count")
        data = data[counts >= min_cell]
        individual = False
    y_label = {"nl": "Aantal capabilities (0-7)", "en": "Number of capabilities (0-7)"}[language]
    means = figures.trajectory_figure(
        data,
        "capability_count",
        x="wave_months",
        lang=language,
        y_label=y_label,
        y_range=CAPABILITY_RANGE,
    )
    means.update_xaxes(title_text=figures.TEXT["time_months"][language])
    if not rows_allowed:
        # the number of answers per wave, exact, would be a sum of monitor cells; so would a
        # mean in full precision (343/101 gives 101 back)
        for trace in means.data:
            if trace.customdata is not None:
                trace.customdata = [viewer_count(int(c), min_cell) for c in trace.customdata]
            if trace.y is not None:
                trace.y = coarse_means(trace.y)
            for key in ("array", "arrayminus"):
                if trace.error_y is not None and trace.error_y[key] is not None:
                    trace.error_y[key] = coarse_means(trace.error_y[key])
    if not individual:
        return means
    drawn = data if lines is None else data[data["trajectory_id"].isin(list(lines))]
    persons = figures.trajectory_figure(
        drawn, "capability_count", x="wave_months", individual=True, lang=language
    )
    behind = [trace for trace in persons.data if trace.name == "individual"]
    return go.Figure(data=[*behind, *means.data], layout=means.layout)


# -- data quality ----------------------------------------------------------------------------


def scales_of(instruments: Mapping[str, object]) -> dict[str, dict[str, list[str]]]:
    """Per instrument, its multi-item mean/sum scores as scales (score id -> item ids)."""
    out: dict[str, dict[str, list[str]]] = {}
    for inst_id, inst in instruments.items():
        scales = {
            sc.id: list(sc.items)
            for sc in inst.scores  # type: ignore[attr-defined]
            if str(sc.rule) in ("mean", "sum") and len(sc.items) >= 2
        }
        if scales:
            out[inst_id] = scales
    return out


def alpha_table(
    items: pd.DataFrame,
    scales: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> pd.DataFrame:
    """Cronbach's alpha (Feldt 95% interval) per instrument, scale and wave.

    Returns
    -------
    DataFrame
        instrument_id, wave, scale, alpha, lower, upper, n, k; for viewers only rows with
        n >= ``min_cell``.
    """
    columns = ["instrument_id", "wave", "scale", "alpha", "lower", "upper", "n", "k"]
    parts = []
    for inst_id, inst_scales in scales.items():
        sub = items[items["instrument_id"] == inst_id]
        if sub.empty:
            continue
        parts.append(reliability.alpha_by(sub, by=("instrument_id", "wave"), scales=inst_scales))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table = table[columns] if len(table) else pd.DataFrame(columns=columns)
    if not rows_allowed:
        table = table[table["n"] >= min_cell]
    return _wave_sorted(table, ["instrument_id", "scale"])


def _wave_sorted(table: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    if table.empty:
        return table.reset_index(drop=True)
    order = table["wave"].map(lambda w: (0, int(w[1:])) if w[1:].isdigit() else (1, 0))
    return (
        table.assign(_o=order).sort_values([*first, "_o"]).drop(columns="_o").reset_index(drop=True)
    )


def missingness_table(
    items: pd.DataFrame,
    expected: Mapping[str, Sequence[str]],
    *,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> pd.DataFrame:
    """Share of submitted responses that left each item unanswered, per instrument and wave.

    Parameters
    ----------
    items : DataFrame
        A ``RESPONSE_ITEMS`` frame (answered items only, as stored).
    expected : mapping of str to sequence of str
        Instrument id -> its answerable item ids (skipped-by-design items count as missing too).

    Returns
    -------
    DataFrame
        instrument_id, wave, item_id, responses, answered, missing, missing_share; sorted by
        missing_share (highest first). For viewers only rows with responses >= ``min_cell``.
    """
    columns = [
        "instrument_id",
        "wave",
        "item_id",
        "responses",
        "answered",
        "missing",
        "missing_share",
    ]
    if items.empty:
        return pd.DataFrame(columns=columns)
    responses = (
        items.groupby(["instrument_id", "wave"])["response_id"].nunique().rename("responses")
    )
    grid = pd.DataFrame(
        [(i, it) for i, its in expected.items() for it in its], columns=["instrument_id", "item_id"]
    )
    grid = grid.merge(responses.reset_index(), on="instrument_id")
    answered = (
        items.dropna(subset=["value"])
        .groupby(["instrument_id", "wave", "item_id"])["response_id"]
        .nunique()
        .rename("answered")
    )
    text_answers = items[items["value"].isna()]
    out = grid.merge(
        answered.reset_index(), on=["instrument_id", "wave", "item_id"], how="left"
    ).fillna({"answered": 0})
    if len(text_answers):
        # non-numeric answers (e.g. multiple choice) were given, not missing
        extra = (
            text_answers.groupby(["instrument_id", "wave", "item_id"])["response_id"]
            .nunique()
            .rename("text")
        )
        out = out.merge(extra.reset_index(), on=["instrument_id", "wave", "item_id"], how="left")
        out["answered"] = out["answered"] + out.pop("text").fillna(0)
    out["answered"] = out["answered"].astype(int)
    out["missing"] = out["responses"] - out["answered"]
    out["missing_share"] = out["missing"] / out["responses"]
    if not rows_allowed:
        out = out[out["responses"] >= min_cell]
    return (
        out[columns]
        .sort_values(["missing_share", "instrument_id", "item_id"], ascending=[False, True, True])
        .reset_index(drop=True)
    )


def timeliness_table(
    person_wave: pd.DataFrame, *, rows_allowed: bool = True, min_cell: int = 10
) -> pd.DataFrame:
    """Out-of-window (late) responses per wave and respondent.

    A response is late when it came in after the first reminder (due date + 7 days), as the
    read model's ``status`` says.

    Returns
    -------
    DataFrame
        wave, respondent, responded, on_time, late, late_share, median_days_after_due
        (of the late ones), missing. For viewers only rows with responded >= ``min_cell``.
    """
    columns = [
        "wave",
        "respondent",
        "responded",
        "on_time",
        "late",
        "late_share",
        "median_days_after_due",
        "missing",
    ]
    if person_wave.empty:
        return pd.DataFrame(columns=columns)
    inv = person_wave.drop_duplicates(["trajectory_id", "wave", "respondent", "instrument_id"])
    inv = inv.assign(days_after_due=(inv["submitted_at"].dt.normalize() - inv["due_date"]).dt.days)
    rows = []
    for (wave, respondent), sub in inv.groupby(["wave", "respondent"]):
        late = sub[sub["status"] == "late"]
        on_time = int((sub["status"] == "on_time").sum())
        responded = on_time + len(late)
        rows.append(
            {
                "wave": wave,
                "respondent": respondent,
                "responded": responded,
                "on_time": on_time,
                "late": len(late),
                "late_share": len(late) / responded if responded else np.nan,
                "median_days_after_due": float(late["days_after_due"].median())
                if len(late)
                else np.nan,
                "missing": int((sub["status"] == "missing").sum()),
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    if not rows_allowed:
        table = table[table["responded"] >= min_cell]
    return _wave_sorted(table, ["respondent"])


def alpha_figure(table: pd.DataFrame, *, language: str = "nl") -> go.Figure:
    """Alpha per scale (x) and wave (colour) with the Feldt interval and a line at 0.70."""
    fig = go.Figure()
    for i, (wave, sub) in enumerate(table.groupby("wave", sort=False)):
        fig.add_trace(
            go.Bar(
                x=sub["instrument_id"] + ": " + sub["scale"],
                y=sub["alpha"],
                name=str(wave),
                marker_color=figures.PALETTE[i % len(figures.PALETTE)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": sub["upper"] - sub["alpha"],
                    "arrayminus": sub["alpha"] - sub["lower"],
                },
                customdata=sub["n"],
                hovertemplate="%{x}: %{y:.2f}, n=%{customdata}<extra>" + str(wave) + "</extra>",
            )
        )
    fig.add_hline(y=0.7, line_dash="dash", line_color="grey")
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        yaxis_title="Cronbach's α",
        yaxis_range=[0, 1.05],
        xaxis_title={"nl": "Schaal", "en": "Scale"}[language],
    )
    return fig
