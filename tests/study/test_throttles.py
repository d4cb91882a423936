"""The failure counts in the database: bounded, per /64 for IPv6, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from study import throttles
from study.models import FailureCount
from tests.conftest import Database

AT = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _rows(db: Database) -> int:
    with db.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(FailureCount))


def test_old_rows_are_pruned_and_the_table_never_exceeds_its_cap(
    any_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with any_db.sessions.begin() as s:
        for i in range(5):
            throttles.record_link_failure(s, f"192.0.2.{i}", at=AT)
    assert _rows(any_db) == 5
    later = AT + throttles.LINK_ADDRESS.window + dt.timedelta(seconds=1)
    with any_db.sessions.begin() as s:
        throttles.record_link_failure(s, "198.51.100.1", at=later)
    assert _rows(any_db) == 1
    # a flood of addresses within the window: the cap holds
    monkeypatch.setattr(throttles, "MAX_ROWS", 20)
    with any_db.sessions.begin() as s:
        for i in range(60):
            throttles.record_login_failure(s, f"user{i}", f"10.0.{i}.1", at=later)
    assert _rows(any_db) <= 20
    with any_db.read_sessions() as s:
        newest = throttles.login_wait(s, "user59", "10.0.59.1", at=later)
    assert newest is None  # one failure: no wait, but counted
    with any_db.read_sessions() as s:
        assert (
            s.scalar(
                select(FailureCount.failures).where(
                    FailureCount.scope == throttles.SCOPE_PAIR, FailureCount.account == "user59"
                )
            )
            == 1
        )


def test_ipv6_addresses_count_per_64_network_and_names_are_normalised(any_db: Database) -> None:
    assert throttles.address_key("2001:db8:1:2:aaaa::1") == throttles.address_key(
        "2001:db8:1:2::ffff"
    )
    assert throttles.address_key("2001:db8:1:3::1") != throttles.address_key("2001:db8:1:2::1")
    assert throttles.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert len(throttles.address_key("x" * 500)) <= throttles.MAX_ADDRESS
    with any_db.sessions.begin() as s:
        for i in range(throttles.LOGIN_PAIR.free + 1):
            # a client hopping through its own /64 and spelling the name differently is one key
            throttles.record_login_failure(s, " Coach1 ", f"2001:db8:1:2::{i + 1:x}", at=AT)
    with any_db.read_sessions() as s:
        wait = throttles.login_wait(s, "coach1", "2001:db8:1:2:ffff::9", at=AT)
    assert wait == AT + throttles.LOGIN_PAIR.base
