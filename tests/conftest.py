"""Fixtures shared by all tests: fresh databases (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from study.clock import SimulatedClock
from study.db import make_engine, make_read_sessions, make_sessions
from study.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "KLIK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Database:
    """A migrated, empty database for one test."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: skip (or fail in CI)
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


def skip_or_fail(reason: str, required_env: str) -> None:
    """Skip with a visible reason; where ``required_env`` is set (CI), fail instead."""
    if os.environ.get(required_env) == "1":
        pytest.fail(f"{reason} (required because {required_env}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return _postgres_available()


def _sqlite_database(path: Path) -> Iterator[Database]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    yield Database(url, engine, make_sessions(engine), make_read_sessions(engine))
    engine.dispose()


def _postgres_database(reason: str | None) -> Iterator[Database]:
    if reason:
        skip_or_fail(reason, "KLIK_REQUIRE_POSTGRES")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield Database(POSTGRES_URL, engine, make_sessions(engine), make_read_sessions(engine))
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database file, migrated to head."""
    yield from _sqlite_database(tmp_path / "klik.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_reason: str | None
) -> Iterator[Database]:
    """The same test on SQLite and on PostgreSQL (skipped with a reason when it is not reachable)."""
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path / "klik.db")
    else:
        yield from _postgres_database(postgres_reason)


@pytest.fixture
def clock() -> SimulatedClock:
    """A simulated clock at Monday 5 January 2026, 09:00 UTC."""
    return SimulatedClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
