"""Instruments and data quality: Cronbach's alpha per scale and wave, missingness, late forms."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from analysis import study_models as models
from dashboard import analysis_views as views
from dashboard import context
from dashboard.analysis_jobs import quality_job
from dashboard.analysis_page import (
    POLL_MS,
    Outcome,
    done,
    filter_dropdowns,
    footnote,
    parse_filters,
    progress_line,
    run_analysis,
    table,
    viewer_k,
    viewer_note,
)
from dashboard.disclosure import (
    HIDDEN_MARK,
    protect_alpha,
    protect_missingness,
    protect_timeliness,
)
from dashboard.monitor_views import viewer_monitor_job
from study.access import CohortFilter
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.VIEWER)

COACH_TYPES = "quality-coach-types"
METHODS = "quality-methods"
POLL = "quality-poll"
STATUS = "quality-status"
ALPHA = "quality-alpha"
MISSING = "quality-missing"
LATE = "quality-late"

TEXT = {
    "title": {"nl": "Instrumenten en datakwaliteit", "en": "Instruments and data quality"},
    "alpha": {
        "nl": "Betrouwbaarheid: Cronbachs alfa per schaal en meting (Feldt 95%-interval)",
        "en": "Reliability: Cronbach's alpha per scale and wave (Feldt 95% interval)",
    },
    "missing": {
        "nl": "Ontbrekende antwoorden per item (ingestuurde vragenlijsten)",
        "en": "Missing answers per item (submitted questionnaires)",
    },
    "late": {
        "nl": "Buiten het venster: te laat ingevulde vragenlijsten (na de eerste herinnering)",
        "en": "Out of window: questionnaires answered late (after the first reminder)",
    },
    "none": {"nl": "Nog geen gegevens.", "en": "No data yet."},
}


def _t(key: str, language: str) -> str:
    return TEXT[key].get(language, TEXT[key]["nl"])


dash.register_page(
    __name__,
    path="/quality",
    title="Klik – Datakwaliteit",
    nav={"nl": "Datakwaliteit", "en": "Data quality"},
    roles=tuple(r.value for r in ROLES),
    order=50,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    language = context.lang()
    return html.Div(
        className="klik-page",
        children=[
            html.H1(_t("title", language)),
            html.Div(
                className="klik-filters",
                children=[
                    *filter_dropdowns(COACH_TYPES, METHODS, language),
                ],
            ),
            html.Div(id=STATUS),
            html.Div(id=ALPHA),
            html.Div(id=MISSING),
            html.Div(id=LATE),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        ],
    )


@callback(
    Output(ALPHA, "children"),
    Output(MISSING, "children"),
    Output(LATE, "children"),
    Output(STATUS, "children"),
    Output(POLL, "disabled"),
    Input(COACH_TYPES, "value"),
    Input(METHODS, "value"),
    Input(POLL, "n_intervals"),
)
def update(coach_types: Any, methods: Any, _tick: Any) -> tuple:
    outcome = run_analysis("quality", quality_job, parse_filters(coach_types, methods), ROLES)
    release = None
    if not outcome.rows_allowed:
        # a viewer's form counts are the monitor's, from the same release
        release = run_analysis("monitor_release", viewer_monitor_job, CohortFilter(), ROLES)
    return render(outcome, release)


def render(outcome: Outcome, release: Outcome | None = None) -> tuple:
    """The outputs of :func:`update` for a job outcome (and, for a viewer, the monitor's)."""
    language = outcome.language
    pending = [o for o in (outcome, release) if o is not None and not done(o)]
    if pending:
        keep = dash.no_update
        status = pending[0].status
        return keep, keep, keep, progress_line(status, language), status.done
    result = outcome.status.result
    alpha, missing, late = result["alpha"], result["missing"], result["timeliness"]
    hidden = None
    if not outcome.rows_allowed:
        k = outcome.min_cell
        alpha = protect_alpha(alpha, k)
        missing = protect_missingness(missing, k)
        if release is None:
            raise ValueError("a viewer's form counts come from the monitor's release")
        late = protect_timeliness(late, release.status.result.completion(None))
        hidden = HIDDEN_MARK
    names = result.get("names", {}).get(language, {})
    alpha, missing = models.named_scales(alpha, names), models.named_scales(missing, names)
    none = html.P(_t("none", language))
    alpha_part = [html.H2(_t("alpha", language))] + (
        [
            dcc.Graph(
                id="quality-alpha-figure",
                figure=views.alpha_figure(alpha.dropna(subset=["alpha"]), language=language),
                config={"displaylogo": False},
            ),
            table(alpha, "quality-alpha-table", language, hidden=hidden),
        ]
        if len(alpha)
        else [none]
    )
    missing_part = [html.H2(_t("missing", language))] + (
        [table(missing, "quality-missing-table", language, hidden=hidden)]
        if len(missing)
        else [none]
    )
    late_part = [html.H2(_t("late", language))] + (
        [table(late, "quality-late-table", language, digits=2, hidden=hidden)]
        if len(late)
        else [none]
    )
    notes = [
        footnote(result, outcome.status, language, result["responses"], min_cell=viewer_k(outcome))
    ]
    if not outcome.rows_allowed:
        notes.append(viewer_note(outcome))
    return alpha_part, missing_part, late_part, notes, True
