"""The cost and outcome ledgers on a small study computed by hand, and the parameter table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.costs import (
    cost_items,
    cost_ledger,
    default_parameters,
    outcome_ledger,
    parameter,
    validate_parameters,
)
from analysis.validation import BadInput

HORIZON = 180.0
ROUND = {
    "jobcoach_tariff": [("external", 2024, 60.0), ("external", 2025, 70.0)],
    "internal_coach_hour_cost": [("internal", 2025, 40.0)],
    "internal_coach_subsidy": [("internal", 2025, 2400.0)],
    "wml_month": [(None, 2025, 1800.0)],
    "holiday_pay": [(None, 2025, 0.08)],
    "full_time_hours": [(None, 2025, 36.0)],
    "employer_cost_share": [(None, 2025, 0.2)],
    "lks_cap": [(None, 2025, 0.7)],
    "bijstand_norm_single": [(None, 2025, 1200.0)],
    "bijstand_disregard_share": [(None, 2025, 0.25)],
    "bijstand_disregard_cap": [(None, 2025, 200.0)],
    "bijstand_disregard_months": [(None, 2025, 6.0)],
    "wajong_share_wml": [(None, 2025, 0.7)],
    "noriskpolis_share": [(None, 2025, 0.7)],
    "leisure_value_share": [(None, 2025, 0.0)],
    "discount_rate": [(None, 2025, 0.0)],
    "effect_duration_years": [(None, 2025, 0.5)],
}


def round_parameters() -> pd.DataFrame:
    rows = [
        (key, coach, year, value, "", "", "", "test")
        for key, entries in ROUND.items()
        for coach, year, value in entries
    ]
    columns = ["key", "coach_type", "year", "value", "unit", "payer", "receiver", "source"]
    return pd.DataFrame(rows, columns=columns)


def small_study() -> tuple[pd.DataFrame, ...]:
    trajectories = pd.DataFrame(
        {
            "trajectory_id": [1, 2, 3],
            "jobcoach_id": [10, 20, 10],
            "start_date": pd.to_datetime(["2024-12-01", "2025-01-01", "2023-12-20"]),
            "funder": ["gemeente", "werkgever", None],
            "coach_type": ["external", "internal", "external"],
            "contract_hours": [18.0, 24.0, 12.0],
            "loonwaarde": [50.0, 80.0, np.nan],
            "benefit": ["bijstand", "wajong", "none"],
            "doelgroepregister": [True, False, False],
        }
    )
    survival = pd.DataFrame(
        {"trajectory_id": [1, 2, 3], "duration_days": [400.0, 90.0, 30.0], "event": [0, 1, 0]}
    )
    contacts = pd.DataFrame(
        {
            "trajectory_id": [1, 1, 1, 2, 2, 2, 3],
            "date": pd.to_datetime(
                [
                    "2024-12-10",
                    "2025-01-05",
                    "2025-06-30",  # day 211: after the horizon
                    "2025-01-02",
                    "2025-02-01",
                    "2025-03-01",
                    "2023-12-21",  # before the first tariff year: the earliest tariff
                ]
            ),
            "minutes": [90, 60, 60, 60, 60, 60, 45],
        }
    )
    sick = pd.DataFrame(
        {"trajectory_id": [1, 1], "start_days": [10.0, 170.0], "end_days": [24.0, np.nan]}
    )
    return trajectories, survival, contacts, sick


def test_ledgers_by_hand() -> None:
    trajectories, survival, contacts, sick = small_study()
    params = round_parameters()
    outcomes = outcome_ledger(
        trajectories, survival, sick, params, horizon_days=HORIZON, year=2025
    ).set_index("trajectory_id")
    costs = cost_ledger(
        trajectories, contacts, outcomes.reset_index(), params, horizon_days=HORIZON, year=2025
    ).set_index("trajectory_id")
    month = 30.4375

    # 1: bijstand, 18 h (wage 900), loonwaarde 50%, sick days 10-24 and 170-180, external coach
    one = outcomes.loc[1]
    assert one["days_in_work"] == 180 and bool(one["followed_to_horizon"])
    assert one["sick_days"] == 24
    assert one["hours_worked"] == pytest.approx((180 - 24) / 7 * 18)
    assert one["wage_month"] == pytest.approx(900)
    # disregard min(0.25 x 900, 200) = 200: bijstand avoided min(1200, 900 - 200) = 700 a month
    assert one["benefit_avoided_first"] == pytest.approx(700)
    assert one["benefit_avoided_later"] == pytest.approx(900)
    assert one["benefit_avoided"] == pytest.approx(700 * 180 / month)
    assert one["benefit_payer"] == "municipality"
    # LKS: base 1800 x 1.08 x 0.5 = 972; gap 50% = 486 (< 70% cap); x 1.2 employer costs
    assert one["lks_month"] == pytest.approx(583.2)
    assert one["production_day"] == pytest.approx(18 / 7 * 0.5 * 1800 / (36 * 52 / 12) * 1.2)
    c1 = costs.loc[1]
    assert c1["contact_hours"] == pytest.approx(2.5)
    assert c1["external_coach_cost"] == pytest.approx(1.5 * 60 + 1.0 * 70)
    assert c1["coach_payer"] == "municipality"
    assert c1["lks"] == pytest.approx(583.2 * 180 / month)
    assert c1["noriskpolis"] == pytest.approx(0.7 * 900 / month * 24)
    assert c1["internal_coach_cost"] == 0 and c1["internal_subsidy"] == 0

    # 2: Wajong, 24 h (wage 1200), job loss at day 90, internal coach 3 hours
    two, c2 = outcomes.loc[2], costs.loc[2]
    assert two["days_in_work"] == 90 and bool(two["followed_to_horizon"])
    assert two["benefit_avoided"] == pytest.approx(0.7 * 1200 * 90 / month)
    assert two["benefit_payer"] == "uwv"
    assert two["lks_month"] == 0
    assert c2["internal_coach_cost"] == pytest.approx(3 * 40)
    assert c2["internal_subsidy"] == pytest.approx(2400 * 90 / 365.25)
    assert c2["external_coach_cost"] == 0 and c2["noriskpolis"] == 0

    # 3: started 30 days ago, no benefit, funder unknown (UWV), no loonwaarde known
    three, c3 = outcomes.loc[3], costs.loc[3]
    assert three["days_in_work"] == 30 and not bool(three["followed_to_horizon"])
    assert three["benefit_avoided"] == 0
    assert c3["external_coach_cost"] == pytest.approx(0.75 * 60)
    assert c3["coach_payer"] == "uwv"


def test_transfers_are_flagged() -> None:
    trajectories, survival, contacts, sick = small_study()
    params = round_parameters()
    outcomes = outcome_ledger(trajectories, survival, sick, params, horizon_days=HORIZON, year=2025)
    costs = cost_ledger(trajectories, contacts, outcomes, params, horizon_days=HORIZON, year=2025)
    items = cost_items(costs)
    transfers = set(items.loc[items["transfer"], "item"])
    assert transfers == {"lks", "noriskpolis", "internal_subsidy"}
    assert set(items.loc[~items["transfer"], "item"]) == {
        "external_coach_cost",
        "internal_coach_cost",
    }
    lks = items[items["item"] == "lks"].iloc[0]
    assert (lks["payer"], lks["receiver"]) == ("municipality", "employer")


def test_parameter_picks_the_year() -> None:
    params = validate_parameters(round_parameters())
    assert parameter(params, "jobcoach_tariff", year=2024, coach_type="external") == 60
    assert parameter(params, "jobcoach_tariff", year=2030, coach_type="external") == 70
    assert parameter(params, "jobcoach_tariff", year=2020, coach_type="external") == 60


def test_shipped_defaults_carry_year_and_source() -> None:
    params = default_parameters()
    assert (params["source"].str.len() > 10).all()
    assert params["year"].between(2010, 2030).all()
    assert parameter(params, "discount_rate") == pytest.approx(0.0225)
    assert parameter(params, "jobcoach_tariff", coach_type="external", year=2025) == 73.30


def test_bad_parameter_tables_are_refused() -> None:
    params = round_parameters()
    with pytest.raises(BadInput, match="missing parameters: wml_month"):
        validate_parameters(params[params["key"] != "wml_month"])
    with pytest.raises(BadInput, match="negative"):
        validate_parameters(params.assign(value=-params["value"]))
    with pytest.raises(BadInput, match="'value'"):
        validate_parameters(params.assign(value="veel"))
    with pytest.raises(BadInput, match="given twice"):
        validate_parameters(pd.concat([params, params.iloc[:1]]))
    with pytest.raises(BadInput, match="'year'"):
        validate_parameters(params.assign(year=2025.5))


def test_bad_ledger_input_is_refused() -> None:
    trajectories, survival, _contacts, sick = small_study()
    params = round_parameters()
    with pytest.raises(BadInput, match="horizon"):
        outcome_ledger(trajectories, survival, sick, params, horizon_days=0, year=2025)
    with pytest.raises(BadInput, match="'contract_hours'"):
        outcome_ledger(
            trajectories.assign(contract_hours=-3.0),
            survival,
            sick,
            params,
            horizon_days=HORIZON,
            year=2025,
        )


def test_a_study_without_contacts_or_sick_leave_costs_nothing() -> None:
    trajectories, survival, contacts, sick = small_study()
    params = round_parameters()
    outcomes = outcome_ledger(
        trajectories, survival, sick.iloc[:0], params, horizon_days=HORIZON, year=2025
    )
    assert (outcomes["sick_days"] == 0).all()
    costs = cost_ledger(
        trajectories, contacts.iloc[:0], outcomes, params, horizon_days=HORIZON, year=2025
    )
    assert (costs["contact_hours"] == 0).all()
    assert (costs["external_coach_cost"] == 0).all() and (costs["internal_coach_cost"] == 0).all()
    # the internal subsidy runs with the days in work, not with the contacts
    assert costs.set_index("trajectory_id").loc[2, "internal_subsidy"] > 0
