"""What the three analysis pages share: filters, the job round trip, tables and notes.

A page callback is glue: :func:`run_analysis` checks the user, builds the user's scope through
:func:`dashboard.context.scope` (which asks :func:`study.access.visible_trajectories`), submits
the analysis to the job runner and returns its status; the page renders the result or a progress
line and keeps its ``dcc.Interval`` polling until the job is done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dash import callback_context, dash_table, dcc, html

from analysis.presentation import display_table
from dashboard import context
from dashboard.analysis_jobs import job_key, min_cell_size
from dashboard.disclosure import viewer_count
from dashboard.i18n import options
from dashboard.jobs import DONE, FAILED, Deferred, JobStatus, get_runner
from study.access import CohortFilter, may_see_rows
from study.models import User
from study.vocab import CoachType, Method, Role

#: how long a callback waits for a quick job before answering "computing" (seconds)
QUICK_WAIT = 0.4
POLL_MS = 800

TEXT = {
    "computing": {"nl": "Bezig met berekenen", "en": "Computing"},
    "failed": {"nl": "De berekening is mislukt", "en": "The computation failed"},
    "release_month": {
        "nl": "Cijfers tot en met {day}. Kijkers zien de studie zoals die aan het eind van een "
        "hele maand was; de cijfers worden maandelijks bijgewerkt.",
        "en": "Figures up to and including {day}. Viewers see the study as it stood at the end "
        "of a whole month; the figures are updated monthly.",
    },
    "release_week": {
        "nl": "Cijfers tot en met {day}. Kijkers zien de studie zoals die op de laatste zondag "
        "was; de cijfers worden wekelijks bijgewerkt.",
        "en": "Figures up to and including {day}. Viewers see the study as it stood last "
        "Sunday; the figures are updated weekly.",
    },
    "release_day": {
        "nl": "Cijfers tot en met vandaag, {day}.",
        "en": "Figures up to and including today, {day}.",
    },
    "stopped": {
        "nl": "De berekening is gestopt: ze duurde langer dan de grens van {limit} seconden. "
        "Kies een kleinere selectie of vraag de beheerder de grens te verhogen.",
        "en": "The computation was stopped: it took longer than its limit of {limit} seconds. "
        "Choose a smaller selection or ask the administrator to raise the limit.",
    },
    "snapshot": {"nl": "gegevens", "en": "data"},
    "computed_in": {"nl": "berekend in", "en": "computed in"},
    "cached": {"nl": "uit de cache", "en": "from the cache"},
    "too_few": {
        "nl": "Te weinig gegevens om dit te tonen.",
        "en": "Too little data to show this.",
    },
    "coach_type": {"nl": "Jobcoach", "en": "Jobcoach"},
    "method": {"nl": "Methode", "en": "Method"},
    "all": {"nl": "alle", "en": "all"},
    "whole_study": {
        "nl": "Als kijker ziet u de analyses over de hele studie; selecties die van elkaar af te "
        "trekken zijn, worden niet berekend.",
        "en": "As a viewer you see the analyses of the whole study; selections that could be "
        "subtracted from one another are not computed.",
    },
    "viewer_note": {
        "nl": "U ziet alleen totalen; groepen van minder dan {n} personen zijn weggelaten.",
        "en": "You see aggregates only; groups of fewer than {n} people are left out.",
    },
}

STEPS = {
    "frames": {"nl": "gegevens ophalen", "en": "loading data"},
    "kaplan_meier": {"nl": "Kaplan–Meier-curves", "en": "Kaplan–Meier curves"},
    "cox": {"nl": "Cox-model", "en": "Cox model"},
    "cox_time_varying": {
        "nl": "Cox-model met tijdsafhankelijke covariaten",
        "en": "time-varying Cox",
    },
    "mixed_model": {"nl": "mixed model schatten", "en": "fitting the mixed model"},
    "predictions": {"nl": "modelvoorspellingen", "en": "model predictions"},
    "alpha": {"nl": "betrouwbaarheid", "en": "reliability"},
    "trajectories": {"nl": "trajecten ophalen", "en": "loading trajectories"},
    "invitations": {"nl": "vragenlijsten ophalen", "en": "loading forms"},
    "counting": {"nl": "tellen", "en": "counting"},
    "writing": {"nl": "bestand schrijven", "en": "writing the file"},
}


def tx(key: str, language: str, **fmt: Any) -> str:
    text = TEXT[key].get(language, TEXT[key]["nl"])
    return text.format(**fmt) if fmt else text


def parse_filters(coach_types: Any, methods: Any) -> CohortFilter:
    """A CohortFilter from callback inputs, keeping only known values (inputs are untrusted)."""
    known_types = {m.value for m in CoachType}
    known_methods = {m.value for m in Method}
    return CohortFilter(
        coach_types=tuple(sorted(v for v in _as_list(coach_types) if v in known_types)),
        methods=tuple(sorted(v for v in _as_list(methods) if v in known_methods)),
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str)]
    return []


@dataclass
class Outcome:
    """A job's status for the current user, with what rendering needs."""

    user: User
    language: str
    rows_allowed: bool
    min_cell: int
    status: JobStatus


def run_analysis(
    analysis: str,
    make_job: Callable[..., Callable],
    filters: CohortFilter,
    roles: Sequence[Role],
    *,
    follow: bool | None = None,
    **params: Any,
) -> Outcome:
    """Check the user, build their scope, submit ``analysis`` and wait briefly for it.

    ``make_job(read_sessions, scope, as_of, min_cell=)`` builds the job. A page's poll
    (``follow``; by default: the callback was triggered by an interval) follows the newest job of
    this selection even when the data changed since it started: in a busy study every poll
    would otherwise start the computation again and never see it finish.
    """
    user = context.page_user(*roles)
    language = context.lang()
    if not may_see_rows(user):
        # a viewer's computations are always over the whole study: a selection that could be
        # subtracted from another is never computed (see dashboard.disclosure)
        filters = CohortFilter()
    scope, as_of = context.released(user, context.scope(filters))
    container = context.container()
    with context.read_session() as session:
        key = job_key(session, user.study_id, scope, as_of, analysis, **params)
        min_cell = min_cell_size(session, user.study_id)
    runner = get_runner()
    followed = runner.latest(key) if (polled() if follow is None else follow) else None
    if followed is not None:
        status = followed
        key = status.key
    else:
        # a Deferred runs here as the job, or goes to a worker of the shared queue as data
        job = Deferred(make_job, container.read_sessions, scope, as_of, min_cell=min_cell)
        status = runner.submit(key, job)
    if not status.done:
        status = runner.wait(key, QUICK_WAIT) or status
    return Outcome(user, language, may_see_rows(user), min_cell, status)


def release_note(user: User, language: str) -> html.P | None:
    """For a viewer: which day the figures show and how often they move on."""
    if may_see_rows(user):
        return None
    day = context.as_of(user)
    cadence = context.container().settings.viewer_release
    shown = day.strftime("%d-%m-%Y") if language == "nl" else day.isoformat()
    return html.P(tx(f"release_{cadence}", language, day=shown), className="klik-footnote")


def polled() -> bool:
    """Whether this callback was triggered by a page's polling interval."""
    try:
        triggered = callback_context.triggered
    except Exception:  # outside a Dash callback
        return False
    return bool(triggered) and all(
        str(t.get("prop_id", "")).endswith(".n_intervals") for t in triggered
    )


def progress_line(status: JobStatus, language: str) -> html.Div:
    """A progress bar and the current step, or the failure."""
    if status.state == FAILED and status.stopped:
        return html.Div(
            tx("stopped", language, limit=f"{status.stopped:g}"),
            className="klik-alert",
            role="alert",
        )
    if status.state == FAILED:
        return html.Div(
            f"{tx('failed', language)}: {status.error}", className="klik-alert", role="alert"
        )
    step = STEPS.get(status.message, {}).get(language, status.message)
    pct = round(100 * status.progress)
    return html.Div(
        [
            html.Span(f"{tx('computing', language)}… {step} ({pct}%)"),
            html.Progress(value=str(pct), max="100", className="klik-progress"),
        ],
        className="klik-job-progress",
        role="status",
    )


def how_obtained(status: JobStatus, language: str) -> str:
    """ "from the cache" or "computed in 1.2 s"."""
    if status.cached or status.seconds is None:
        return tx("cached", language)
    return f"{tx('computed_in', language)} {status.seconds:.1f} s"


def footnote(
    result: dict[str, Any], status: JobStatus, language: str, n: int, *, min_cell: int = 0
) -> html.P:
    """n, the data snapshot and how the result was obtained; for a viewer (``min_cell``) n is
    rounded and the timing left out (how fast says something about what was asked before)."""
    snapshot = f"{tx('snapshot', language)} {result.get('snapshot', '')[:12]}"
    if min_cell:
        return html.P(f"n = {viewer_count(n, min_cell)} · {snapshot}", className="klik-footnote")
    how = how_obtained(status, language)
    return html.P(f"n = {n} · {snapshot} · {how}", className="klik-footnote")


def table(
    frame: pd.DataFrame,
    table_id: str,
    language: str,
    digits: int = 3,
    *,
    hidden: str | None = None,
) -> dash_table.DataTable:
    """A sortable table as :func:`analysis.presentation.display_table` words it (labelled
    columns, the study's rounding); with ``hidden`` (viewers) a missing number reads as that
    mark."""
    shown = display_table(frame, language, digits=digits, missing=hidden or "")
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": str(c), "id": str(c)} for c in shown.columns],
        data=shown.to_dict("records"),
        sort_action="native",
        page_size=25,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "padding": "4px 8px", "textAlign": "right"},
        style_cell_conditional=[{"if": {"column_id": str(shown.columns[0])}, "textAlign": "left"}]
        if len(shown.columns)
        else [],
    )


def viewer_k(outcome: Outcome) -> int:
    """The minimum cell size when the user is a viewer, else 0."""
    return 0 if outcome.rows_allowed else outcome.min_cell


def viewer_note(outcome: Outcome) -> html.P | None:
    if outcome.rows_allowed:
        return None
    return html.P(tx("viewer_note", outcome.language, n=outcome.min_cell), className="klik-note")


def done(outcome: Outcome) -> bool:
    return outcome.status.state == DONE


def filter_dropdowns(coach_types_id: str, methods_id: str, language: str) -> list[Any]:
    """The two cohort filters every analysis page offers: internal/external jobcoach and method.

    A viewer sees them switched off with a note: their analyses are of the whole study.
    """
    viewer = not may_see_rows(context.require_user())
    dropdowns: list[Any] = [
        dcc.Dropdown(
            id=coach_types_id,
            options=options(CoachType, language),
            multi=True,
            disabled=viewer,
            placeholder={"nl": "Interne/externe jobcoach", "en": "Jobcoach type"}[language],
        ),
        dcc.Dropdown(
            id=methods_id,
            options=options(Method, language),
            multi=True,
            disabled=viewer,
            placeholder={"nl": "Methode", "en": "Method"}[language],
        ),
    ]
    if viewer:
        dropdowns.append(html.P(tx("whole_study", language), className="klik-note"))
    return dropdowns
