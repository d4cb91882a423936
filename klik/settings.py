"""Settings: the only place that reads the environment.

Defaults serve one researcher on a laptop: SQLite in ``klik.db`` in the working directory, mail
written to files in ``outbox-mail/``, the dashboard on http://127.0.0.1:8050.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import URL

DEFAULT_DATABASE_URL = "sqlite:///klik.db"


def database_url(database: str) -> str:
    """A database URL from ``--database``: a URL as given, or a file path for SQLite."""
    if "://" in database:
        return database
    # built, not formatted: a file name may hold characters a URL treats specially (?, #, %)
    return URL.create("sqlite", database=str(Path(database).expanduser())).render_as_string()


def settings_for(database: str | None, **overrides: object) -> Settings:
    """Settings from the environment; a command's ``--database`` (URL or SQLite file) wins."""
    return Settings.from_env(database_url=database_url(database) if database else None, **overrides)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = Field(default_factory=lambda: secrets.token_hex(32))
    base_url: str = "http://127.0.0.1:8050"
    host: str = "127.0.0.1"
    port: int = 8050
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "Klik <noreply@klik.local>"
    mail_dir: Path = Path("outbox-mail")
    #: first wait before a failed delivery is tried again; each later wait doubles
    mail_retry_first_seconds: float = 60.0
    #: longest wait between two attempts of one mail
    mail_retry_max_seconds: float = 1800.0
    #: how long mail that belongs to no invitation keeps being tried before it counts as failed
    mail_give_up_hours: float = 72.0
    #: a sender's hold on the mail it is delivering; after a crash the rest goes out this much later
    mail_claim_seconds: float = 600.0
    #: the scheduler lease: a dead scheduler's successor takes over within this time
    scheduler_lease_seconds: float = 60.0
    #: time between two scheduler ticks
    scheduler_tick_seconds: float = 600.0
    instrument_dirs: tuple[Path, ...] = ()
    secure_cookies: bool = False
    run_scheduler: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``KLIK_*`` variables (``os.environ`` unless given), then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = f"KLIK_{name.upper()}"
            if key in env and env[key] != "":
                values[name] = env[key]
        if "instrument_dirs" in values:
            values["instrument_dirs"] = tuple(
                Path(p) for p in str(values["instrument_dirs"]).split(os.pathsep) if p
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
