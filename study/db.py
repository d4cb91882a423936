"""Engines and sessions. Nothing here runs at import time: the composition root calls these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from study.fork_gate import GatedConnection

SQLITE_BUSY_TIMEOUT_MS = 30_000

#: execution option that makes a SQLite transaction start deferred (readers); writers start IMMEDIATE
READ_ONLY = {"klik_read_only": True}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, configured for safe concurrent use.

    SQLite: WAL journal, ``foreign_keys=ON``, a busy timeout, and write transactions that take the
    write lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing with
    "database is locked" halfway through a transaction. PostgreSQL: psycopg 3, pool pre-ping.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": GatedConnection}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        in_memory = engine.url.database in (None, "", ":memory:")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("klik_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory for writers: ``with sessions.begin() as s: ...`` commits or rolls back."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory for readers (dashboard, read models): no write lock on SQLite."""
    return sessionmaker(engine.execution_options(**READ_ONLY), expire_on_commit=False)
