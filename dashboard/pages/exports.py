"""Exports page: each export the user may have is prepared in the background, then downloaded.

A button starts the export's job (see :mod:`dashboard.exports`); the row shows its progress
and, when the file is ready, a download link to ``/export/<kind>``, which serves the finished
file at once.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import MATCH, Input, Output, State, dcc, html

from dashboard import context
from dashboard.analysis_page import POLL_MS, polled, progress_line
from dashboard.exports import KINDS, ExportRefused, allowed_kinds, start_export
from dashboard.jobs import DONE
from study.vocab import Role

ROLES = (Role.RESEARCHER, Role.JOBCOACH, Role.VIEWER)

dash.register_page(
    __name__,
    path="/exports",
    title="Klik – exports",
    nav={"nl": "Exports", "en": "Exports"},
    roles=tuple(r.value for r in ROLES),
    order=80,
)

MAKE, STATE, POLL = "export-make", "export-state", "export-poll"
#: how long the callback waits for a quick export before showing progress (seconds)
QUICK_WAIT = 1.0

T = {
    "title": {"nl": "Exports", "en": "Exports"},
    "lead": {
        "nl": "Gepseudonimiseerd: deelnemers staan er alleen met hun studiecode in, nooit met naam "
        "of contactgegevens. Elke export wordt in het auditlog vastgelegd.",
        "en": "Pseudonymised: participants appear only by study code, never with a name or contact "
        "details. Every export is written to the audit log.",
    },
    "how": {
        "nl": "Kies ‘Maken’; bij een groot cohort duurt dat even. Daarna verschijnt de link om "
        "het bestand te downloaden.",
        "en": "Choose ‘Make’; for a large cohort this takes a while. Then a link to download "
        "the file appears.",
    },
    "scope_coach": {
        "nl": "U exporteert alleen de gegevens van uw eigen cliënten.",
        "en": "You export only the data of your own clients.",
    },
    "viewer": {
        "nl": "Met een kijkaccount zijn alleen totalen te zien; data op rijniveau kunt u niet "
        "exporteren. Het codeboek beschrijft alle variabelen.",
        "en": "A viewer account shows aggregates only; row-level data cannot be exported. The "
        "codebook describes every variable.",
    },
    "make": {"nl": "Maken", "en": "Make"},
    "download": {"nl": "Downloaden", "en": "Download"},
}


def _size(n_bytes: int, lang: str) -> str:
    mb = n_bytes / 2**20
    text = f"{mb:.1f} MB" if mb >= 0.1 else f"{max(1, round(n_bytes / 1024))} kB"
    return text.replace(".", ",") if lang == "nl" else text


def layout(**_query: Any) -> html.Div:
    user = context.page_user(*ROLES)
    lang = context.lang()
    notes = [html.P(T["how"][lang], className="klik-muted")]
    if user.role == Role.VIEWER:
        notes.append(html.P(T["viewer"][lang], className="klik-info"))
    elif user.role == Role.JOBCOACH:
        notes.append(html.P(T["scope_coach"][lang], className="klik-info"))
    rows = [
        html.Li(
            [
                html.Span(KINDS[k][lang], className="klik-export-name"),
                html.Button(
                    T["make"][lang],
                    id={"type": MAKE, "kind": k},
                    className="klik-primary",
                    **{"aria-label": f"{T['make'][lang]}: {KINDS[k][lang]}"},
                ),
                html.Div(id={"type": STATE, "kind": k}, className="klik-export-state"),
                dcc.Interval(id={"type": POLL, "kind": k}, interval=POLL_MS, disabled=True),
            ],
            className="klik-export-row",
        )
        for k in allowed_kinds(user)
    ]
    return html.Div(
        [
            html.H1(T["title"][lang]),
            html.P(T["lead"][lang], className="klik-lead"),
            *notes,
            html.Ul(rows, className="klik-card klik-downloads"),
        ],
        className="klik-page",
    )


@dash.callback(
    Output({"type": STATE, "kind": MATCH}, "children"),
    Output({"type": POLL, "kind": MATCH}, "disabled"),
    Input({"type": MAKE, "kind": MATCH}, "n_clicks"),
    Input({"type": POLL, "kind": MATCH}, "n_intervals"),
    State({"type": MAKE, "kind": MATCH}, "id"),
    prevent_initial_call=True,
)
def make(_clicks: Any, _tick: Any, button: Any) -> tuple:
    """Start (or look up) the export's job; a link once the file is ready."""
    context.page_user(*ROLES)
    lang = context.lang()
    kind = str(button.get("kind", "")) if isinstance(button, dict) else ""
    try:
        _user, status = start_export(kind, QUICK_WAIT, follow=polled())
    except ExportRefused as refused:
        return html.Div(refused.texts[lang], className="klik-alert", role="alert"), True
    if status.state != DONE:
        return progress_line(status, lang), status.done
    file = status.result
    # the link names this job, so the download is the file just made
    link = html.A(
        f"{T['download'][lang]} {file.name} ({_size(file.size, lang)})",
        href=f"/export/{kind}?job={status.key.digest}",
        id=f"export-{kind}",
        download=file.name,
    )
    return link, True
