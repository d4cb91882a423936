"""Settings: the only place that reads the environment.

Defaults serve one researcher on a laptop: SQLite in ``klik.db`` in the working directory, mail
written to files in ``outbox-mail/``, the dashboard on http://127.0.0.1:8050.

The secret key comes from ``KLIK_SECRET_KEY`` when set, else from the secret file (``klik.secret``,
written by ``klik init``; see :mod:`klik.secret_file`). Without either the key is random for this
process only, which :attr:`Settings.secret_generated` tells, and ``klik serve`` refuses a real study.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt, model_validator
from sqlalchemy import URL

from klik import secret_file

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
    secret_key: str = ""
    #: earlier keys, still accepted for links, sessions and CSRF values made before a rotation
    old_secret_keys: tuple[str, ...] = ()
    secret_file: Path = Path("klik.secret")
    #: True when no key was given: a random key that dies with this process
    secret_generated: bool = False
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
    #: how long the scheduler lease lasts unrenewed; its holder renews it every quarter of that,
    #: so another scheduler takes over within 1.25 times this after the holder died
    scheduler_lease_seconds: float = 40.0
    #: time between two scheduler ticks
    scheduler_tick_seconds: float = 600.0
    #: time between two rounds of the mail sender in the scheduler
    scheduler_send_seconds: float = 60.0
    instrument_dirs: tuple[Path, ...] = ()
    secure_cookies: bool = False
    #: how many reverse proxies in front of Klik append to X-Forwarded-For; 0 trusts no header
    trusted_proxies: NonNegativeInt = 0
    #: the access log's file (rotated), or ``-`` for standard output
    access_log: str = "klik-access.log"
    access_log_max_bytes: PositiveInt = 10_000_000
    access_log_backups: NonNegativeInt = 5
    #: the shared job queue: ``redis://host:6379/0`` (team, national) or ``sqlite:///jobs.sqlite3``
    #: (one machine); empty: jobs run in child processes of the web process that asked for them
    queue_url: str = ""
    #: the queue's name in that store: several studies may share one Redis under different names
    queue_name: str = "klik"
    #: how long a running job's worker may go silent before another worker starts it again
    job_lease_seconds: float = 15.0
    #: time limits per job kind, e.g. ``survival=600,export=1800`` (see dashboard.jobs.TIME_LIMITS)
    job_time_limits: str = ""
    #: the study's data folder (job cache, export files); default: the SQLite file's folder
    data_dir: Path | None = None
    #: the export files' folder, the same for every process; default: ``klik-exports`` in data_dir
    export_dir: Path | None = None
    #: how often viewers' figures move on: ``month`` (the study as it stood at the end of the
    #: last whole month), ``week`` (at the end of last Sunday) or ``day`` (today: live)
    viewer_release: Literal["day", "week", "month"] = "month"
    #: export files kept at most, and for how long
    export_keep_files: PositiveInt = 24
    export_max_age_hours: float = 24.0

    @model_validator(mode="before")
    @classmethod
    def _generate_missing_secret(cls, values: object) -> object:
        if isinstance(values, dict) and not values.get("secret_key"):
            values = {**values, "secret_key": secrets.token_hex(32), "secret_generated": True}
        return values

    @property
    def time_limits(self) -> dict[str, float]:
        """``job_time_limits`` read as ``{kind: seconds}``."""
        limits = {}
        for part in self.job_time_limits.replace(";", ",").split(","):
            if "=" in part:
                kind, seconds = part.split("=", 1)
                limits[kind.strip()] = float(seconds)
        return limits

    @property
    def data_folder(self) -> Path | None:
        """``data_dir``, else the folder of the SQLite file; None for a server database."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        from sqlalchemy import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).expanduser().resolve().parent
        return None

    @property
    def export_folder(self) -> Path | None:
        """Where export files go (None: a temporary folder of the process)."""
        if self.export_dir is not None:
            return Path(self.export_dir)
        folder = self.data_folder
        return None if folder is None else folder / "klik-exports"

    @property
    def job_cache_folder(self) -> Path | None:
        """Where the embedded runner keeps finished results across restarts."""
        folder = self.data_folder
        return None if folder is None else folder / "klik-cache"

    @property
    def frame_store_folder(self) -> Path | None:
        """Where the analysis frames of every trajectory are kept between requests (None: read
        from the database each time)."""
        folder = self.data_folder
        return None if folder is None else folder / "klik-frames"

    @property
    def signing_keys(self) -> tuple[str, ...]:
        """The current key first, then the earlier keys that are still accepted."""
        return (self.secret_key, *(k for k in self.old_secret_keys if k != self.secret_key))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``KLIK_*`` variables (``os.environ`` unless given), then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            if name == "secret_generated":
                continue
            key = f"KLIK_{name.upper()}"
            if key in env and env[key] != "":
                values[name] = env[key]
        if "instrument_dirs" in values:
            values["instrument_dirs"] = tuple(
                Path(p) for p in str(values["instrument_dirs"]).split(os.pathsep) if p
            )
        if "old_secret_keys" in values:
            values["old_secret_keys"] = tuple(
                str(values["old_secret_keys"]).replace(",", " ").split()
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("secret_key"):
            path = Path(str(values.get("secret_file", cls.model_fields["secret_file"].default)))
            keys = secret_file.read_keys(path) if path.is_file() else []
            if keys:
                values["secret_key"] = keys[0]
                values["old_secret_keys"] = (*keys[1:], *values.get("old_secret_keys", ()))  # type: ignore[misc]
        return cls.model_validate(values)
