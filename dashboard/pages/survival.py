"""Survival explorer: time to job loss, Kaplan–Meier by stratum, log-rank, Cox models."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from analysis import study_models as models
from analysis.minimum_data import ANALYSES, Shortfall
from analysis.presentation import format_p
from analysis.study_models import CoxModel
from dashboard import analysis_views as views
from dashboard import context
from dashboard.analysis_jobs import survival_job, viewer_survival_job
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
from dashboard.disclosure import viewer_count, viewer_refusal
from study.access import CohortFilter
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.JOBCOACH, Role.VIEWER)

STRATIFY = "survival-stratify"
COACH_TYPES = "survival-coach-types"
METHODS = "survival-methods"
POLL = "survival-poll"
STATUS = "survival-status"
KM = "survival-km"
LOGRANK = "survival-logrank"
COX = "survival-cox"
TV = "survival-tv"

TEXT = {
    "title": {"nl": "Overlevingsanalyse: tijd tot baanverlies", "en": "Survival: time to job loss"},
    "intro": {
        "nl": "Kaplan–Meier-curves met 95%-banden (log(−log), Greenwood) en het aantal dat nog "
        "at risk is. Een traject telt als gebeurtenis bij baanverlies; andere einden en lopende "
        "trajecten zijn gecensureerd.",
        "en": "Kaplan–Meier curves with 95% bands (log(−log), Greenwood) and numbers at risk. "
        "Job loss is the event; other ends and ongoing trajectories are censored.",
    },
    "stratify": {"nl": "Uitsplitsen naar", "en": "Stratify by"},
    "logrank": {"nl": "Log-ranktoets", "en": "Log-rank test"},
    "cox": {
        "nl": "Cox-regressie (hazard ratio per SD; robuuste SE per jobcoach)",
        "en": "Cox regression (hazard ratio per SD; robust SE by jobcoach)",
    },
    "ph": {
        "nl": "Toets van proportionele hazards (Schoenfeld)",
        "en": "Proportional-hazards check (Schoenfeld)",
    },
    "tv": {
        "nl": "Cox met tijdsafhankelijke covariaten (klik, intensiteit en match van de vorige "
        "meting)",
        "en": "Cox with time-varying covariates (klik, intensity and match of the previous wave)",
    },
    "no_grid": {
        "nl": "Nog geen curves voor kijkers: elke stap van elke curve moet op minstens {n} "
        "personen rusten (at risk, en vertrokken per periode van hele maanden), en zoveel zijn "
        "er in deze studie nog niet.",
        "en": "No curves for viewers yet: every step of every curve must rest on at least {n} "
        "people (at risk, and leaving per period of whole months), and this study does not have "
        "that many yet.",
    },
    "truncated": {
        "nl": "Curves stoppen waar minder dan {n} personen at risk zijn.",
        "en": "Curves stop where fewer than {n} people are at risk.",
    },
    "events": {"nl": "baanverlies", "en": "job losses"},
    "not_fitted": {"nl": "Niet te schatten", "en": "Could not be fitted"},
    "too_little": {
        "nl": "Niet te schatten: te weinig baanverlies of te weinig variatie in de covariaten.",
        "en": "Could not be fitted: too few job losses or too little variation in the covariates.",
    },
}


def _t(key: str, language: str, **fmt: Any) -> str:
    text = TEXT[key].get(language, TEXT[key]["nl"])
    return text.format(**fmt) if fmt else text


dash.register_page(
    __name__,
    path="/survival",
    title="Klik – Overleving",
    nav={"nl": "Overleving", "en": "Survival"},
    roles=tuple(r.value for r in ROLES),
    order=40,
)


def layout(**_query: Any) -> html.Div:
    context.page_user(*ROLES)
    language = context.lang()
    strata = [{"label": views.t(k, language), "value": k} for k in models.STRATA]
    return html.Div(
        className="klik-page",
        children=[
            html.H1(_t("title", language)),
            html.P(_t("intro", language)),
            html.Div(
                className="klik-filters",
                children=[
                    html.Label([_t("stratify", language)], htmlFor=STRATIFY),
                    dcc.Dropdown(id=STRATIFY, options=strata, value="klik", clearable=False),
                    *filter_dropdowns(COACH_TYPES, METHODS, language),
                ],
            ),
            html.Div(id=STATUS),
            dcc.Graph(id=KM, figure={}, config={"displaylogo": False}),
            html.Div(id=LOGRANK),
            html.Div(id=COX),
            html.Div(id=TV),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        ],
    )


@callback(
    Output(KM, "figure"),
    Output(LOGRANK, "children"),
    Output(COX, "children"),
    Output(TV, "children"),
    Output(STATUS, "children"),
    Output(POLL, "disabled"),
    Input(STRATIFY, "value"),
    Input(COACH_TYPES, "value"),
    Input(METHODS, "value"),
    Input(POLL, "n_intervals"),
)
def update(by: Any, coach_types: Any, methods: Any, _tick: Any) -> tuple:
    outcome = run_analysis("survival", survival_job, parse_filters(coach_types, methods), ROLES)
    release = None
    if not outcome.rows_allowed:
        # a viewer's curves are solved together with the monitor's release
        release = run_analysis("viewer_survival", viewer_survival_job, CohortFilter(), ROLES)
    return render(outcome, by if isinstance(by, str) and by in models.STRATA else "klik", release)


def render(outcome: Outcome, by: str, release: Outcome | None = None) -> tuple:
    """The outputs of :func:`update` for a job outcome (and, for a viewer, the curves)."""
    language = outcome.language
    pending = [o for o in (outcome, release) if o is not None and not done(o)]
    if pending:
        keep = dash.no_update
        status = pending[0].status
        return keep, keep, keep, keep, progress_line(status, language), status.done
    result = outcome.status.result
    if outcome.rows_allowed:
        view: views.SurvivalView = result["views"][(by, language, True)]
    elif release is None:
        raise ValueError("a viewer's curves come from the viewer_survival job")
    else:
        view = release.status.result["views"][(by, language)]
    figure = views.km_view_figure(
        view, language=language, rows_allowed=outcome.rows_allowed, min_cell=outcome.min_cell
    )
    notes: list[Any] = [
        footnote(result, outcome.status, language, view.n, min_cell=viewer_k(outcome))
    ]
    if not outcome.rows_allowed:
        notes.append(viewer_note(outcome))
    if view.truncated:
        notes.append(html.P(_t("truncated", language, n=view.min_at_risk)))
    if not outcome.rows_allowed and (view.curves.empty or view.curves["time"].max() <= 0):
        # the viewers' grid found no month on which every curve rests on enough people
        figure = {}
        notes.append(html.P(_t("no_grid", language, n=outcome.min_cell), className="klik-warn"))
    logrank = []
    if view.logrank is not None:
        logrank = [
            html.H2(_t("logrank", language)),
            table(view.logrank, "survival-logrank-table", language),
        ]
    elif view.logrank_refused is not None:
        logrank = [
            html.H2(_t("logrank", language)),
            _refusal(view.logrank_refused, language, viewer=not outcome.rows_allowed),
        ]
    cox_part = _model_part(
        result.get("cox"),
        result.get("cox_error"),
        result.get("cox_refused"),
        "cox",
        outcome,
        with_ph=True,
    )
    tv_part = _model_part(
        result.get("tv"),
        result.get("tv_error"),
        result.get("tv_refused"),
        "tv",
        outcome,
    )
    return figure, logrank, cox_part, tv_part, notes, True


def _refusal(shortfall: Shortfall, language: str, *, viewer: bool = False) -> html.P:
    """Why there is no estimate, as the analysis layer words it (for a viewer without its
    counts)."""
    text = (
        viewer_refusal(ANALYSES[shortfall.analysis][language], language)
        if viewer
        else shortfall.text(language)
    )
    return html.P(text, className="klik-note klik-too-little")


def _model_part(
    model: CoxModel | None,
    error: str | None,
    refused: Shortfall | None,
    title: str,
    outcome: Outcome,
    *,
    with_ph: bool = False,
) -> list:
    language = outcome.language
    head = html.H2(_t(title, language))
    if model is None:
        if refused is not None:
            return [head, _refusal(refused, language, viewer=not outcome.rows_allowed)]
        if error:
            return [head, html.P(f"{_t('not_fitted', language)}: {error}")]
        return [head, html.P(_t("too_little", language))]
    fit = model.result
    if not outcome.rows_allowed and fit.n < outcome.min_cell:
        return [head, html.P({"nl": "Te weinig personen.", "en": "Too few people."}[language])]
    k = 0 if outcome.rows_allowed else outcome.min_cell
    lr = fit.lr_test
    parts = [
        head,
        html.P(
            f"n = {viewer_count(fit.n, k)}, {_t('events', language)} = "
            f"{viewer_count(fit.events, k)}"
            + (f", C = {fit.concordance:.3f}" if fit.concordance == fit.concordance else "")
            + f", LR χ² = {lr['stat']:.2f} (df {lr['df']:.0f}, p = {format_p(lr['p'])})"
        ),
        table(model.summary(language), f"survival-{title}-table", language),
        dcc.Graph(
            figure=views.figures.forest_plot(model.labelled(language), lang=language),
            id=f"survival-{title}-forest",
            config={"displaylogo": False},
        ),
    ]
    if with_ph and len(fit.ph_check):
        parts += [
            html.H3(_t("ph", language)),
            table(model.ph_table(language), "survival-ph-table", language),
        ]
    return parts
