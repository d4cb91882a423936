"""Request context for pages, callbacks and routes: the container, the user, the language.

The login machinery sets the user on ``flask.g`` before every request; everything else asks here.
"""

from __future__ import annotations

from flask import current_app, g, request

from klik.wiring import Container
from study.errors import Forbidden
from study.models import User

LANGS = ("nl", "en")


def container() -> Container:
    """The application's container (engine, session factories, settings, clock)."""
    return current_app.extensions["klik"]


def current_user() -> User | None:
    """The logged-in user of this request, or None."""
    return g.get("klik_user")


def require_user() -> User:
    """The logged-in user; refuses the request when nobody is logged in."""
    user = current_user()
    if user is None:
        raise Forbidden("log eerst in", "please log in first")
    return user


def lang() -> str:
    """The UI language of this request: ``?lang=``, else the ``lang`` cookie, else Dutch."""
    choice = request.args.get("lang") or request.cookies.get("lang") or "nl"
    return choice if choice in LANGS else "nl"


def tr(texts: dict[str, str], language: str | None = None) -> str:
    """Pick the text for the language from ``{"nl": ..., "en": ...}``."""
    return texts.get(language or lang()) or texts["nl"]
