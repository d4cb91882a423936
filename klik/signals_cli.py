"""``klik signals``: a study's signal thresholds, and how well the signals foretold job loss."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", "-d", help="Database URL (default: KLIK_DATABASE_URL or klik.db)."),
]
StudyOption = Annotated[
    str | None, typer.Option("--study", help="Study code (default: the only study)")
]


def _value(text: str) -> object:
    """A setting's value from the command line: a number or a list of numbers (JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def register(app: typer.Typer) -> None:
    """Add the ``signals`` command group (``settings``, ``quality``) to ``app``."""
    signals = typer.Typer(
        help="Signals for jobcoaches: thresholds and how well they predict.", no_args_is_help=True
    )

    @signals.command("settings")
    def settings(
        set_: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                help="NAME=VALUE, e.g. contact_gap_days=21 or regime_shares=[0.15,0.075,0.06]",
            ),
        ] = None,
        reset: Annotated[bool, typer.Option("--reset", help="Back to the defaults.")] = False,
        study: StudyOption = None,
        database: DatabaseOption = None,
    ) -> None:
        """Show the study's signal thresholds; change them with --set (audited)."""
        from klik.api import resolve_study
        from klik.settings import settings_for
        from klik.wiring import build
        from study.errors import KlikError
        from study.models import SignalSettings
        from study.services.signals import set_signal_settings
        from study.signal_data import study_thresholds

        container = build(settings_for(database))
        try:
            if set_ or reset:
                with container.sessions.begin() as s:
                    chosen = resolve_study(s, study)
                    row = s.get(SignalSettings, chosen.id)
                    stored = {} if reset or row is None else dict(row.settings)
                    for pair in set_ or []:
                        name, sep, value = pair.partition("=")
                        if not sep:
                            typer.echo(f"gebruik NAAM=WAARDE / use NAME=VALUE: {pair}", err=True)
                            raise typer.Exit(2)
                        stored[name.strip()] = _value(value.strip())
                    try:
                        set_signal_settings(
                            s, chosen.id, stored, actor="cli", at=container.clock.now()
                        )
                    except KlikError as exc:
                        typer.echo(exc.message("nl"), err=True)
                        raise typer.Exit(2) from exc
            with container.read_sessions() as s:
                chosen = resolve_study(s, study)
                for name, value in study_thresholds(s, chosen.id).as_dict().items():
                    typer.echo(f"{name} = {json.dumps(value)}")
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        finally:
            container.dispose()

    @signals.command("quality")
    def quality(
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today)")
        ] = None,
        horizon: Annotated[
            int, typer.Option("--horizon", min=1, help="Days to a job loss that count.")
        ] = 90,
        study: StudyOption = None,
        database: DatabaseOption = None,
    ) -> None:
        """Sensitivity, predictive value and lead time of each signal from the study's history."""
        from klik.api import load_signals
        from klik.settings import settings_for

        day = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                raise typer.BadParameter("use YYYY-MM-DD", param_hint="--as-of") from exc
        try:
            found = load_signals(
                settings_for(database).database_url, study=study, as_of=day, horizon_days=horizon
            )
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        typer.echo(found["quality"].to_string(index=False))

    app.add_typer(signals, name="signals")
