"""``klik demo``: build a simulated study, create demo logins and serve the dashboard."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("onderzoeker", "researcher", "Demo-onderzoeker"),
    ("jobcoach1", "jobcoach", "Demo-jobcoach 1"),
    ("jobcoach2", "jobcoach", "Demo-jobcoach 2"),
    ("kijker", "viewer", "Demo-kijker (alleen totalen)"),
)


@dataclass
class ShiftedClock:
    """The wall clock moved so that the demo's last simulated moment is 'now' when serving starts.

    Time goes on while the dashboard runs, so forms can still be answered and scheduled.
    """

    offset: dt.timedelta
    #: tells the dashboard to show which simulated date it serves
    simulated: bool = True

    def now(self) -> dt.datetime:
        from study.clock import SystemClock

        return SystemClock().now() + self.offset


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) and len(url) > len(prefix) else None


def _clear_previous_demo(url: str, study_code: str) -> None:
    """Remove an earlier demo database file; refuse to touch anything that is not one."""
    from sqlalchemy import inspect, select

    from study.db import make_engine
    from study.models import Study

    path = _sqlite_path(url)
    engine = make_engine(url)
    try:
        if "study" not in inspect(engine).get_table_names():
            return
        with engine.connect() as c:
            codes = set(c.scalars(select(Study.code)).all())
    finally:
        engine.dispose()
    if not codes:
        return
    if path is None or codes != {study_code}:
        raise typer.BadParameter(
            f"{url} bevat al andere gegevens; kies een nieuw bestand met --database "
            f"/ already holds other data; choose a new file with --database",
            param_hint="--database",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def register(app: typer.Typer) -> None:
    """Add ``klik demo`` to ``app``."""

    @app.command("demo")
    def demo(
        database: Annotated[
            str,
            typer.Option(
                "--database", "-d", help="SQLite file (or database URL) to build the demo in."
            ),
        ] = "demo.db",
        trajectories: Annotated[
            int, typer.Option(min=1, help="Coaching trajectories to enrol (Trimbos: 134).")
        ] = 134,
        coaches: Annotated[int, typer.Option(min=1, help="Jobcoaches (Trimbos: 84).")] = 84,
        months: Annotated[int, typer.Option(min=1, max=60, help="Months to simulate.")] = 12,
        seed: Annotated[
            int, typer.Option(help="Random seed; the same seed gives the same study.")
        ] = 1,
        start: Annotated[
            str, typer.Option(help="First simulated day (YYYY-MM-DD).")
        ] = "2025-01-06",
        serve: Annotated[
            bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")
        ] = True,
        host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
        port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    ) -> None:
        """Build a simulated study (Trimbos-like defaults) and serve the dashboard with demo logins."""
        from klik import secret_file
        from klik.ports import port_problem, taken_port_message
        from klik.secret_cli import demo_secret_path
        from klik.settings import Settings, database_url
        from klik.wiring import build as wire
        from study.clock import SimulatedClock
        from study.migrate import upgrade
        from study.simulator.build import build, local_moment
        from study.simulator.params import SimulationParams

        url = database_url(database)
        params = SimulationParams(
            seed=seed,
            n_trajectories=trajectories,
            n_coaches=coaches,
            months=months,
            start_date=dt.date.fromisoformat(start),
        )
        _clear_previous_demo(url, params.study_code)
        path = _sqlite_path(url)
        mail_dir = Path(f"{path.with_suffix('')}-mail") if path else Path("demo-mail")
        # the demo's own secret, next to its database, so a later `klik serve -d demo.db` opens
        # the same links; never the study's klik.secret
        own_secret = demo_secret_path(path) if path else None
        if own_secret is not None:
            secret_file.create(own_secret)
        settings = Settings.from_env(
            database_url=url, host=host, port=port, mail_dir=mail_dir, secret_file=own_secret
        )
        if serve:
            # before minutes of building, not after: the fix is to pick another port
            taken = port_problem(settings.host, settings.port)
            if taken is not None:
                typer.echo(taken_port_message(settings.host, settings.port, taken), err=True)
                raise typer.Exit(2)
        clock = SimulatedClock(local_moment(params.start_date, 9))
        container = wire(settings, clock)
        try:
            upgrade(container.engine)
            deliver = _deliverer(container, settings, clock) if params.deliver_mail else None
            typer.echo(
                f"Demostudie bouwen / building the demo study: {trajectories} trajecten, "
                f"{coaches} jobcoaches, {months} maanden, seed {seed}"
            )
            with typer.progressbar(length=1, label="Simuleren / simulating") as bar:
                done = [0]

                def progress(day: int, days: int) -> None:
                    bar.length = days
                    bar.update(day - done[0])
                    done[0] = day

                report = build(
                    container.sessions,
                    params,
                    clock=clock,
                    secret_key=settings.secret_key,
                    deliver=deliver,
                    progress=progress,
                )
            counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
            typer.echo(f"Klaar in {report.seconds:.1f} s / done: {counts}")
            typer.echo(explain_counts(container, report.study_id, trajectories))
            if deliver is not None:
                typer.echo(f"Verzonden mail staat in / mail written to: {settings.mail_dir}/")
            logins = create_demo_users(container, report.study_id, clock.now())
        finally:
            container.dispose()
        address = f"http://{settings.host}:{settings.port}/"
        _print_logins(logins, address)
        if serve:
            _serve(settings, clock.now())


def explain_counts(container: object, study_id: int, started: int) -> str:
    """Why the demo holds more trajectories than it enrolled: re-placements after job loss."""
    from study.access import trajectory_scope
    from study.cohort_counts import cohort_counts

    with container.read_sessions() as s:  # type: ignore[attr-defined]
        counts = cohort_counts(s, trajectory_scope(study_id))
    return (
        f"{counts.trajectories} trajecten van {counts.participants} werknemers: {started} "
        f"ingeschreven, {counts.re_enrolments} herplaatsingen (een volgend traject van dezelfde "
        f"werknemer bij een andere werkgever na baanverlies) / {counts.trajectories} "
        f"trajectories of {counts.participants} employees: {started} enrolled, "
        f"{counts.re_enrolments} re-placements (a further trajectory of the same employee with "
        "another employer after a job loss)"
    )


def _deliverer(container: object, settings: object, clock: object) -> object:
    from study.mail.sender import send_pending

    def deliver(_now: dt.datetime) -> None:
        send_pending(
            container.sessions,  # type: ignore[attr-defined]
            settings=settings,  # type: ignore[arg-type]
            clock=clock,  # type: ignore[arg-type]
            limit=1_000_000,
        )

    return deliver


def create_demo_users(
    container: object, study_id: int, at: dt.datetime
) -> list[tuple[str, str, str]]:
    """Create the demo logins with fresh random passwords; returns (username, role, password).

    The jobcoach logins belong to the two jobcoaches with the most clients.
    """
    from sqlalchemy import func, select

    from study.models import Jobcoach, Trajectory
    from study.services.users import add_user

    logins = []
    with container.sessions.begin() as s:  # type: ignore[attr-defined]
        busiest = s.scalars(
            select(Jobcoach.id)
            .outerjoin(Trajectory, Trajectory.jobcoach_id == Jobcoach.id)
            .where(Jobcoach.study_id == study_id)
            .group_by(Jobcoach.id)
            .order_by(func.count(Trajectory.id).desc(), Jobcoach.id)
            .limit(2)
        ).all()
        coach_ids = iter(busiest)
        for username, role, name in DEMO_USERS:
            jobcoach_id = next(coach_ids, None) if role == "jobcoach" else None
            if role == "jobcoach" and jobcoach_id is None:
                continue
            password = secrets.token_urlsafe(12)
            add_user(
                s,
                study_id,
                username,
                password,
                role,
                jobcoach_id,
                display_name=name,
                actor="klik demo",
                at=at,
            )
            logins.append((username, role, password))
    return logins


def _print_logins(logins: list[tuple[str, str, str]], address: str) -> None:
    typer.echo("")
    typer.echo(f"Dashboard: {address}")
    typer.echo("Inloggen / logins:")
    width = max(len(u) for u, _, _ in logins)
    for username, role, password in logins:
        typer.echo(f"  {username:<{width}}  {password}  ({role})")


def _serve(settings: object, simulated_now: dt.datetime) -> None:
    from klik.serving import serve
    from klik.wiring import build as wire
    from study.clock import SystemClock

    clock = ShiftedClock(simulated_now - SystemClock().now())
    serve(wire(settings, clock))  # type: ignore[arg-type]
