"""Two real ``klik scheduler`` processes: one ticks, the other takes over when it dies or stops."""

from __future__ import annotations

import datetime as dt
import signal
import time

from sqlalchemy import func, select

from study.clock import SystemClock
from study.models import Invitation, Outbox, SchedulerLease
from tests import factory
from tests.process_support import child_database_url, kill9, klik_env, start_klik, wait_for
from tests.study.mail_support import Inbox, free_port, smtp_on

LEASE_SECONDS = 3.0


def _holder(db) -> str | None:
    with db.read_sessions() as s:
        row = s.execute(
            select(SchedulerLease.holder, SchedulerLease.expires_at).where(
                SchedulerLease.name == "tick"
            )
        ).first()
    if row is None or row.expires_at <= dt.datetime.now(dt.UTC):
        return None
    return row.holder.rpartition(":")[2]


def _scheduler(db, tmp_path, port: int, lease: float):
    env = klik_env(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls="false",
        scheduler_lease_seconds=lease,
        scheduler_tick_seconds=1,
        scheduler_send_seconds=0.5,
    )
    return start_klik(["scheduler", "--database", child_database_url(db)], env, tmp_path)


def test_a_killed_scheduler_is_replaced_within_the_lease_and_nothing_goes_out_twice(
    any_db, tmp_path
):
    db, port, inbox = any_db, free_port(), Inbox()
    now = SystemClock().now()
    with db.sessions.begin() as s:
        cohort = factory.build_cohort(
            s, now, n_trajectories=2, first_start=now.date(), spacing_days=0
        )
    first = second = None
    with smtp_on(port, inbox):
        try:
            first = _scheduler(db, tmp_path, port, LEASE_SECONDS)
            wait_for(lambda: _holder(db) == str(first.pid), 30, "the first scheduler's lease")
            second = _scheduler(db, tmp_path, port, LEASE_SECONDS)
            wait_for(lambda: inbox.count() == 6, 30, "the first invitations")
            # while the holder lives, the second one waits: several of its heartbeats go by
            for _ in range(int(LEASE_SECONDS * 2 / 0.1)):
                assert _holder(db) == str(first.pid)
                time.sleep(0.1)

            kill9(first)
            with db.sessions.begin() as s:  # enrolled while no scheduler holds the lease
                employer = factory.add_employer(s, cohort.study_id, now, "Werkgever laat")
                person = factory.enrol(s, cohort.study_id, now, "P0099")
                factory.start(
                    s,
                    cohort.study_id,
                    now,
                    person.id,
                    cohort.jobcoach_ids[0],
                    employer.id,
                    now.date(),
                )
            wait_for(lambda: _holder(db) == str(second.pid), 30, "the takeover")
            wait_for(lambda: inbox.count() >= 9, 30, "the new trajectory's invitations")
            time.sleep(LEASE_SECONDS)  # room for a duplicate to show up, if one were coming
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    kill9(process)
    copies = inbox.by_outbox_id()
    with db.read_sessions() as s:
        outbox = s.scalar(select(func.count()).select_from(Outbox))
        invitations = s.scalar(select(func.count()).select_from(Invitation))
        keys = s.scalar(
            select(func.count()).select_from(
                select(Invitation.trajectory_id, Invitation.wave_code, Invitation.respondent)
                .distinct()
                .subquery()
            )
        )
    assert outbox == 9 == len(copies)
    assert {len(c) for c in copies.values()} == {1}
    assert invitations == keys


def test_a_scheduler_stopped_cleanly_hands_over_at_once(any_db, tmp_path):
    db, port = any_db, free_port()
    long_lease = 60.0  # far longer than the test may wait: only a released lease passes
    first = second = None
    try:
        first = _scheduler(db, tmp_path, port, long_lease)
        wait_for(lambda: _holder(db) == str(first.pid), 30, "the first scheduler's lease")
        second = _scheduler(db, tmp_path, port, long_lease)
        time.sleep(2)
        assert _holder(db) == str(first.pid)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0
        # the successor tries at its next tick (every second here); waiting at most 25 s of a
        # 60 s lease, only a lease given up on stopping can pass
        wait_for(lambda: _holder(db) == str(second.pid), 25, "the handover")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                kill9(process)
