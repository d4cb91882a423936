"""The one-time password link: ``/login/reset/<token>`` shows a form, a POST sets the password.

The path lies under ``/login``, so it needs no login; the token is the only key, it works once
and for 48 hours (see :mod:`study.services.accounts`). Refusals are said in Dutch and English.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string, request

from dashboard import context
from study.errors import KlikError
from study.services.accounts import set_password_with_token, user_of_token

TEXTS = {
    "title": {"nl": "Nieuw wachtwoord", "en": "New password"},
    "intro": {
        "nl": "Kies een nieuw wachtwoord voor {user} (minstens 10 tekens).",
        "en": "Choose a new password for {user} (at least 10 characters).",
    },
    "password": {"nl": "Nieuw wachtwoord", "en": "New password"},
    "again": {"nl": "Nogmaals", "en": "Again"},
    "submit": {"nl": "Wachtwoord instellen", "en": "Set password"},
    "differ": {"nl": "De twee wachtwoorden verschillen.", "en": "The two passwords differ."},
    "done": {
        "nl": "Uw wachtwoord is ingesteld. U kunt nu inloggen.",
        "en": "Your password is set. You can log in now.",
    },
    "login": {"nl": "Naar inloggen", "en": "To the login"},
}

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Klik – {{ t.title }}</title><link rel="stylesheet" href="/assets/klik.css"></head>
<body class="klik-login-body"><main class="klik-login">
<h1>{{ t.title }}</h1>
{% if message %}<p class="klik-alert" role="alert">{{ message }}</p>{% endif %}
{% if done %}<p class="klik-info" role="status">{{ t.done }}</p><p><a href="/login">{{ t.login }}</a></p>
{% elif username %}<p class="klik-muted">{{ intro }}</p>
<form method="post">
<label for="password">{{ t.password }}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="10">
<label for="again">{{ t.again }}</label>
<input id="again" name="again" type="password" autocomplete="new-password" required minlength="10">
<button type="submit">{{ t.submit }}</button>
</form>{% endif %}
</main></body></html>"""


def _page(status: int = 200, **values: object) -> Response:
    lang = context.lang()
    t = {k: v[lang] for k, v in TEXTS.items()}
    intro = t["intro"].format(user=values.get("username", ""))
    html = render_template_string(PAGE, lang=lang, t=t, intro=intro, **values)
    resp = Response(html, status=status, mimetype="text/html")
    # the token is in the path: keep it out of Referer headers and caches
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def reset_blueprint() -> Blueprint:
    """The blueprint of the password link."""
    bp = Blueprint("klik_reset", __name__)

    @bp.get("/login/reset/<token>")
    def form(token: str) -> Response:
        keys = context.container().settings.signing_keys
        try:
            with context.read_session() as s:
                user = user_of_token(s, token, keys, at=context.now())
                username = user.username
        except KlikError as exc:
            return _page(403, message=exc.message(context.lang()))
        return _page(username=username)

    @bp.post("/login/reset/<token>")
    def submit(token: str) -> Response:
        lang = context.lang()
        keys = context.container().settings.signing_keys
        password, again = request.form.get("password", ""), request.form.get("again", "")
        try:
            if password != again:
                with context.read_session() as s:
                    username = user_of_token(s, token, keys, at=context.now()).username
                return _page(400, message=TEXTS["differ"][lang], username=username)
            with context.container().sessions.begin() as s:
                set_password_with_token(s, token, password, keys, at=context.now())
        except KlikError as exc:
            status = 400 if exc.status == 400 else 403
            username = ""
            if status == 400:
                with context.read_session() as s:
                    username = user_of_token(s, token, keys, at=context.now()).username
            return _page(status, message=exc.message(lang), username=username)
        return _page(done=True)

    return bp
