"""Mail under faults, against a real SMTP server on loopback: a sender killed mid-round, an outage
longer than a day."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select, update

from study.clock import SimulatedClock, SystemClock
from study.mail.sender import send_pending
from study.models import Invitation, Outbox
from study.vocab import OutboxStatus
from tests import factory
from tests.process_support import child_database_url, kill9, klik_env, start_klik
from tests.study.mail_support import Inbox, free_port, smtp_on
from tests.study.scheduling_support import settings_for, tick_at

KILLS = 5


def _unsent(db) -> int:
    with db.read_sessions() as s:
        return s.scalar(select(func.count()).where(Outbox.status != OutboxStatus.SENT))


def test_a_sender_killed_mid_round_resends_at_most_the_mail_in_flight(any_db, tmp_path):
    db, port, inbox = any_db, free_port(), Inbox()
    now = SystemClock().now()
    with db.sessions.begin() as s:
        factory.build_cohort(s, now, n_trajectories=100, first_start=now.date(), spacing_days=0)
    tick_at(db.sessions, now)
    total = 300
    assert _unsent(db) == total
    env = klik_env(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls="false", mail_claim_seconds=2
    )
    args = ["send-mail", "--database", child_database_url(db)]
    kills = runs = 0
    with smtp_on(port, inbox):
        while _unsent(db) and runs < 40:
            runs += 1
            before = inbox.count()
            sender = start_klik(args, env, tmp_path)
            # kill it once it has handed over 30 more mails; a sender that finds nothing due
            # (what killed senders claimed is due again 2 s later) just ends
            while sender.poll() is None and inbox.count() < before + 30:
                time.sleep(0.02)
            if sender.poll() is None and kills < KILLS:
                kill9(sender)
                kills += 1
            else:
                sender.wait(timeout=60)
                time.sleep(0.5)
    copies = inbox.by_outbox_id()
    duplicates = sum(len(c) - 1 for c in copies.values())
    assert _unsent(db) == 0
    assert len(copies) == total  # every mail delivered
    assert kills == KILLS and duplicates <= KILLS
    for messages in copies.values():  # a copy is recognisable as the same message
        assert len({m["Message-ID"] for m in messages}) == 1
    assert len({c[0]["Message-ID"] for c in copies.values()}) == total


def test_an_outage_longer_than_a_day_costs_time_not_mail(any_db, tmp_path):
    db, port, inbox = any_db, free_port(), Inbox()
    clock = SimulatedClock(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=20, spacing_days=0)
    tick_at(db.sessions, clock.now())
    with db.sessions.begin() as s:
        # a few invitations whose window closes tonight, in the middle of the outage
        closing = list(s.scalars(select(Invitation.id).where(Invitation.status == "open").limit(6)))
        s.execute(
            update(Invitation)
            .where(Invitation.id.in_(closing))
            .values(closes_on=dt.date(2026, 1, 5))
        )
        open_mail = set(s.scalars(select(Outbox.id).where(Outbox.invitation_id.not_in(closing))))
        closing_mail = set(s.scalars(select(Outbox.id).where(Outbox.invitation_id.in_(closing))))
    assert len(open_mail) == 54 and len(closing_mail) == 6
    # 26 hours without a mail server (today's old give-up time was a quarter of an hour)
    for _ in range(26 * 12):
        report = send_pending(db.sessions, settings=settings, clock=clock)
        assert report.sent == 0
        clock.advance(dt.timedelta(minutes=5))
    with db.read_sessions() as s:
        status = dict(s.execute(select(Outbox.id, Outbox.status)).all())
    assert {status[i] for i in open_mail} == {OutboxStatus.PENDING}
    assert {status[i] for i in closing_mail} == {OutboxStatus.FAILED}
    with smtp_on(port, inbox):
        for _ in range(8):  # the next attempt is at most 30 minutes away
            send_pending(db.sessions, settings=settings, clock=clock)
            clock.advance(dt.timedelta(minutes=5))
    copies = inbox.by_outbox_id()
    assert set(copies) == open_mail  # every mail still within its window, and no other
    assert {len(c) for c in copies.values()} == {1}
