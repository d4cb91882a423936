"""Costs and benefits (MKBA): costs and outcomes, a balance per actor once a null alternative is
chosen, dose and klik contrasts, and the study's cost parameters (editable by researchers)."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashboard import context
from dashboard.analysis_page import POLL_MS, Outcome, done, footnote, progress_line, run_analysis
from dashboard.disclosure import HIDDEN_MARK, viewer_cost_benefit, viewer_refusal
from dashboard.mkba_jobs import HORIZONS, mkba_job, study_parameters
from dashboard.mkba_views import (
    balance_table,
    costs_outcomes_table,
    dose_table,
    figures_table,
    parse_comparison,
    t,
    tornado_figure,
)
from study.access import CohortFilter
from study.cost_read_models import cost_parameter_history
from study.errors import KlikError
from study.services.cost_parameters import PARAMETER_FIELDS, save_cost_parameters
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.VIEWER)
EDITORS = (Role.RESEARCHER,)

HORIZON = "mkba-horizon"
KIND = "mkba-kind"
LABEL = "mkba-label"
SOURCE = "mkba-source"
CURVE = "mkba-curve"
DAYS = "mkba-days"
SICK = "mkba-sick"
COMPUTE = "mkba-compute"
CHOICE_ERROR = "mkba-choice-error"
POLL = "mkba-poll"
STATUS = "mkba-status"
SUMMARY = "mkba-summary"
BALANCE = "mkba-balance"
DOSE = "mkba-dose"
PARAMS = "mkba-parameters"
PARAM_TABLE = "mkba-parameter-table"
ADD_ROW = "mkba-add-row"
REASON = "mkba-reason"
SAVE = "mkba-save"
SAVED = "mkba-saved"

TEXT = {
    "title": {"nl": "Kosten en baten (MKBA)", "en": "Costs and benefits (MKBA)"},
    "intro": {
        "nl": "Een maatschappelijke kosten-batenanalyse per actor (werknemer, werkgever, gemeente, "
        "UWV, maatschappij). Overdrachten (uitkeringen, subsidies, loon) vallen voor de "
        "maatschappij tegen elkaar weg. Bedragen per deelnemer, contant gemaakt.",
        "en": "A social cost–benefit analysis per actor (employee, employer, municipality, UWV, "
        "society). Transfers (benefits, subsidies, wages) net to zero for society. Amounts per "
        "participant, discounted.",
    },
    "horizon": {"nl": "Horizon", "en": "Horizon"},
    "months": {"nl": "{m} maanden", "en": "{m} months"},
    "compare": {"nl": "Vergelijken met", "en": "Compare with"},
    "none": {
        "nl": "nog niets (alleen kosten en uitkomsten)",
        "en": "nothing yet (costs and outcomes only)",
    },
    "benchmark": {"nl": "een externe benchmarkcurve", "en": "an external benchmark curve"},
    "arm": {
        "nl": "een vergelijkingsgroep in de studie (methode 'geen')",
        "en": "a comparison arm in the study (method 'none')",
    },
    "scenario": {"nl": "een wat-als-scenario", "en": "a what-if scenario"},
    "label": {"nl": "Naam van de vergelijking", "en": "Name of the comparison"},
    "source": {"nl": "Bron van de curve", "en": "Source of the curve"},
    "curve": {"nl": "Curve (maand:aandeel in werk; …)", "en": "Curve (month:share in work; …)"},
    "days": {
        "nl": "Dagen werk gewonnen per deelnemer",
        "en": "Days in work gained per participant",
    },
    "sick": {"nl": "Verzuimdagen minder per deelnemer", "en": "Sick days fewer per participant"},
    "compute": {"nl": "Bereken", "en": "Compute"},
    "costs_outcomes": {"nl": "Kosten en uitkomsten", "en": "Costs and outcomes"},
    "balance": {"nl": "Saldo per actor", "en": "Balance per actor"},
    "against": {"nl": "Vergeleken met: {label}", "en": "Compared with: {label}"},
    "figures": {"nl": "Kerncijfers", "en": "Headline figures"},
    "tornado": {"nl": "Gevoeligheid (tornado)", "en": "Sensitivity (tornado)"},
    "dose": {"nl": "Intensiteit en klik", "en": "Intensity and klik"},
    "dose_refused": {
        "nl": "Geen schatting van intensiteit en klik: te weinig banenverlies voor het Cox-model.",
        "en": "No estimate of intensity and klik: too few job losses for the Cox model.",
    },
    "parameters": {
        "nl": "Parameters (bedragen, jaren en bronnen)",
        "en": "Parameters (amounts, years and sources)",
    },
    "version": {"nl": "Versie {v}", "en": "Version {v}"},
    "defaults": {
        "nl": "meegeleverde standaardwaarden (nog niet aangepast)",
        "en": "shipped defaults (not yet changed)",
    },
    "reason": {"nl": "Reden van de wijziging", "en": "Reason for the change"},
    "save": {"nl": "Parameters opslaan", "en": "Save parameters"},
    "add_row": {"nl": "Regel toevoegen", "en": "Add a row"},
    "saved": {"nl": "Opgeslagen als versie {v}.", "en": "Saved as version {v}."},
    "unchanged": {"nl": "Niets gewijzigd.", "en": "Nothing changed."},
    "too_few": {
        "nl": "Minder dan {k} deelnemers in een groep: deze cijfers worden niet getoond.",
        "en": "Fewer than {k} participants in a group: these figures are not shown.",
    },
    "history": {"nl": "Eerdere versies", "en": "Earlier versions"},
}

PARAM_HEADERS = {
    "key": {"nl": "parameter", "en": "parameter"},
    "coach_type": {"nl": "jobcoach", "en": "jobcoach"},
    "year": {"nl": "jaar", "en": "year"},
    "value": {"nl": "waarde", "en": "value"},
    "unit": {"nl": "eenheid", "en": "unit"},
    "payer": {"nl": "betaler", "en": "payer"},
    "receiver": {"nl": "ontvanger", "en": "receiver"},
    "source": {"nl": "bron", "en": "source"},
}


def _t(key: str, language: str, **fmt: Any) -> str:
    text = t(TEXT, key, language)
    return text.format(**fmt) if fmt else text


dash.register_page(
    __name__,
    path="/mkba",
    title="Klik – Kosten en baten",
    nav={"nl": "Kosten en baten", "en": "Costs and benefits"},
    roles=tuple(r.value for r in ROLES),
    order=45,
)


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    language = context.lang()
    kinds = ("none", "benchmark", "arm", "scenario")
    field = lambda id_, key, **kw: html.Label(  # noqa: E731
        [_t(key, language), dcc.Input(id=id_, debounce=True, **kw)], className="klik-field"
    )
    return html.Div(
        className="klik-page",
        children=[
            html.H1(_t("title", language)),
            html.P(_t("intro", language), className="klik-note"),
            html.Div(
                className="klik-filters",
                children=[
                    html.Label(
                        [
                            _t("horizon", language),
                            dcc.RadioItems(
                                id=HORIZON,
                                options=[
                                    {"label": _t("months", language, m=m), "value": m}
                                    for m in HORIZONS
                                ],
                                value=12,
                                inline=True,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            _t("compare", language),
                            dcc.Dropdown(
                                id=KIND,
                                options=[{"label": _t(k, language), "value": k} for k in kinds],
                                value="none",
                                clearable=False,
                            ),
                        ]
                    ),
                    field(LABEL, "label", type="text", maxLength=120),
                    field(SOURCE, "source", type="text", maxLength=300),
                    field(
                        CURVE,
                        "curve",
                        type="text",
                        maxLength=2000,
                        placeholder="0:1; 6:0,85; 12:0,78",
                    ),
                    field(DAYS, "days", type="text", inputMode="decimal"),
                    field(SICK, "sick", type="text", inputMode="decimal"),
                    html.Button(_t("compute", language), id=COMPUTE, className="klik-button"),
                ],
            ),
            html.Div(id=CHOICE_ERROR, role="alert"),
            html.Div(id=STATUS),
            html.Div(id=SUMMARY),
            html.Div(id=BALANCE),
            html.Div(id=DOSE),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
            html.H2(_t("parameters", language)),
            html.Div(id=PARAMS, children=parameter_section(user.role == Role.RESEARCHER, language)),
            html.Div(id=SAVED, role="status"),
        ],
    )


def parameter_section(editable: bool, language: str) -> list[Any]:
    """The study's parameter table (editable for researchers), its version and history."""
    user = context.require_user()
    with context.read_session() as session:
        params, version = study_parameters(session, user.study_id)
        history = cost_parameter_history(session, user.study_id) if editable else None
    label = _t("version", language, v=version) if version else _t("defaults", language)
    columns = [
        {"name": t(PARAM_HEADERS, f, language), "id": f, "editable": editable}
        for f in PARAMETER_FIELDS
    ]
    records = params[list(PARAMETER_FIELDS)].astype(object).where(params.notna(), None)
    parts: list[Any] = [
        html.P(label, className="klik-footnote"),
        dash_table.DataTable(
            id=PARAM_TABLE,
            columns=columns,
            data=records.to_dict("records"),
            editable=editable,
            row_deletable=editable,
            page_size=40,
            style_table={"overflowX": "auto"},
            style_cell={
                "fontFamily": "inherit",
                "padding": "4px 8px",
                "textAlign": "left",
                "whiteSpace": "normal",
                "maxWidth": "28rem",
            },
        ),
    ]
    if editable:
        parts += [
            html.Button(_t("add_row", language), id=ADD_ROW, className="klik-button"),
            html.Label([_t("reason", language), dcc.Input(id=REASON, type="text", maxLength=500)]),
            html.Button(_t("save", language), id=SAVE, className="klik-button"),
        ]
        if history is not None and len(history):
            lines = [
                f"{_t('version', language, v=r.version)}: {r.created_by}, "
                f"{pd.Timestamp(r.created_at):%d-%m-%Y %H:%M}{' – ' + r.reason if r.reason else ''}"
                for r in history.itertuples(index=False)
            ]
            parts.append(
                html.Details(
                    [html.Summary(_t("history", language)), html.Ul([html.Li(x) for x in lines])]
                )
            )
    return parts


@callback(
    Output(SUMMARY, "children"),
    Output(BALANCE, "children"),
    Output(DOSE, "children"),
    Output(STATUS, "children"),
    Output(POLL, "disabled"),
    Output(CHOICE_ERROR, "children"),
    Input(COMPUTE, "n_clicks"),
    Input(HORIZON, "value"),
    Input(POLL, "n_intervals"),
    State(KIND, "value"),
    State(LABEL, "value"),
    State(SOURCE, "value"),
    State(CURVE, "value"),
    State(DAYS, "value"),
    State(SICK, "value"),
)
def update(
    _clicks: Any, horizon: Any, _tick: Any, kind: Any, label: Any, source: Any, curve: Any,
    days: Any, sick: Any,
) -> tuple:  # fmt: skip
    context.page_user(*ROLES)
    language = context.lang()
    months = horizon if horizon in HORIZONS and not isinstance(horizon, bool) else 12
    comparison, error = parse_comparison(kind, label, source, curve, days, sick, language=language)
    if error:
        keep = dash.no_update
        return keep, keep, keep, keep, True, html.P(error, className="klik-alert")
    user = context.require_user()
    job = _job(user.study_id, months, comparison)
    outcome = run_analysis(
        "mkba", job, CohortFilter(), ROLES, horizon_months=months, comparison=comparison
    )
    return (*render(outcome, comparison["kind"] if comparison else None), None)


def _job(study_id: int, months: int, comparison: dict[str, Any] | None) -> Any:
    import functools

    return functools.partial(
        mkba_job, study_id=study_id, horizon_months=months, comparison=comparison
    )


def render(outcome: Outcome, requested: str | None = None) -> tuple:
    """Summary, balance, dose, status and whether polling stops, for a job outcome;
    ``requested`` is the kind of comparison asked for (by default the one computed)."""
    language = outcome.language
    if not done(outcome):
        keep = dash.no_update
        return keep, keep, keep, progress_line(outcome.status, language), outcome.status.done
    result = outcome.status.result
    cb = result["analysis"]
    viewer = not outcome.rows_allowed
    k = outcome.min_cell
    note = footnote(result, outcome.status, language, cb.n, min_cell=k if viewer else 0)
    summary: pd.DataFrame | None = cb.summary
    balance_allowed = True
    if viewer:
        kind = requested or (cb.result.comparison.kind if cb.result is not None else None)
        summary, balance_allowed = viewer_cost_benefit(
            cb.summary, n=cb.n, arm_n=cb.arm_n, comparison=kind, min_size=k
        )
    if summary is None:
        refusal = html.P(_t("too_few", language, k=k), className="klik-alert")
        return [refusal], [], [], note, True
    summary_part = [
        html.H2(_t("costs_outcomes", language)),
        _table(
            costs_outcomes_table(summary, language, hidden=HIDDEN_MARK if viewer else None),
            "mkba-summary-table",
        ),
    ]
    balance_part: list[Any]
    if cb.reason is not None:
        balance_part = [
            html.H2(_t("balance", language)),
            html.P(cb.reason[language], className="klik-note"),
        ]
    elif not balance_allowed:
        balance_part = [
            html.H2(_t("balance", language)),
            html.P(_t("too_few", language, k=k), className="klik-alert"),
        ]
    else:
        comparison = cb.result.comparison
        against = _t("against", language, label=comparison.label)
        if comparison.source:
            against += f" ({comparison.source})"
        balance_part = [
            html.H2(_t("balance", language)),
            html.P(against, className="klik-note"),
        ]
        if comparison.kind == "scenario":
            from analysis.cost_benefit import SCENARIO_NOTE

            balance_part.append(html.P(SCENARIO_NOTE[language], className="klik-alert"))
        balance_part += [
            _table(balance_table(cb.result.table, language), "mkba-balance-table"),
            html.H3(_t("figures", language)),
            _table(figures_table(cb.intervals, language), "mkba-figures-table"),
            html.H3(_t("tornado", language)),
            dcc.Graph(
                id="mkba-tornado",
                figure=tornado_figure(cb.tornado, language),
                config={"displaylogo": False},
            ),
        ]
    dose_part: list[Any] = [html.H2(_t("dose", language))]
    if cb.dose is not None:
        dose_part.append(_table(dose_table(cb.dose, language), "mkba-dose-table"))
    elif viewer:
        dose_part.append(
            html.P(viewer_refusal(_t("dose", language), language), className="klik-note")
        )
    else:
        dose_part.append(
            html.P(cb.dose_error or _t("dose_refused", language), className="klik-note")
        )
    return summary_part, balance_part, dose_part, note, True


def _table(frame: pd.DataFrame, table_id: str) -> dash_table.DataTable:
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": str(c), "id": str(c)} for c in frame.columns],
        data=frame.to_dict("records"),
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": "inherit",
            "padding": "4px 8px",
            "textAlign": "right",
            "whiteSpace": "normal",
        },
        style_cell_conditional=[{"if": {"column_id": str(frame.columns[0])}, "textAlign": "left"}],
    )


@callback(
    Output(PARAM_TABLE, "data"),
    Input(ADD_ROW, "n_clicks"),
    State(PARAM_TABLE, "data"),
    prevent_initial_call=True,
)
def add_row(_clicks: Any, rows: Any) -> list[dict[str, Any]]:
    context.page_user(*EDITORS)
    current = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    return [*current, {f: "" for f in PARAMETER_FIELDS}]


@callback(
    Output(SAVED, "children"),
    Output(PARAMS, "children"),
    Input(SAVE, "n_clicks"),
    State(PARAM_TABLE, "data"),
    State(REASON, "value"),
    prevent_initial_call=True,
)
def save(_clicks: Any, rows: Any, reason: Any) -> tuple:
    user = context.page_user(*EDITORS)
    language = context.lang()
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows) or len(rows) > 2000:
        rows = []
    clean = [{f: r.get(f) for f in PARAMETER_FIELDS} for r in rows]
    why = reason.strip()[:500] if isinstance(reason, str) else None
    try:
        with context.container().sessions.begin() as s:
            previous, _version = study_parameters(s, user.study_id)
            saved = save_cost_parameters(
                s, user.study_id, clean, actor=user.username, at=context.now(), reason=why,
                previous=previous.to_dict("records"),
            )  # fmt: skip
            version = saved.version if saved is not None else None
    except KlikError as exc:
        return html.P(exc.message(language), className="klik-alert"), dash.no_update
    message = _t("saved", language, v=version) if version else _t("unchanged", language)
    return html.P(message, className="klik-info"), parameter_section(True, language)
