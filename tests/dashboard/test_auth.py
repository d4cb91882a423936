"""Logins, sessions, cookie flags, CSRF and who may open which page (throttling: test_login_throttle)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from dashboard.auth import SESSION_COOKIE, safe_next
from study.models import AuditEvent, FailureCount, User, UserSession
from tests.dashboard.conftest import ORIGIN, PASSWORD, Env, csrf_headers, route_to


def _login(env: Env, username: str, password: str, client=None, address: str = "10.0.0.1"):
    c = client or env.client()
    return c.post(
        "/login",
        data={"username": username, "password": password},
        headers=ORIGIN,
        environ_base={"REMOTE_ADDR": address},
    )


def _user(env: Env, username: str) -> User:
    with env.container.read_sessions() as s:
        return s.scalar(select(User).where(User.username == username))


def test_anonymous_visitors_are_sent_to_login_everywhere(env: Env) -> None:
    c = env.client()
    for path in ("/", "/monitor", "/workspace", "/exports", "/outbox", "/anything"):
        resp = c.get(path)
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith("/login?next=")
    assert c.get("/_dash-layout").status_code == 401
    assert c.get("/_dash-dependencies").status_code == 401
    assert c.get("/export/csv_long").status_code == 401
    assert route_to(c, "/monitor", headers=ORIGIN).status_code == 401
    assert c.get("/health").status_code == 200
    assert c.get("/login").status_code == 200


def test_password_is_stored_as_argon2_hash(env: Env) -> None:
    assert _user(env, "researcher").password_hash.startswith("$argon2id$")
    assert PASSWORD not in _user(env, "researcher").password_hash


def test_login_sets_hardened_cookies_and_opens_pages(env: Env) -> None:
    c = env.client()
    resp = _login(env, "researcher", PASSWORD)
    cookies = resp.headers.getlist("Set-Cookie")
    session_cookie = next(x for x in cookies if x.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie
    csrf_cookie = next(x for x in cookies if x.startswith("_csrf_token="))
    assert "SameSite=Strict" in csrf_cookie and "HttpOnly" not in csrf_cookie
    c = env.login("researcher")
    page = c.get("/")
    assert page.status_code == 200 and "_dash-config" in page.get_data(as_text=True)
    layout = c.get("/_dash-layout").get_data(as_text=True)
    assert "Rita Onderzoek" in layout and "Uitloggen" in layout


def test_secure_flag_when_configured(db, clock) -> None:
    from dashboard.app import create_app
    from tests.dashboard.conftest import add_logins, make_container
    from tests.factory import build_cohort

    container = make_container(db, clock, secure_cookies=True)
    with container.sessions.begin() as s:
        cohort = build_cohort(s, clock.now())
    add_logins(container, cohort, clock.now())
    c = create_app(container).test_client()
    resp = c.post("/login", data={"username": "viewer", "password": PASSWORD}, headers=ORIGIN)
    for cookie in resp.headers.getlist("Set-Cookie"):
        assert "Secure" in cookie


def test_wrong_password_is_refused_and_counted(env: Env) -> None:
    resp = _login(env, "coach1", "not the password")
    assert resp.status_code == 401
    assert "klopt niet" in resp.get_data(as_text=True)
    assert SESSION_COOKIE not in (resp.headers.get("Set-Cookie") or "")
    with env.container.read_sessions() as s:
        counted = s.scalar(
            select(FailureCount.failures).where(
                FailureCount.scope == "login_pair", FailureCount.account == "coach1"
            )
        )
    assert counted == 1
    unknown = _login(env, "nobody", "whatever")
    assert unknown.status_code == 401
    with env.container.read_sessions() as s:
        failed = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login_failed")
        )
    assert failed == 2


def test_logout_really_ends_the_server_session(env: Env) -> None:
    c = env.login("researcher")
    token = c.get_cookie(SESSION_COOKIE).value
    assert c.get("/_dash-layout").status_code == 200
    resp = c.post("/logout", headers=ORIGIN)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    with env.container.read_sessions() as s:
        row = s.scalars(select(UserSession)).one()
    assert row.revoked_at is not None
    # a stolen copy of the old cookie opens nothing any more
    thief = env.client()
    thief.set_cookie(SESSION_COOKIE, token)
    assert thief.get("/_dash-layout").status_code == 401


def test_sessions_expire(env: Env) -> None:
    c = env.login("viewer")
    env.clock.advance(dt.timedelta(hours=13))
    assert c.get("/monitor").status_code == 302


def test_inactive_account_cannot_log_in(env: Env) -> None:
    with env.container.sessions.begin() as s:
        s.scalar(select(User).where(User.username == "viewer")).active = False
    assert _login(env, "viewer", PASSWORD).status_code == 401


def test_login_form_post_from_another_site_is_refused(env: Env) -> None:
    c = env.client()
    resp = c.post(
        "/login",
        data={"username": "researcher", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert resp.status_code == 403
    assert (
        c.post("/login", data={"username": "researcher", "password": PASSWORD}).status_code == 403
    )


def test_dash_callbacks_refuse_cross_site_requests(env: Env) -> None:
    c = env.login("researcher")
    good = csrf_headers(c)
    assert route_to(c, "/monitor", headers=good).status_code == 200
    # another site's page posting with the user's cookies: wrong Origin
    assert (
        route_to(c, "/monitor", headers={**good, "Origin": "https://evil.example"}).status_code
        == 403
    )
    # no Origin and no Referer
    assert route_to(c, "/monitor", headers={"X-CSRFToken": good["X-CSRFToken"]}).status_code == 403
    # right Origin but no CSRF header (a plain cross-site form cannot add one)
    assert route_to(c, "/monitor", headers=ORIGIN).status_code == 403
    # a token of another session does not fit
    other = env.login("coach1")
    assert route_to(c, "/monitor", headers=csrf_headers(other)).status_code == 403


def test_pages_refuse_roles_that_may_not_open_them(env: Env) -> None:
    coach = env.login("coach1")
    body = route_to(coach, "/outbox").get_data(as_text=True)
    assert "geen toegang" in body
    viewer = env.login("viewer")
    body = route_to(viewer, "/workspace").get_data(as_text=True)
    assert "geen toegang" in body


def test_navigation_depends_on_role(env: Env) -> None:
    def links(username: str) -> set[str]:
        layout = json.loads(env.login(username).get("/_dash-layout").get_data(as_text=True))
        found: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, dict):
                props = node.get("props", {})
                if node.get("type") == "Link" and "href" in props:
                    found.add(props["href"])
                for v in props.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(layout)
        return found

    assert {"/monitor", "/workspace", "/exports", "/outbox"} <= links("researcher")
    coach = links("coach1")
    assert "/workspace" in coach and "/outbox" not in coach and "/monitor" not in coach
    viewer = links("viewer")
    assert "/monitor" in viewer and "/workspace" not in viewer and "/outbox" not in viewer


def test_language_switch_sets_a_cookie_and_changes_the_ui(env: Env) -> None:
    c = env.login("researcher")
    resp = c.get("/lang/en?next=/monitor")
    assert resp.status_code == 302 and resp.headers["Location"] == "/monitor"
    assert "Log out" in c.get("/_dash-layout").get_data(as_text=True)
    c.get("/lang/nl")
    assert "Uitloggen" in c.get("/_dash-layout").get_data(as_text=True)


def test_login_redirect_target_must_be_local() -> None:
    assert safe_next("/monitor?x=1") == "/monitor?x=1"
    for bad in (
        "//evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
        None,
        "/\\evil",
    ):
        assert safe_next(bad) == "/"


def test_pages_carry_a_content_security_policy(env: Env) -> None:
    c = env.login("researcher")
    for path in ("/login", "/monitor"):
        policy = c.get(path).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        script = directives["script-src"].split()
        # Dash's own inline scripts by hash, nothing inline or evaluated otherwise
        assert script[0] == "'self'" and all(s.startswith("'sha256-") for s in script[1:])
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
    # the Dash page's inline scripts are exactly the hashed ones
    import base64
    import hashlib
    import re

    page = c.get("/monitor")
    # scripts inside HTML comments (Dash's Internet Explorer notice) never run
    body = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)
    allowed = set(
        page.headers["Content-Security-Policy"].split("script-src ")[1].split(";")[0].split()
    )
    for script in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", body, re.S):
        attributes, text = script
        if "application/json" in attributes:
            continue  # data, never executed
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
