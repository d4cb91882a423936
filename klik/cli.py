"""The ``klik`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

import klik
from klik import instruments_cli
from klik.settings import settings_for

app = typer.Typer(
    help="Klik: longitudinal outcome-tracking studies of job coaching.\n\n"
    "Start with `klik demo` to see a simulated study, or `klik init` for a real one.",
    no_args_is_help=True,
    add_completion=False,
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Database URL or SQLite file, e.g. klik.db or postgresql://user@host/db. "
        "Default: KLIK_DATABASE_URL, else klik.db in the working directory.",
    ),
]

app.add_typer(
    instruments_cli.app, name="instruments", help="List, check, import and export instruments."
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"klik {klik.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Klik command line."""


@app.command()
def init(
    database: DatabaseOption = None,
    study_code: Annotated[
        str | None, typer.Option(help="Also create a study with this code if none exists.")
    ] = None,
    study_name: Annotated[str, typer.Option(help="Name of the study to create.")] = "Klik-studie",
) -> None:
    """Create or upgrade the database (and optionally a first study), and the secret file."""
    from klik.secret_cli import ensure_secret_file
    from klik.wiring import build
    from study.migrate import upgrade

    settings = settings_for(database)
    typer.echo(ensure_secret_file(settings))
    # read again: the key must be the one in the file from the first command on
    container = build(settings_for(database))
    try:
        revision = upgrade(container.engine)
        typer.echo(f"Database {container.engine.url.render_as_string()} is at revision {revision}.")
        if study_code:
            _ensure_study(container, study_code, study_name)
    finally:
        container.dispose()


def _ensure_study(container: object, code: str, name: str) -> None:
    from sqlalchemy import select

    from study.models import Study
    from study.services import create_study

    with container.sessions.begin() as s:  # type: ignore[attr-defined]
        if s.scalar(select(Study.id).where(Study.code == code)) is None:
            create_study(s, code=code, name=name, actor="cli", at=container.clock.now())  # type: ignore[attr-defined]
            typer.echo(f"Study {code} created.")
        else:
            typer.echo(f"Study {code} exists.")


@app.command()
def serve(
    database: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run the scheduler (invitations, reminders, mail) in this process. Use "
            "--no-scheduler when `klik scheduler` runs separately.",
        ),
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web processes (gunicorn, Linux). More than 1 needs --no-scheduler and one "
            "`klik scheduler` beside them.",
        ),
    ] = 1,
) -> None:
    """Serve the dashboard and the questionnaire links."""
    from klik.secret_cli import require_persistent_secret
    from klik.serving import serve as serve_container
    from klik.wiring import build
    from study.migrate import upgrade

    if workers > 1 and scheduler:
        raise typer.BadParameter(
            "met meer dan één werkproces: --no-scheduler, en één `klik scheduler` ernaast "
            "/ several workers need --no-scheduler and one `klik scheduler` beside them",
            param_hint="--workers",
        )
    settings = settings_for(database, host=host, port=port)
    container = build(settings)
    upgrade(container.engine)
    container = require_persistent_secret(container)
    serve_container(container, scheduler=scheduler, workers=workers)


def _register_commands() -> None:
    from klik import (
        analyse_cli,
        backup_cli,
        costs_cli,
        demo_cli,
        scheduler_cli,
        secret_cli,
        signals_cli,
        users_cli,
        worker_cli,
    )

    scheduler_cli.register(app)
    backup_cli.register(app)
    secret_cli.register(app)
    demo_cli.register(app)
    users_cli.register(app)
    analyse_cli.register(app)
    worker_cli.register(app)
    costs_cli.register(app)
    signals_cli.register(app)


_register_commands()
