"""A social cost–benefit balance (MKBA) of coaching against a chosen null alternative.

A study of coached employees has no group without coaching, so a balance needs a null
alternative chosen by the researcher (:class:`Comparison`): an external benchmark curve of time
in work (with its source), a comparison arm in the study, or a labelled what-if scenario. The
balance is the project minus the null alternative, per participant, within the horizon, then
carried over the effect's duration and discounted.

Rows (:data:`ITEMS`) are welfare effects or transfers; each is split over the actors employee,
employer, municipality and UWV, and society is their sum, so transfers net to zero there.
Days in work are the restricted mean time in work (Kaplan–Meier, :mod:`analysis.rmst`) to the
horizon; money per day in work (production, wage, benefit avoided, loonkostensubsidie) and per
sick day (no-riskpolis) are the participants' mean rates from the ledgers (:mod:`analysis.costs`).

Net present value: one-off items (coaching) count once; the others recur at their rate per
year over the effect's duration D, discounted at r: factor = sum over years k < D of
min(1, D - k) / (1 + r)^k. Benefit–cost ratio: the present value of the welfare effects other
than coaching over the coaching costs. Break-even: the gain in days in work (sick days held equal) and the
fall in sick days (days in work held equal) at which the society NPV is zero.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis import costs as cost_rules
from analysis.rmst import km_arrays, rmst_of_curve
from analysis.validation import BadInput, require_columns

__all__ = [
    "COMPARISON_KINDS",
    "ITEMS",
    "Comparison",
    "Mkba",
    "MkbaInputs",
    "balance",
    "bootstrap",
    "mkba",
    "summarise",
    "tornado",
]

COMPARISON_KINDS = ("benchmark", "arm", "scenario")
ACTORS = cost_rules.ACTORS

ITEMS: dict[str, tuple[bool, bool]] = {
    "coaching_external": (False, True),
    "coaching_internal": (False, True),
    "internal_subsidy": (True, False),
    "production": (False, False),
    "sick_leave": (False, False),
    "wages": (True, False),
    "employer_costs": (True, False),
    "benefits": (True, False),
    "lks": (True, False),
    "noriskpolis": (True, False),
    "leisure": (False, False),
}
"""Balance row -> (transfer, one-off). Welfare rows are the others."""

COACHING = ("coaching_external", "coaching_internal")


@dataclass(frozen=True)
class Comparison:
    """The null alternative.

    Attributes
    ----------
    kind : str
        ``benchmark`` (``curve`` of months -> share still in work, with ``source``), ``arm``
        (a group in the study, given to :func:`mkba` as ``arm``) or ``scenario`` (``days_gained``
        and ``sick_days_fewer`` per participant within the horizon, labelled as what-if).
    label : str
        How the page names it.
    """

    kind: str
    label: str
    source: str = ""
    curve: tuple[tuple[float, float], ...] = ()
    days_gained: float = 0.0
    sick_days_fewer: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in COMPARISON_KINDS:
            raise BadInput("Comparison", None, f"kind must be one of {COMPARISON_KINDS}")
        if not str(self.label).strip():
            raise BadInput("Comparison", None, "a comparison needs a label")
        if self.kind == "benchmark":
            if len(self.curve) < 1 or not str(self.source).strip():
                raise BadInput(
                    "Comparison", None, "a benchmark needs a curve (months, share) and a source"
                )
            months = [m for m, _ in self.curve]
            shares = [s for _, s in self.curve]
            if any(not math.isfinite(m) or m < 0 for m in months) or months != sorted(months):
                raise BadInput("Comparison", None, "benchmark months must be increasing from 0")
            if any(not 0 <= s <= 1 for s in shares) or any(
                b > a + 1e-12 for a, b in itertools.pairwise(shares)
            ):
                raise BadInput(
                    "Comparison", None, "benchmark shares must lie in [0, 1] and not increase"
                )
        for name in ("days_gained", "sick_days_fewer"):
            if not math.isfinite(getattr(self, name)):
                raise BadInput("Comparison", None, f"{name} must be a number")


@dataclass(frozen=True)
class MkbaInputs:
    """The ledgers of one group: outcomes (``costs.outcome_ledger``), costs
    (``costs.cost_ledger``) and the survival frame (duration_days, event)."""

    outcomes: pd.DataFrame
    costs: pd.DataFrame
    survival: pd.DataFrame


@dataclass(frozen=True)
class Summary:
    """Per-participant means of one alternative within the horizon."""

    n: int
    days_in_work: float
    sick_per_work_day: float
    external: Mapping[str, float]
    internal: float
    subsidy_day: float
    production_day: float
    wage_day: float
    benefit_day: Mapping[str, float]
    lks_day: float
    noriskpolis_sick_day: float


@dataclass(frozen=True)
class Settings:
    """Values of the balance that the sensitivity analysis varies."""

    horizon_days: float
    employer_cost_share: float
    leisure_share: float
    discount_rate: float
    duration_years: float
    tariff_factor: float = 1.0
    effect_factor: float = 1.0
    production_factor: float = 1.0


def _per_day(amount: np.ndarray, days: np.ndarray) -> float:
    ok = days > 0
    return float(np.mean(amount[ok] / days[ok])) if ok.any() else 0.0


class _Arrays:
    """A group's ledgers as arrays, for fast resampling."""

    def __init__(self, inputs: MkbaInputs, horizon_days: float, disregard_months: float) -> None:
        o = inputs.outcomes.set_index("trajectory_id")
        c = inputs.costs.set_index("trajectory_id").reindex(o.index)
        s = inputs.survival.set_index("trajectory_id").reindex(o.index)
        self.jobcoach = o["jobcoach_id"].to_numpy()
        self.duration = s["duration_days"].to_numpy(float)
        self.event = s["event"].to_numpy(float)
        self.days = o["days_in_work"].to_numpy(float)
        self.sick = o["sick_days"].to_numpy(float)
        self.followed = o["followed_to_horizon"].to_numpy(bool)
        self.production = o["production_day"].to_numpy(float)
        self.wage = o["wage_month"].to_numpy(float) / cost_rules.DAYS_PER_MONTH
        months = horizon_days / cost_rules.DAYS_PER_MONTH
        k = min(disregard_months, months)
        avg = (
            o["benefit_avoided_first"].to_numpy(float) * k
            + o["benefit_avoided_later"].to_numpy(float) * (months - k)
        ) / months
        self.benefit = {a: np.where(o["benefit_payer"] == a, avg, 0.0) for a in ACTORS}
        self.lks = o["lks_month"].to_numpy(float) / cost_rules.DAYS_PER_MONTH
        self.noriskpolis = o["noriskpolis_day"].to_numpy(float)
        self.payer = c["coach_payer"].to_numpy(object)
        self.external = c["external_coach_cost"].to_numpy(float)
        self.internal = c["internal_coach_cost"].to_numpy(float)
        self.subsidy = c["internal_subsidy"].to_numpy(float)

    def summary(self, index: np.ndarray, horizon_days: float) -> Summary:
        times, _, _, curve = km_arrays(self.duration[index], self.event[index])
        days = rmst_of_curve(times, curve, horizon_days)
        # costs of trajectories followed through the horizon (or ended by job loss) only:
        # a trajectory that started last month has had one month of coaching
        full = index[self.followed[index]]
        use = full if len(full) >= 5 else index
        worked = self.days[index]
        return Summary(
            n=len(index),
            days_in_work=days,
            sick_per_work_day=float(self.sick[index].sum() / max(worked.sum(), 1e-9)),
            external={
                a: float(np.sum(self.external[use][self.payer[use] == a])) / len(use)
                for a in ACTORS
            },
            internal=float(self.internal[use].mean()) if len(use) else 0.0,
            subsidy_day=_per_day(self.subsidy[index], worked),
            production_day=float(self.production[index].mean()),
            wage_day=float(self.wage[index].mean()),
            benefit_day={
                a: float(v[index].mean()) / cost_rules.DAYS_PER_MONTH
                for a, v in self.benefit.items()
            },
            lks_day=float(self.lks[index].mean()),
            noriskpolis_sick_day=float(self.noriskpolis[index].mean()),
        )


def summarise(
    inputs: MkbaInputs, params: pd.DataFrame, *, horizon_days: float, year: int
) -> Summary:
    """Per-participant means of one group (see the module docstring)."""
    months = cost_rules.parameter(params, "bijstand_disregard_months", year=year)
    arrays = _Arrays(inputs, horizon_days, months)
    return arrays.summary(np.arange(len(arrays.days)), horizon_days)


def _null(project: Summary, comparison: Comparison, arm: Summary | None, horizon: float) -> Summary:
    if comparison.kind == "arm":
        if arm is None:
            raise BadInput("mkba", None, "a comparison arm needs its ledgers (arm=...)")
        return arm
    if comparison.kind == "benchmark":
        curve = comparison.curve
        times = [m * cost_rules.DAYS_PER_MONTH for m, _ in curve]
        days = rmst_of_curve(times, [s for _, s in curve], horizon)
    else:
        days = project.days_in_work - comparison.days_gained
    days = float(np.clip(days, 0.0, horizon))
    # the null alternative has no coaching and the project's rates per day
    sick_rate = project.sick_per_work_day
    if comparison.kind == "scenario" and days > 0:
        project_sick = project.sick_per_work_day * project.days_in_work
        sick_rate = max(project_sick + comparison.sick_days_fewer, 0.0) / days
    return replace(
        project,
        days_in_work=days,
        sick_per_work_day=sick_rate,
        external={a: 0.0 for a in ACTORS},
        internal=0.0,
        subsidy_day=0.0,
    )


def _row(**amounts: float) -> dict[str, float]:
    return {a: float(amounts.get(a, 0.0)) for a in ACTORS}


def _rows(project: Summary, null: Summary, settings: Settings) -> dict[str, dict[str, float]]:
    f = settings.effect_factor
    p_days = project.days_in_work
    n_days = p_days - f * (p_days - null.days_in_work)
    p_sick = project.sick_per_work_day * p_days
    n_sick = p_sick - f * (p_sick - null.sick_per_work_day * null.days_in_work)

    def delta(p_rate: float, n_rate: float, *, sick: bool = False) -> float:
        return p_rate * (p_sick if sick else p_days) - n_rate * (n_sick if sick else n_days)

    external = {
        a: settings.tariff_factor * (project.external[a] - null.external[a]) for a in ACTORS
    }
    production = settings.production_factor * delta(project.production_day, null.production_day)
    lost = settings.production_factor * delta(
        project.production_day, null.production_day, sick=True
    )
    wages = delta(project.wage_day, null.wage_day)
    subsidy = delta(project.subsidy_day, null.subsidy_day)
    lks = delta(project.lks_day, null.lks_day)
    zw = delta(project.noriskpolis_sick_day, null.noriskpolis_sick_day, sick=True)
    benefit = {a: delta(project.benefit_day[a], null.benefit_day[a]) for a in ACTORS}
    rows = {
        "coaching_external": _row(**{a: -v for a, v in external.items()}),
        "coaching_internal": _row(employer=-(project.internal - null.internal)),
        "internal_subsidy": _row(employer=subsidy, uwv=-subsidy),
        "production": _row(employer=production),
        "sick_leave": _row(employer=-lost),
        "wages": _row(employer=-wages, employee=wages),
        "employer_costs": _row(
            employer=-wages * settings.employer_cost_share,
            uwv=wages * settings.employer_cost_share,
        ),
        "benefits": _row(
            employee=-sum(benefit.values()),
            municipality=benefit["municipality"],
            uwv=benefit["uwv"],
        ),
        "lks": _row(municipality=-lks, employer=lks),
        "noriskpolis": _row(uwv=-zw, employer=zw),
        "leisure": _row(employee=-settings.leisure_share * wages),
    }
    return rows


def balance(project: Summary, null: Summary, settings: Settings) -> pd.DataFrame:
    """Project minus null per participant within the horizon, split over the actors.

    Returns
    -------
    DataFrame
        item, transfer, one_off, employee, employer, municipality, uwv, society.
    """
    rows = _rows(project, null, settings)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(ACTORS)]
    table["society"] = table.sum(axis=1)
    table.insert(0, "one_off", [ITEMS[i][1] for i in table.index])
    table.insert(0, "transfer", [ITEMS[i][0] for i in table.index])
    return table.rename_axis("item").reset_index()


def annuity(settings: Settings) -> float:
    """Present value of the horizon's recurring amounts over the effect's duration."""
    per_year = cost_rules.DAYS_PER_YEAR / settings.horizon_days
    d, r = settings.duration_years, settings.discount_rate
    years = range(math.ceil(d)) if d > 0 else range(0)
    return per_year * sum(min(1.0, d - k) / (1 + r) ** k for k in years)


def present_value(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """``table`` with the recurring rows carried over the effect's duration and discounted."""
    factor = np.where(table["one_off"], 1.0, annuity(settings))
    out = table.copy()
    for column in (*ACTORS, "society"):
        out[column] = out[column] * factor
    return out


@dataclass(frozen=True)
class Figures:
    """The headline figures of one balance."""

    npv: float
    benefit_cost_ratio: float
    costs: float
    days_gained: float
    sick_days_fewer: float
    break_even_days: float
    break_even_sick_days: float


def _society(project: Summary, null: Summary, settings: Settings) -> dict[str, float]:
    """Present value per item for society (the sum over the actors)."""
    factor = annuity(settings)
    return {
        item: sum(amounts.values()) * (1.0 if ITEMS[item][1] else factor)
        for item, amounts in _rows(project, null, settings).items()
    }


def _numbers(project: Summary, null: Summary, settings: Settings) -> Figures:
    society = _society(project, null, settings)
    npv = sum(society.values())
    benefits = sum(v for k, v in society.items() if not ITEMS[k][0] and k not in COACHING)
    costs = -sum(society[k] for k in COACHING)
    bcr = benefits / costs if costs > 0 else math.nan
    plain = replace(settings, effect_factor=1.0)

    def npv_at(days: float, sick: float) -> float:
        trial = replace(
            null,
            days_in_work=project.days_in_work - days,
            sick_per_work_day=(
                (project.sick_per_work_day * project.days_in_work + sick)
                / max(project.days_in_work - days, 1e-9)
            ),
        )
        return sum(_society(project, trial, plain).values())

    # the society NPV is linear in the days gained and in the sick days saved
    base = npv_at(0.0, 0.0)
    per_day = npv_at(1.0, 0.0) - base
    per_sick = npv_at(0.0, 1.0) - base
    days_gained = settings.effect_factor * (project.days_in_work - null.days_in_work)
    p_sick = project.sick_per_work_day * project.days_in_work
    sick_fewer = settings.effect_factor * (null.sick_per_work_day * null.days_in_work - p_sick)
    return Figures(
        npv=npv,
        benefit_cost_ratio=bcr,
        costs=costs,
        days_gained=days_gained,
        sick_days_fewer=sick_fewer,
        break_even_days=-base / per_day if per_day > 0 else math.nan,
        break_even_sick_days=-base / per_sick if per_sick > 0 else math.nan,
    )


def _figures(project: Summary, null: Summary, settings: Settings) -> tuple[pd.DataFrame, Figures]:
    table = present_value(balance(project, null, settings), settings)
    return table, _numbers(project, null, settings)


@dataclass(frozen=True)
class Mkba:
    """A balance and its figures.

    Attributes
    ----------
    table : DataFrame
        item, transfer, one_off, employee, employer, municipality, uwv, society: present
        values per participant.
    figures : Figures
        NPV, benefit–cost ratio, costs, days gained, sick days fewer, break-even points (per
        participant).
    project, null : Summary
        The two alternatives.
    settings : Settings
        The values the balance used.
    n : int
        Participants in the project group.
    """

    table: pd.DataFrame
    figures: Figures
    project: Summary
    null: Summary
    settings: Settings
    comparison: Comparison
    n: int = field(default=0)


def settings_from(params: pd.DataFrame, *, horizon_days: float, year: int) -> Settings:
    """The balance's settings from a parameter table."""
    value = lambda key: cost_rules.parameter(params, key, year=year)  # noqa: E731
    return Settings(
        horizon_days=horizon_days,
        employer_cost_share=value("employer_cost_share"),
        leisure_share=value("leisure_value_share"),
        discount_rate=value("discount_rate"),
        duration_years=value("effect_duration_years"),
    )


def mkba(
    project: MkbaInputs,
    comparison: Comparison,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
    arm: MkbaInputs | None = None,
) -> Mkba:
    """The balance of ``project`` against ``comparison`` (module docstring)."""
    for inputs in (project, arm):
        if inputs is not None:
            require_columns(inputs.outcomes, ["trajectory_id", "days_in_work"], "mkba")
            if inputs.outcomes.empty:
                raise BadInput("mkba", None, "a group without trajectories has no balance")
    params = cost_rules.validate_parameters(params)
    settings = settings_from(params, horizon_days=horizon_days, year=year)
    p = summarise(project, params, horizon_days=horizon_days, year=year)
    a = summarise(arm, params, horizon_days=horizon_days, year=year) if arm is not None else None
    null = _null(p, comparison, a, horizon_days)
    table, figures = _figures(p, null, settings)
    return Mkba(table, figures, p, null, settings, comparison, p.n)


TORNADO: dict[str, tuple[str, str]] = {
    "tariff": ("-20%", "+20%"),
    "effect": ("x0.5", "x1.5"),
    "loonwaarde": ("-20%", "+20%"),
    "duration": ("x0.5", "x2"),
    "discount_rate": ("0%", "x2"),
}
"""Factors of the tornado plot and the labels of their low and high values."""


def tornado(result: Mkba) -> pd.DataFrame:
    """Society NPV per participant with one factor at a time at its low and high value.

    Returns
    -------
    DataFrame
        factor, low, high (labels), npv_low, npv_high, npv_base, range; widest first.
    """
    s = result.settings
    variants = {
        "tariff": ({"tariff_factor": 0.8}, {"tariff_factor": 1.2}),
        "effect": ({"effect_factor": 0.5}, {"effect_factor": 1.5}),
        "loonwaarde": ({"production_factor": 0.8}, {"production_factor": 1.2}),
        "duration": (
            {"duration_years": s.duration_years / 2},
            {"duration_years": s.duration_years * 2},
        ),
        "discount_rate": ({"discount_rate": 0.0}, {"discount_rate": s.discount_rate * 2}),
    }
    rows = []
    for name, (low, high) in variants.items():
        npv_low = _numbers(result.project, result.null, replace(s, **low)).npv
        npv_high = _numbers(result.project, result.null, replace(s, **high)).npv
        rows.append((name, *TORNADO[name], npv_low, npv_high, result.figures.npv))
    out = pd.DataFrame(rows, columns=["factor", "low", "high", "npv_low", "npv_high", "npv_base"])
    out["range"] = (out["npv_high"] - out["npv_low"]).abs()
    return out.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)


QUANTITIES = (
    "npv",
    "benefit_cost_ratio",
    "costs",
    "days_gained",
    "sick_days_fewer",
    "break_even_days",
    "break_even_sick_days",
)


def bootstrap(
    project: MkbaInputs,
    comparison: Comparison,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
    arm: MkbaInputs | None = None,
    replicates: int = 2000,
    seed: int = 20250101,
    alpha: float = 0.05,
    progress: object = None,
) -> pd.DataFrame:
    """Percentile intervals of the headline figures by a bootstrap clustered by jobcoach.

    Jobcoaches are drawn with replacement, each bringing all their trajectories (of the
    comparison arm too); a benchmark or scenario is held fixed.

    Returns
    -------
    DataFrame
        quantity, estimate, lower, upper, replicates (those with a finite value).
    """
    if not isinstance(replicates, int) or replicates < 10:
        raise BadInput("bootstrap", None, "replicates must be a whole number of at least 10")
    params = cost_rules.validate_parameters(params)
    settings = settings_from(params, horizon_days=horizon_days, year=year)
    months = cost_rules.parameter(params, "bijstand_disregard_months", year=year)
    groups = [_Arrays(project, horizon_days, months)]
    if arm is not None:
        groups.append(_Arrays(arm, horizon_days, months))
    coaches = np.unique(np.concatenate([g.jobcoach for g in groups]))
    members = [{c: np.flatnonzero(g.jobcoach == c) for c in coaches} for g in groups]
    full = [np.arange(len(g.days)) for g in groups]

    def figures(indices: list[np.ndarray]) -> Figures | None:
        if any(len(i) == 0 for i in indices):
            return None
        p = groups[0].summary(indices[0], horizon_days)
        a = groups[1].summary(indices[1], horizon_days) if arm is not None else None
        return _numbers(p, _null(p, comparison, a, horizon_days), settings)

    base = figures(full)
    rng = np.random.default_rng(seed)
    draws = []
    for b in range(replicates):
        chosen = rng.choice(coaches, size=len(coaches), replace=True)
        indices = [np.concatenate([m[c] for c in chosen]) for m in members]
        result = figures(indices)
        if result is not None:
            draws.append([getattr(result, q) for q in QUANTITIES])
        if callable(progress) and b % 100 == 0:
            progress(b / replicates)
    values = np.array(draws, dtype=float).reshape(-1, len(QUANTITIES))
    rows = []
    for j, q in enumerate(QUANTITIES):
        col = values[:, j][np.isfinite(values[:, j])]
        lo, hi = np.quantile(col, [alpha / 2, 1 - alpha / 2]) if len(col) else (math.nan, math.nan)
        rows.append((q, getattr(base, q) if base else math.nan, float(lo), float(hi), len(col)))
    return pd.DataFrame(rows, columns=["quantity", "estimate", "lower", "upper", "replicates"])
