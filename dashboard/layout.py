"""The shell around every page: header with navigation per role, language switch, user, logout.

A page declares its navigation entry and who may open it in its ``register_page`` call::

    dash.register_page(
        __name__,
        path="/monitor",
        title="Klik – cohortmonitor",
        nav={"nl": "Cohortmonitor", "en": "Cohort monitor"},   # label in the header
        roles=("researcher", "viewer"),                        # who may open it (omit: everyone)
        order=10,                                              # position in the header
    )

:func:`guard_pages` wraps every registered page's layout so that a user without one of its
``roles`` gets a "no access" message instead (the page's callbacks must still check the role
themselves with :func:`dashboard.context.page_user`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dash
from dash import dcc, html
from flask import has_request_context

from dashboard import context, demo_banner
from study.clock import local_date
from study.cohort_counts import cohort_counts
from study.models import User
from study.vocab import Role

TEXTS = {
    "logout": {"nl": "Uitloggen", "en": "Log out"},
    "no_access": {
        "nl": "U heeft geen toegang tot deze pagina.",
        "en": "You do not have access to this page.",
    },
    "skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
}


@dataclass(frozen=True)
class NavEntry:
    """One link in the header."""

    path: str
    label: dict[str, str]
    roles: tuple[str, ...]
    order: int


def nav_entries(registry: Iterable[dict[str, Any]], role: str) -> list[NavEntry]:
    """The header links ``role`` may see, in order, from Dash's page registry."""
    out = []
    for page in registry:
        label = page.get("nav")
        if not label:
            continue
        roles = tuple(str(r) for r in page.get("roles") or ())
        if roles and role not in roles:
            continue
        out.append(NavEntry(page["path"], dict(label), roles, int(page.get("order") or 0)))
    return sorted(out, key=lambda e: (e.order, e.path))


def may_open(page: dict[str, Any], user: User | None) -> bool:
    """Whether ``user`` may open the registered ``page`` (logged in and, if set, in its roles)."""
    if user is None:
        return False
    roles = tuple(str(r) for r in page.get("roles") or ())
    return not roles or str(user.role) in roles


def no_access(language: str) -> html.Div:
    return html.Div(
        html.P(TEXTS["no_access"][language], className="klik-alert"), className="klik-page"
    )


def header(user: User, language: str, entries: list[NavEntry]) -> html.Header:
    """The header: brand, navigation, user, language switch and logout."""
    other = "en" if language == "nl" else "nl"
    return html.Header(
        className="klik-header",
        children=[
            html.A(TEXTS["skip"][language], href="#klik-content", className="klik-skip"),
            dcc.Link("Klik", href="/", className="klik-brand"),
            html.Nav(
                [dcc.Link(e.label.get(language, e.label["nl"]), href=e.path) for e in entries],
                className="klik-nav",
                **{"aria-label": "Navigatie" if language == "nl" else "Navigation"},
            ),
            html.Div(
                className="klik-user",
                children=[
                    html.Span(
                        [user.display_name, " · ", Role(user.role).label(language)],
                        id="klik-user-name",
                    ),
                    html.A(
                        other.upper(),
                        href=f"/lang/{other}",
                        id="klik-lang-switch",
                        title="English" if other == "en" else "Nederlands",
                        lang=other,
                    ),
                    html.Form(
                        [html.Button(TEXTS["logout"][language], type="submit", id="klik-logout")],
                        action="/logout",
                        method="POST",
                        className="klik-logout",
                    ),
                ],
            ),
        ],
    )


def shell() -> html.Div:
    """The app layout for the current request (Dash calls it on every page load)."""
    user = context.current_user() if has_request_context() else None
    if user is None:
        return html.Div([dash.page_container])
    language = context.lang()
    entries = nav_entries(dash.page_registry.values(), str(user.role))
    return html.Div(
        className="klik-app",
        lang=language,
        children=[
            header(user, language, entries),
            *_demo_banner(user, language),
            html.Main(dash.page_container, id="klik-content", className="klik-main"),
        ],
    )


def _demo_banner(user: User, language: str) -> list[html.Div]:
    clock = context.container().clock
    if not demo_banner.is_simulated(clock):
        return []
    counts = None
    if user.role != Role.VIEWER:
        with context.read_session() as s:
            counts = cohort_counts(s, context.scope())
    offset = getattr(clock, "offset", dt.timedelta(0))
    real = local_date(context.now() - offset)
    return [demo_banner.demo_banner(context.today(), real, counts, language)]


def _guard(layout: Any, page: dict[str, Any]) -> Callable[..., Any]:
    def guarded(**kwargs: Any) -> Any:
        user = context.current_user()
        if not may_open(page, user):
            return no_access(context.lang())
        return layout(**kwargs) if callable(layout) else layout

    guarded.klik_unguarded = layout  # type: ignore[attr-defined]
    return guarded


def guard_pages(registry: dict[str, dict[str, Any]]) -> None:
    """Wrap every page layout in the registry with its role check (idempotent)."""
    for page in registry.values():
        layout = getattr(page["layout"], "klik_unguarded", page["layout"])
        page["layout"] = _guard(layout, page)


__all__ = ["NavEntry", "guard_pages", "header", "nav_entries", "shell"]
