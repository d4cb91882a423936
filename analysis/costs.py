"""Cost and outcome ledgers per trajectory, from the study's frames and a parameter table.

The parameter table (:data:`PARAMETER_COLUMNS`) holds every amount with its value, unit, year,
source and who pays and receives it; :func:`default_parameters` gives the shipped defaults
(``analysis/data/cost_parameters.csv``). An amount that is indexed (the UWV jobcoach tariff, the
minimum wage) has one row per year; :func:`parameter` picks the row of the latest year not after
the year asked for, or the earliest row when all are later.

The rules (Dutch law as of 2025 and the MKBA guidance; the sources sit in the table):

Jobcoach costs
    External: contact minutes / 60 x the tariff of the contact's calendar year, paid by the
    trajectory's funder (UWV, gemeente or werkgever; UWV when not recorded). Internal: contact
    hours x the internal hourly cost, paid by the employer, and the internal-jobcoach subsidy per
    year (pro rata below 24 contract hours, over the days in work), a transfer UWV -> employer.
Loonkostensubsidie (bijstand only)
    (WML + holiday pay) x (1 - loonwaarde), at most 70% of (WML + holiday pay), plus the
    compensation for employer costs, pro rata to 36 hours; 50% while no loonwaarde is known.
    A transfer municipality -> employer, per month in work.
No-riskpolis (doelgroepregister, Wajong or Wsw)
    The share of the day wage per sick day, a transfer UWV -> employer.
Benefit avoided per month in work
    Bijstand: min(norm, wage - disregard), the disregard (25% of the wage, at most EUR 273)
    in the first six months only. Wajong: 70% x min(wage, WML) (the benefit tops a wage up by
    70% of the gap to the WML). Other benefits are not monetised.
Wage and production
    The employee earns the WML pro rata to the contract hours; production is valued at
    hours x loonwaarde x the WML hourly wage x (1 + employer costs).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.frames import COST_PARAMETER_KEYS
from analysis.validation import BadInput, require_columns, require_frame, require_numeric

__all__ = [
    "ACTORS",
    "DAYS_PER_MONTH",
    "PARAMETER_COLUMNS",
    "cost_items",
    "cost_ledger",
    "default_parameters",
    "outcome_ledger",
    "parameter",
    "validate_parameters",
]

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
WEEKS_PER_MONTH = 52 / 12

ACTORS: tuple[str, ...] = ("employee", "employer", "municipality", "uwv")
"""Who pays or receives; the society column of a balance is their sum."""

PARAMETER_COLUMNS: tuple[str, ...] = (
    "key",
    "coach_type",
    "year",
    "value",
    "unit",
    "payer",
    "receiver",
    "source",
)
"""Columns of a parameter table."""

REQUIRED_KEYS = COST_PARAMETER_KEYS

#: the internal-jobcoach subsidy is set for contracts of at least this many hours a week
SUBSIDY_FULL_HOURS = 24.0
#: loonkostensubsidie while no loonwaarde has been assessed (Participatiewet art. 10d(5))
LKS_WITHOUT_ASSESSMENT = 0.5

FUNDER_ACTOR = {"uwv": "uwv", "gemeente": "municipality", "werkgever": "employer"}
_DATA = Path(__file__).parent / "data" / "cost_parameters.csv"


@cache
def _shipped() -> pd.DataFrame:
    return pd.read_csv(_DATA, dtype={"coach_type": object, "payer": object, "receiver": object})


def default_parameters() -> pd.DataFrame:
    """The shipped parameter table, each amount with its year and source.

    Returns
    -------
    DataFrame
        key, coach_type (internal, external or empty), year, value, unit, payer, receiver, source.
    """
    return validate_parameters(_shipped().copy())


def validate_parameters(params: object) -> pd.DataFrame:
    """``params`` as a clean parameter table, or :class:`BadInput` naming what is wrong."""
    frame = require_frame(params, "parameters")
    require_columns(frame, list(PARAMETER_COLUMNS), "parameters")
    require_numeric(frame, "value", "parameters")
    require_numeric(frame, "year", "parameters", positive=True)
    if frame["value"].isna().any():
        raise BadInput("parameters", "value", "every parameter needs a value")
    if (frame["value"] < 0).any():
        bad = frame.loc[frame["value"] < 0, "key"].tolist()
        raise BadInput("parameters", "value", f"amounts cannot be negative ({', '.join(bad)})")
    if frame["year"].isna().any() or (frame["year"] % 1 != 0).any():
        raise BadInput("parameters", "year", "every parameter needs a whole year")
    missing = sorted(set(REQUIRED_KEYS) - set(frame["key"]))
    if missing:
        raise BadInput("parameters", "key", f"missing parameters: {', '.join(missing)}")
    out = frame[list(PARAMETER_COLUMNS)].copy()
    out["coach_type"] = out["coach_type"].where(
        out["coach_type"].notna() & (out["coach_type"] != "")
    )
    out["year"] = out["year"].astype(int)
    out["value"] = out["value"].astype(float)
    for column in ("unit", "payer", "receiver", "source"):
        out[column] = out[column].where(out[column].notna(), "").astype(str)
    keys = (
        out["key"].astype(str) + "/" + out["coach_type"].fillna("") + "/" + out["year"].astype(str)
    )
    if keys.duplicated().any():
        raise BadInput("parameters", "key", f"given twice: {', '.join(keys[keys.duplicated()])}")
    return out.sort_values(["key", "coach_type", "year"], na_position="first").reset_index(
        drop=True
    )


def parameter(
    params: pd.DataFrame, key: str, *, year: int | None = None, coach_type: str | None = None
) -> float:
    """The value of ``key`` for ``year`` (latest year not after it) and ``coach_type``."""
    rows = params[params["key"] == key]
    if coach_type is not None and (rows["coach_type"] == coach_type).any():
        rows = rows[rows["coach_type"] == coach_type]
    if rows.empty:
        raise BadInput("parameters", "key", f"no parameter {key!r}")
    rows = rows.sort_values("year")
    if year is not None and (rows["year"] <= year).any():
        return float(rows.loc[rows["year"] <= year, "value"].iloc[-1])
    return float(rows["value"].iloc[0] if year is not None else rows["value"].iloc[-1])


def _funder_actor(funder: pd.Series) -> pd.Series:
    return funder.fillna("uwv").astype(str).str.lower().map(FUNDER_ACTOR).fillna("uwv")


def _sick_days(sick_leave: pd.DataFrame, limit: pd.Series) -> pd.Series:
    """Sick days per trajectory within [0, limit)."""
    if sick_leave.empty:
        return pd.Series(0.0, index=limit.index)
    spells = sick_leave.merge(limit.rename("limit"), left_on="trajectory_id", right_index=True)
    end = spells["end_days"].fillna(spells["limit"]).clip(upper=spells["limit"])
    days = (end - spells["start_days"].clip(lower=0)).clip(lower=0)
    return days.groupby(spells["trajectory_id"]).sum().reindex(limit.index, fill_value=0.0)


def outcome_ledger(
    trajectories: pd.DataFrame,
    survival: pd.DataFrame,
    sick_leave: pd.DataFrame,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
) -> pd.DataFrame:
    """Outcomes per trajectory within ``horizon_days`` of its start, and the money they carry.

    Parameters
    ----------
    trajectories : DataFrame
        A ``TRAJECTORIES`` frame (``doelgroepregister`` used when present).
    survival : DataFrame
        A ``SURVIVAL`` frame: duration_days (to job loss or censoring), event.
    sick_leave : DataFrame
        trajectory_id, start_days, end_days (days since the trajectory's start; NaN while sick).
    params : DataFrame
        A parameter table.
    horizon_days : float
        The horizon (e.g. 365.25 for 12 months).
    year : int
        The year whose amounts apply (wages, benefits).

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, benefit, contract_hours, loonwaarde, days_in_work (observed,
        to job loss, censoring or the horizon), followed_to_horizon, sick_days, hours_worked,
        wage_month, production_day (value of a calendar day in work), benefit_payer,
        benefit_avoided_first (per month in the first months, with the disregard),
        benefit_avoided_later (per month after them), benefit_avoided (observed total),
        lks_month, noriskpolis_day (per sick day).
    """
    params = validate_parameters(params)
    if not np.isfinite(horizon_days) or horizon_days <= 0:
        raise BadInput("outcome_ledger", None, "horizon_days must be positive")
    require_columns(trajectories, ["trajectory_id", "jobcoach_id", "contract_hours"], "ledger")
    require_columns(survival, ["trajectory_id", "duration_days", "event"], "ledger")
    require_columns(sick_leave, ["trajectory_id", "start_days", "end_days"], "ledger")
    for column in ("contract_hours", "loonwaarde"):
        if column in trajectories.columns:
            require_numeric(trajectories, column, "outcome_ledger", nonnegative=True)
    p = {k: parameter(params, k, year=year) for k in REQUIRED_KEYS if k != "jobcoach_tariff"}

    t = trajectories.set_index("trajectory_id")
    s = survival.set_index("trajectory_id").reindex(t.index)
    duration = s["duration_days"].astype(float)
    days = duration.clip(upper=horizon_days).fillna(0.0)
    followed = ((s["event"] == 1) | (duration >= horizon_days)).fillna(False)
    sick = _sick_days(sick_leave, days).clip(upper=days)
    hours = t["contract_hours"].astype(float).fillna(0.0)
    benefit = t.get("benefit", pd.Series(None, index=t.index)).fillna("none").astype(str)
    loonwaarde = t.get("loonwaarde", pd.Series(np.nan, index=t.index)).astype(float)

    share = hours / p["full_time_hours"]
    wage = p["wml_month"] * share
    hourly_wml = p["wml_month"] / (p["full_time_hours"] * WEEKS_PER_MONTH)
    lw = (loonwaarde / 100).fillna(1.0)
    production_day = hours / 7 * lw * hourly_wml * (1 + p["employer_cost_share"])

    disregard = np.minimum(p["bijstand_disregard_share"] * wage, p["bijstand_disregard_cap"])
    norm = p["bijstand_norm_single"]
    is_bijstand = benefit == "bijstand"
    is_wajong = benefit == "wajong"
    first = np.where(is_bijstand, np.minimum(norm, (wage - disregard).clip(lower=0)), 0.0)
    later = np.where(is_bijstand, np.minimum(norm, wage), 0.0)
    wajong = p["wajong_share_wml"] * np.minimum(wage, p["wml_month"])
    first = np.where(is_wajong, wajong, first)
    later = np.where(is_wajong, wajong, later)
    months = days / DAYS_PER_MONTH
    k = p["bijstand_disregard_months"]
    avoided = first * np.minimum(months, k) + later * (months - k).clip(lower=0)
    payer = np.where(is_bijstand, "municipality", np.where(is_wajong, "uwv", ""))

    base = p["wml_month"] * (1 + p["holiday_pay"]) * share
    gap = np.where(loonwaarde.isna(), LKS_WITHOUT_ASSESSMENT, 1 - lw)
    lks = np.minimum(base * gap, p["lks_cap"] * base) * (1 + p["employer_cost_share"])
    lks = np.where(is_bijstand, lks, 0.0)
    register = t.get("doelgroepregister", pd.Series(False, index=t.index)).fillna(False)
    covered = register.astype(bool) | benefit.isin(["wajong", "wsw"])
    noriskpolis = np.where(covered, p["noriskpolis_share"] * wage / DAYS_PER_MONTH, 0.0)

    return pd.DataFrame(
        {
            "trajectory_id": t.index.to_numpy(),
            "jobcoach_id": t["jobcoach_id"].to_numpy(),
            "benefit": benefit.to_numpy(),
            "contract_hours": hours.to_numpy(),
            "loonwaarde": loonwaarde.to_numpy(),
            "days_in_work": days.to_numpy(),
            "followed_to_horizon": followed.to_numpy(bool),
            "sick_days": sick.to_numpy(),
            "hours_worked": ((days - sick) / 7 * hours).to_numpy(),
            "wage_month": wage.to_numpy(),
            "production_day": production_day.to_numpy(),
            "benefit_payer": payer,
            "benefit_avoided_first": first,
            "benefit_avoided_later": later,
            "benefit_avoided": np.asarray(avoided, dtype=float),
            "lks_month": lks,
            "noriskpolis_day": noriskpolis,
        }
    )


def cost_ledger(
    trajectories: pd.DataFrame,
    contacts: pd.DataFrame,
    outcomes: pd.DataFrame,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
) -> pd.DataFrame:
    """Costs per trajectory within ``horizon_days`` of its start.

    Parameters
    ----------
    trajectories : DataFrame
        A ``TRAJECTORIES`` frame (start_date, funder, coach_type, contract_hours).
    contacts : DataFrame
        A ``CONTACTS`` frame (trajectory_id, date, minutes).
    outcomes : DataFrame
        From :func:`outcome_ledger` (days_in_work, sick_days and the monthly amounts).
    params : DataFrame
        A parameter table.
    horizon_days, year
        As for :func:`outcome_ledger`.

    Returns
    -------
    DataFrame
        trajectory_id, jobcoach_id, coach_type, coach_payer (the funder's actor), contact_hours,
        external_coach_cost, internal_coach_cost, internal_subsidy (transfer UWV -> employer),
        lks (transfer municipality -> employer), noriskpolis (transfer UWV -> employer).
    """
    params = validate_parameters(params)
    require_columns(trajectories, ["trajectory_id", "start_date", "coach_type"], "cost_ledger")
    require_columns(contacts, ["trajectory_id", "date", "minutes"], "cost_ledger")
    require_numeric(contacts, "minutes", "cost_ledger", nonnegative=True)
    t = trajectories.set_index("trajectory_id")
    o = outcomes.set_index("trajectory_id").reindex(t.index)
    coach_type = t["coach_type"].fillna("external").astype(str)

    c = contacts[["trajectory_id", "date", "minutes"]].merge(
        t[["start_date"]], left_on="trajectory_id", right_index=True
    )
    c = c.reset_index(drop=True)
    offset = (pd.to_datetime(c["date"]) - pd.to_datetime(c["start_date"])).dt.days
    c = c[(offset >= 0) & (offset < horizon_days)]
    c = c.assign(
        year=pd.to_datetime(c["date"]).dt.year,
        coach_type=coach_type.reindex(c["trajectory_id"]).to_numpy(),
        hours=c["minutes"].astype(float) / 60,
    )
    tariffs = {
        (y, kind): parameter(params, "jobcoach_tariff", year=int(y), coach_type="external")
        if kind == "external"
        else parameter(params, "internal_coach_hour_cost", year=int(y), coach_type="internal")
        for y, kind in set(zip(c["year"], c["coach_type"], strict=True))
    }
    rate = pd.Series(
        [tariffs[(y, k)] for y, k in zip(c["year"], c["coach_type"], strict=True)], index=c.index
    )
    money = c["hours"] * rate
    hours = c.groupby("trajectory_id")["hours"].sum().reindex(t.index, fill_value=0.0)
    by_kind = money.groupby([c["trajectory_id"], c["coach_type"]]).sum()
    external = by_kind.xs("external", level=1) if "external" in c["coach_type"].values else None
    internal = by_kind.xs("internal", level=1) if "internal" in c["coach_type"].values else None

    subsidy_year = parameter(params, "internal_coach_subsidy", year=year, coach_type="internal")
    share = (t["contract_hours"].astype(float).fillna(0) / SUBSIDY_FULL_HOURS).clip(upper=1.0)
    days = o["days_in_work"].fillna(0.0)
    subsidy = np.where(coach_type == "internal", subsidy_year * share * days / DAYS_PER_YEAR, 0.0)
    return pd.DataFrame(
        {
            "trajectory_id": t.index.to_numpy(),
            "jobcoach_id": t["jobcoach_id"].to_numpy(),
            "coach_type": coach_type.to_numpy(),
            "coach_payer": _funder_actor(
                t.get("funder", pd.Series(None, index=t.index))
            ).to_numpy(),
            "contact_hours": hours.to_numpy(),
            "external_coach_cost": (
                external.reindex(t.index, fill_value=0.0) if external is not None else 0.0 * hours
            ).to_numpy(),
            "internal_coach_cost": (
                internal.reindex(t.index, fill_value=0.0) if internal is not None else 0.0 * hours
            ).to_numpy(),
            "internal_subsidy": subsidy,
            "lks": (o["lks_month"].fillna(0) * days / DAYS_PER_MONTH).to_numpy(),
            "noriskpolis": (o["noriskpolis_day"].fillna(0) * o["sick_days"].fillna(0)).to_numpy(),
        }
    )


COST_ITEMS: dict[str, tuple[str | None, str | None, bool]] = {
    "external_coach_cost": (None, "jobcoach organisation", False),
    "internal_coach_cost": ("employer", "internal jobcoach", False),
    "internal_subsidy": ("uwv", "employer", True),
    "lks": ("municipality", "employer", True),
    "noriskpolis": ("uwv", "employer", True),
}
"""Cost column -> (payer, receiver, transfer); None means the trajectory's funder."""


def cost_items(costs: pd.DataFrame) -> pd.DataFrame:
    """The cost ledger in long form, each amount with who pays, who receives, and whether it is
    a transfer (it then nets to zero for society).

    Returns
    -------
    DataFrame
        trajectory_id, item, amount, payer, receiver, transfer.
    """
    require_columns(costs, ["trajectory_id", "coach_payer", *COST_ITEMS], "cost_items")
    parts = []
    for item, (payer, receiver, transfer) in COST_ITEMS.items():
        parts.append(
            pd.DataFrame(
                {
                    "trajectory_id": costs["trajectory_id"],
                    "item": item,
                    "amount": costs[item].astype(float),
                    "payer": costs["coach_payer"] if payer is None else payer,
                    "receiver": receiver,
                    "transfer": transfer,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
