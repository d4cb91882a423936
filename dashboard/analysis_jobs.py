"""The computations behind the analysis pages, run by :mod:`dashboard.jobs` in the background.

Each ``*_job`` function returns the callable a :class:`dashboard.jobs.JobRunner` runs: it opens
its own read session, builds the frames of the given scope (a SELECT of trajectory ids that
:func:`study.access.visible_trajectories` made for the user) and computes everything the page
shows for every choice on it (e.g. all stratifications), unsuppressed; the page applies the
viewer's disclosure rules when it renders. Results carry n and the data snapshot hash.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from analysis import study_models as models
from analysis.minimum_data import Shortfall, TooLittleData
from analysis.report import data_snapshot_hash
from analysis.validation import BadInput
from dashboard import analysis_views as views
from dashboard.jobs import JobKey, Progress
from dashboard.monitor_views import audit_tables, monitor_release, read_monitor_frames
from study.models import Study
from study.read_models import survival_frame
from study.report_data import analysis_frames, data_version

#: individual lines drawn at most (a random but fixed sample beyond this)
MAX_LINES = 300


def scope_fingerprint(scope: Select[tuple[int]]) -> str:
    """A stable text identifying a scope: the SQL with its values inlined, hashed."""
    sql = str(scope.compile(compile_kwargs={"literal_binds": True}))
    return hashlib.sha256(sql.encode()).hexdigest()[:24]


def job_key(
    session: Session,
    study_id: int,
    scope: Select[tuple[int]],
    as_of: dt.date,
    analysis: str,
    **params: Any,
) -> JobKey:
    """The cache key of ``analysis`` on ``scope``: data version, day, Klik's own version (a
    result cached by an earlier release is computed again after an upgrade), scope and
    parameters."""
    version = f"{data_version(session, study_id)}@{as_of.isoformat()}@{klik_version()}"
    return JobKey.make(version, scope_fingerprint(scope), analysis, **params)


@functools.cache
def klik_version() -> str:
    """The installed Klik's version ("unknown" when run from a tree that is not installed)."""
    try:
        return importlib.metadata.version("klik")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def min_cell_size(session: Session, study_id: int) -> int:
    """The study's minimum cell size for viewers."""
    return int(session.scalar(select(Study.min_cell_size).where(Study.id == study_id)) or 10)


def _frames(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    include_items: bool = False,
) -> dict[str, pd.DataFrame]:
    with read_sessions() as session:
        return analysis_frames(session, scope, as_of=as_of, include_items=include_items)


def survival_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int,
    languages: tuple[str, ...] = ("nl", "en"),
) -> Callable[[Progress], dict[str, Any]]:
    """Kaplan–Meier per stratification, Cox, time-varying Cox.

    Result keys: ``views`` {(by, language, True): SurvivalView} (a viewer's curves come from
    :func:`viewer_survival_job`), ``cox`` and ``tv``
    (:class:`analysis.study_models.CoxModel` or None, with ``cox_error``/``tv_error`` texts when fitting failed and
    ``cox_refused``/``tv_refused`` Shortfalls when there was too little data), ``n``,
    ``events``, ``snapshot``, ``timings`` (seconds per step).
    """

    def run(progress: Progress) -> dict[str, Any]:
        timings: dict[str, float] = {}
        clock = _Stopwatch(timings)
        progress(0.05, "frames")
        frames = _frames(read_sessions, scope, as_of)
        clock.lap("frames")
        surv = frames["survival"]
        result: dict[str, Any] = {
            "n": len(surv),
            "events": int(surv["event"].sum()) if len(surv) else 0,
            "snapshot": data_snapshot_hash(
                {k: frames[k] for k in ("survival", "counting_process")}
            ),
            "views": {},
            "timings": timings,
        }
        combos = [(b, lang) for b in models.STRATA for lang in languages]
        for i, (by, language) in enumerate(combos):
            progress(0.1 + 0.4 * i / len(combos), "kaplan_meier")
            result["views"][(by, language, True)] = views.survival_view(surv, by, language=language)
        clock.lap("kaplan_meier")
        progress(0.5, "cox")
        result["cox"], result["cox_error"], result["cox_refused"] = _attempt(
            lambda: models.job_loss_cox(surv)
        )
        clock.lap("cox")
        progress(0.75, "cox_time_varying")
        counting = frames["counting_process"]
        result["tv"], result["tv_error"], result["tv_refused"] = _attempt(
            lambda: models.time_varying_cox(counting)
        )
        result["tv_n"] = int(counting["trajectory_id"].nunique()) if len(counting) else 0
        clock.lap("cox_time_varying")
        return result

    return run


def viewer_survival_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int,
    languages: tuple[str, ...] = ("nl", "en"),
) -> Callable[[Progress], dict[str, Any]]:
    """A viewer's Kaplan–Meier curves: the survival release of the whole study, made beside
    the monitor's release of the same read and solved together with it (see
    :func:`dashboard.analysis_views.viewer_survival_release`).

    Result keys: ``views`` {(by, language): SurvivalView}, ``snapshot``.
    """

    def run(progress: Progress) -> dict[str, Any]:
        trajectories, person_wave = read_monitor_frames(read_sessions, scope, as_of, progress)
        frame = survival_frame(trajectories, as_of=as_of)
        progress(0.5, "monitor")
        monitor = audit_tables(monitor_release(trajectories, person_wave, k=min_cell))
        result: dict[str, Any] = {
            "views": {},
            "snapshot": data_snapshot_hash({"survival": frame, "person_wave": person_wave}),
        }
        # the checks against the monitor run once; the other languages only rename the strata
        first = views.viewer_survival_release(
            frame, language=languages[0], min_cell=min_cell, monitor=monitor,
            absent=len(trajectories) - len(frame),
        )  # fmt: skip
        for i, language in enumerate(languages):
            progress(0.6 + 0.4 * i / len(languages), "kaplan_meier")
            release = views.translated_release(first, frame, source=languages[0], language=language)
            for by in models.STRATA:
                result["views"][(by, language)] = views.survival_view(
                    frame, by, language=language, rows_allowed=False, release=release
                )
        return result

    return run


def trajectories_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int = 10,
) -> Callable[[Progress], dict[str, Any]]:
    """Capability counts per wave (published early as ``partial``), then the mixed model.

    ``min_cell`` is not used: viewers' suppression happens when rendering.

    Result keys: ``long`` (:func:`analysis.study_models.capability_long`), ``lines`` (the trajectories drawn
    individually, at most :data:`MAX_LINES`), ``n``, ``snapshot``, ``mixed`` (EmployabilityModel or
    None), ``mixed_error``, ``mixed_refused`` (a Shortfall when there was too little data),
    ``predicted`` (model-estimated trajectories or None),
    ``mixed_n_obs``, ``timings``.
    """

    def run(progress: Progress) -> dict[str, Any]:
        timings: dict[str, float] = {}
        clock = _Stopwatch(timings)
        progress(0.05, "frames")
        frames = _frames(read_sessions, scope, as_of)
        clock.lap("frames")
        long = models.capability_long(frames["person_wave"])
        ids = pd.Series(long["trajectory_id"].unique())
        lines = set(ids.sample(min(MAX_LINES, len(ids)), random_state=1)) if len(ids) else set()
        result: dict[str, Any] = {
            "long": long,
            "lines": lines,
            "n": int(long["trajectory_id"].nunique()),
            "snapshot": data_snapshot_hash({k: frames[k] for k in ("trajectories", "person_wave")}),
            "timings": timings,
            "mixed": None,
            "predicted": None,
        }
        progress(0.2, "mixed_model", partial=dict(result))
        result["mixed"], result["mixed_error"], result["mixed_refused"] = _attempt(
            lambda: models.employability_model(
                models.employability_frame(frames["person_wave"], frames["trajectories"])
            )
        )
        clock.lap("mixed_model")
        model = result["mixed"]
        result["mixed_n_obs"] = len(model.frame) if model is not None else 0
        if result["mixed"] is not None:
            progress(0.9, "predictions")
            result["predicted"] = {
                language: result["mixed"].predicted(language=language) for language in ("nl", "en")
            }
        return result

    return run


def quality_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int = 10,
) -> Callable[[Progress], dict[str, Any]]:
    """Alpha per scale and wave, missingness per item, timeliness per wave and role
    (``min_cell`` is not used: viewers' suppression happens when rendering).

    Result keys: ``alpha``, ``missing``, ``timeliness`` (unsuppressed tables, see
    :mod:`dashboard.analysis_views`), ``names`` (per language, instrument and scale ids in
    words), ``responses``, ``snapshot``, ``timings``.
    """

    def run(progress: Progress) -> dict[str, Any]:
        from questionnaires.registry import load_instruments, names_of, scales_of

        timings: dict[str, float] = {}
        clock = _Stopwatch(timings)
        progress(0.05, "frames")
        instruments = load_instruments()
        frames = _frames(read_sessions, scope, as_of, include_items=True)
        clock.lap("frames")
        items = frames["response_items"]
        progress(0.5, "alpha")
        alpha = views.alpha_table(items, scales_of(instruments))
        clock.lap("alpha")
        expected = {i: [it.id for it in inst.answerable_items] for i, inst in instruments.items()}
        missing = views.missingness_table(items, expected)
        timeliness = views.timeliness_table(frames["person_wave"])
        clock.lap("tables")
        return {
            "alpha": alpha,
            "missing": missing,
            "timeliness": timeliness,
            "names": {language: names_of(instruments, language) for language in ("nl", "en")},
            "responses": int(items["response_id"].nunique()) if len(items) else 0,
            "snapshot": data_snapshot_hash(
                {k: frames[k] for k in ("response_items", "person_wave")}
            ),
            "timings": timings,
        }

    return run


def _attempt(make: Callable[[], Any]) -> tuple[Any, str | None, Shortfall | None]:
    """Run one model: its result, or why there is none (a failure's text, or the shortfall of
    a model refused on too little data) instead of failing the whole page."""
    try:
        return make(), None, None
    except TooLittleData as exc:
        return None, None, exc.shortfall
    except BadInput as exc:
        return None, str(exc), None
    except Exception as exc:  # lifelines and statsmodels raise their own convergence errors
        return None, f"{type(exc).__name__}: {exc}", None


class _Stopwatch:
    def __init__(self, into: dict[str, float]) -> None:
        import time

        self._time = time.perf_counter
        self._into = into
        self._last = self._time()

    def lap(self, name: str) -> None:
        now = self._time()
        self._into[name] = now - self._last
        self._last = now
