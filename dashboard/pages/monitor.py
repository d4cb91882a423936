"""Cohort monitor: enrolment, response per wave and role, overdue and missed forms, attrition."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html

from dashboard import context
from dashboard.analysis_page import (
    POLL_MS,
    done,
    how_obtained,
    progress_line,
    release_note,
    run_analysis,
)
from dashboard.i18n import options
from dashboard.mail_views import mail_trouble_banner
from dashboard.monitor_views import (
    T,
    cohort_filter,
    monitor_job,
    monitor_view,
    viewer_monitor_job,
    viewer_monitor_view,
    viewer_selection,
)
from dashboard.query_views import query_notice
from study.access import CohortFilter
from study.mail.status import mail_trouble
from study.vocab import Benefit, CoachType, Method, Role
from study.worklists import organisations

ROLES = (Role.RESEARCHER, Role.VIEWER)

dash.register_page(
    __name__,
    path="/monitor",
    title="Klik – cohortmonitor",
    nav={"nl": "Cohortmonitor", "en": "Cohort monitor"},
    roles=tuple(r.value for r in ROLES),
    order=10,
)

ORG, COACH_TYPE, METHOD, BENEFIT, CONTENT, STATUS, POLL = (
    "monitor-organisation",
    "monitor-coach-type",
    "monitor-method",
    "monitor-benefit",
    "monitor-content",
    "monitor-status",
    "monitor-poll",
)
LABELS = {
    ORG: {"nl": "Organisatie", "en": "Organisation"},
    COACH_TYPE: {"nl": "Interne/externe jobcoach", "en": "Internal/external job coach"},
    METHOD: {"nl": "Methodiek", "en": "Method"},
    BENEFIT: {"nl": "Uitkering", "en": "Benefit"},
}
ALL = {"nl": "Alle", "en": "All"}


def _dropdown(id_: str, opts: list[dict], lang: str, *, multi: bool) -> html.Div:
    return html.Div(
        [
            html.Label(LABELS[id_][lang], htmlFor=id_),
            dcc.Dropdown(id=id_, options=opts, multi=multi, placeholder=ALL[lang]),
        ]
    )


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        orgs = organisations(s, user.study_id)
        # researchers are the ones who can act on mail that does not get through
        trouble = mail_trouble(s) if user.role == Role.RESEARCHER else None
    org_options = [
        {"label": r.name, "value": int(r.organisation_id)} for r in orgs.itertuples(index=False)
    ]
    # a viewer selects one value of one characteristic at a time (see viewer_selection)
    multi = user.role != Role.VIEWER
    return html.Div(
        [
            html.H1(T["title"][lang]),
            mail_trouble_banner(trouble, lang) if trouble else None,
            query_notice(str(user.role), lang),
            html.Div(
                [
                    _dropdown(ORG, org_options, lang, multi=multi),
                    _dropdown(COACH_TYPE, options(CoachType, lang), lang, multi=multi),
                    _dropdown(METHOD, options(Method, lang), lang, multi=multi),
                    _dropdown(BENEFIT, options(Benefit, lang), lang, multi=multi),
                ],
                className="klik-filters",
            ),
            html.Div(id=STATUS),
            html.Div(id=CONTENT),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        ],
        className="klik-page",
    )


@dash.callback(
    Output(CONTENT, "children"),
    Output(STATUS, "children"),
    Output(POLL, "disabled"),
    Input(ORG, "value"),
    Input(COACH_TYPE, "value"),
    Input(METHOD, "value"),
    Input(BENEFIT, "value"),
    Input(POLL, "n_intervals"),
)
def update(orgs: Any, coach_types: Any, methods: Any, benefits: Any, _tick: Any) -> tuple:
    """Counts come from a background job (per data version and selection), so a large cohort
    shows progress instead of holding the request. A viewer's job is the protected release of
    the whole study; their selection is a row of it."""
    if context.page_user(*ROLES).role == Role.VIEWER:
        return _viewer_update(orgs, coach_types, methods, benefits)
    filters = cohort_filter(orgs, coach_types, methods, benefits)
    outcome = run_analysis("monitor", monitor_job, filters, ROLES)
    language = outcome.language
    if not done(outcome):
        return dash.no_update, progress_line(outcome.status, language), outcome.status.done
    view = monitor_view(outcome.status.result, lang=language)
    note = html.P(how_obtained(outcome.status, language), className="klik-footnote")
    return html.Div([view, note]), None, True


def _viewer_update(orgs: Any, coach_types: Any, methods: Any, benefits: Any) -> tuple:
    language = context.lang()
    try:
        selection = viewer_selection(orgs, coach_types, methods, benefits)
    except ValueError:
        return html.P(T["one_selection"][language], className="klik-warn"), None, True
    outcome = run_analysis("monitor_release", viewer_monitor_job, CohortFilter(), ROLES)
    if not done(outcome):
        return dash.no_update, progress_line(outcome.status, language), outcome.status.done
    # how and how fast it was computed says something about a selection's size and use
    view = viewer_monitor_view(outcome.status.result, selection, lang=language)
    return html.Div([view, release_note(outcome.user, language)]), None, True
