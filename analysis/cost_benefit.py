"""The study's cost–benefit analysis, defined once for the dashboard page, the HTML report and
notebooks: ledgers, costs and outcomes, and, only once a null alternative is chosen, the MKBA.

:func:`cost_benefit` takes the study's frames and a parameter table and returns a
:class:`CostBenefit`. Without a comparison it holds costs and outcomes only, with the reason
(:data:`NO_COMPARISON`); the dose and klik contrasts are computed either way (they compare
within the coached cohort and say so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import costs as ledgers
from analysis import dose, mkba
from analysis.minimum_data import Shortfall, TooLittleData
from analysis.validation import BadInput

__all__ = ["ARM_METHOD", "NO_COMPARISON", "CostBenefit", "cost_benefit", "summary_table"]

ARM_METHOD = "none"
"""Trajectories with this coaching method form the comparison arm in the study."""

NO_COMPARISON = {
    "nl": "Deze studie volgt alleen werknemers met jobcoaching: er is geen groep zonder "
    "coaching. Een saldo van kosten en baten vraagt een nulalternatief. Kies waarmee u "
    "vergelijkt (een externe benchmarkcurve met bron, een vergelijkingsgroep in de studie of "
    "een benoemd wat-als-scenario); tot dan ziet u alleen de kosten en de uitkomsten.",
    "en": "This study follows coached employees only: there is no group without coaching. A "
    "balance of costs and benefits needs a null alternative. Choose what to compare with (an "
    "external benchmark curve with its source, a comparison arm in the study or a labelled "
    "what-if scenario); until then you see costs and outcomes only.",
}

SCENARIO_NOTE = {
    "nl": "Wat-als-scenario, geen meting: de gewonnen dagen zijn aangenomen.",
    "en": "What-if scenario, not a measurement: the days gained are assumed.",
}

NO_ARM = {
    "nl": "Er is geen vergelijkingsgroep: geen trajecten met methode 'geen' in deze selectie.",
    "en": "There is no comparison arm: no trajectories with method 'none' in this selection.",
}


@dataclass(frozen=True)
class CostBenefit:
    """Everything the page and the report show.

    Attributes
    ----------
    outcomes, costs : DataFrame
        The project group's ledgers (:func:`analysis.costs.outcome_ledger`, ``cost_ledger``).
    summary : DataFrame
        :func:`summary_table` of the project group.
    result : analysis.mkba.Mkba or None
        The balance, when a comparison was chosen and possible.
    tornado, intervals : DataFrame or None
        Sensitivity and bootstrap intervals of the balance.
    reason : dict or None
        Why there is no balance (per language).
    dose : DataFrame or None
        :func:`analysis.dose.dose_contrasts`, or None with ``dose_refused`` / ``dose_error``.
    n, arm_n : int
        Trajectories in the project group and in the comparison arm.
    """

    outcomes: pd.DataFrame
    costs: pd.DataFrame
    summary: pd.DataFrame
    result: mkba.Mkba | None
    tornado: pd.DataFrame | None
    intervals: pd.DataFrame | None
    reason: Mapping[str, str] | None
    dose: pd.DataFrame | None
    dose_refused: Shortfall | None
    dose_error: str | None
    n: int
    arm_n: int
    horizon_days: float


def summary_table(
    outcomes: pd.DataFrame, costs: pd.DataFrame, survival: pd.DataFrame
) -> pd.DataFrame:
    """Costs and outcomes of a group (means per trajectory; RMST with its 95% interval).

    Returns
    -------
    DataFrame
        measure, value, lower, upper.
    """
    from analysis.rmst import rmst

    rows: list[tuple[str, float, float, float]] = [
        ("n", float(len(outcomes)), float("nan"), float("nan"))
    ]
    if len(survival):
        for months in (6, 12):
            r = rmst(survival, "duration_days", "event", months * ledgers.DAYS_PER_MONTH).iloc[0]
            rows.append((f"rmst_{months}", r["estimate"], r["lower"], r["upper"]))
    nan = float("nan")
    for column in ("days_in_work", "hours_worked", "sick_days"):
        rows.append((column, float(outcomes[column].mean()) if len(outcomes) else nan, nan, nan))
    later = outcomes["benefit_avoided_later"].mean() if len(outcomes) else nan
    rows.append(("benefit_avoided_month", float(later), nan, nan))
    for column in ("contact_hours", "external_coach_cost", "internal_coach_cost",
                   "internal_subsidy", "lks", "noriskpolis"):  # fmt: skip
        rows.append((column, float(costs[column].mean()) if len(costs) else nan, nan, nan))
    return pd.DataFrame(rows, columns=["measure", "value", "lower", "upper"])


def _group(
    trajectories: pd.DataFrame,
    survival: pd.DataFrame,
    contacts: pd.DataFrame,
    sick_leave: pd.DataFrame,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
) -> mkba.MkbaInputs:
    ids = set(trajectories["trajectory_id"])
    surv = survival[survival["trajectory_id"].isin(ids)]
    traj = trajectories[trajectories["trajectory_id"].isin(set(surv["trajectory_id"]))]
    outcomes = ledgers.outcome_ledger(
        traj, surv, sick_leave, params, horizon_days=horizon_days, year=year
    )
    costs = ledgers.cost_ledger(
        traj, contacts, outcomes, params, horizon_days=horizon_days, year=year
    )
    return mkba.MkbaInputs(outcomes, costs, surv[["trajectory_id", "duration_days", "event"]])


def cost_benefit(
    trajectories: pd.DataFrame,
    survival: pd.DataFrame,
    contacts: pd.DataFrame,
    sick_leave: pd.DataFrame,
    params: pd.DataFrame,
    *,
    horizon_days: float,
    year: int,
    comparison: mkba.Comparison | None = None,
    replicates: int = 2000,
    dose_replicates: int = 200,
    progress: Callable[[float, str], Any] | None = None,
) -> CostBenefit:
    """Ledgers, costs and outcomes, the balance against ``comparison`` (if any) and the dose
    and klik contrasts, of the trajectories in the frames (module docstring)."""
    step = progress or (lambda _f, _m: None)
    params = ledgers.validate_parameters(params)
    arm_mask = trajectories["method"].eq(ARM_METHOD) if "method" in trajectories else None
    use_arm = comparison is not None and comparison.kind == "arm"
    project_traj = trajectories[~arm_mask] if use_arm and arm_mask is not None else trajectories
    kwargs = {"horizon_days": horizon_days, "year": year}
    step(0.1, "ledgers")
    project = _group(project_traj, survival, contacts, sick_leave, params, **kwargs)
    arm = None
    arm_n = 0
    if use_arm and arm_mask is not None and arm_mask.any():
        arm = _group(trajectories[arm_mask], survival, contacts, sick_leave, params, **kwargs)
        arm_n = len(arm.outcomes)
    summary = summary_table(project.outcomes, project.costs, project.survival)
    result = tornado = intervals = None
    reason: Mapping[str, str] | None = None
    if comparison is None:
        reason = NO_COMPARISON
    elif use_arm and arm is None:
        reason = NO_ARM
    elif project.outcomes.empty:
        reason = {
            "nl": "Geen trajecten in deze selectie.",
            "en": "No trajectories in this selection.",
        }
    else:
        step(0.2, "mkba")
        result = mkba.mkba(project, comparison, params, arm=arm, **kwargs)
        tornado = mkba.tornado(result)
        step(0.3, "bootstrap")
        intervals = mkba.bootstrap(
            project, comparison, params, arm=arm, replicates=replicates,
            progress=lambda f: step(0.3 + 0.4 * f, "bootstrap"), **kwargs,
        )  # fmt: skip
    step(0.7, "dose")
    dose_table = refused = error = None
    frame = survival.merge(
        trajectories[["trajectory_id", "contract_hours"]], on="trajectory_id", how="left"
    ) if "contract_hours" not in survival.columns else survival  # fmt: skip
    try:
        dose_table = dose.dose_contrasts(
            frame, tau=horizon_days, replicates=dose_replicates,
            progress=lambda f: step(0.7 + 0.3 * f, "dose"),
        )  # fmt: skip
    except TooLittleData as exc:
        refused = exc.shortfall
    except BadInput as exc:
        error = str(exc)
    return CostBenefit(
        outcomes=project.outcomes,
        costs=project.costs,
        summary=summary,
        result=result,
        tornado=tornado,
        intervals=intervals,
        reason=reason,
        dose=dose_table,
        dose_refused=refused,
        dose_error=error,
        n=len(project.outcomes),
        arm_n=arm_n,
        horizon_days=horizon_days,
    )
