"""Flask routes of the forms: personal links (``/f/<token>``, ``/form``) and the jobcoach's own forms.

Every answer carries ``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``. A personal
link is exchanged at once for a form-session cookie; the token is never logged, never put in a page
and never needed again during the visit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, request, url_for

from dashboard.forms.flow import FormFlow, FormUrls, Page
from dashboard.forms.pages import opening_page, render_message_page
from dashboard.forms.session import FORM_SESSION_SECONDS, FormSessionCodec, FormState
from klik.wiring import Container
from questionnaires.registry import load_registry
from study import responses, throttles
from study.errors import KlikError
from study.models import Invitation
from study.responses import Instruments
from study.tokens import is_well_formed

BLUEPRINT = "klik_forms"
COOKIE = "klik_form"
COACH_COOKIE = "klik_coach_form"

SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

TOKEN_IN_TEXT = re.compile(r"/f/[^\s\"'<>]+")
BRANCHING_JS = Path(__file__).with_name("static") / "branching.js"


def _branching_js() -> Response:
    """The script that shows and hides questions as a page is answered (no inline code)."""
    response = Response(BRANCHING_JS.read_bytes(), 200, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


class RedactLinkTokens(logging.Filter):
    """Replaces anything after ``/f/`` in a log message, so no token reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; let it through unchanged
            return True
        if "/f/" in message:
            record.msg = TOKEN_IN_TEXT.sub("/f/[redacted]", message)
            record.args = ()
        return True


def install_log_redaction(app: Flask) -> None:
    """Add :class:`RedactLinkTokens` to the loggers that could name a request path."""
    for logger in (
        app.logger,
        logging.getLogger("werkzeug"),
        logging.getLogger("waitress"),
        logging.getLogger("waitress.queue"),
    ):
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())


def _respond(
    page: Page, codec: FormSessionCodec, *, cookie: str, path: str, secure: bool
) -> Response:
    if page.redirect is not None:
        response = Response(status=page.status, headers={"Location": page.redirect})
    else:
        response = Response(page.html or "", status=page.status, mimetype="text/html")
    if page.state is None:
        response.delete_cookie(cookie, path=path, secure=secure, httponly=True, samesite="Strict")
    else:
        response.set_cookie(
            cookie,
            codec.dumps(page.state),
            max_age=FORM_SESSION_SECONDS,
            path=path,
            secure=secure,
            httponly=True,
            samesite="Strict",
        )
    return response


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def forms_blueprint(
    container: Container,
    *,
    instruments: Instruments | None = None,
) -> Blueprint:
    """The personal-link routes.

    ``GET /f/<token>``
        Checks the token (404 unknown or malformed; 410 submitted, closed or cancelled, with one
        page for all), opens a form session in a cookie and moves on to ``/form`` at once. An
        address with too many unknown links gets 429 for its next unknown or malformed ones, but a
        link that belongs to an invitation is always checked and served (see
        :mod:`study.throttles`); the counts live in the database that all processes share.
    ``GET /form``
        The current part, the review page, or the thank-you page; ``?lang=en|nl`` switches the
        language, ``?section=<n>`` goes to part ``n``.
    ``POST /form``
        Saves one part (``_csrf``, ``_section``, ``_action`` = ``next``/``back``, ``_version``:
        the fingerprint of the part's saved answers the page was shown with, answers by item id);
        a save from a stale page is refused with the saved answers (409).
    ``POST /form/submit``
        Submits the saved answers once (``_csrf``, ``submission_id``).

    ``instruments`` defaults to the built-in ones plus ``settings.instrument_dirs``.
    """
    registry: Instruments = instruments or load_registry(container.settings.instrument_dirs)
    codec = FormSessionCodec(container.settings.signing_keys, container.clock)
    flow = FormFlow(container.sessions, container.read_sessions, container.clock, registry)
    secure = container.settings.secure_cookies
    bp = Blueprint(BLUEPRINT, __name__)
    bp.after_request(_add_security_headers)
    bp.record_once(lambda setup: install_log_redaction(setup.app))

    def cookie_path() -> str:
        return url_for(f"{BLUEPRINT}.show")

    def urls() -> FormUrls:
        return FormUrls(
            form=url_for(f"{BLUEPRINT}.show"),
            submit=url_for(f"{BLUEPRINT}.submit"),
            script=url_for(f"{BLUEPRINT}.branching_js"),
        )

    def state() -> FormState | None:
        return codec.loads(request.cookies.get(COOKIE))

    def respond(page: Page) -> Response:
        return _respond(page, codec, cookie=COOKIE, path=cookie_path(), secure=secure)

    @bp.get("/f/<path:token>")
    def open_link(token: str) -> Response:
        address = request.remote_addr or "unknown"
        now = container.clock.now()
        with container.read_sessions() as s:
            wait = throttles.link_wait(s, address, at=now)
        if wait is not None and not is_well_formed(token):
            return throttled(wait, now)
        try:
            with container.sessions.begin() as s:
                invitation = responses.find_invitation_by_token(s, token, as_of=now)
                if invitation.opened_at is None:
                    invitation.opened_at = now
                draft = responses.response_for(s, invitation.id)
                instrument = responses.instrument_for(
                    registry, invitation.instrument_id, invitation.instrument_version
                )
                section = responses.resume_index(instrument, draft.answers if draft else {})
                lang = draft.lang if draft is not None and draft.lang == "en" else "nl"
                page_state = FormState.start(
                    invitation.id, section, lang=lang, token_hash=invitation.token_hash
                )
        except KlikError as exc:
            if exc.status == 410:
                # a real link that is no longer open: its holder is no guesser
                return respond(Page(410, render_message_page("link"), state=None))
            if wait is not None:
                # already waiting: refused without being counted again, so the wait ends
                return throttled(wait, now)
            with container.sessions.begin() as s:
                throttles.record_link_failure(s, address, at=now)
            return respond(Page(404, render_message_page("link"), state=None))
        target = url_for(f"{BLUEPRINT}.show")
        return respond(Page(200, opening_page(target), state=page_state))

    def throttled(until: dt.datetime, now: dt.datetime) -> Response:
        response = Response(render_message_page("throttled"), 429, mimetype="text/html")
        response.headers["Retry-After"] = str(max(1, int((until - now).total_seconds() + 0.999)))
        return response

    bp.add_url_rule("/form/branching.js", "branching_js", _branching_js, methods=["GET"])

    @bp.get("/form")
    def show() -> Response:
        return respond(
            flow.show(
                state(), urls(), lang=request.args.get("lang"), section=request.args.get("section")
            )
        )

    @bp.post("/form")
    def save() -> Response:
        return respond(flow.save(state(), urls(), request.form))

    @bp.post("/form/submit")
    def submit() -> Response:
        return respond(flow.submit(state(), urls(), request.form, actor=None))

    return bp


def coach_forms_blueprint(
    container: Container,
    *,
    authorise: Callable[[int], str],
    instruments: Instruments | None = None,
    url_prefix: str = "/coach/forms",
    name: str = "klik_coach_forms",
) -> Blueprint:
    """The same forms for a jobcoach logged in to the dashboard (no personal link needed).

    ``authorise(invitation_id)`` runs on every request before anything is read: it returns the
    actor name for the audit log (e.g. ``"jobcoach:jdevries"``) when the logged-in user may answer
    that invitation (their own client's jobcoach form), and raises
    :class:`study.errors.Forbidden` (or any :class:`study.errors.KlikError`) otherwise.

    Routes: ``GET/POST <url_prefix>/<invitation_id>`` and ``POST <url_prefix>/<invitation_id>/submit``,
    with the same parameters as ``/form``.
    """
    registry: Instruments = instruments or load_registry(container.settings.instrument_dirs)
    codec = FormSessionCodec(
        container.settings.signing_keys, container.clock, salt="klik.coach-form"
    )
    flow = FormFlow(container.sessions, container.read_sessions, container.clock, registry)
    secure = container.settings.secure_cookies
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.after_request(_add_security_headers)

    def urls(invitation_id: int) -> FormUrls:
        return FormUrls(
            form=url_for(f"{name}.show", invitation_id=invitation_id),
            submit=url_for(f"{name}.submit", invitation_id=invitation_id),
            script=url_for(f"{name}.branching_js"),
        )

    def state(invitation_id: int) -> FormState | None:
        current = codec.loads(request.cookies.get(COACH_COOKIE))
        if current is not None and current.invitation_id == invitation_id:
            return current
        with container.read_sessions() as s:
            invitation = s.get(Invitation, invitation_id)
            if invitation is None:
                return None
            draft = responses.response_for(s, invitation_id)
            instrument = responses.instrument_for(
                registry, invitation.instrument_id, invitation.instrument_version
            )
            section = responses.resume_index(instrument, draft.answers if draft else {})
        return FormState.start(invitation_id, section)

    def guarded(step: Callable[[int, str], Page]) -> Callable[[int], Response]:
        def view(invitation_id: int) -> Response:
            try:
                actor = authorise(invitation_id)
            except KlikError as exc:
                page = Page(exc.status, render_message_page("session"), state=None)
            else:
                page = step(invitation_id, actor)
            path = url_for(f"{name}.show", invitation_id=invitation_id)
            return _respond(page, codec, cookie=COACH_COOKIE, path=path, secure=secure)

        view.__name__ = step.__name__
        return view

    def show(invitation_id: int, actor: str) -> Page:
        return flow.show(
            state(invitation_id),
            urls(invitation_id),
            lang=request.args.get("lang"),
            section=request.args.get("section"),
        )

    def save(invitation_id: int, actor: str) -> Page:
        return flow.save(state(invitation_id), urls(invitation_id), request.form)

    def submit(invitation_id: int, actor: str) -> Page:
        return flow.submit(state(invitation_id), urls(invitation_id), request.form, actor=actor)

    bp.add_url_rule("/branching.js", "branching_js", _branching_js, methods=["GET"])
    bp.add_url_rule("/<int:invitation_id>", "show", guarded(show), methods=["GET"])
    bp.add_url_rule("/<int:invitation_id>", "save", guarded(save), methods=["POST"])
    bp.add_url_rule("/<int:invitation_id>/submit", "submit", guarded(submit), methods=["POST"])
    return bp


__all__ = [
    "COACH_COOKIE",
    "COOKIE",
    "RedactLinkTokens",
    "coach_forms_blueprint",
    "forms_blueprint",
    "install_log_redaction",
]
