"""The study's own models, defined once: what "the Cox model of job loss" and the others mean.

The dashboard pages, the HTML report (:mod:`analysis.report`), ``klik analyse`` and notebooks
call these functions and nothing else, so the same question gets the same numbers everywhere.
Each is a pure function from the study's frames (:mod:`analysis.frames`) to a result object;
each checks its frames against their contracts first (``BadInput`` naming what is wrong) and
refuses below its rule of :mod:`analysis.minimum_data` with ``TooLittleData``.

The definitions
---------------
Strata of the survival curves (:func:`stratify`)
    klik, coaching intensity and match at baseline in thirds (ties split by order), coach type
    (internal/external) and method; job loss is the event, every other end and every ongoing
    trajectory is censored.
Cox model of job loss (:func:`job_loss_cox`)
    Job loss on klik, coaching intensity (contact hours per month over the first three months)
    and match at baseline, each standardised (hazard ratio per SD, the SD given in its unit),
    Efron ties, robust standard errors clustered by jobcoach when there are several.
    Covariates without spread are left out; rows missing a covariate are dropped.
Time-varying Cox model (:func:`time_varying_cox`)
    The counting-process frame: klik and match at the previous wave and intensity in the
    previous interval (lag one), standardised as above.
Three-level model of sustainable employability (:func:`employability_model`)
    The employee's capability count over months since start, waves anchored at the start of
    the trajectory only (follow-up waves after a trajectory ended are left out), on working
    alliance split into within and between person (person-mean centring), intensity in hours
    per month and match at baseline; REML; random intercepts per jobcoach and per employee
    within jobcoach, or per employee alone when fewer jobcoaches than the mixed-model rule asks
    for have repeated observations.
Reliability (:func:`reliability`)
    Cronbach's alpha (Feldt 95% interval) per instrument, scale and wave.
Attrition (:func:`attrition`)
    Response per wave and role (closed invitations only) and time to dropout of the employee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis import attrition as attrition_analysis
from analysis import mixed, survival
from analysis import reliability as reliability_analysis
from analysis.frames import (
    COUNTING_PROCESS,
    PERSON_WAVE,
    RESPONSE_ITEMS,
    SURVIVAL,
    person_wave_wide,
    validate_frame,
)
from analysis.minimum_data import (
    RULES,
    Shortfall,
    TooLittleData,
    cut_km,
    mixed_shortfall,
    no_variation,
    require,
)
from analysis.presentation import MEASURES, display_table, per_sd_label
from analysis.validation import BadInput, require_columns, require_numeric

__all__ = [
    "COX_MEASURES",
    "EMPLOYABILITY_TERMS",
    "READ_OUT_MONTHS",
    "STRATA",
    "TV_MEASURES",
    "Attrition",
    "CoxModel",
    "Curves",
    "EmployabilityModel",
    "attrition",
    "capability_long",
    "employability_frame",
    "employability_model",
    "end_reasons",
    "job_loss_cox",
    "named_scales",
    "reliability",
    "stratify",
    "stratum_curves",
    "survival_curves",
    "tertiles",
    "time_varying_cox",
]

DAYS_PER_MONTH = 30.4375
MINUTES_PER_HOUR = 60.0
#: the range of the capability count (Capability Set for Work: 0–7 capabilities)
CAPABILITY_RANGE = (0.0, 7.0)

LEVEL_TEXT = {
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
"""Stratifications of the survival curves -> the column of the survival frame they use."""

TERTILED = ("klik", "intensity", "match")

COX_MEASURES: dict[str, str] = {
    "baseline_klik": "klik",
    "contact_minutes_per_month": "intensity",
    "baseline_match_quality": "match",
}
"""Covariates of :func:`job_loss_cox`: survival-frame column -> measure of
:data:`analysis.presentation.MEASURES`."""

TV_MEASURES: dict[str, str] = {
    "klik_lag": "klik_lag",
    "intensity_lag": "intensity_lag",
    "match_quality_lag": "match_lag",
}
"""Covariates of :func:`time_varying_cox`: counting-process column -> measure."""

#: columns holding minutes whose measure is said in hours
IN_MINUTES = frozenset({"contact_minutes_per_month", "intensity_lag"})

EMPLOYABILITY_TERMS = ("months", "alliance_within", "alliance_between", "intensity", "match")
"""Fixed effects of :func:`employability_model` besides the intercept."""


def _level(key: str, language: str) -> str:
    return LEVEL_TEXT[key].get(language, LEVEL_TEXT[key]["nl"])


# -- survival --------------------------------------------------------------------------------


def tertiles(values: pd.Series, language: str = "nl") -> pd.Series:
    """Low / middle / high thirds of ``values`` (ties split by row order, so the read models'
    order by trajectory makes the split reproducible); missing stays missing.

    With fewer than three distinct values there are no thirds: every value is missing.
    """
    labels = [_level("low", language), _level("middle", language), _level("high", language)]
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    present = values.dropna()
    if present.nunique() < 3:
        return out
    ranks = present.rank(method="first")
    out.loc[present.index] = pd.qcut(ranks, 3, labels=labels).astype(str)
    return out


def stratify(frame: pd.DataFrame, by: str, language: str = "nl") -> pd.DataFrame:
    """``frame`` with a ``stratum`` column for the stratification ``by`` (a key of :data:`STRATA`).

    Returns
    -------
    DataFrame
        A copy of the survival frame with ``stratum`` (str; missing when the stratifying value
        is missing).
    """
    if by not in STRATA:
        raise BadInput("stratify", None, f"knows no stratification {by!r}; one of {sorted(STRATA)}")
    column = STRATA[by]
    if column is not None:
        require_columns(frame, [column], "stratify")
    out = frame.copy()
    if column is None:
        out["stratum"] = _level("all", language)
    elif by in TERTILED:
        out["stratum"] = tertiles(out[column], language)
    elif by == "coach_type":
        out["stratum"] = out[column].map(
            lambda v: _level(v, language) if v in LEVEL_TEXT else pd.NA
        )
    else:
        out["stratum"] = out[column].astype(object).where(out[column].notna(), pd.NA)
    return out


def usable(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns present with at least two distinct non-missing values."""
    return [c for c in columns if c in frame.columns and frame[c].dropna().nunique() > 1]


def standardised(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """A copy with each column as z-scores, and each column's SD before scaling."""
    out = frame.copy()
    sds: dict[str, float] = {}
    for col in columns:
        sd = float(out[col].std())
        sds[col] = sd
        out[col] = (out[col] - out[col].mean()) / sd
    return out, sds


@dataclass(frozen=True)
class Curves:
    """Kaplan–Meier curves of one stratification and the log-rank test between its strata.

    Attributes
    ----------
    curves : DataFrame
        ``analysis.survival.kaplan_meier`` output, strata in their order (low, middle, high
        first), cut where fewer than ``min_at_risk`` are at risk.
    logrank : DataFrame or None
        test_statistic, df, p, n, events, groups; None with fewer than two strata or when
        refused.
    refused : Shortfall or None
        Why there is no log-rank test although there are strata.
    n, events : int
        People in the strata, and their job losses.
    truncated : bool
        Whether a curve was cut.
    min_at_risk : int
        The risk set below which curves stop.
    """

    curves: pd.DataFrame
    logrank: pd.DataFrame | None
    refused: Shortfall | None
    n: int
    events: int
    truncated: bool
    min_at_risk: int


def _ordered(curves: pd.DataFrame, language: str) -> pd.DataFrame:
    order = {_level(k, language): i for i, k in enumerate(("low", "middle", "high"))}
    return curves.sort_values(
        ["group", "time"], key=lambda s: s.map(order).fillna(s) if s.name == "group" else s
    ).reset_index(drop=True)


def stratum_curves(
    data: pd.DataFrame, language: str = "nl", *, min_at_risk: int = RULES.km_at_risk
) -> Curves:
    """Kaplan–Meier curves per ``stratum`` of a stratified survival frame (from
    :func:`stratify`, rows without a stratum left out) and the log-rank test between them."""
    data = data.dropna(subset=["stratum"])
    if data.empty:
        empty = survival.kaplan_meier(data, "duration_days", "event")
        return Curves(empty, None, None, 0, 0, False, min_at_risk)
    curves = survival.kaplan_meier(data, "duration_days", "event", by="stratum")
    curves, truncated = cut_km(_ordered(curves, language), min_at_risk)
    test, refused = None, None
    if data["stratum"].nunique() >= 2:
        try:
            test = survival.logrank(data, "duration_days", "event", by="stratum")
        except TooLittleData as exc:
            refused = exc.shortfall
    return Curves(
        curves, test, refused, len(data), int(data["event"].sum()), truncated, min_at_risk
    )


def survival_curves(survival_frame: pd.DataFrame, by: str, language: str = "nl") -> Curves:
    """The survival curves of the stratification ``by`` (module docstring)."""
    validate_frame(survival_frame, SURVIVAL)
    return stratum_curves(stratify(survival_frame, by, language), language)


READ_OUT_MONTHS = (6, 12, 24)


def end_reasons(survival_frame: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Why trajectories end: the cumulative incidence (Aalen–Johansen) of every end reason,
    competing, and its value at 6, 12 and 24 months.

    Returns
    -------
    tuple
        {end reason: ``analysis.survival.cumulative_incidence`` table}, and a table with
        end_type, months, cif, lower, upper.
    """
    validate_frame(survival_frame, SURVIVAL)
    reasons = sorted(r for r in survival_frame["end_type"].dropna().unique() if r != "censored")
    curves, rows = {}, []
    for reason in reasons:
        cif = survival.cumulative_incidence(survival_frame, "duration_days", "end_type", of=reason)
        curves[reason] = cif
        for months in READ_OUT_MONTHS:
            idx = np.searchsorted(cif["time"].to_numpy(), months * DAYS_PER_MONTH, "right") - 1
            row = cif.iloc[max(idx, 0)]
            rows.append((reason, months, row["cif"], row["lower"], row["upper"]))
    table = pd.DataFrame(rows, columns=["end_type", "months", "cif", "lower", "upper"])
    return curves, table


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model of the study, with what its covariates mean.

    Attributes
    ----------
    result : analysis.survival.CoxResult
        The fit (summary, n, events, concordance, lr_test, ph_check, ...).
    measures : dict
        Design column -> measure of :data:`analysis.presentation.MEASURES`.
    sds : dict
        Design column -> its SD in the measure's unit (hours for intensity): the size of the
        step a hazard ratio is per.
    """

    result: survival.CoxResult
    measures: dict[str, str]
    sds: dict[str, float]

    def term_labels(self, language: str = "nl") -> dict[str, str]:
        """Design column -> "klik bij de start (per SD = 0.81 schaalpunten)"."""
        return {
            term: per_sd_label(measure, self.sds[term], language)
            for term, measure in self.measures.items()
            if term in self.sds
        }

    def summary(self, language: str = "nl") -> pd.DataFrame:
        """The hazard-ratio table as a person reads it (see :func:`display_table`)."""
        return display_table(self.result.summary, language, terms=self.term_labels(language))

    def ph_table(self, language: str = "nl") -> pd.DataFrame:
        """The proportional-hazards check as a person reads it."""
        return display_table(self.result.ph_check, language, terms=self.term_labels(language))

    def labelled(self, language: str = "nl") -> pd.DataFrame:
        """The numeric summary with its terms in words (for the forest plot)."""
        labels = self.term_labels(language)
        table = self.result.summary
        return table.assign(term=table["term"].map(lambda v: labels.get(v, v)))


def _fit_cox(
    frame: pd.DataFrame, measures: Mapping[str, str], analysis: str
) -> tuple[pd.DataFrame, list[str], dict[str, float]]:
    covs = usable(frame, list(measures))
    data = frame.dropna(subset=covs)
    covs = usable(data, covs)
    if not covs:
        raise TooLittleData(no_variation(analysis))
    data, sds = standardised(data.dropna(subset=covs), covs)
    in_unit = {c: sd / MINUTES_PER_HOUR if c in IN_MINUTES else sd for c, sd in sds.items()}
    return data, covs, in_unit


def job_loss_cox(survival_frame: pd.DataFrame) -> CoxModel:
    """The Cox model of job loss (see the module docstring for its definition).

    Raises
    ------
    TooLittleData
        When no covariate varies or the events are too few for the covariates.
    """
    validate_frame(survival_frame, SURVIVAL, extra=["jobcoach_id"])
    for column in COX_MEASURES:
        if column in survival_frame.columns:
            require_numeric(survival_frame, column, "job_loss_cox")
    data, covs, sds = _fit_cox(survival_frame, COX_MEASURES, "cox")
    cluster = "jobcoach_id" if data["jobcoach_id"].nunique() > 1 else None
    result = survival.cox(data, "duration_days", "event", covs, cluster=cluster)
    return CoxModel(result, {c: COX_MEASURES[c] for c in covs}, sds)


def time_varying_cox(counting: pd.DataFrame) -> CoxModel:
    """The time-varying Cox model of job loss on lagged covariates (module docstring).

    Raises
    ------
    TooLittleData
        When no covariate varies or the events are too few for the covariates.
    """
    validate_frame(counting, COUNTING_PROCESS)
    for column in TV_MEASURES:
        if column in counting.columns:
            require_numeric(counting, column, "time_varying_cox")
    data, covs, sds = _fit_cox(counting, TV_MEASURES, "cox_time_varying")
    result = survival.cox_time_varying(data, "trajectory_id", "start", "stop", "event", covs)
    return CoxModel(result, {c: TV_MEASURES[c] for c in covs}, sds)


# -- sustainable employability ------------------------------------------------------------------


def capability_long(person_wave: pd.DataFrame) -> pd.DataFrame:
    """Employee capability counts per trajectory and wave anchored at the start.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, wave, wave_index, months (exact), wave_months (months
        rounded to the protocol's nominal month, for grouping), capability_count, alliance.
    """
    validate_frame(person_wave, PERSON_WAVE)
    scores = ["capability_count", "alliance"]
    if person_wave.empty:
        cols = ["trajectory_id", "jobcoach_id", "wave", "wave_index", "months", "wave_months"]
        return pd.DataFrame(columns=[*cols, *scores])
    start = person_wave
    # Klik's read models say each wave's anchor; a frame without the column is taken as it is
    if "anchor" in person_wave.columns:
        # follow-up waves after a trajectory ended measure something else
        start = person_wave[person_wave["anchor"] == "start"]
    wide = person_wave_wide(start, scores, respondent="employee")
    wide = wide.dropna(subset=["capability_count"]).drop(columns="respondent")
    return wide.assign(wave_months=wide["months"].round()).reset_index(drop=True)


def employability_frame(person_wave: pd.DataFrame, trajectories: pd.DataFrame) -> pd.DataFrame:
    """The long frame of :func:`employability_model`.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, months, capability_count, alliance, alliance_within,
        alliance_between (person-mean centring), intensity (contact hours per month over the
        first three months), match (person–job fit at baseline); complete rows only.
    """
    extra = ["trajectory_id", "contact_minutes_per_month", "baseline_match_quality"]
    require_columns(trajectories, extra, "employability_frame")
    for column in extra[1:]:
        require_numeric(trajectories, column, "employability_frame", nonnegative=True)
    long = capability_long(person_wave)
    if long.empty:
        columns = ["trajectory_id", "jobcoach_id", "capability_count", "alliance",
                   "alliance_within", "alliance_between", *EMPLOYABILITY_TERMS]  # fmt: skip
        return pd.DataFrame({c: pd.Series(dtype=float) for c in dict.fromkeys(columns)})
    long = mixed.within_between(long, "alliance", by="trajectory_id")
    long = long.merge(trajectories[extra], on="trajectory_id", how="left")
    long["intensity"] = long.pop("contact_minutes_per_month") / MINUTES_PER_HOUR
    long["match"] = long.pop("baseline_match_quality")
    return long.dropna(subset=["capability_count", *EMPLOYABILITY_TERMS]).reset_index(drop=True)


@dataclass(frozen=True)
class EmployabilityModel:
    """The fitted three-level model and the frame it was fitted on.

    Attributes
    ----------
    result : analysis.mixed.MixedResult
        The fit (fixed, random, loglik, n_obs, n_levels, converged, method, ...).
    formula : str
        The fixed part that was fitted.
    frame : DataFrame
        The rows fitted (:func:`employability_frame`).
    """

    result: mixed.MixedResult
    formula: str
    frame: pd.DataFrame = field(repr=False)

    def term_labels(self, language: str = "nl") -> dict[str, str]:
        """Fixed-effect term -> its name and unit in ``language``."""
        return {term: MEASURES[term].text(language) for term in ("Intercept", *EMPLOYABILITY_TERMS)}

    def levels(self, language: str = "nl") -> dict[str, int]:
        """Units per random level, named in ``language`` (e.g. {"jobcoaches": 60, ...})."""
        return {
            LEVEL_NAMES.get(name, {}).get(language, name): count
            for name, count in self.result.n_levels.items()
        }

    def fixed(self, language: str = "nl") -> pd.DataFrame:
        """The fixed effects as a person reads them."""
        return display_table(self.result.fixed, language, terms=self.term_labels(language))

    def random(self, language: str = "nl") -> pd.DataFrame:
        """The variance components as a person reads them."""
        table = self.result.random.drop(columns="corr")
        return display_table(
            table.assign(component=table["component"].map(_component(language))), language
        )

    def predicted(
        self,
        *,
        months: Sequence[float] = (0, 3, 6, 12, 18, 24),
        alpha: float = 0.05,
        language: str = "nl",
    ) -> pd.DataFrame:
        """Model-estimated mean capability count over time for low, middle and high alliance.

        Between-person alliance at its 1/6, 1/2 and 5/6 quantiles, within-person alliance 0,
        the other predictors at their means; the interval from the fixed effects' covariance.

        Returns
        -------
        DataFrame
            group, months, estimate, lower, upper.
        """
        fe = self.result.fixed.set_index("term")["estimate"]
        cov = self.result.cov_fixed.loc[fe.index, fe.index]
        z = float(stats.norm.ppf(1 - alpha / 2))
        frame = self.frame
        horizon = float(frame["months"].max()) if len(frame) else 0.0
        grid = [m for m in months if m <= max(horizon, 0.0) + 0.5] or [0.0]
        between = frame["alliance_between"].quantile([1 / 6, 0.5, 5 / 6])
        rows = []
        for i, key in enumerate(("low", "middle", "high")):
            for m in grid:
                x = pd.Series(0.0, index=fe.index)
                for term in fe.index:
                    if term == "Intercept":
                        x[term] = 1.0
                    elif term == "months":
                        x[term] = m
                    elif term == "alliance_between":
                        x[term] = float(between.iloc[i])
                    elif term != "alliance_within":
                        x[term] = float(frame[term].mean())
                est = float(x @ fe)
                se = float(np.sqrt(max(x @ cov @ x, 0.0)))
                rows.append((_level(key, language), float(m), est, est - z * se, est + z * se))
        return pd.DataFrame(rows, columns=["group", "months", "estimate", "lower", "upper"])


LEVEL_NAMES = {
    "jobcoach_id": {"nl": "jobcoaches", "en": "jobcoaches"},
    "employee": {"nl": "werknemers", "en": "employees"},
    "trajectory_id": {"nl": "werknemers", "en": "employees"},
}

COMPONENTS = {
    "jobcoach_id: Intercept": {"nl": "jobcoach (intercept)", "en": "jobcoach (intercept)"},
    "trajectory_id: Intercept": {"nl": "werknemer (intercept)", "en": "employee (intercept)"},
    "employee": {"nl": "werknemer binnen jobcoach", "en": "employee within jobcoach"},
    "Residual": {"nl": "residu", "en": "residual"},
}


def _component(language: str):
    return lambda name: COMPONENTS.get(name, {}).get(language, name)


def employability_model(frame: pd.DataFrame) -> EmployabilityModel:
    """Fit the three-level model of sustainable employability (module docstring) on ``frame``
    (from :func:`employability_frame`). Terms without spread are left out.

    Raises
    ------
    TooLittleData
        Below the mixed-model rule of :mod:`analysis.minimum_data` (too few employees or
        jobcoaches with repeated observations, or too few observations per fixed effect).
    """
    require_columns(
        frame, ["trajectory_id", "jobcoach_id", "capability_count"], "employability_model"
    )
    for column in ("capability_count", *EMPLOYABILITY_TERMS):
        if column in frame.columns:
            require_numeric(frame, column, "employability_model")
    terms = usable(frame, EMPLOYABILITY_TERMS)
    sizes = {"trajectory_id": frame.groupby("trajectory_id").size().tolist()}
    require(mixed_shortfall(len(frame), len(terms), sizes))
    formula = "capability_count ~ " + (" + ".join(terms) if terms else "1")
    per_coach = frame.groupby("jobcoach_id").size()
    # a jobcoach variance from two or three jobcoaches is noise; leave that level out
    if (per_coach >= RULES.mixed_observations_per_unit).sum() >= RULES.mixed_units:
        result = mixed.fit(
            frame, formula, groups="jobcoach_id", vc_formula={"employee": "0 + C(trajectory_id)"}
        )
    else:
        result = mixed.fit(frame, formula, groups="trajectory_id")
    return EmployabilityModel(result, formula, frame)


# -- reliability and attrition ---------------------------------------------------------------


def reliability(
    items: pd.DataFrame, scales: Mapping[str, Mapping[str, Sequence[str]]]
) -> pd.DataFrame:
    """Cronbach's alpha (Feldt 95% interval) per instrument, scale and wave.

    Parameters
    ----------
    items : DataFrame
        A ``RESPONSE_ITEMS`` frame.
    scales : mapping
        Instrument id -> scale id -> its item ids.

    Returns
    -------
    DataFrame
        instrument_id, wave, scale, alpha, lower, upper, n, k; waves in protocol order.
    """
    validate_frame(items, RESPONSE_ITEMS)
    if not isinstance(scales, Mapping) or not all(isinstance(v, Mapping) for v in scales.values()):
        raise BadInput("reliability", None, "scales must map instrument ids to {scale: item ids}")
    columns = ["instrument_id", "wave", "scale", "alpha", "lower", "upper", "n", "k"]
    parts = []
    for inst_id, inst_scales in scales.items():
        sub = items[items["instrument_id"] == inst_id]
        if not sub.empty:
            parts.append(
                reliability_analysis.alpha_by(sub, by=("instrument_id", "wave"), scales=inst_scales)
            )
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table = table[columns] if len(table) else pd.DataFrame(columns=columns)
    return wave_sorted(table, ["instrument_id", "scale"])


def named_scales(table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """A reliability or item table with its instrument (and scale) ids in words, e.g. from
    ``questionnaires.registry.names_of``; ids without a name stay as they are."""
    out = table.copy()
    if "scale" in out.columns:
        keys = out["instrument_id"].astype(str) + "/" + out["scale"].astype(str)
        out["scale"] = [names.get(k, s) for k, s in zip(keys, out["scale"], strict=True)]
    out["instrument_id"] = out["instrument_id"].map(lambda v: names.get(v, v))
    return out


def wave_sorted(table: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """``table`` sorted by ``first`` and then by wave in protocol order (T0, T1, ..., others)."""
    if table.empty:
        return table.reset_index(drop=True)
    order = table["wave"].map(lambda w: (0, int(w[1:])) if w[1:].isdigit() else (1, 0))
    return (
        table.assign(_o=order).sort_values([*first, "_o"]).drop(columns="_o").reset_index(drop=True)
    )


@dataclass(frozen=True)
class Attrition:
    """Response and dropout of a study.

    Attributes
    ----------
    rates : DataFrame
        ``analysis.attrition.response_rates`` per wave and role.
    dropout : DataFrame
        ``analysis.attrition.time_to_dropout`` of the employee (KM-ready).
    dropout_curve : DataFrame or None
        Kaplan–Meier of time to dropout (months), None without any dropout.
    """

    rates: pd.DataFrame
    dropout: pd.DataFrame
    dropout_curve: pd.DataFrame | None


def attrition(person_wave: pd.DataFrame) -> Attrition:
    """Response per wave and role, and the employee's time to dropout (module docstring)."""
    rates = attrition_analysis.response_rates(person_wave)
    dropout = attrition_analysis.time_to_dropout(person_wave)
    curve = None
    if len(dropout) and dropout["dropped_out"].sum() > 0:
        curve = survival.kaplan_meier(
            dropout, "months", "dropped_out", min_at_risk=RULES.km_at_risk
        )
    return Attrition(rates, dropout, curve)
