"""The MKBA balance: transfers net to zero for society, the figures by hand, break-even,
discounting, the sensitivity analysis and the jobcoach-clustered bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.costs import cost_ledger, outcome_ledger
from analysis.mkba import (
    Comparison,
    MkbaInputs,
    annuity,
    bootstrap,
    mkba,
    tornado,
)
from analysis.validation import BadInput
from tests.analysis.test_costs import HORIZON, round_parameters, small_study


def inputs(params: pd.DataFrame | None = None) -> tuple[MkbaInputs, pd.DataFrame]:
    trajectories, survival, contacts, sick = small_study()
    params = round_parameters() if params is None else params
    outcomes = outcome_ledger(trajectories, survival, sick, params, horizon_days=HORIZON, year=2025)
    costs = cost_ledger(trajectories, contacts, outcomes, params, horizon_days=HORIZON, year=2025)
    return MkbaInputs(outcomes, costs, survival), params


def with_value(params: pd.DataFrame, key: str, value: float) -> pd.DataFrame:
    out = params.copy()
    out.loc[out["key"] == key, "value"] = value
    return out


SCENARIO = Comparison("scenario", "wat als: 20 dagen meer werk", days_gained=20.0)


def test_transfers_net_to_zero_for_society() -> None:
    project, params = inputs()
    for comparison in (
        SCENARIO,
        Comparison("benchmark", "UWV-cohort", source="UWV 2019", curve=((0, 1.0), (6, 0.7))),
    ):
        table = mkba(project, comparison, params, horizon_days=HORIZON, year=2025).table
        transfers = table[table["transfer"]]
        assert len(transfers) == 6
        assert transfers["society"].abs().max() < 1e-9
        # and each transfer really moves money between actors
        assert (
            transfers[["employee", "employer", "municipality", "uwv"]].abs().sum(axis=1) > 0
        ).sum() >= 5
        actors = table[["employee", "employer", "municipality", "uwv"]].sum(axis=1)
        assert np.allclose(actors, table["society"])


def test_balance_by_hand() -> None:
    project, params = inputs()
    # one horizon of effect without discounting: present values are the horizon's amounts
    params = with_value(params, "effect_duration_years", HORIZON / 365.25)
    result = mkba(project, SCENARIO, params, horizon_days=HORIZON, year=2025)
    rows = result.table.set_index("item")
    o = project.outcomes
    production_day = o["production_day"].mean()
    wage_day = (o["wage_month"] / 30.4375).mean()
    assert rows.loc["production", "society"] == pytest.approx(20 * production_day)
    assert rows.loc["wages", "employee"] == pytest.approx(20 * wage_day)
    assert rows.loc["employer_costs", "uwv"] == pytest.approx(20 * wage_day * 0.2)
    # bijstand avoided of trajectory 1 over the horizon: 700 a month (all 180 days in month 1-6)
    bijstand_day = 700 / 30.4375 / 3
    assert rows.loc["benefits", "municipality"] == pytest.approx(20 * bijstand_day)
    # costs: the 2 trajectories followed to the horizon (fewer than 5: all 3 count)
    coach_external = (160 + 45) / 3
    assert rows.loc["coaching_external", "society"] == pytest.approx(-coach_external)
    assert rows.loc["coaching_external", "municipality"] == pytest.approx(-160 / 3)
    assert rows.loc["coaching_external", "uwv"] == pytest.approx(-45 / 3)
    assert rows.loc["coaching_internal", "employer"] == pytest.approx(-120 / 3)
    f = result.figures
    costs = coach_external + 120 / 3
    assert f.costs == pytest.approx(costs)
    assert f.npv == pytest.approx(20 * production_day - costs)
    assert f.benefit_cost_ratio == pytest.approx(20 * production_day / costs)
    assert f.break_even_days == pytest.approx(costs / production_day)


def test_at_break_even_the_npv_is_zero() -> None:
    project, params = inputs()
    first = mkba(project, SCENARIO, params, horizon_days=HORIZON, year=2025)
    at = Comparison("scenario", "break-even", days_gained=first.figures.break_even_days)
    assert mkba(project, at, params, horizon_days=HORIZON, year=2025).figures.npv == pytest.approx(
        0.0, abs=1e-6
    )
    fewer = Comparison(
        "scenario", "sick", days_gained=0.0, sick_days_fewer=first.figures.break_even_sick_days
    )
    result = mkba(project, fewer, params, horizon_days=HORIZON, year=2025)
    assert result.figures.npv == pytest.approx(0.0, abs=1e-6)
    assert result.figures.sick_days_fewer == pytest.approx(first.figures.break_even_sick_days)


def test_discounting_over_the_effects_duration() -> None:
    project, params = inputs()
    params = with_value(with_value(params, "effect_duration_years", 2.5), "discount_rate", 0.0225)
    result = mkba(project, SCENARIO, params, horizon_days=HORIZON, year=2025)
    factor = 365.25 / HORIZON * (1 + 1 / 1.0225 + 0.5 / 1.0225**2)
    assert annuity(result.settings) == pytest.approx(factor)
    production = result.table.set_index("item").loc["production", "society"]
    assert production == pytest.approx(20 * project.outcomes["production_day"].mean() * factor)
    # one-off coaching costs are not discounted or repeated
    assert result.figures.costs == pytest.approx((160 + 45 + 120) / 3)


def test_benchmark_days_are_the_area_under_its_curve() -> None:
    project, params = inputs()
    curve = ((0.0, 1.0), (2.0, 0.8), (4.0, 0.5))
    result = mkba(
        project,
        Comparison("benchmark", "extern", source="bron", curve=curve),
        params,
        horizon_days=HORIZON,
        year=2025,
    )
    m = 30.4375
    expected = 2 * m * 1.0 + 2 * m * 0.8 + (HORIZON - 4 * m) * 0.5
    assert result.null.days_in_work == pytest.approx(expected)
    assert result.figures.days_gained == pytest.approx(result.project.days_in_work - expected)


def test_comparison_arm_brings_its_own_costs() -> None:
    project, params = inputs()
    arm = MkbaInputs(
        project.outcomes.assign(days_in_work=project.outcomes["days_in_work"] / 2),
        project.costs.assign(external_coach_cost=0.0, internal_coach_cost=0.0),
        project.survival.assign(duration_days=project.survival["duration_days"] / 2),
    )
    result = mkba(
        project,
        Comparison("arm", "controlegroep"),
        params,
        horizon_days=HORIZON,
        year=2025,
        arm=arm,
    )
    assert result.figures.days_gained > 0
    with pytest.raises(BadInput, match="arm"):
        mkba(project, Comparison("arm", "controlegroep"), params, horizon_days=HORIZON, year=2025)


def test_tornado_moves_each_factor() -> None:
    project, params = inputs()
    params = with_value(with_value(params, "effect_duration_years", 3.0), "discount_rate", 0.03)
    result = mkba(project, SCENARIO, params, horizon_days=HORIZON, year=2025)
    table = tornado(result).set_index("factor")
    assert set(table.index) == {"tariff", "effect", "loonwaarde", "duration", "discount_rate"}
    base = result.figures.npv
    # the NPV is linear in the effect size
    assert table.loc["effect", "npv_low"] + table.loc["effect", "npv_high"] == pytest.approx(
        2 * base
    )
    # dearer coaching lowers the NPV, no discounting raises it
    assert table.loc["tariff", "npv_high"] < base < table.loc["tariff", "npv_low"]
    assert table.loc["discount_rate", "npv_low"] > base > table.loc["discount_rate", "npv_high"]
    assert table["range"].is_monotonic_decreasing


def test_bootstrap_is_clustered_by_jobcoach() -> None:
    project, params = inputs()
    table = bootstrap(
        project, SCENARIO, params, horizon_days=HORIZON, year=2025, replicates=200, seed=1
    ).set_index("quantity")
    npv = table.loc["npv"]
    assert npv["lower"] <= npv["estimate"] <= npv["upper"]
    # two jobcoaches: each replicate holds coach 10's two trajectories, coach 20's one, or a
    # mix, so the costs take at most three distinct means per coach draw
    assert table.loc["costs", "lower"] < table.loc["costs", "upper"]
    # the scenario's gain is fixed
    assert table.loc["days_gained", "lower"] == table.loc["days_gained", "upper"] == 20.0
    # one jobcoach only: every replicate is the study itself
    one = MkbaInputs(project.outcomes.assign(jobcoach_id=1), project.costs, project.survival)
    flat = bootstrap(one, SCENARIO, params, horizon_days=HORIZON, year=2025, replicates=20)
    row = flat.set_index("quantity").loc["npv"]
    assert row["lower"] == pytest.approx(row["upper"]) == pytest.approx(row["estimate"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "guess", "label": "x"}, "kind"),
        ({"kind": "scenario", "label": " "}, "label"),
        ({"kind": "benchmark", "label": "x", "curve": ((0, 1.0),)}, "source"),
        (
            {"kind": "benchmark", "label": "x", "source": "s", "curve": ((6, 1.0), (3, 0.5))},
            "increasing",
        ),
        (
            {"kind": "benchmark", "label": "x", "source": "s", "curve": ((0, 0.5), (3, 0.9))},
            "not increase",
        ),
        ({"kind": "benchmark", "label": "x", "source": "s", "curve": ((0, 1.2),)}, r"\[0, 1\]"),
        ({"kind": "scenario", "label": "x", "days_gained": math.nan}, "days_gained"),
    ],
)
def test_bad_comparisons_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        Comparison(**kwargs)


def test_bootstrap_refuses_too_few_replicates() -> None:
    project, params = inputs()
    with pytest.raises(BadInput, match="replicates"):
        bootstrap(project, SCENARIO, params, horizon_days=HORIZON, year=2025, replicates=3)
