"""Trajectory explorer: sustainable employability (capability count) over the waves."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from analysis.minimum_data import ANALYSES, RULES
from dashboard import analysis_views as views
from dashboard import context
from dashboard.analysis_jobs import trajectories_job
from dashboard.analysis_page import (
    POLL_MS,
    Outcome,
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
from dashboard.jobs import DONE
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.JOBCOACH, Role.VIEWER)

INDIVIDUAL = "trajectories-individual"
COACH_TYPES = "trajectories-coach-types"
METHODS = "trajectories-methods"
POLL = "trajectories-poll"
STATUS = "trajectories-status"
MEANS = "trajectories-means"
MODEL = "trajectories-model"

TEXT = {
    "title": {
        "nl": "Duurzame inzetbaarheid over de tijd",
        "en": "Sustainable employability over time",
    },
    "intro": {
        "nl": "Aantal capabilities (Capability Set for Work, 0–7) per meting: gemiddelde met "
        "95%-betrouwbaarheidsinterval.",
        "en": "Number of capabilities (Capability Set for Work, 0–7) per wave: mean with 95% "
        "confidence interval.",
    },
    "individual": {"nl": "Toon individuele trajecten", "en": "Show individual trajectories"},
    "lines_sampled": {
        "nl": "Individuele lijnen: een vaste steekproef van {k} van {n} trajecten.",
        "en": "Individual lines: a fixed sample of {k} of {n} trajectories.",
    },
    "model": {
        "nl": "Mixed model: capabilities ~ maanden + werkalliantie (binnen/tussen) + intensiteit "
        "+ match; random intercept per jobcoach en per werknemer binnen jobcoach (REML; met "
        "minder dan {units} jobcoaches alleen per werknemer)",
        "en": "Mixed model: capabilities ~ months + working alliance (within/between) + "
        "intensity + match; random intercept per jobcoach and per employee within jobcoach "
        "(REML; with fewer than {units} jobcoaches per employee only)",
    },
    "random": {"nl": "Variantiecomponenten", "en": "Variance components"},
    "predicted": {
        "nl": "Modelgeschatte trajecten bij lage, middelste en hoge werkalliantie",
        "en": "Model-estimated trajectories at low, middle and high working alliance",
    },
    "not_converged": {
        "nl": "Let op: geen optimizer is geconvergeerd; schattingen onder voorbehoud.",
        "en": "Warning: no optimizer converged; treat the estimates with caution.",
    },
    "not_fitted": {"nl": "Het model is niet te schatten", "en": "The model could not be fitted"},
    "fitting": {"nl": "Het mixed model wordt geschat", "en": "The mixed model is being fitted"},
}


def _t(key: str, language: str, **fmt: Any) -> str:
    text = TEXT[key].get(language, TEXT[key]["nl"])
    return text.format(**fmt) if fmt else text


dash.register_page(
    __name__,
    path="/trajectories",
    title="Klik – Trajecten",
    nav={"nl": "Trajecten", "en": "Trajectories"},
    roles=tuple(r.value for r in ROLES),
    order=45,
)


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    language = context.lang()
    controls: list[Any] = []
    if user.role != Role.VIEWER:
        controls.append(
            dcc.Checklist(
                id=INDIVIDUAL,
                options=[{"label": _t("individual", language), "value": "on"}],
                value=["on"] if user.role == Role.JOBCOACH else [],
            )
        )
    else:
        controls.append(dcc.Store(id=INDIVIDUAL, data=[]))
    controls += [
        *filter_dropdowns(COACH_TYPES, METHODS, language),
    ]
    return html.Div(
        className="klik-page",
        children=[
            html.H1(_t("title", language)),
            html.P(_t("intro", language)),
            html.Div(controls, className="klik-filters"),
            html.Div(id=STATUS),
            dcc.Graph(id=MEANS, figure={}, config={"displaylogo": False}),
            html.Div(id=MODEL),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        ],
    )


@callback(
    Output(MEANS, "figure"),
    Output(MODEL, "children"),
    Output(STATUS, "children"),
    Output(POLL, "disabled"),
    Input(INDIVIDUAL, "value"),
    Input(COACH_TYPES, "value"),
    Input(METHODS, "value"),
    Input(POLL, "n_intervals"),
)
def update(individual: Any, coach_types: Any, methods: Any, _tick: Any) -> tuple:
    outcome = run_analysis(
        "trajectories", trajectories_job, parse_filters(coach_types, methods), ROLES
    )
    wants_lines = isinstance(individual, list) and "on" in individual
    out = render(outcome, individual=wants_lines)
    if outcome.rows_allowed and wants_lines and outcome.status.state == DONE:
        context.audit_read(
            "trajectory",
            None,
            what={"page": "trajectories", "lines": len(outcome.status.result["lines"])},
            reason="individual capability trajectories shown",
        )
    return out


def render(outcome: Outcome, *, individual: bool) -> tuple:
    """The outputs of :func:`update` for a job outcome."""
    language = outcome.language
    status = outcome.status
    result = status.result if status.state == DONE else status.partial
    if result is None:
        keep = dash.no_update
        return keep, keep, progress_line(status, language), status.done
    long = result["long"]
    show_lines = individual and outcome.rows_allowed
    figure = views.trajectory_view_figure(
        long,
        language=language,
        individual=show_lines,
        lines=result["lines"],
        rows_allowed=outcome.rows_allowed,
        min_cell=outcome.min_cell,
    )
    notes: list[Any] = [footnote(result, status, language, result["n"], min_cell=viewer_k(outcome))]
    if show_lines and len(result["lines"]) < result["n"]:
        notes.append(html.P(_t("lines_sampled", language, k=len(result["lines"]), n=result["n"])))
    if not outcome.rows_allowed:
        notes.append(viewer_note(outcome))
    if status.state != DONE:
        notes.append(progress_line(status, language))
        return (
            figure,
            [
                html.H2(_t("model", language, units=RULES.mixed_units)),
                html.P(_t("fitting", language)),
            ],
            notes,
            status.done,
        )
    return figure, _model_part(result, outcome), notes, True


def _model_part(result: dict[str, Any], outcome: Outcome) -> list:
    language = outcome.language
    head = html.H2(_t("model", language, units=RULES.mixed_units))
    model = result.get("mixed")
    refused = result.get("mixed_refused")
    if model is None and refused is not None:
        text = (
            refused.text(language)
            if outcome.rows_allowed
            else viewer_refusal(ANALYSES[refused.analysis][language], language)
        )
        return [head, html.P(text, className="klik-note klik-too-little")]
    if model is None:
        reason = result.get("mixed_error") or ""
        return [head, html.P(f"{_t('not_fitted', language)}. {reason}".strip())]
    fit = model.result
    if not outcome.rows_allowed and fit.n_groups < 2 and fit.n_obs < outcome.min_cell:
        return [head, html.P({"nl": "Te weinig personen.", "en": "Too few people."}[language])]
    parts: list[Any] = [head]
    if not fit.converged:
        parts.append(html.P(_t("not_converged", language), className="klik-alert"))
    k = 0 if outcome.rows_allowed else outcome.min_cell
    levels = ", ".join(
        f"{name}: {viewer_count(v, k)}" for name, v in model.levels(language).items()
    )
    parts.append(
        html.P(f"n = {viewer_count(fit.n_obs, k)} ({levels}); {fit.method}, "
               f"REML log L = {fit.loglik:.2f}")
    )  # fmt: skip
    parts.append(table(model.fixed(language), "trajectories-fixed-table", language))
    parts += [
        html.H3(_t("random", language)),
        table(model.random(language), "trajectories-random-table", language),
    ]
    predicted = (result.get("predicted") or {}).get(language)
    if predicted is not None:
        parts += [
            html.H3(_t("predicted", language)),
            dcc.Graph(
                id="trajectories-predicted",
                figure=views.model_figure(predicted, language=language),
                config={"displaylogo": False},
            ),
        ]
    return parts
