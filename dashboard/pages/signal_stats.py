"""Signal statistics of the study: how many signals fired, were seen and how fast (researchers;
viewers as rounded totals), and how well each predicted job loss (researchers only)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import context
from dashboard.analysis_page import release_note
from dashboard.signal_stats_views import (
    follow_up_table,
    organisation_table,
    quality_table,
    t,
    viewer_follow_up_table,
)
from study.access import trajectory_scope
from study.signal_data import study_signals
from study.vocab import Role
from study.worklists import min_cell_size, organisations

ROLES = (Role.RESEARCHER, Role.VIEWER)
#: the fewest clients a signal statistic for a viewer, or per organisation, rests on
MIN_SIGNAL_CLIENTS = 10

dash.register_page(
    __name__,
    path="/signals",
    title="Klik – signalen",
    nav={"nl": "Signalen", "en": "Signals"},
    roles=tuple(r.value for r in ROLES),
    order=45,
)


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    # a viewer's figures are those of the last release day, like every other page's
    scope, as_of = context.released(user, trajectory_scope(user.study_id))
    with context.read_session() as s:
        k = min_cell_size(s, user.study_id)
        found = study_signals(s, user.study_id, as_of=as_of, scope=scope)
        names = organisations(s, user.study_id) if user.role == Role.RESEARCHER else None
    parts: list[Any] = [html.H1(t("title", lang)), html.P(t("lead", lang), className="klik-lead")]
    if user.role == Role.VIEWER:
        # signal statistics for viewers rest on 10 clients at least, whatever the study's k
        k = max(k, MIN_SIGNAL_CLIENTS)
        parts += [
            html.P(t("viewer_note", lang).format(k=k), className="klik-note"),
            release_note(user, lang),
            html.Div([html.H2(t("follow", lang)), viewer_follow_up_table(found.signals, found.seen, lang, k)], className="klik-card"),
        ]  # fmt: skip
        return html.Div(parts, className="klik-page", id="signal-stats")
    parts += [
        html.Div([html.H2(t("follow", lang)), follow_up_table(found.signals, found.seen, lang)], className="klik-card"),
        html.Div([html.H2(t("quality", lang)), quality_table(found.signals, found.trajectories, as_of, lang)], className="klik-card"),
        html.Div([html.H2(t("orgs", lang)), organisation_table(found.signals, found.seen, found.trajectories, names, lang, min_clients=max(k, MIN_SIGNAL_CLIENTS))],
                 className="klik-card"),
    ]  # fmt: skip
    return html.Div(parts, className="klik-page", id="signal-stats")
