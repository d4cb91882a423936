"""Commands ``klik backup`` and ``klik restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klik.settings import settings_for

DATABASE_HELP = "Database URL or SQLite file. Default: KLIK_DATABASE_URL, else klik.db here."


def register(app: typer.Typer) -> None:
    """Add the backup commands to ``app``."""

    @app.command("backup")
    def backup_command(
        out: Annotated[Path, typer.Argument(help="New (or empty) folder for the backup.")],
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
        verify: Annotated[
            bool,
            typer.Option("--verify", help="Compare the exports of the database and the backup."),
        ] = False,
    ) -> None:
        """Back up a study while it runs: database, secret-key file, instrument folders."""
        from klik.backup import BackupError, backup
        from klik.wiring import build
        from study.clock import local_date

        settings = settings_for(database)
        container = build(settings)
        try:
            now = container.clock.now()
            secret = settings.secret_file
            report = backup(
                container.engine,
                out,
                taken_at=now,
                as_of=local_date(now),
                secret_file=Path(secret) if secret else None,
                secret_from_environment=not settings.secret_generated
                and not (secret and Path(secret).is_file()),
                instrument_dirs=tuple(settings.instrument_dirs),
                verify=verify,
            )
        except BackupError as exc:
            typer.echo(f"Backup mislukt / failed: {exc}", err=True)
            raise typer.Exit(1) from exc
        finally:
            container.dispose()
        rows = sum(report.tables.values())
        typer.echo(f"Backup in {out}: {rows} rijen/rows in {len(report.tables)} tabellen/tables.")
        for line in report.included:
            typer.echo(f"  + {line}")
        typer.echo("Niet in de backup / not included:")
        for line in report.not_included:
            typer.echo(f"  - {line}")
        if verify:
            typer.echo("Exports van database en backup zijn gelijk / exports are identical.")

    @app.command("restore")
    def restore_command(
        backup_dir: Annotated[Path, typer.Argument(help="Folder made by klik backup.")],
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
        verify: Annotated[
            bool,
            typer.Option("--verify", help="Compare the restored exports with the backup's."),
        ] = False,
    ) -> None:
        """Restore a backup into an empty database (and the secret-key file, instrument folders)."""
        from klik.backup import BackupError, restore
        from klik.wiring import build

        settings = settings_for(database)
        container = build(settings)
        try:
            secret = settings.secret_file
            report = restore(
                backup_dir,
                container.engine,
                secret_file=Path(secret) if secret else None,
                verify=verify,
            )
        except BackupError as exc:
            typer.echo(f"Terugzetten mislukt / restore failed: {exc}", err=True)
            raise typer.Exit(1) from exc
        finally:
            container.dispose()
        rows = sum(report.tables.values())
        typer.echo(f"Teruggezet / restored: {rows} rijen/rows.")
        for line in report.restored_files:
            typer.echo(f"  + {line}")
        for line in report.left_alone:
            typer.echo(f"  ! niet overschreven / not overwritten: {line}")
        if report.verified is False:
            typer.echo(f"Exports verschillen / exports differ: {report.differences}", err=True)
            raise typer.Exit(2)
        if report.verified:
            typer.echo("Exports gelijk aan de backup / exports identical to the backup.")
