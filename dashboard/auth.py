"""Logins: argon2 passwords, server-side sessions, throttling, unlocking, cookie flags and CSRF.

Failed logins are limited per account, per address and per pair of both, with exponential
back-off and no hard lock, in the database that every web process shares (the scheme is
described in :mod:`study.throttles`). A researcher unlocks a login with ``POST
/users/<username>/unlock``; ``klik users unlock`` does the same from the command line.

The session cookie holds a random 256-bit token; the ``user_session`` table holds only its SHA-256
hash, so logout (setting ``revoked_at``) really ends the session. A ``before_request`` hook sets
``flask.g.klik_user`` for every request and sends anonymous visitors of any dashboard URL
(including Dash's ``/_dash-*`` endpoints and ``/export/...``) to ``/login``.

Cross-site requests: every state-changing request must come from this site (``Origin`` or, failing
that, ``Referer`` naming this host). Dash's callback endpoint additionally needs the header
``X-CSRFToken`` equal to a token derived from the session (the Dash renderer copies it from the
``_csrf_token`` cookie, which another site can neither read nor set on our behalf).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlparse

from flask import Flask, Response, g, jsonify, redirect, render_template_string, request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard import context
from study import audit, throttles
from study.errors import KlikError
from study.models import User, UserSession
from study.services.users import hash_password, unlock_login, verify_password
from study.vocab import Role

SESSION_COOKIE = "klik_session"
#: the WSGI environ key under which the logged-in user's id is left for the access log
USER_ID_ENVIRON = "klik.user_id"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
SESSION_LIFETIME = dt.timedelta(hours=12)

#: paths anyone may open without logging in (prefixes)
PUBLIC_PREFIXES = ("/login", "/health", "/f/", "/form", "/assets/", "/_dash-component-suites/")
PUBLIC_EXACT = ("/favicon.ico",)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DASH_CALLBACK_PATH = "/_dash-update-component"


TEXTS = {
    "title": {"nl": "Inloggen", "en": "Log in"},
    "username": {"nl": "Gebruikersnaam", "en": "Username"},
    "password": {"nl": "Wachtwoord", "en": "Password"},
    "submit": {"nl": "Inloggen", "en": "Log in"},
    "bad": {
        "nl": "Gebruikersnaam of wachtwoord klopt niet.",
        "en": "Username or password is not correct.",
    },
    "bad_wait": {
        "nl": "Gebruikersnaam of wachtwoord klopt niet. U kunt het over {wait} opnieuw proberen.",
        "en": "Username or password is not correct. You can try again in {wait}.",
    },
    "locked": {
        "nl": "Te veel mislukte pogingen. Probeer het over {wait} opnieuw.",
        "en": "Too many failed attempts. Try again in {wait}.",
    },
    "unlocked": {
        "nl": "De login {username} is ontgrendeld.",
        "en": "The login {username} is unlocked.",
    },
    "logged_out": {"nl": "U bent uitgelogd.", "en": "You are logged out."},
    "intro": {
        "nl": "Klik: onderzoek naar jobcoaching. Log in met het account dat u van het "
        "onderzoeksteam kreeg.",
        "en": "Klik: research into job coaching. Log in with the account the research team gave you.",
    },
    "cross_site": {
        "nl": "Dit verzoek kwam niet van deze website en is geweigerd.",
        "en": "This request did not come from this website and was refused.",
    },
}


# --------------------------------------------------------------------------------------------
# Tokens


def hash_token(token: str) -> str:
    """What ``user_session.token_hash`` stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret_key: str, session_token: str) -> str:
    """The CSRF token bound to one login session (HMAC of the session token)."""
    return hmac.new(secret_key.encode(), f"csrf:{session_token}".encode(), "sha256").hexdigest()


def csrf_token_ok(secret_keys: Sequence[str], session_token: str, sent: str) -> bool:
    """Whether ``sent`` is the session's CSRF token under the current or an earlier key.

    Earlier keys count so that a rotation of the secret does not log everybody out mid-work.
    """
    return any(hmac.compare_digest(sent, csrf_token_for(key, session_token)) for key in secret_keys)


# --------------------------------------------------------------------------------------------
# Waiting times as people read them


def wait_text(seconds: float, language: str) -> str:
    """How long to wait, in words: whole seconds under a minute, else minutes rounded up."""
    whole = max(1, int(seconds + 0.999))
    if whole < 60:
        return f"{whole} seconden" if language == "nl" else f"{whole} seconds"
    minutes = (whole + 59) // 60
    if language == "nl":
        return "1 minuut" if minutes == 1 else f"{minutes} minuten"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


# --------------------------------------------------------------------------------------------
# Login and logout against the database


@cache
def _dummy_hash() -> str:
    # verifying against it makes an unknown username cost as much time as a wrong password
    return hash_password(secrets.token_hex(16))


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: a session token, or why there is none.

    ``wait_until``: when this address may try this account again; ``refused``: the attempt came
    too early and the password was not checked at all.
    """

    token: str | None
    user_id: int | None = None
    wait_until: dt.datetime | None = None
    refused: bool = False


def attempt_login(
    session: Session,
    username: str,
    password: str,
    *,
    at: dt.datetime,
    address: str,
) -> LoginResult:
    """Check a password and open a server-side session; count failures and make them wait.

    An address that must still wait (see :mod:`study.throttles`) is refused without looking at the
    password. Every checked attempt is audited, with the address as the reason.
    """
    name = throttles.account_key(username)
    wait = throttles.login_wait(session, name, address, at=at)
    if wait is not None:
        return LoginResult(None, None, wait, refused=True)
    user = session.scalar(select(User).where(User.username == name))
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        # unknown names count too, so that waiting never tells which accounts exist
        wait = throttles.record_login_failure(session, name, address, at=at)
        audit.record(
            session, at=at, actor=name or "?", action="login_failed", entity="app_user",
            entity_id=user.id if user else None, reason=address,
        )  # fmt: skip
        return LoginResult(None, user.id if user else None, wait)
    throttles.record_login_success(session, name, address, at=at)
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=hash_token(token), user_id=user.id, created_at=at,
            expires_at=at + SESSION_LIFETIME, revoked_at=None,
        )
    )  # fmt: skip
    audit.record(
        session, at=at, actor=name, action="login", entity="app_user", entity_id=user.id,
        reason=address,
    )  # fmt: skip
    return LoginResult(token, user.id)


def user_for_token(session: Session, token: str | None, *, at: dt.datetime) -> User | None:
    """The active user whose unexpired, unrevoked session ``token`` is, or None."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == hash_token(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > at,
            User.active.is_(True),
        )
    )


def revoke(session: Session, token: str, *, at: dt.datetime) -> None:
    """End the session of ``token`` (logout); its cookie no longer opens anything."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )


# --------------------------------------------------------------------------------------------
# Request checks


def is_public(path: str) -> bool:
    """Whether ``path`` is open without a login (login page, forms, health, static assets)."""
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES) or path.startswith("/lang/")


def same_site_request(allowed_hosts: set[str]) -> bool:
    """Whether the request's ``Origin`` (else ``Referer``) names one of ``allowed_hosts``."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlparse(source).netloc.lower() in allowed_hosts


def _allowed_hosts() -> set[str]:
    hosts = {request.host.lower()}
    base = urlparse(context.container().settings.base_url).netloc
    if base:
        hosts.add(base.lower())
    return hosts


def _wants_json(path: str) -> bool:
    return path.startswith(("/_dash-", "/_reload-hash", "/export/"))


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# --------------------------------------------------------------------------------------------
# Flask wiring

LOGIN_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Klik – {{ t.title }}</title><link rel="stylesheet" href="/assets/klik.css"></head>
<body class="klik-login-body"><main class="klik-login">
<h1>Klik</h1><p class="klik-muted">{{ t.intro }}</p>
{% if message %}<p class="klik-alert" role="alert">{{ message }}</p>{% endif %}
{% if info %}<p class="klik-info" role="status">{{ info }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{ next }}">
<label for="username">{{ t.username }}</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{{ username }}">
<label for="password">{{ t.password }}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{{ t.submit }}</button>
</form>
<p class="klik-lang"><a href="/lang/nl?next=/login" lang="nl">Nederlands</a> ·
<a href="/lang/en?next=/login" lang="en">English</a></p>
</main></body></html>"""


def _texts(language: str) -> dict[str, str]:
    return {k: v[language] for k, v in TEXTS.items()}


def _login_page(
    message: str = "", info: str = "", status: int = 200, username: str = ""
) -> Response:
    language = context.lang()
    html = render_template_string(
        LOGIN_PAGE,
        lang=language,
        t=_texts(language),
        message=message,
        info=info,
        next=safe_next(request.values.get("next")),
        username=username,
    )
    return Response(html, status=status, mimetype="text/html")


def _set_cookie(resp: Response, name: str, value: str, *, http_only: bool, strict: bool) -> None:
    secure = context.container().settings.secure_cookies
    resp.set_cookie(
        name,
        value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=http_only,
        secure=secure,
        samesite="Strict" if strict else "Lax",
        path="/",
    )


def init_auth(server: Flask) -> None:
    """Install login routes, the per-request user check, CSRF checks and security headers."""

    @server.before_request
    def load_user() -> Response | None:
        path = request.path
        g.klik_user = None
        g.klik_session_token = None
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with context.read_session() as s:
                user = user_for_token(s, token, at=context.now())
                if user is not None:
                    s.expunge(user)
            g.klik_user = user
            g.klik_session_token = token if user is not None else None
            if user is not None:
                # for the access log, which runs outside Flask's request context
                request.environ[USER_ID_ENVIRON] = user.id
        if request.method in UNSAFE_METHODS and not path.startswith(("/f/", "/form")):
            if not same_site_request(_allowed_hosts()):
                return _refuse_cross_site(path)
            if path == DASH_CALLBACK_PATH:
                keys = [server.config["SECRET_KEY"], *server.config.get("SECRET_KEY_FALLBACKS", ())]
                sent = request.headers.get(CSRF_HEADER, "")
                if not g.klik_session_token or not csrf_token_ok(keys, g.klik_session_token, sent):
                    if g.klik_user is None:
                        return _anonymous(path)
                    return _refuse_cross_site(path)
        if is_public(path) or g.klik_user is not None:
            return None
        return _anonymous(path)

    @server.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("klik_user") is not None:
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @server.get("/login")
    def login_form() -> Response:
        if g.klik_user is not None:
            return redirect(safe_next(request.args.get("next")))
        info = TEXTS["logged_out"][context.lang()] if request.args.get("out") else ""
        return _login_page(info=info)

    @server.post("/login")
    def login_submit() -> Response:
        language = context.lang()
        # behind trusted proxies ProxyFix has put the client's address here (see dashboard.app)
        address = request.remote_addr or "?"
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        now = context.now()
        with context.container().sessions.begin() as s:
            result = attempt_login(s, username, password, at=now, address=address)
        if result.refused and result.wait_until is not None:
            return _locked_page(result.wait_until, now, username)
        if result.token is None:
            if result.wait_until is not None:
                wait = wait_text((result.wait_until - now).total_seconds(), language)
                resp = _login_page(
                    TEXTS["bad_wait"][language].format(wait=wait), status=401, username=username
                )
                resp.headers["Retry-After"] = _retry_after(result.wait_until, now)
                return resp
            return _login_page(TEXTS["bad"][language], status=401, username=username)
        resp = redirect(safe_next(request.form.get("next")))
        _set_cookie(resp, SESSION_COOKIE, result.token, http_only=True, strict=False)
        csrf = csrf_token_for(server.config["SECRET_KEY"], result.token)
        _set_cookie(resp, CSRF_COOKIE, csrf, http_only=False, strict=True)
        return resp

    @server.post("/logout")
    def logout() -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with context.container().sessions.begin() as s:
                revoke(s, token, at=context.now())
                if g.klik_user is not None:
                    audit.record(
                        s, at=context.now(), actor=g.klik_user.username, action="logout",
                        entity="app_user", entity_id=g.klik_user.id,
                    )  # fmt: skip
        resp = redirect("/login?out=1")
        resp.delete_cookie(SESSION_COOKIE, path="/")
        resp.delete_cookie(CSRF_COOKIE, path="/")
        return resp

    @server.get("/lang/<code>")
    def switch_language(code: str) -> Response:
        target = request.args.get("next") or _local_referrer() or "/"
        resp = redirect(safe_next(target))
        if code in context.LANGS:
            resp.set_cookie(
                "lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                secure=context.container().settings.secure_cookies,
            )  # fmt: skip
        return resp

    @server.errorhandler(KlikError)
    def klik_error(exc: KlikError) -> tuple[Response, int]:
        return jsonify(error=exc.message(context.lang())), exc.status

    @server.post("/users/<username>/unlock")
    def unlock(username: str) -> Response:
        # same-site was checked in load_user; the CSRF token also proves the page was ours
        user = g.klik_user
        if user is None or not g.klik_session_token:
            return _anonymous(request.path)
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
        keys = [server.config["SECRET_KEY"], *server.config.get("SECRET_KEY_FALLBACKS", ())]
        expected = [csrf_token_for(key, g.klik_session_token) for key in keys]
        if not any(hmac.compare_digest(sent, token) for token in expected):
            return _refuse_cross_site(request.path)
        context.page_user(Role.RESEARCHER)
        with context.container().sessions.begin() as s:
            unlocked = unlock_login(
                s, username, actor=user.username, at=context.now(), study_id=user.study_id
            )
            name = unlocked.username
        return jsonify(
            username=name, message=TEXTS["unlocked"][context.lang()].format(username=name)
        )

    def _locked_page(until: dt.datetime, now: dt.datetime, username: str) -> Response:
        text = TEXTS["locked"][context.lang()].format(
            wait=wait_text((until - now).total_seconds(), context.lang())
        )
        resp = _login_page(text, status=429, username=username)
        resp.headers["Retry-After"] = _retry_after(until, now)
        return resp


def _retry_after(until: dt.datetime, now: dt.datetime) -> str:
    return str(max(1, int((until - now).total_seconds() + 0.999)))


def _local_referrer() -> str | None:
    ref = request.headers.get("Referer")
    if not ref:
        return None
    parsed = urlparse(ref)
    if parsed.netloc.lower() != request.host.lower():
        return None
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def _anonymous(path: str) -> Response:
    if _wants_json(path) or request.method != "GET":
        resp = jsonify(error=TEXTS["title"][context.lang()])
        resp.status_code = 401
        return resp
    target = path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return redirect(f"/login?next={_quote(target)}")


def _refuse_cross_site(path: str) -> Response:
    resp = jsonify(error=TEXTS["cross_site"][context.lang()])
    resp.status_code = 403
    return resp


def _quote(target: str) -> str:
    from urllib.parse import quote

    return quote(safe_next(target), safe="/")
