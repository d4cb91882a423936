"""The persistent secret on the command line: made by ``klik init``, required by the long-running
commands, replaced by ``klik rotate-secret``.

Personal links are derived from the secret key, so a key that changes with every process would
leave every mailed link dead after a restart, and a web process and a separate scheduler would
disagree about every link. Only the demo may run on a throwaway key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from klik import secret_file
from klik.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from klik.wiring import Container

#: who builds the demo study (``study.simulator.params.SimulationParams.actor``)
DEMO_ACTOR = "simulator"


def refusal(settings: Settings) -> str:
    """Why a command will not start without a persistent secret, and what to do (nl, then en)."""
    path = settings.secret_file
    return (
        "Klik start niet: er is geen vaste geheime sleutel. Persoonlijke links en inlogsessies "
        "zouden na een herstart, of tussen `klik serve` en `klik scheduler`, niet meer werken.\n"
        f"Maak de sleutel met `klik init` (schrijft {path}), of zet KLIK_SECRET_FILE of "
        "KLIK_SECRET_KEY.\n"
        "Klik will not start: there is no persistent secret key. Personal links and login "
        "sessions would stop working after a restart, or between `klik serve` and "
        "`klik scheduler`.\n"
        f"Create the key with `klik init` (writes {path}), or set KLIK_SECRET_FILE or "
        "KLIK_SECRET_KEY."
    )


def is_demo_database(engine: Engine) -> bool:
    """Whether every study in the database was built by the simulator (``klik demo``)."""
    from sqlalchemy import func, select

    from study.models import AuditEvent, Study

    with engine.connect() as c:
        studies = c.scalar(select(func.count()).select_from(Study))
        built = c.scalar(
            select(func.count(func.distinct(AuditEvent.entity_id))).where(
                AuditEvent.entity == "study",
                AuditEvent.action == "create",
                AuditEvent.actor == DEMO_ACTOR,
            )
        )
    return bool(studies) and built == studies


def demo_secret_path(database_path: Path) -> Path:
    """Where ``klik demo`` keeps its own secret: next to the demo database (``demo.secret``)."""
    return database_path.with_suffix(".secret")


def require_persistent_secret(container: Container) -> Container:
    """``container`` if its secret survives a restart; for a demo database its own secret file
    (or, lacking one, the throwaway key); otherwise exit with :func:`refusal`."""
    settings = container.settings
    if not settings.secret_generated:
        return container
    if is_demo_database(container.engine):
        database = container.engine.url.database
        if container.engine.url.get_backend_name() == "sqlite" and database:
            own = demo_secret_path(Path(database))
            if own.is_file():
                keys = secret_file.read_keys(own)
                if keys:
                    demo = dataclasses.replace(
                        container,
                        settings=settings.model_copy(
                            update={
                                "secret_key": keys[0],
                                "old_secret_keys": tuple(keys[1:]),
                                "secret_file": own,
                                "secret_generated": False,
                            }
                        ),
                    )
                    return demo
        typer.echo(
            "Demostudie: de geheime sleutel geldt alleen voor dit proces / demo study: the "
            "secret key lasts only as long as this process.",
            err=True,
        )
        return container
    typer.echo(refusal(settings), err=True)
    container.dispose()
    raise typer.Exit(code=2)


def ensure_secret_file(settings: Settings) -> str:
    """Create the secret file of ``settings`` if there is none; a line saying what happened."""
    path = settings.secret_file
    if not settings.secret_generated and not path.exists():
        return "Geheime sleutel uit KLIK_SECRET_KEY / secret key from KLIK_SECRET_KEY."
    if secret_file.create(path):
        return f"Geheime sleutel gemaakt in / secret key created in {path} (0600; maak er een back-up van / back it up)."
    return f"Geheime sleutel staat in / secret key is in {path}."


def register(app: typer.Typer) -> None:
    """Add ``klik rotate-secret`` to ``app``."""

    @app.command("rotate-secret")
    def rotate_secret(
        keep: int = typer.Option(
            5, min=1, help="How many earlier keys stay valid for links already mailed."
        ),
    ) -> None:
        """Put a new secret key in the secret file; links already mailed keep working."""
        from klik.settings import settings_for

        settings = settings_for(None)
        path = settings.secret_file
        if not path.is_file():
            typer.echo(
                f"Er is geen sleutelbestand {path}; maak het met `klik init` / there is no "
                f"secret file {path}; create it with `klik init`.",
                err=True,
            )
            raise typer.Exit(code=2)
        if settings.secret_key not in secret_file.read_keys(path):
            typer.echo(
                "Let op: KLIK_SECRET_KEY gaat voor het bestand / note: KLIK_SECRET_KEY overrides "
                "the file.",
                err=True,
            )
        kept = secret_file.rotate(path, keep=keep)
        typer.echo(
            f"Nieuwe sleutel in {path}; {kept} eerdere blijven geldig. Herstart `klik serve` en "
            f"`klik scheduler`.\nNew key in {path}; {kept} earlier key(s) stay valid. Restart "
            "`klik serve` and `klik scheduler`."
        )
