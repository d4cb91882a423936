"""Request context for pages, callbacks and routes: the container, the user, the language.

The login machinery (:mod:`dashboard.auth`) sets the user on ``flask.g`` before every request;
everything else asks here. A page or callback typically does::

    user = page_user(Role.RESEARCHER, Role.JOBCOACH)   # refuses anyone else
    with read_session() as s:
        frame = trajectories_frame(s, scope(filters), as_of=today())
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g, request
from sqlalchemy import Select
from sqlalchemy.orm import Session

from dashboard.disclosure import release_day
from klik.wiring import Container
from study import audit
from study.access import (
    CohortFilter,
    entered_by,
    may_see_rows,
    require_role,
    visible_trajectories,
)
from study.clock import local_date
from study.errors import Forbidden
from study.models import User
from study.vocab import Role

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


def page_user(*roles: Role) -> User:
    """The logged-in user, refused (403) unless they have one of ``roles`` (any role if none given).

    Call it first in every layout function and callback: callbacks can be POSTed by anyone.
    """
    user = require_user()
    if roles:
        require_role(user, *roles)
    return user


def lang() -> str:
    """The UI language of this request: ``?lang=``, else the ``lang`` cookie, else Dutch."""
    choice = request.args.get("lang") or request.cookies.get("lang") or "nl"
    return choice if choice in LANGS else "nl"


def tr(texts: dict[str, str], language: str | None = None) -> str:
    """Pick the text for the language from ``{"nl": ..., "en": ...}``."""
    return texts.get(language or lang()) or texts["nl"]


def now() -> dt.datetime:
    """The current moment from the container's clock (UTC, timezone-aware)."""
    return container().clock.now()


def today() -> dt.date:
    """Today's date in the study's timezone, from the container's clock."""
    return local_date(now())


def as_of(user: User) -> dt.date:
    """The day a user's figures show: today, or for a viewer the last release day
    (:func:`dashboard.disclosure.release_day`, ``KLIK_VIEWER_RELEASE``)."""
    if may_see_rows(user):
        return today()
    return release_day(today(), container().settings.viewer_release)


def released(user: User, trajectories: Select[tuple[int]]) -> tuple[Select[tuple[int]], dt.date]:
    """What a user's computations read: the scope and the day (:func:`as_of`). A viewer's scope
    is the study as it stood on the release day: trajectories entered since wait for the
    next."""
    day = as_of(user)
    return (trajectories, day) if may_see_rows(user) else (entered_by(trajectories, day), day)


def scope(filters: CohortFilter | None = None) -> Select[tuple[int]]:
    """The SELECT of trajectory ids the current user may see, narrowed by ``filters``."""
    return visible_trajectories(require_user(), filters)


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only session for one request (no lock taken on SQLite)."""
    with container().read_sessions() as session:
        yield session


def audit_read(
    entity: str, entity_id: int | None, *, what: dict[str, Any] | None = None, reason: str = ""
) -> None:
    """Log that the current user read an individual record (researchers' reads are audited)."""
    audit_record(entity, entity_id, action="read", what=what, reason=reason)


def audit_record(
    entity: str,
    entity_id: int | None,
    *,
    action: str = "export",
    what: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Append an event by the current user to the audit log (its own short transaction)."""
    user = require_user()
    with container().sessions.begin() as s:
        audit.record(
            s,
            at=now(),
            actor=user.username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            new=what,
            reason=reason or None,
        )
