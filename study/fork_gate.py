"""SQLite calls and ``fork`` never overlap.

SQLite keeps process-wide mutexes (its allocator, the list of open files). A process forked
while another of its threads is inside SQLite inherits such a mutex locked, with no thread
left to unlock it: the child hangs at its first SQLite call. Background jobs are forked from a
web process whose request threads use SQLite all the time, so every SQLite call made through
the connections of :func:`gated_connection` holds the gate shared, and :func:`forking` holds it
exclusively while the child is forked. A fork waits for the calls in progress (at most a
busy timeout); new calls wait for the fork (microseconds).

Python's sqlite3 also calls into SQLite, without the interpreter lock, when it frees a cursor
that still holds a statement (``sqlite3_reset``, ``sqlite3_finalize``) or a connection never
closed (``sqlite3_close_v2``). Those calls cannot be gated: a finaliser runs wherever the
garbage collector happens to run, inside the gate's own bookkeeping too, and waiting there for
a fork deadlocks. So a gated connection closes its open cursors when it is closed, and its
owner closes it (SQLAlchemy's pool does; so do Klik's own scripts).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class _Gate:
    """Many holders at once, or one exclusive holder; a waiting exclusive one goes first."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """A new, free gate: what a forked child starts with (the forking thread held it, and
        in the child that thread never leaves its ``with``)."""
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False
        self._owner: int | None = None
        self._waiting = 0
        self._held = threading.local()

    # The garbage collector may run anywhere in a thread, also in the middle of this
    # bookkeeping, and free a connection whose clean-up calls SQLite through the gate again. A
    # thread that holds the gate (shared, or exclusively: the forking one) goes through at once,
    # and the marks that say so are set and cleared while the gate's lock is held, when no fork
    # can start: a call let through there cannot overlap a fork.

    @contextmanager
    def shared(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth or self._owner == threading.get_ident():
            # a call inside a call (execute opens a cursor), or the forking thread itself:
            # waiting for a fork that waits for this thread would never end
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with self._cond:
            while self._exclusive or self._waiting:
                self._cond.wait()
            self._held.depth = 1
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._held.depth = 0
                if not self._active:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._exclusive or self._active:
                self._cond.wait()
            self._waiting -= 1
            self._owner = threading.get_ident()
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._owner = None
                self._cond.notify_all()


GATE = _Gate()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=GATE.reset)


def forking() -> Any:
    """Hold while forking: no thread of this process is inside SQLite meanwhile."""
    return GATE.exclusive()


def _gated(method: Callable) -> Callable:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with GATE.shared():
            return method(self, *args, **kwargs)

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class GatedCursor(sqlite3.Cursor):
    """A cursor whose calls into SQLite hold the gate."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        if isinstance(connection, GatedConnection):
            connection._cursors.add(self)

    execute = _gated(sqlite3.Cursor.execute)
    executemany = _gated(sqlite3.Cursor.executemany)
    executescript = _gated(sqlite3.Cursor.executescript)
    fetchone = _gated(sqlite3.Cursor.fetchone)
    fetchmany = _gated(sqlite3.Cursor.fetchmany)
    fetchall = _gated(sqlite3.Cursor.fetchall)
    close = _gated(sqlite3.Cursor.close)
    __next__ = _gated(sqlite3.Cursor.__next__)


class GatedConnection(sqlite3.Connection):
    """A connection whose calls into SQLite (opening and closing included) hold the gate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._cursors: weakref.WeakSet[sqlite3.Cursor] = weakref.WeakSet()
        with GATE.shared():
            super().__init__(*args, **kwargs)

    def _close_cursors(self) -> None:
        for cursor in list(self._cursors):
            with contextlib.suppress(sqlite3.ProgrammingError):  # another thread's, or in use
                cursor.close()

    def close(self) -> None:
        """Close the open cursors, then the connection, all inside the gate.

        A cursor left open would keep its statement after the connection closed, and finalise
        it, outside the gate, whenever Python frees the cursor.
        """
        with GATE.shared():
            self._close_cursors()
            super().close()

    def rollback(self) -> None:
        """Close the open cursors, then roll back, inside the gate.

        A pool rolls a connection back, never closes it, when it is given back: a result read
        halfway would keep its cursor, reset outside the gate when Python frees it. After a
        rollback such a cursor has nothing left to give.
        """
        with GATE.shared():
            self._close_cursors()
            super().rollback()

    def cursor(self, factory: type[sqlite3.Cursor] = GatedCursor) -> sqlite3.Cursor:  # type: ignore[override]
        with GATE.shared():
            return super().cursor(factory)

    # sqlite3's own shortcuts make a plain, ungated cursor: the rows would be read outside the gate
    def execute(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().executemany(*args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().executescript(*args)

    commit = _gated(sqlite3.Connection.commit)
    create_function = _gated(sqlite3.Connection.create_function)
    create_aggregate = _gated(sqlite3.Connection.create_aggregate)
    create_collation = _gated(sqlite3.Connection.create_collation)
    backup = _gated(sqlite3.Connection.backup)
    __exit__ = _gated(sqlite3.Connection.__exit__)
