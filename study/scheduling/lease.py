"""One ticking scheduler: a PostgreSQL advisory lock, or a lease row with an expiry on SQLite.

Ticks are idempotent on their own (unique keys, conditional updates); the lock makes concurrent
ticks wait for each other instead of racing, and the lease keeps a second scheduler process from
ticking at all while the first is alive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from study.models import SchedulerLease

#: key of the PostgreSQL advisory lock that serialises ticks (any fixed 64-bit number)
TICK_LOCK_KEY = 0x6B6C696B_7469636B  # "kliktick"
DEFAULT_LEASE = dt.timedelta(minutes=5)


def lock_ticks(session: Session) -> None:
    """Wait until no other tick runs (PostgreSQL); released when the transaction ends.

    On SQLite the writer transaction (``BEGIN IMMEDIATE``) already excludes every other writer.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(TICK_LOCK_KEY)))


def try_lock_ticks(session: Session) -> bool:
    """Like :func:`lock_ticks`, but return False at once when another tick holds the lock."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(TICK_LOCK_KEY))))
    return True


def acquire_lease(
    session: Session,
    *,
    name: str,
    holder: str,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_LEASE,
) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``.

    Returns False when another holder has an unexpired lease. Works on both backends: the insert
    ignores a conflicting row, and the update takes over only an expired lease or our own.
    """
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        make_insert(SchedulerLease)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    taken = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def release_lease(session: Session, *, name: str, holder: str, now: dt.datetime) -> None:
    """Give the lease up (it expires at once), if ``holder`` still has it."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
