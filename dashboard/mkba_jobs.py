"""The MKBA page's computation, run like the other analyses by :mod:`dashboard.jobs`.

:func:`mkba_job` opens its own read session, builds the frames of the scope, reads the study's
cost parameters (the newest stored version, else the shipped defaults) and calls
:func:`analysis.cost_benefit.cost_benefit`. Its parameters (horizon, comparison) are part of the
job key, and a change of the cost parameters writes an audit event, which changes the data
version, so a cached result never outlives the parameters it was computed with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from analysis.cost_benefit import cost_benefit
from analysis.costs import default_parameters
from analysis.report import data_snapshot_hash
from dashboard.jobs import Progress
from dashboard.mkba_views import comparison_from
from study.cost_read_models import cost_parameters_frame, registers_frame, sick_leave_frame
from study.report_data import analysis_frames

__all__ = ["HORIZONS", "mkba_job", "study_parameters"]

HORIZONS = {6: 6 * 30.4375, 12: 12 * 30.4375}
"""Horizon in months -> days."""


def study_parameters(session: Session, study_id: int) -> tuple[pd.DataFrame, int]:
    """The study's newest cost parameters and their version; the shipped defaults (version 0)
    when none are stored."""
    stored, version = cost_parameters_frame(session, study_id)
    return (stored if stored is not None else default_parameters()), version


def mkba_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int,
    study_id: int,
    horizon_months: int = 12,
    comparison: Mapping[str, Any] | None = None,
    replicates: int = 1000,
    dose_replicates: int = 200,
) -> Callable[[Progress], dict[str, Any]]:
    """Costs, outcomes, the balance against ``comparison`` and the dose and klik contrasts.

    ``min_cell`` is not used: viewers' rules are applied when rendering.

    Result keys: ``analysis`` (:class:`analysis.cost_benefit.CostBenefit`), ``parameters``
    (the table used), ``parameter_version``, ``n``, ``snapshot``.
    """
    horizon = HORIZONS[int(horizon_months)]

    def run(progress: Progress) -> dict[str, Any]:
        progress(0.05, "frames")
        with read_sessions() as session:
            frames = analysis_frames(session, scope, as_of=as_of, include_items=False)
            sick = sick_leave_frame(session, scope, as_of=as_of)
            registers = registers_frame(session, scope)
            params, version = study_parameters(session, study_id)
        trajectories = frames["trajectories"].merge(registers, on="trajectory_id", how="left")
        chosen = comparison_from(comparison) if comparison else None
        result = cost_benefit(
            trajectories,
            frames["survival"],
            frames["contacts"],
            sick,
            params,
            horizon_days=horizon,
            year=as_of.year,
            comparison=chosen,
            replicates=replicates,
            dose_replicates=dose_replicates,
            progress=lambda f, m: progress(0.1 + 0.9 * f, m),
        )
        return {
            "analysis": result,
            "parameters": params,
            "parameter_version": version,
            "n": result.n,
            "snapshot": data_snapshot_hash(
                {
                    "survival": frames["survival"],
                    "contacts": frames["contacts"],
                    "sick": sick,
                    "parameters": params,
                }
            ),
        }

    return run
