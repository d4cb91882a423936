"""How much data each analysis needs before it gives an estimate, and why it gives none below.

The rules are data (:class:`Minimums`, with the study's defaults in :data:`RULES`); one function
per analysis compares counts with them and returns ``None`` (enough) or a :class:`Shortfall`
that says, in Dutch and English, what is missing. The model functions of :mod:`analysis.survival`,
:mod:`analysis.mixed` and :mod:`analysis.reliability` check their rule on the rows they would fit
and raise :class:`TooLittleData` instead of fitting, so every caller (pages, report, command
line, notebooks) gets the same refusal.

Sources of the defaults:

* Cox models, with fixed or time-varying covariates: at least 10 events per covariate (design
  column), the events-per-variable rule of Peduzzi, Concato, Feinstein & Holford (1995),
  "Importance of events per independent variable in proportional hazards regression analysis.
  II. Accuracy and precision of regression estimates", J Clin Epidemiol 48:1503–1510 (the same
  group's 1996 simulation, J Clin Epidemiol 49:1373–1379, found the same for logistic
  regression). A stratified model also needs an event in every stratum: a stratum without one
  adds nothing to the partial likelihood.
* Mixed models: at least 5 units with 2 or more observations at every random level, following
  McNeish & Stapleton (2016), "The effect of small sample size on two-level model estimates",
  Educ Psychol Rev 28:295–314 (REML fixed effects hold up from about 5 clusters; variance
  components need many more, see Maas & Hox 2005, Methodology 1:86–92), and at least 10
  observations per fixed effect besides the intercept, Harrell's rule of thumb for regression
  models with a continuous outcome (Regression Modeling Strategies, 2nd ed. 2015, §4.4).
* Log-rank test: at least one event (without one the statistic is undefined).
* Kaplan–Meier curves stop where fewer than a minimum are at risk (Pocock, Clayton & Altman
  2002, "Survival plots of time-to-event outcomes in clinical trials: good practice and
  pitfalls", Lancet 359:1686–1689): :data:`Minimums.km_at_risk` by default; for viewers the
  caller passes the study's minimum cell size.
* Cronbach's alpha: at least 2 items and 30 complete responses (Bujang, Omar & Baharum 2018,
  "A review on sample size determination for Cronbach's alpha test", Malays J Med Sci
  25(6):85–99: fewer than 30 only suffice to reject alpha = 0).
* ICC: at least 2 raters and 30 rated units (Koo & Li 2016, "A guideline of selecting and
  reporting intraclass correlation coefficients for reliability research", J Chiropr Med
  15:155–163: "at least 30 heterogeneous samples").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "RULES",
    "Minimums",
    "Shortfall",
    "TooLittleData",
    "alpha_shortfall",
    "cox_shortfall",
    "cut_km",
    "icc_shortfall",
    "logrank_shortfall",
    "mixed_shortfall",
    "no_variation",
    "require",
]


@dataclass(frozen=True)
class Minimums:
    """The least data each analysis needs (see the module docstring for the sources).

    Attributes
    ----------
    events_per_covariate : int
        Cox models (also time-varying): events per design column.
    events_per_stratum : int
        Stratified Cox models: events in every stratum.
    mixed_units : int
        Mixed models: units with at least ``mixed_observations_per_unit`` observations, at every
        random level.
    mixed_observations_per_unit : int
        What makes a unit count for ``mixed_units``.
    mixed_observations_per_fixed_effect : int
        Mixed models: observations per fixed effect besides the intercept.
    logrank_events : int
        Log-rank test: events over all groups.
    km_at_risk : int
        Kaplan–Meier curves stop where fewer are at risk (callers may pass a higher minimum).
    alpha_respondents, alpha_items : int
        Cronbach's alpha: complete responses and items.
    icc_targets, icc_raters : int
        ICC: units rated by every rater, and raters.
    """

    events_per_covariate: int = 10
    events_per_stratum: int = 1
    mixed_units: int = 5
    mixed_observations_per_unit: int = 2
    mixed_observations_per_fixed_effect: int = 10
    logrank_events: int = 1
    km_at_risk: int = 5
    alpha_respondents: int = 30
    alpha_items: int = 2
    icc_targets: int = 30
    icc_raters: int = 2


RULES = Minimums()
"""The study's rules; every analysis function uses these unless given others."""

ANALYSES: dict[str, dict[str, str]] = {
    "cox": {"nl": "een Cox-model", "en": "a Cox model"},
    "cox_time_varying": {
        "nl": "een Cox-model met tijdsafhankelijke covariaten",
        "en": "a Cox model with time-varying covariates",
    },
    "mixed": {"nl": "een mixed model", "en": "a mixed model"},
    "logrank": {"nl": "een log-ranktoets", "en": "a log-rank test"},
    "kaplan_meier": {"nl": "Kaplan–Meier-curves", "en": "Kaplan–Meier curves"},
    "alpha": {"nl": "Cronbachs alfa", "en": "Cronbach's alpha"},
    "icc": {"nl": "een ICC", "en": "an ICC"},
}

# what is short, per kind; {analysis} is filled from ANALYSES, the rest from Shortfall.numbers
REASONS: dict[str, dict[str, str]] = {
    "events_per_covariate": {
        "nl": "{events} {events_word}, minstens {needed} nodig voor {covariates} {covariates_word}",
        "en": "{events} {events_word}, at least {needed} needed for {covariates} {covariates_word}",
    },
    "events_per_stratum": {
        "nl": "stratum {stratum} heeft {events} {events_word}, minstens {needed} nodig per stratum",
        "en": "stratum {stratum} has {events} {events_word}, at least {needed} needed per stratum",
    },
    "units": {
        "nl": "{units} {level} met minstens {per_unit} metingen, minstens {needed} nodig",
        "en": "{units} {level} with at least {per_unit} observations, at least {needed} needed",
    },
    "observations_per_fixed_effect": {
        "nl": "{observations} metingen, minstens {needed} nodig voor {effects} {effects_word}",
        "en": "{observations} observations, at least {needed} needed for {effects} {effects_word}",
    },
    "events": {
        "nl": "{events} {events_word}, minstens {needed} nodig",
        "en": "{events} {events_word}, at least {needed} needed",
    },
    "at_risk": {
        "nl": "{at_risk} personen at risk, minstens {needed} nodig",
        "en": "{at_risk} people at risk, at least {needed} needed",
    },
    "respondents": {
        "nl": "{respondents} volledige antwoorden, minstens {needed} nodig",
        "en": "{respondents} complete responses, at least {needed} needed",
    },
    "items": {
        "nl": "{items} {items_word}, minstens {needed} nodig",
        "en": "{items} {items_word}, at least {needed} needed",
    },
    "targets": {
        "nl": "{targets} door iedereen beoordeelde eenheden, minstens {needed} nodig",
        "en": "{targets} units rated by every rater, at least {needed} needed",
    },
    "raters": {
        "nl": "{raters} beoordelaars, minstens {needed} nodig",
        "en": "{raters} raters, at least {needed} needed",
    },
    "no_variation": {
        "nl": "geen enkele covariaat varieert",
        "en": "no covariate varies",
    },
}

WORDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # singular, plural
    "events": ({"nl": "gebeurtenis", "en": "event"}, {"nl": "gebeurtenissen", "en": "events"}),
    "covariates": (
        {"nl": "covariaat", "en": "covariate"},
        {"nl": "covariaten", "en": "covariates"},
    ),
    "effects": (
        {"nl": "vast effect", "en": "fixed effect"},
        {"nl": "vaste effecten", "en": "fixed effects"},
    ),
    "items": ({"nl": "item", "en": "item"}, {"nl": "items", "en": "items"}),
}

LEAD = {"nl": "Te weinig gegevens voor {analysis}: ", "en": "Too little data for {analysis}: "}


@dataclass(frozen=True)
class Shortfall:
    """Why an analysis gives no estimate: which rule, and the numbers it compared.

    Attributes
    ----------
    analysis : str
        A key of :data:`ANALYSES` (``cox``, ``cox_time_varying``, ``mixed``, ``logrank``,
        ``kaplan_meier``, ``alpha``, ``icc``).
    kind : str
        A key of :data:`REASONS`.
    numbers : dict
        The counts found and the minimum (``needed``), named as the reason's text uses them.
    """

    analysis: str
    kind: str
    numbers: dict[str, object] = field(default_factory=dict)

    def text(self, language: str = "nl") -> str:
        """The reason as one sentence, e.g. "Te weinig gegevens voor een Cox-model:
        3 gebeurtenissen, minstens 20 nodig voor 2 covariaten."."""
        lang = language if language in ("nl", "en") else "nl"
        values = dict(self.numbers)
        for name, (one, many) in WORDS.items():
            if name in values:
                values[f"{name}_word"] = (one if values[name] == 1 else many)[lang]
        if isinstance(values.get("level"), Mapping):
            values["level"] = values["level"][lang]  # type: ignore[index]
        analysis = ANALYSES[self.analysis][lang]
        return (
            LEAD[lang].format(analysis=analysis) + REASONS[self.kind][lang].format(**values) + "."
        )

    def __str__(self) -> str:
        return self.text("en")


class TooLittleData(ValueError):
    """An analysis refused to run below its minimum; ``shortfall`` says why.

    A ``ValueError``, so callers that treat unfittable data as a value error keep working.
    """

    def __init__(self, shortfall: Shortfall) -> None:
        super().__init__(shortfall.text("en"))
        self.shortfall = shortfall

    def __reduce__(self) -> tuple[type, tuple[Shortfall]]:
        # results travel between processes as pickles
        return (type(self), (self.shortfall,))


def require(shortfall: Shortfall | None) -> None:
    """Raise :class:`TooLittleData` for a shortfall; do nothing for ``None``."""
    if shortfall is not None:
        raise TooLittleData(shortfall)


def no_variation(analysis: str) -> Shortfall:
    """The shortfall of a model none of whose covariates varies in the data."""
    return Shortfall(analysis, "no_variation")


def cox_shortfall(
    events: int,
    covariates: int,
    *,
    stratum_events: Mapping[object, int] | None = None,
    time_varying: bool = False,
    rules: Minimums = RULES,
) -> Shortfall | None:
    """Whether a Cox model may be fitted: events per covariate, and events in every stratum.

    Parameters
    ----------
    events : int
        Events in the rows that would be fitted.
    covariates : int
        Design columns (a categorical covariate counts once per indicator).
    stratum_events : mapping, optional
        Events per stratum of a stratified model.
    time_varying : bool
        Whether it is the counting-process model (for the wording only).
    rules : Minimums
        The rules to apply.

    Returns
    -------
    Shortfall or None
        None when there is enough.
    """
    analysis = "cox_time_varying" if time_varying else "cox"
    if covariates < 1:
        return no_variation(analysis)
    needed = rules.events_per_covariate * covariates
    if events < needed:
        numbers = {"events": int(events), "needed": needed, "covariates": int(covariates)}
        return Shortfall(analysis, "events_per_covariate", numbers)
    for stratum, count in (stratum_events or {}).items():
        if count < rules.events_per_stratum:
            numbers = {"stratum": stratum, "events": int(count), "needed": rules.events_per_stratum}
            return Shortfall(analysis, "events_per_stratum", numbers)
    return None


LEVEL_WORDS = {
    "trajectory_id": {"nl": "werknemers", "en": "employees"},
    "employee": {"nl": "werknemers", "en": "employees"},
    "jobcoach_id": {"nl": "jobcoaches", "en": "jobcoaches"},
}


def mixed_shortfall(
    observations: int,
    fixed_effects: int,
    unit_sizes: Mapping[str, Sequence[int] | pd.Series],
    *,
    rules: Minimums = RULES,
) -> Shortfall | None:
    """Whether a linear mixed model may be fitted: units per random level, observations per
    fixed effect.

    Parameters
    ----------
    observations : int
        Rows that would be fitted.
    fixed_effects : int
        Fixed-effect columns besides the intercept.
    unit_sizes : mapping of str to sequence of int
        Per random level (its name, e.g. ``jobcoach_id`` or ``employee``), the number of
        observations of each of its units.
    rules : Minimums
        The rules to apply.

    Returns
    -------
    Shortfall or None
        None when there is enough.
    """
    per_unit = rules.mixed_observations_per_unit
    for level, sizes in unit_sizes.items():
        units = int(sum(1 for s in sizes if s >= per_unit))
        if units < rules.mixed_units:
            word = LEVEL_WORDS.get(level, {"nl": f"eenheden ({level})", "en": f"units ({level})"})
            numbers = {"units": units, "level": word, "per_unit": per_unit,
                       "needed": rules.mixed_units}  # fmt: skip
            return Shortfall("mixed", "units", numbers)
    needed = rules.mixed_observations_per_fixed_effect * fixed_effects
    if observations < needed:
        numbers = {"observations": int(observations), "needed": needed,
                   "effects": int(fixed_effects)}  # fmt: skip
        return Shortfall("mixed", "observations_per_fixed_effect", numbers)
    return None


def logrank_shortfall(events: int, *, rules: Minimums = RULES) -> Shortfall | None:
    """Whether a log-rank test may be computed: events over all groups.

    Returns
    -------
    Shortfall or None
        None when there is enough.
    """
    if events < rules.logrank_events:
        return Shortfall(
            "logrank", "events", {"events": int(events), "needed": rules.logrank_events}
        )
    return None


def alpha_shortfall(respondents: int, items: int, *, rules: Minimums = RULES) -> Shortfall | None:
    """Whether Cronbach's alpha may be computed: items, then complete responses.

    Returns
    -------
    Shortfall or None
        None when there is enough.
    """
    if items < rules.alpha_items:
        return Shortfall("alpha", "items", {"items": int(items), "needed": rules.alpha_items})
    if respondents < rules.alpha_respondents:
        numbers = {"respondents": int(respondents), "needed": rules.alpha_respondents}
        return Shortfall("alpha", "respondents", numbers)
    return None


def icc_shortfall(targets: int, raters: int, *, rules: Minimums = RULES) -> Shortfall | None:
    """Whether an ICC may be computed: raters, then units rated by every rater.

    Returns
    -------
    Shortfall or None
        None when there is enough.
    """
    if raters < rules.icc_raters:
        return Shortfall("icc", "raters", {"raters": int(raters), "needed": rules.icc_raters})
    if targets < rules.icc_targets:
        return Shortfall("icc", "targets", {"targets": int(targets), "needed": rules.icc_targets})
    return None


def cut_km(curves: pd.DataFrame, min_at_risk: int) -> tuple[pd.DataFrame, bool]:
    """Kaplan–Meier curves stopped where fewer than ``min_at_risk`` people are at risk.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`analysis.survival.kaplan_meier` (group, time, survival, lower, upper,
        at_risk, n_events, n_censored, n).
    min_at_risk : int
        The minimum risk set; a group smaller than this disappears altogether.

    Returns
    -------
    tuple of (DataFrame, bool)
        The kept rows (same columns; every curve is cut at its first step below the minimum,
        as the risk set only shrinks) and whether anything was cut.
    """
    keep = curves["at_risk"] >= min_at_risk
    return curves[keep].reset_index(drop=True), bool((~keep).any())
