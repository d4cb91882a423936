"""Serving the web application, with the scheduler in the same process by default."""

from __future__ import annotations

import typer

from klik.wiring import Container


def serve(
    container: Container, *, scheduler: bool = True, threads: int = 16, workers: int = 1
) -> None:
    """Serve the dashboard and the form links until interrupted.

    One worker: waitress in this process (the demo, Windows, macOS). Several: gunicorn, this
    process its master and each worker a process of its own with ``threads`` threads (Linux).
    With ``scheduler`` the tick and the mail sender run in a background thread of this one process
    (APScheduler cannot share its job store between processes; deployments with several web
    workers run ``klik scheduler`` once, separately, and serve with ``--no-scheduler``).
    """
    if workers > 1:
        if scheduler:
            raise ValueError("several workers serve with --no-scheduler beside one klik scheduler")
        _serve_workers(container, workers=workers, threads=threads)
        return
    from waitress import serve as waitress_serve

    from dashboard.app import create_app
    from study.scheduling.runner import start_background

    settings = container.settings
    server = create_app(container, log_requests=True)
    background = start_background(container) if scheduler else None
    typer.echo(f"Klik draait op http://{settings.host}:{settings.port}/  (Ctrl+C stopt / stops)")
    if background is not None:
        typer.echo("De planner (uitnodigingen, herinneringen, e-mail) draait mee in dit proces.")
    try:
        waitress_serve(server, host=settings.host, port=settings.port, threads=threads, _quiet=True)
    finally:
        if background is not None:
            background.shutdown(wait=False)


def _serve_workers(container: Container, *, workers: int, threads: int) -> None:
    """gunicorn with ``workers`` processes, each building its own app after the fork."""
    from gunicorn.app.base import BaseApplication

    from dashboard.app import create_app

    settings = container.settings

    def post_fork(_server: object, _worker: object) -> None:
        # connections opened by the master (migrations) must not be shared with a worker
        container.engine.dispose(close=False)

    class Workers(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "post_fork": post_fork,
                "timeout": 120,
                "graceful_timeout": 20,
                "accesslog": None,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> object:
            return create_app(container, log_requests=True)

    typer.echo(
        f"Klik draait op http://{settings.host}:{settings.port}/ met {workers} werkprocessen "
        "(Ctrl+C stopt / stops)"
    )
    Workers().run()
