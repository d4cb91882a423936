"""``klik users``: create, list and unlock dashboard logins."""

from __future__ import annotations

from typing import Annotated

import typer

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", "-d", help="Database URL (default: KLIK_DATABASE_URL or klik.db)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group (``add``, ``list``, ``unlock``) to ``app``."""
    users = typer.Typer(
        help="Dashboard logins (researcher, jobcoach, viewer).", no_args_is_help=True
    )

    @users.command("add")
    def add(
        username: Annotated[str, typer.Argument(help="Login name: lower case, digits, . _ -")],
        role: Annotated[str, typer.Option("--role", help="researcher, jobcoach or viewer")],
        jobcoach: Annotated[
            str | None, typer.Option("--jobcoach", help="Code of the jobcoach (role jobcoach)")
        ] = None,
        name: Annotated[
            str | None, typer.Option("--name", help="Name shown in the dashboard")
        ] = None,
        study: Annotated[
            str | None, typer.Option("--study", help="Study code (default: the only study)")
        ] = None,
        password: Annotated[
            str | None, typer.Option("--password", help="For scripts; otherwise you are asked")
        ] = None,
        database: DatabaseOption = None,
    ) -> None:
        """Create a login. The password is asked twice unless --password is given."""
        from sqlalchemy import select

        from klik.settings import settings_for
        from klik.wiring import build
        from study.errors import KlikError
        from study.models import Jobcoach, Study
        from study.services.users import add_user

        secret = password or typer.prompt(
            "Wachtwoord / password", hide_input=True, confirmation_prompt=True
        )
        container = build(settings_for(database))
        try:
            with container.sessions.begin() as s:
                studies = s.execute(select(Study.id, Study.code)).all()
                chosen = [r for r in studies if study is None or r.code == study]
                if len(chosen) != 1:
                    typer.echo(
                        "Kies een studie met --study / choose a study with --study: "
                        + ", ".join(r.code for r in studies), err=True,
                    )  # fmt: skip
                    raise typer.Exit(2)
                study_id = chosen[0].id
                jobcoach_id = None
                if jobcoach is not None:
                    jobcoach_id = s.scalar(
                        select(Jobcoach.id).where(
                            Jobcoach.study_id == study_id, Jobcoach.code == jobcoach
                        )
                    )
                    if jobcoach_id is None:
                        typer.echo(f"Jobcoach {jobcoach} bestaat niet / does not exist.", err=True)
                        raise typer.Exit(2)
                user = add_user(
                    s, study_id, username, secret, role, jobcoach_id,
                    display_name=name or username, actor="cli", at=container.clock.now(),
                )  # fmt: skip
                typer.echo(f"Login {user.username} ({user.role.value}) aangemaakt / created.")
        except KlikError as exc:
            typer.echo(f"{exc.message('nl')} / {exc.message('en')}", err=True)
            raise typer.Exit(1) from None
        finally:
            container.dispose()

    @users.command("list")
    def list_(database: DatabaseOption = None) -> None:
        """List the logins: username, role, jobcoach, active, throttled.

        ``throttled``: failed logins make some address wait before trying this login again
        (``klik users unlock`` ends that).
        """
        from sqlalchemy import select

        from klik.settings import settings_for
        from klik.wiring import build
        from study import throttles
        from study.models import Jobcoach, User

        container = build(settings_for(database))
        try:
            now = container.clock.now()
            with container.read_sessions() as s:
                rows = s.execute(
                    select(User.username, User.role, Jobcoach.code, User.active)
                    .outerjoin(Jobcoach, Jobcoach.id == User.jobcoach_id)
                    .order_by(User.username)
                ).all()
                waiting = {
                    r.username for r in rows if throttles.account_waiting(s, r.username, at=now)
                }
            for r in rows:
                throttled = " throttled" if r.username in waiting else ""
                active = "" if r.active else " inactive"
                typer.echo(f"{r.username}\t{r.role.value}\t{r.code or '-'}{active}{throttled}")
        finally:
            container.dispose()

    @users.command("unlock")
    def unlock(
        username: Annotated[str, typer.Argument(help="Login name")],
        database: DatabaseOption = None,
    ) -> None:
        """Forget the failed logins of a login, so it can be tried at once from every address."""
        from klik.settings import settings_for
        from klik.wiring import build
        from study.errors import KlikError
        from study.services.users import unlock_login

        container = build(settings_for(database))
        try:
            with container.sessions.begin() as s:
                user = unlock_login(s, username, actor="cli", at=container.clock.now())
                typer.echo(f"Login {user.username} ontgrendeld / unlocked.")
        except KlikError as exc:
            typer.echo(f"{exc.message('nl')} / {exc.message('en')}", err=True)
            raise typer.Exit(1) from None
        finally:
            container.dispose()

    register_account_commands(users)
    app.add_typer(users, name="users")


def _run(database: str | None, change: object) -> None:
    """Run ``change(session, study_id, container)`` on the login's study, in one transaction."""
    from sqlalchemy import select

    from klik.settings import settings_for
    from klik.wiring import build
    from study.errors import KlikError
    from study.models import Study

    container = build(settings_for(database))
    try:
        with container.sessions.begin() as s:
            studies = list(s.scalars(select(Study.id)))
            if len(studies) != 1:
                typer.echo("Deze database heeft niet precies een studie / not exactly one study.", err=True)  # fmt: skip
                raise typer.Exit(2)
            typer.echo(change(s, studies[0], container))  # type: ignore[operator]
    except KlikError as exc:
        typer.echo(f"{exc.message('nl')} / {exc.message('en')}", err=True)
        raise typer.Exit(1) from None
    finally:
        container.dispose()


def register_account_commands(users: typer.Typer) -> None:
    """``klik users disable``, ``enable``, ``role`` and ``reset-link``."""
    from study.services import accounts

    @users.command("disable")
    def disable(username: Annotated[str, typer.Argument(help="Login name")], database: DatabaseOption = None) -> None:  # fmt: skip
        """Disable a login; its open sessions end at once."""
        _run(database, lambda s, sid, c: (accounts.set_active(s, sid, username, False, actor="cli", at=c.clock.now()), f"Login {username} uitgeschakeld / disabled.")[1])  # fmt: skip

    @users.command("enable")
    def enable(username: Annotated[str, typer.Argument(help="Login name")], database: DatabaseOption = None) -> None:  # fmt: skip
        """Enable a disabled login again."""
        _run(database, lambda s, sid, c: (accounts.set_active(s, sid, username, True, actor="cli", at=c.clock.now()), f"Login {username} ingeschakeld / enabled.")[1])  # fmt: skip

    @users.command("role")
    def role(
        username: Annotated[str, typer.Argument(help="Login name")],
        new_role: Annotated[str, typer.Option("--role", help="researcher, jobcoach or viewer")],
        jobcoach: Annotated[str | None, typer.Option("--jobcoach", help="Code of the jobcoach (role jobcoach)")] = None,
        database: DatabaseOption = None,
    ) -> None:  # fmt: skip
        """Change a login's role (and jobcoach); its open sessions end."""
        _run(database, lambda s, sid, c: (accounts.change_role(s, sid, username, new_role, jobcoach, actor="cli", at=c.clock.now()), f"Login {username}: rol {new_role} / role {new_role}.")[1])  # fmt: skip

    @users.command("reset-link")
    def reset_link(username: Annotated[str, typer.Argument(help="Login name")], database: DatabaseOption = None) -> None:  # fmt: skip
        """Print a one-time link (48 hours) with which the login sets a new password."""

        def issue(s: object, sid: int, c: object) -> str:
            settings = c.settings  # type: ignore[attr-defined]
            token = accounts.reset_link_token(s, sid, username, settings.secret_key, actor="cli", at=c.clock.now())  # type: ignore[arg-type, attr-defined]  # fmt: skip
            return f"{settings.base_url.rstrip('/')}/login/reset/{token}"

        _run(database, issue)
