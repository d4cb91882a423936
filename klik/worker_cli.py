"""The command ``klik worker``: runs the jobs of the shared queue (``KLIK_QUEUE_URL``)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from klik.settings import settings_for

DATABASE_HELP = "Database URL. Default: KLIK_DATABASE_URL, else klik.db here."


def register(app: typer.Typer) -> None:
    """Add ``klik worker`` to ``app``."""

    @app.command("worker")
    def worker_command(
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
        workers: Annotated[
            int,
            typer.Option(
                "--workers", "-w", min=1, help="Jobs run at once (each in its own child process)."
            ),
        ] = 2,
    ) -> None:
        """Run analyses and exports for every web process of the study, from the shared queue.

        Needs KLIK_QUEUE_URL (redis://... or sqlite:///...), the same as the web processes, and
        the same KLIK_EXPORT_DIR (or KLIK_DATA_DIR). Stop it with Ctrl+C (running jobs finish)
        or SIGTERM; a worker that dies leaves its job to another after KLIK_JOB_LEASE_SECONDS.
        """
        from dashboard.job_queue import container_worker, make_huey
        from klik.wiring import build

        settings = settings_for(database)
        if not settings.queue_url:
            typer.echo(
                "KLIK_QUEUE_URL is not set: without a shared queue every web process runs its "
                "own jobs, and no worker is needed.",
                err=True,
            )
            raise typer.Exit(2)
        # the modules of every job, imported once here (and inherited by each job's child)
        import dashboard.analysis_jobs
        import dashboard.exports
        import dashboard.monitor_views  # noqa: F401

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        container = build(settings)
        huey = make_huey(settings.queue_url, settings.queue_name)
        worker = container_worker(huey, container)
        typer.echo(
            f"Klik worker {worker.name}: {workers} at once, queue {_safe(settings.queue_url)}"
        )
        try:
            worker.consumer(workers).run()
        finally:
            container.dispose()


def _safe(url: str) -> str:
    """The queue URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
