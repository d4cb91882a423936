"""Pure builders of data queries on the record page and the jobcoach's notice of open ones."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

T: dict[str, dict[str, str]] = {
    "title": {"nl": "Vragen over gegevens", "en": "Data queries"},
    "help": {
        "nl": "Een onderzoeker stelt een vraag over het gekozen contact of de gekozen gebeurtenis "
        "(of, zonder keuze, over de deelnemer); de jobcoach antwoordt en corrigeert zo nodig "
        "hierboven; de onderzoeker sluit de vraag.",
        "en": "A researcher asks about the chosen contact or event (or, with none chosen, about "
        "the participant); the job coach answers and corrects above if needed; the researcher "
        "closes the query.",
    },
    "message": {"nl": "Vraag", "en": "Question"},
    "ask": {"nl": "Vraag stellen", "en": "Ask"},
    "pick": {"nl": "Kies een vraag", "en": "Choose a query"},
    "answer": {"nl": "Antwoord", "en": "Answer"},
    "reply": {"nl": "Antwoorden", "en": "Answer"},
    "close": {"nl": "Vraag sluiten", "en": "Close query"},
    "none": {"nl": "Geen vragen.", "en": "No queries."},
    "open": {"nl": "open", "en": "open"},
    "answered": {"nl": "beantwoord", "en": "answered"},
    "closed": {"nl": "gesloten", "en": "closed"},
    "asked": {"nl": "Vraag gesteld.", "en": "Query opened."},
    "replied": {"nl": "Antwoord opgeslagen.", "en": "Answer saved."},
    "shut": {"nl": "Vraag gesloten.", "en": "Query closed."},
    "choose_query": {"nl": "Kies eerst een vraag.", "en": "Choose a query first."},
    "not_yours": {
        "nl": "Deze vraag bestaat niet of hoort niet bij uw cliënten.",
        "en": "This query does not exist or is not about one of your clients.",
    },
    "notice": {
        "nl": "{n} open vragen van de onderzoekers over uw cliënten:",
        "en": "{n} open queries from the researchers about your clients:",
    },
}


def t(key: str, lang: str, **fmt: Any) -> str:
    """The text ``key`` in ``lang``."""
    text = T[key].get(lang) or T[key]["nl"]
    return text.format(**fmt) if fmt else text


def query_list(queries: pd.DataFrame, lang: str) -> html.Div:
    """The record's queries: what was asked about what, the answer and the state."""
    if queries.empty:
        return html.P(t("none", lang), className="klik-muted")
    items = []
    for q in queries.itertuples(index=False):
        about = f"{q.entity} {q.entity_id}" + (f" · {q.field}" if q.field else "")
        lines: list[Any] = [
            html.Strong(f"#{q.query_id} ({t(q.status, lang)}) "), html.Span(f"{about}: {q.message}"),
            html.Span(f" – {q.opened_by}", className="klik-muted"),
        ]  # fmt: skip
        if q.answer:
            lines += [html.Br(), html.Span(f"↳ {q.answer} – {q.answered_by}")]
        items.append(html.Li(lines))
    return html.Ul(items, id="record-query-list")


def query_options(queries: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The queries that are not closed, as dropdown options."""
    return [
        {
            "label": f"#{q.query_id} ({t(q.status, lang)}): {q.message[:60]}",
            "value": int(q.query_id),
        }
        for q in queries.itertuples(index=False)
        if q.status != "closed"
    ]


def query_card(lang: str, *, researcher: bool) -> html.Div:
    """The card with the list, asking (researchers), answering and closing (researchers)."""
    ask = [
        html.Div([html.Label(t("message", lang), htmlFor="record-query-text"), dcc.Input(id="record-query-text", type="text")]),
        html.Button(t("ask", lang), id="record-query-open", className="klik-primary"),
    ]  # fmt: skip
    close = html.Button(t("close", lang), id="record-query-close", className="klik-primary")
    return html.Div(
        [
            html.H2(t("title", lang)),
            html.P(t("help", lang), className="klik-muted"),
            html.Div(id="record-queries"),
            html.Div(ask, className="klik-actions", hidden=not researcher),
            html.Div(
                [
                    html.Div([html.Label(t("pick", lang), htmlFor="record-query-pick"), dcc.Dropdown(id="record-query-pick", options=[])]),
                    html.Div([html.Label(t("answer", lang), htmlFor="record-query-answer"), dcc.Input(id="record-query-answer", type="text")]),
                    html.Button(t("reply", lang), id="record-query-reply", className="klik-primary"),
                    html.Div(close, hidden=not researcher),
                ],
                className="klik-actions",
            ),
            html.Div(id="record-query-msg", role="status"),
            dcc.Store(id="record-query-changed", data=None),
        ],
        className="klik-card",
    )  # fmt: skip


def open_queries_notice(queries: pd.DataFrame, lang: str) -> html.Div | None:
    """For a jobcoach's workspace: the open queries about their clients, each linking to the
    record; None when there are none."""
    waiting = queries[queries["status"] == "open"] if not queries.empty else queries
    if waiting.empty:
        return None
    links = [
        html.Li(dcc.Link(f"{q.study_code}: {q.message[:80]}", href=f"/record?code={q.study_code}"))
        for q in waiting.itertuples(index=False)
    ]
    return html.Div(
        [html.P(t("notice", lang, n=len(waiting))), html.Ul(links)],
        className="klik-warn",
        id="workspace-open-queries",
    )


def monitor_queries_line(queries: pd.DataFrame, lang: str) -> html.Div | None:
    """For the researcher's monitor: how many queries are open or answered (awaiting closing),
    each linking to its record; None when every query is closed."""
    waiting = queries[queries["status"] != "closed"] if not queries.empty else queries
    if waiting.empty:
        return None
    answered = int((waiting["status"] == "answered").sum())
    text = {
        "nl": f"{len(waiting)} vragen over gegevens staan open ({answered} beantwoord, te sluiten):",
        "en": f"{len(waiting)} data queries are open ({answered} answered, to be closed):",
    }[lang]
    links = [
        html.Li(dcc.Link(f"#{q.query_id} {q.study_code} ({t(q.status, lang)})", href=f"/record?code={q.study_code}"))
        for q in waiting.head(20).itertuples(index=False)
    ]  # fmt: skip
    return html.Div(
        [html.P(text), html.Ul(links)], className="klik-warn", id="monitor-open-queries"
    )


def query_notice(role: str, lang: str) -> html.Div | None:
    """The notice of open queries for the current user (jobcoach: their clients; researcher: the
    study); nothing for a viewer, who never sees a record."""
    from dashboard import context
    from study.query_list import queries_frame

    if role not in ("jobcoach", "researcher"):
        return None
    with context.read_session() as s:
        frame = queries_frame(s, context.scope(), open_only=True)
    return (
        open_queries_notice(frame, lang)
        if role == "jobcoach"
        else monitor_queries_line(frame, lang)
    )
