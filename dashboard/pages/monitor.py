"""Cohort monitor: enrolment, response per wave and role, overdue and missed forms, attrition."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html

from dashboard import context
from dashboard.disclosure import min_size_for
from dashboard.i18n import options
from dashboard.monitor_views import T, cohort_filter, monitor_view
from study.access import may_see_rows
from study.read_models import person_wave_frame, trajectories_frame
from study.vocab import Benefit, CoachType, Method, Role
from study.worklists import min_cell_size, organisations

ROLES = (Role.RESEARCHER, Role.VIEWER)

dash.register_page(
    __name__,
    path="/monitor",
    title="Klik – cohortmonitor",
    nav={"nl": "Cohortmonitor", "en": "Cohort monitor"},
    roles=tuple(r.value for r in ROLES),
    order=10,
)

ORG, COACH_TYPE, METHOD, BENEFIT, CONTENT = (
    "monitor-organisation",
    "monitor-coach-type",
    "monitor-method",
    "monitor-benefit",
    "monitor-content",
)
LABELS = {
    ORG: {"nl": "Organisatie", "en": "Organisation"},
    COACH_TYPE: {"nl": "Interne/externe jobcoach", "en": "Internal/external job coach"},
    METHOD: {"nl": "Methodiek", "en": "Method"},
    BENEFIT: {"nl": "Uitkering", "en": "Benefit"},
}
ALL = {"nl": "Alle", "en": "All"}


def _dropdown(id_: str, opts: list[dict], lang: str) -> html.Div:
    return html.Div(
        [
            html.Label(LABELS[id_][lang], htmlFor=id_),
            dcc.Dropdown(id=id_, options=opts, multi=True, placeholder=ALL[lang]),
        ]
    )


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    with context.read_session() as s:
        orgs = organisations(s, user.study_id)
    org_options = [
        {"label": r.name, "value": int(r.organisation_id)} for r in orgs.itertuples(index=False)
    ]
    return html.Div(
        [
            html.H1(T["title"][lang]),
            html.Div(
                [
                    _dropdown(ORG, org_options, lang),
                    _dropdown(COACH_TYPE, options(CoachType, lang), lang),
                    _dropdown(METHOD, options(Method, lang), lang),
                    _dropdown(BENEFIT, options(Benefit, lang), lang),
                ],
                className="klik-filters",
            ),
            dcc.Loading(html.Div(id=CONTENT), type="dot"),
        ],
        className="klik-page",
    )


@dash.callback(
    Output(CONTENT, "children"),
    Input(ORG, "value"),
    Input(COACH_TYPE, "value"),
    Input(METHOD, "value"),
    Input(BENEFIT, "value"),
)
def update(orgs: Any, coach_types: Any, methods: Any, benefits: Any) -> html.Div:
    user = context.page_user(*ROLES)
    filters = cohort_filter(orgs, coach_types, methods, benefits)
    as_of = context.today()
    with context.read_session() as s:
        scope = context.scope(filters)
        trajectories = trajectories_frame(s, scope, as_of=as_of)
        person_wave = person_wave_frame(s, scope, as_of=as_of, scores=())
        k = min_size_for(user.role, min_cell_size(s, user.study_id))
    return monitor_view(
        trajectories, person_wave, as_of=as_of, k=k, lang=context.lang(),
        show_rows=may_see_rows(user),
    )  # fmt: skip
