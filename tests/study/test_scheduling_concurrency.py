"""Restarts, crashes and concurrent ticks create nothing twice and lose nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from study.models import Invitation, Outbox
from study.scheduling import tick as tick_module
from tests import factory
from tests.study.scheduling_support import tick_at


def _counts(sessions):
    with sessions.begin() as s:
        invitations = s.scalar(select(func.count()).select_from(Invitation))
        mails = s.scalar(select(func.count()).select_from(Outbox))
        distinct_keys = s.scalar(select(func.count(func.distinct(Outbox.dedup_key))))
        tokens = s.scalar(select(func.count()).where(Invitation.token_hash.is_not(None)))
    return invitations, mails, distinct_keys, tokens


def test_two_ticks_at_once_create_nothing_twice(any_db, clock):
    """Several threads, each with its own connection, tick the same days at the same time."""
    with any_db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=12, spacing_days=3)
    errors: list[BaseException] = []
    days = [clock.now() + dt.timedelta(days=d) for d in range(0, 50, 5)]

    def worker() -> None:
        try:
            for moment in days:
                tick_at(any_db.sessions, moment)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    concurrent = _counts(any_db.sessions)
    invitations, mails, distinct_keys, tokens = concurrent
    assert invitations == 12 * 6 * 3
    assert mails == distinct_keys
    # the same days ticked once, one after the other, in a second database would give the same
    again = [tick_at(any_db.sessions, moment) for moment in days]
    assert sum(r.created + r.opened + r.reminders + r.mails for r in again) == 0
    assert _counts(any_db.sessions) == concurrent
    assert tokens > 0


def test_a_crash_in_the_middle_of_a_tick_loses_nothing_and_doubles_nothing(db, clock, monkeypatch):
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=3, spacing_days=0)

    def crash(*args, **kwargs):
        raise RuntimeError("power failure")

    monkeypatch.setattr(tick_module, "_queue_mails", crash)
    with pytest.raises(RuntimeError):
        tick_at(db.sessions, clock.now())
    assert _counts(db.sessions) == (0, 0, 0, 0)  # the whole tick rolled back
    monkeypatch.undo()
    report = tick_at(db.sessions, clock.now())
    assert (report.created, report.opened, report.mails) == (54, 9, 9)
    assert tick_at(db.sessions, clock.now()).mails == 0
    assert _counts(db.sessions) == (54, 9, 9, 9)


def test_a_restart_after_weeks_of_downtime_catches_up_once(db, clock):
    """No tick for 40 days: T0 (closed after 28 days) is missed at once, without mail."""
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=2, spacing_days=0)
    report = tick_at(db.sessions, clock.now() + dt.timedelta(days=40))
    assert (report.created, report.missed, report.opened, report.mails) == (36, 6, 0, 0)
    report = tick_at(db.sessions, clock.now() + dt.timedelta(days=40))
    assert (report.created, report.missed, report.opened, report.mails) == (0, 0, 0, 0)
