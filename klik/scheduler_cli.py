"""Commands ``klik tick``, ``klik scheduler`` and ``klik send-mail``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from klik.settings import settings_for

DATABASE_HELP = "Database URL. Default: KLIK_DATABASE_URL, else klik.db here."


def _as_of(value: str | None) -> dt.datetime | None:
    """A date (noon in Amsterdam that day) or an ISO timestamp (UTC when no offset is given)."""
    if value is None:
        return None
    from study.clock import AMSTERDAM

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        moment = dt.datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(day, dt.time(12), AMSTERDAM).astimezone(dt.UTC)


def register(app: typer.Typer) -> None:
    """Add the scheduling commands to ``app``."""

    @app.command("tick")
    def tick_command(
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Day (YYYY-MM-DD) or moment to tick for; default: now."),
        ] = None,
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
    ) -> None:
        """Run one scheduler tick by hand (for cron, or to catch up)."""
        from klik.secret_cli import require_persistent_secret
        from klik.wiring import build
        from study.migrate import upgrade
        from study.scheduling.runner import instrument_versions
        from study.scheduling.tick import tick

        container = build(settings_for(database))
        try:
            upgrade(container.engine)
            container = require_persistent_secret(container)
            settings = container.settings
            moment = _as_of(as_of) or container.clock.now()
            with container.sessions.begin() as s:
                report = tick(
                    s,
                    as_of=moment,
                    secret_key=settings.secret_key,
                    instrument_versions=instrument_versions(tuple(settings.instrument_dirs)),
                )
        finally:
            container.dispose()
        typer.echo(
            f"Tick {report.day}: {report.created} aangemaakt/created, {report.opened} geopend/"
            f"opened, {report.reminders} herinneringen/reminders, {report.missed} gemist/missed, "
            f"{report.cancelled} geannuleerd/cancelled, {report.mails} mails "
            f"({report.mails_without_address} zonder adres/without address)."
        )

    @app.command("scheduler")
    def scheduler_command(
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
    ) -> None:
        """Run the scheduler (ticks and mail) as its own process, until Ctrl+C."""
        from klik.secret_cli import require_persistent_secret
        from klik.wiring import build
        from study.migrate import upgrade
        from study.scheduling.runner import run_blocking

        container = build(settings_for(database))
        try:
            upgrade(container.engine)
            container = require_persistent_secret(container)
            typer.echo("Planner draait / scheduler running (Ctrl+C stopt/stops)")
            run_blocking(container)
        finally:
            container.dispose()

    @app.command("send-mail")
    def send_mail_command(
        database: Annotated[
            str | None, typer.Option("--database", "-d", help=DATABASE_HELP)
        ] = None,
        retry_failed: Annotated[
            bool,
            typer.Option(
                "--retry-failed",
                help="First queue failed mail again (with the current addresses), then send.",
            ),
        ] = False,
        kind: Annotated[
            str | None,
            typer.Option(
                "--kind", help="With --retry-failed: only this kind (invitation, reminder)."
            ),
        ] = None,
    ) -> None:
        """Deliver the outbox mail that is due now (SMTP, or files when no SMTP host is set)."""
        from klik.secret_cli import require_persistent_secret
        from klik.wiring import build
        from study.mail.resend import resend_failed
        from study.mail.sender import send_pending

        container = build(settings_for(database))
        try:
            container = require_persistent_secret(container)
            settings = container.settings
            if retry_failed:
                with container.sessions.begin() as s:
                    again = resend_failed(s, actor="cli", at=container.clock.now(), kind=kind)
                typer.echo(
                    f"Opnieuw in de wachtrij / queued again: {again.queued}; zonder adres / "
                    f"without address: {again.without_address}; uitnodiging gesloten / "
                    f"invitation closed: {again.closed}."
                )
            report = send_pending(container.sessions, settings=settings, clock=container.clock)
        finally:
            container.dispose()
        typer.echo(
            f"Mail: {report.sent} verzonden/sent, {report.retrying} opnieuw later/retrying, "
            f"{report.failed} mislukt/failed, {report.cancelled} geannuleerd/cancelled."
        )
        for error in report.errors:
            typer.echo(f"  {error}", err=True)
