"""Large reads for the read models' frames, in one snapshot: Arrow columns on PostgreSQL.

A frame of a national study holds millions of rows. Fetched as Python tuples through psycopg and
SQLAlchemy, every value becomes a Python object before pandas turns the column back into an
array. ADBC's PostgreSQL driver hands whole columns over as Arrow arrays instead, from the same
SQL, in a read transaction of its own (REPEATABLE READ: one snapshot for every frame).

On SQLite the rows come through the session's own connection, in its read transaction. ADBC's
SQLite driver is a second copy of the SQLite library: two copies in one process do not see
each other's file locks (closing one's file drops the other's locks), which SQLite names as a
way to corrupt a database, and its connections were seen reading stale WAL pages.

:func:`frame_reads` opens the reader for a read-only session and makes
:func:`study.read_models.rows_frame` of that session read through it; a writer's session (which
must see its own uncommitted rows) reads through the session as always.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import Engine, Select, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session

from study.db import READ_ONLY

_READER = "klik_frame_reader"


class FrameReader:
    """Runs SELECTs of one read-only session in one snapshot; :meth:`frame` gives a table."""

    def __init__(self, session: Session) -> None:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        self._session = session
        self._connection = None
        if engine.dialect.name == "postgresql":
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

    @property
    def sqlite(self) -> bool:
        """Whether the rows come through the session (SQLite), not over ADBC (PostgreSQL)."""
        return self._connection is None

    def frame(self, stmt: Select) -> pd.DataFrame:
        """The rows of ``stmt`` as a table, one column per selected column (by its label)."""
        if self._connection is None:
            return session_frame(self._session, stmt)
        compiled = stmt.compile(dialect=self._dialect, compile_kwargs={"render_postcompile": True})
        processors = compiled._bind_processors
        params = compiled.params
        args = [
            processors[k](params[k]) if k in processors else params[k]
            for k in compiled.positiontup or []
        ]
        with self._connection.cursor() as cursor:
            cursor.execute(compiled.string, args)
            table = cursor.fetch_arrow_table()
        # nanoseconds and date objects, as pandas makes of psycopg's Python values
        return table.to_pandas(coerce_temporal_nanoseconds=True, date_as_object=True)

    def close(self) -> None:
        """End the read transaction and close the connection."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.rollback()
            self._connection.close()


def session_frame(session: Session, stmt: Select) -> pd.DataFrame:
    """The rows of ``stmt`` read through ``session``, as a table."""
    # Core execution: rows as tuples, without the ORM's per-row bookkeeping
    result = session.connection().execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def is_read_only(session: Session) -> bool:
    """Whether ``session`` comes from :func:`study.db.make_read_sessions` (it writes nothing)."""
    bind = session.get_bind()
    options = bind.get_execution_options() if isinstance(bind, Engine) else {}
    return all(options.get(k) == v for k, v in READ_ONLY.items())


@contextlib.contextmanager
def frame_reads(session: Session) -> Iterator[FrameReader | None]:
    """Within the block, the read models' frames of a read-only ``session`` come from one
    :class:`FrameReader` (yielded; None for a writer's session)."""
    current = session.info.get(_READER)
    if current is not None or not is_read_only(session):
        yield current
        return
    reader = FrameReader(session)
    session.info[_READER] = reader
    try:
        yield reader
    finally:
        session.info.pop(_READER, None)
        reader.close()


def reader_of(session: Session) -> FrameReader | None:
    """The reader :func:`frame_reads` opened for ``session``, if any."""
    return session.info.get(_READER)
