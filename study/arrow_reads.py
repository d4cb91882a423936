"""Large reads as Arrow tables over ADBC, for the read models' frames.

A frame of a national study holds millions of rows. Fetched as Python tuples through the
driver and SQLAlchemy, every value becomes a Python object before pandas turns the column back
into an array; most of a frame's time went there. An ADBC driver (SQLite or PostgreSQL) hands
whole columns over as Arrow arrays instead, from the same SQL.

:func:`arrow_reads` opens one ADBC connection in one read transaction (one snapshot, as a read
session has) and makes :func:`study.read_models.rows_frame` of that session read through it.
It does so only where that cannot change what is read: a read-only session (writers must see
their own uncommitted rows) on a SQLite file or on PostgreSQL. Everywhere else, and for
in-memory SQLite databases, the rows come through the session as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session

from study.db import READ_ONLY
from study.fork_gate import GATE

_READER = "klik_arrow_reader"
# SQLite is typed per value: the driver infers a column's type from its first batch, and a
# column that is NULL there but text later would fail. One batch per result lets it see all.
_SQLITE_BATCH_ROWS = str(2**30)


class ArrowReader:
    """One ADBC connection in one read transaction; :meth:`frame` runs a SELECT on it."""

    def __init__(self, session: Session) -> None:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        self._sqlite = engine.dialect.name == "sqlite"
        if self._sqlite:
            import adbc_driver_sqlite.dbapi as adbc_sqlite

            self._dialect = engine.dialect
            with GATE.shared():
                self._connection = adbc_sqlite.connect(str(engine.url.database))
        else:
            import adbc_driver_postgresql.dbapi as adbc_postgresql

            # ADBC's PostgreSQL driver numbers its parameters ($1, $2, ...)
            self._dialect = psycopg.dialect(paramstyle="numeric_dollar")
            url = engine.url.set(drivername="postgresql")
            self._connection = adbc_postgresql.connect(url.render_as_string(hide_password=False))
            # the schema the session reads (set per connection, as tests and hosted set-ups do)
            search_path = session.execute(text("SELECT current_setting('search_path')")).scalar()
            with self._connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT set_config('search_path', $1, false)", [search_path])

    def frame(self, stmt: Select) -> pd.DataFrame:
        """The rows of ``stmt`` as a table, one column per selected column (by its label)."""
        compiled = stmt.compile(dialect=self._dialect, compile_kwargs={"render_postcompile": True})
        processors = compiled._bind_processors
        names = compiled.positiontup or []
        params = compiled.params
        args = [processors[k](params[k]) if k in processors else params[k] for k in names]
        with self._gate():
            cursor = self._connection.cursor()
            try:
                if self._sqlite:
                    cursor.adbc_statement.set_options(
                        **{"adbc.sqlite.query.batch_rows": _SQLITE_BATCH_ROWS}
                    )
                cursor.execute(compiled.string, args)
                table = cursor.fetch_arrow_table()
            finally:
                cursor.close()
        # nanoseconds and date objects, as pandas makes of the driver's Python values
        return table.to_pandas(coerce_temporal_nanoseconds=True, date_as_object=True)

    def close(self) -> None:
        """End the read transaction and close the connection."""
        with self._gate():
            with contextlib.suppress(Exception):
                self._connection.rollback()
            self._connection.close()

    def _gate(self) -> Any:
        # the bundled SQLite library has mutexes of its own that a fork must not copy held
        return GATE.shared() if self._sqlite else contextlib.nullcontext()


def can_read_arrow(session: Session) -> bool:
    """Whether :func:`arrow_reads` reads ``session``'s data through ADBC (see the module)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or not all(
        bind.get_execution_options().get(k) == v for k, v in READ_ONLY.items()
    ):
        return False
    if bind.dialect.name == "sqlite":
        return bind.url.database not in (None, "", ":memory:") and not str(
            bind.url.database
        ).startswith("file:")
    return bind.dialect.name == "postgresql"


@contextlib.contextmanager
def arrow_reads(session: Session) -> Iterator[None]:
    """Within the block, the read models' frames of ``session`` are read through Arrow."""
    if session.info.get(_READER) is not None or not can_read_arrow(session):
        yield
        return
    reader = ArrowReader(session)
    session.info[_READER] = reader
    try:
        yield
    finally:
        session.info.pop(_READER, None)
        reader.close()


def reader_of(session: Session) -> ArrowReader | None:
    """The Arrow reader :func:`arrow_reads` opened for ``session``, if any."""
    return session.info.get(_READER)
