"""``klik costs``: export and import a study's cost parameters (MKBA) as a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", "-d", help="Database URL (default: KLIK_DATABASE_URL or klik.db)."),
]
StudyOption = Annotated[
    str | None, typer.Option("--study", help="Study code (default: the only study)")
]


def _study_id(session: object, code: str | None) -> int:
    from sqlalchemy import select

    from study.models import Study

    studies = session.execute(select(Study.id, Study.code)).all()  # type: ignore[attr-defined]
    chosen = [r for r in studies if code is None or r.code == code]
    if len(chosen) != 1:
        typer.echo(
            "Kies een studie met --study / choose a study with --study: "
            + ", ".join(r.code for r in studies),
            err=True,
        )
        raise typer.Exit(2)
    return int(chosen[0].id)


def register(app: typer.Typer) -> None:
    """Add the ``costs`` command group (``export``, ``import``) to ``app``."""
    costs = typer.Typer(
        help="Cost parameters of the cost-benefit analysis (amounts, years, sources).",
        no_args_is_help=True,
    )

    @costs.command("export")
    def export(
        path: Annotated[Path, typer.Argument(help="CSV file to write")],
        study: StudyOption = None,
        database: DatabaseOption = None,
    ) -> None:
        """Write the study's newest cost parameters (or the shipped defaults) to a CSV file."""
        from dashboard.mkba_jobs import study_parameters
        from klik.settings import settings_for
        from klik.wiring import build
        from study.services.cost_parameters import PARAMETER_FIELDS

        container = build(settings_for(database))
        try:
            with container.read_sessions() as s:
                params, version = study_parameters(s, _study_id(s, study))
            params[list(PARAMETER_FIELDS)].to_csv(path, index=False)
            what = f"versie {version}" if version else "standaardwaarden / defaults"
            typer.echo(f"{len(params)} parameters ({what}) -> {path}")
        finally:
            container.dispose()

    @costs.command("import")
    def import_(
        path: Annotated[
            Path, typer.Argument(help="CSV file with the columns of `klik costs export`")
        ],
        reason: Annotated[
            str, typer.Option("--reason", help="Why the parameters change (audited)")
        ],
        study: StudyOption = None,
        actor: Annotated[str, typer.Option("--actor", help="Who makes the change")] = "cli",
        database: DatabaseOption = None,
    ) -> None:
        """Store the parameters in a CSV file as the study's next version (audited)."""
        import pandas as pd

        from dashboard.mkba_jobs import study_parameters
        from klik.settings import settings_for
        from klik.wiring import build
        from study.errors import KlikError
        from study.services.cost_parameters import PARAMETER_FIELDS, save_cost_parameters

        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            typer.echo(f"Kan {path} niet lezen / cannot read {path}: {exc}", err=True)
            raise typer.Exit(2) from exc
        missing = [c for c in ("key", "year", "value") if c not in table.columns]
        if missing:
            typer.echo(f"Kolommen ontbreken / missing columns: {', '.join(missing)}", err=True)
            raise typer.Exit(2)
        rows = [{f: r.get(f) for f in PARAMETER_FIELDS} for r in table.to_dict("records")]
        container = build(settings_for(database))
        try:
            with container.sessions.begin() as s:
                study_id = _study_id(s, study)
                previous, _ = study_parameters(s, study_id)
                saved = save_cost_parameters(
                    s, study_id, rows, actor=actor, at=container.clock.now(), reason=reason,
                    previous=previous.to_dict("records"),
                )  # fmt: skip
                version = saved.version if saved is not None else None
        except KlikError as exc:
            typer.echo(f"{exc.message('nl')} / {exc.message('en')}", err=True)
            raise typer.Exit(1) from exc
        finally:
            container.dispose()
        if version is None:
            typer.echo("Niets gewijzigd / nothing changed.")
        else:
            typer.echo(f"Opgeslagen als versie {version} / saved as version {version}.")

    app.add_typer(costs, name="costs")
