"""Serving the web application, with the scheduler in the same process by default."""

from __future__ import annotations

import typer

from klik.wiring import Container


def serve(container: Container, *, scheduler: bool = True, threads: int = 16) -> None:
    """Serve the dashboard and the form links until interrupted.

    With ``scheduler`` the tick and the mail sender run in a background thread of this one process
    (APScheduler cannot share its job store between processes; deployments with several web
    workers run ``klik scheduler`` once, separately, and serve with ``--no-scheduler``).
    """
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
