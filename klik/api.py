"""A Python API for notebooks: the study's analysis frames in one call.

Example
-------
>>> from klik.api import load_frames                      # doctest: +SKIP
>>> frames = load_frames("sqlite:///klik.db")              # doctest: +SKIP
>>> frames["survival"].groupby("coach_type")["event"].mean()  # doctest: +SKIP

The frames follow the contracts in :mod:`analysis.frames`, so every function of ``analysis``
takes them directly (e.g. ``analysis.survival.kaplan_meier(frames["survival"], "duration_days",
"event", by="method")``). :func:`study_models` fits the study's own models, those of
:mod:`analysis.study_models` that the dashboard and ``klik analyse`` show:

>>> fits = study_models(frames)                            # doctest: +SKIP
>>> fits["job_loss_cox"].summary("en")                      # doctest: +SKIP

:func:`load_signals` gives the jobcoach signals as the workspace and the signal page compute
them (:mod:`analysis.signals`, :mod:`analysis.signal_quality`):

>>> found = load_signals("sqlite:///klik.db")              # doctest: +SKIP
>>> found["quality"][["signal", "ppv", "sensitivity"]]     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from study.access import trajectory_scope
from study.clock import local_date
from study.models import Study
from study.report_data import analysis_frames

__all__ = ["load_frames", "load_signals", "resolve_study", "study_models"]


def resolve_study(session: Session, study: str | None) -> Study:
    """The study with code ``study``, or the only study when ``study`` is None.

    Raises
    ------
    LookupError
        When there is no such study, no study at all, or several and none was named.
    """
    if study is not None:
        found = session.scalar(select(Study).where(Study.code == study))
        if found is None:
            raise LookupError(f"no study with code {study!r}")
        return found
    studies = session.scalars(select(Study).order_by(Study.id)).all()
    if not studies:
        raise LookupError("the database holds no study")
    if len(studies) > 1:
        codes = ", ".join(s.code for s in studies)
        raise LookupError(f"the database holds several studies ({codes}); name one")
    return studies[0]


def load_frames(
    database_url: str | None = None,
    *,
    study: str | None = None,
    as_of: dt.date | None = None,
    jobcoach_id: int | None = None,
    include_items: bool = True,
) -> dict[str, pd.DataFrame]:
    """Every analysis frame of a study, as a researcher sees it.

    Parameters
    ----------
    database_url : str, optional
        Database URL; ``KLIK_DATABASE_URL`` (or ``sqlite:///klik.db``) when omitted.
    study : str, optional
        Study code; may be omitted when the database holds one study.
    as_of : date, optional
        The day to look at the data (default: today in Europe/Amsterdam).
    jobcoach_id : int, optional
        Only this jobcoach's trajectories.
    include_items : bool
        Also load the item answers (``response_items``).

    Returns
    -------
    dict of str to DataFrame
        ``trajectories``, ``survival``, ``person_wave``, ``contacts``, ``counting_process`` and
        ``response_items``; columns as in :mod:`analysis.frames` (see
        :func:`study.report_data.analysis_frames`).
    """
    from klik.settings import Settings
    from klik.wiring import build

    container = build(Settings.from_env(database_url=database_url))
    try:
        day = as_of or local_date(container.clock.now())
        with container.read_sessions() as session:
            chosen = resolve_study(session, study)
            scope = trajectory_scope(chosen.id, jobcoach_id=jobcoach_id)
            return analysis_frames(session, scope, as_of=day, include_items=include_items)
    finally:
        container.dispose()


def study_models(
    frames: dict[str, pd.DataFrame],
    scales: dict[str, dict[str, list[str]]] | None = None,
) -> dict[str, object]:
    """The study's models on frames from :func:`load_frames`, as the dashboard fits them.

    Parameters
    ----------
    frames : dict of str to DataFrame
        From :func:`load_frames`.
    scales : dict, optional
        Instrument id -> scale id -> item ids for reliability; the built-in instruments'
        scales when omitted.

    Returns
    -------
    dict
        ``job_loss_cox`` and ``time_varying_cox`` (:class:`analysis.study_models.CoxModel`),
        ``employability`` (:class:`analysis.study_models.EmployabilityModel`), ``reliability``
        (DataFrame), ``attrition`` (:class:`analysis.study_models.Attrition`). A model that
        cannot be estimated holds the ``ValueError`` that says why (``TooLittleData`` below the
        minimum data, ``BadInput`` for frames it cannot use).
    """
    from analysis import study_models as models

    if scales is None:
        from questionnaires.registry import load_instruments, scales_of

        scales = scales_of(load_instruments())
    steps = {
        "job_loss_cox": lambda: models.job_loss_cox(frames["survival"]),
        "time_varying_cox": lambda: models.time_varying_cox(frames["counting_process"]),
        "employability": lambda: models.employability_model(
            models.employability_frame(frames["person_wave"], frames["trajectories"])
        ),
        "reliability": lambda: models.reliability(frames["response_items"], scales),
        "attrition": lambda: models.attrition(frames["person_wave"]),
    }
    out: dict[str, object] = {}
    for name, fit in steps.items():
        try:
            out[name] = fit()
        except ValueError as exc:
            out[name] = exc
    return out


def load_signals(
    database_url: str | None = None,
    *,
    study: str | None = None,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
) -> dict[str, pd.DataFrame]:
    """The jobcoach signals of a study, from the same functions as the workspace and the
    signal page.

    Returns
    -------
    dict of str to DataFrame
        ``signals`` (every firing up to ``as_of``: trajectory_id, signal, level, rule, values,
        fired_on, wave, current), ``caseload`` (trajectory_id, light, n_red, n_amber, n_seen,
        measurements, oldest), ``acknowledgements`` (trajectory_id, signal, rule, level,
        fired_on, seen_at, seen_by, action, note), ``follow_up`` (per signal: firings,
        clients, seen, seen_share, days_to_seen_median, with_action) and ``quality`` (per
        signal: firings, firings_known, true_positives, ppv, job_losses, detected,
        sensitivity, lead_days_median for job loss within ``horizon_days``).
    """
    from analysis.signal_quality import follow_up, signal_quality
    from analysis.signals import caseload
    from klik.settings import Settings
    from klik.wiring import build
    from study.signal_data import study_signals

    container = build(Settings.from_env(database_url=database_url))
    try:
        day = as_of or local_date(container.clock.now())
        with container.read_sessions() as session:
            chosen = resolve_study(session, study)
            history = study_signals(session, chosen.id, as_of=day)
    finally:
        container.dispose()
    trajectories = history.trajectories
    ended = trajectories.loc[trajectories["end_date"].notna(), "trajectory_id"]
    return {
        "signals": history.signals,
        "caseload": caseload(
            trajectories["trajectory_id"],
            history.signals,
            history.person_wave,
            seen=history.seen,
            ended=ended,
        ),
        "acknowledgements": history.seen,
        "follow_up": follow_up(history.signals, history.seen),
        "quality": signal_quality(
            history.signals, trajectories, as_of=day, horizon_days=horizon_days
        ),
    }
