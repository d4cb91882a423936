"""The web application: one Flask server carrying the Dash pages and the form routes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dash
from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import access_log, auth, context, exports, jobs, layout
from dashboard.forms import coach_forms_blueprint, forms_blueprint
from dashboard.reset_routes import reset_blueprint
from klik.wiring import Container
from study.errors import Forbidden
from study.vocab import Respondent, Role
from study.worklists import visible_invitation

HERE = Path(__file__).parent


def create_app(container: Container, *, log_requests: bool = False) -> Flask:
    """Build the web application for ``container`` (app factory; nothing global).

    ``log_requests`` writes the access log named by ``settings.access_log`` (see
    :mod:`dashboard.access_log`); ``klik serve`` turns it on. The client's address is taken from
    ``X-Forwarded-For`` only as far as ``settings.trusted_proxies`` proxies vouch for it.

    Routes: ``/login``, ``/logout`` (POST), ``/lang/<nl|en>``, ``/health`` (alive),
    ``/health/ready`` (database and queue answer: 200, else 503), ``/export/<kind>``,
    the personal-link forms, and the Dash pages in ``dashboard/pages`` (``/``, ``/monitor``,
    ``/workspace``, ``/exports``, ``/outbox``, ...). Every URL but the login page, the forms,
    ``/health`` and static assets needs a login (see :mod:`dashboard.auth`).
    """
    server = Flask(__name__, static_folder=None)
    server.config["SECRET_KEY"] = container.settings.secret_key
    # keys replaced by `klik rotate-secret` still verify what they signed
    server.config["SECRET_KEY_FALLBACKS"] = list(container.settings.signing_keys[1:])
    server.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    server.extensions["klik"] = container
    server.extensions[jobs.EXTENSION] = make_runner(container)

    auth.init_auth(server)
    server.register_blueprint(forms_blueprint(container))
    server.register_blueprint(reset_blueprint())

    @server.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @server.get("/health/ready")
    def ready() -> tuple[dict[str, object], int]:
        # a load balancer sends requests only to a process whose database and queue answer
        checks = readiness(container, server.extensions[jobs.EXTENSION])
        ok = all(value == "ok" or isinstance(value, int) for value in checks.values())
        return {"status": "ready" if ok else "not ready", **checks}, 200 if ok else 503

    exports.init_routes(server)
    server.register_blueprint(coach_forms_blueprint(container, authorise=authorise_coach_form))

    app = dash.Dash(
        "dashboard",
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        serve_locally=True,
        title="Klik",
        update_title=None,
    )
    app.layout = layout.shell
    layout.guard_pages(dash.page_registry)
    # Dash collects `dash.callback`s of the page modules in a process-wide list that the first
    # request of *some* app takes over; taking them now binds them to this app, so several apps
    # in one process (tests, benchmarks) each get their own callbacks.
    with server.app_context():
        app._setup_server()
    server.extensions["klik_dash"] = app

    @server.after_request
    def add_content_security_policy(resp: Response) -> Response:
        # the form pages set their own, stricter policy; Dash adds the inline script of its
        # page routing late, so the hashes are taken per response (a few short strings)
        if resp.mimetype == "text/html":
            resp.headers.setdefault(
                "Content-Security-Policy", content_security_policy(app.csp_hashes())
            )
        return resp

    wrap_wsgi(server, container, log_requests=log_requests)
    return server


def readiness(container: Container, runner: object) -> dict[str, object]:
    """What a readiness probe reports: ``database`` ("ok" or the error's name) and, with a
    shared queue, ``queue_pending`` (jobs waiting) or ``queue`` (the error's name)."""
    from sqlalchemy import text

    checks: dict[str, object] = {}
    try:
        with container.read_sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means: not ready
        checks["database"] = type(exc).__name__
    ping = getattr(runner, "ping", None)
    if ping is not None:
        try:
            checks["queue_pending"] = ping()
        except Exception as exc:
            checks["queue"] = type(exc).__name__
    return checks


def make_runner(container: Container) -> object:
    """The job runner: the Huey queue of ``settings.queue_url`` shared with ``klik worker``
    processes (see :mod:`dashboard.job_queue`), or without one the same queue on a SQLite file
    in the data folder with its consumer in this process (jobs still in child processes, so a
    restart recomputes nothing and nothing but Python is needed)."""
    from dashboard.job_queue import QueueRunner, container_worker, embedded_consumer, make_huey

    settings = container.settings
    if not settings.queue_url and not hasattr(os, "fork"):
        # no child processes on this system: jobs on threads of this process
        return jobs.JobRunner(cache_dir=settings.job_cache_folder, time_limits=settings.time_limits)
    url = settings.queue_url or embedded_queue_url(settings.job_cache_folder)
    huey = make_huey(url, settings.queue_name)
    runner = QueueRunner(huey, lease=settings.job_lease_seconds)
    if not settings.queue_url:
        consumer = embedded_consumer(container_worker(huey, container), EMBEDDED_WORKERS)
        runner.on_shutdown(consumer)
    return runner


#: jobs an embedded consumer runs at once
EMBEDDED_WORKERS = 2


def embedded_queue_url(folder: Path | None) -> str:
    """The embedded queue's SQLite file: in ``folder`` (the data folder's job cache), or in a
    temporary folder of this process when the study has no data folder."""
    where = folder if folder is not None else Path(tempfile.mkdtemp(prefix="klik-jobs-"))
    return f"sqlite:///{where / 'jobs.sqlite3'}"


def wrap_wsgi(server: Flask, container: Container, *, log_requests: bool) -> None:
    """Put the access log and, behind trusted proxies, ProxyFix around the application.

    ProxyFix goes outermost so that the access log and the throttles see the client's address;
    with ``trusted_proxies = 0`` no forwarding header is believed, whoever sends it.
    """
    settings = container.settings
    if log_requests:
        handler = access_log.open_handler(
            settings.access_log,
            max_bytes=settings.access_log_max_bytes,
            backups=settings.access_log_backups,
        )
        logged = access_log.AccessLog(server.wsgi_app, handler, container.clock)
        server.extensions["klik_access_log"] = logged
        server.wsgi_app = logged  # type: ignore[method-assign]
    if settings.trusted_proxies > 0:
        hops = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def content_security_policy(script_hashes: list[str]) -> str:
    """The policy of the dashboard's pages: nothing from elsewhere, no inline script but Dash's
    own (by hash). Styles may be inline because React and Plotly set them at run time."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def authorise_coach_form(invitation_id: int) -> str:
    """Let a logged-in jobcoach answer the jobcoach forms of their own clients, nobody else.

    Returns the actor name for the audit log; refuses (403) any other invitation.
    """
    user = context.page_user(Role.JOBCOACH)
    with context.read_session() as s:
        invitation = visible_invitation(s, context.scope(), invitation_id)
        allowed = invitation is not None and invitation.respondent == Respondent.JOBCOACH
    if not allowed:
        raise Forbidden(
            "deze vragenlijst hoort niet bij uw cliënten", "this form is not one of your clients'"
        )
    return f"jobcoach:{user.username}"
