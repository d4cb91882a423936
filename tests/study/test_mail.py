"""Mail delivery: a real SMTP server on loopback, retries with backoff, files without SMTP."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import socket
from email import message_from_bytes
from email.message import Message

import pytest
from sqlalchemy import func, select

from study import tokens
from study.clock import AMSTERDAM, SimulatedClock
from study.mail.compose import KIND_INVITATION, LINK_PLACEHOLDER, MailFacts, compose
from study.mail.sender import backoff, send_pending
from study.mail.status import outbox_failures, outbox_status
from study.models import Invitation, Outbox
from study.vocab import OutboxStatus, Respondent
from tests import factory
from tests.study.scheduling_support import SECRET, settings_for, tick_at

LINK = re.compile(r"https://klik\.example/f/([A-Za-z0-9_-]{43})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def test_mail_says_nothing_sensitive_and_keeps_the_link_out_of_the_database():
    subject, body = compose(
        MailFacts(
            kind=KIND_INVITATION,
            reminder_number=1,
            respondent=Respondent.EMPLOYEE,
            wave_code="T1",
            anchor="start",
            offset_months=3,
            due_on=dt.date(2026, 4, 5),
            closes_on=dt.date(2026, 5, 3),
        )
    )
    assert body.count(LINK_PLACEHOLDER) == 2  # once in Dutch, once in English
    assert body.index("Beste deelnemer") < body.index("Dear participant")
    assert "5 april 2026" in body and "3 May 2026" in body
    for word in ("diagnose", "psychisch", "diagnosis", "mental", "health", "gezondheid"):
        assert word not in body.lower() and word not in subject.lower()


def test_a_real_smtp_server_receives_exactly_the_expected_mails(db, clock, tmp_path, smtp_server):
    port, inbox = smtp_server
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=2, spacing_days=0)
    tick_at(db.sessions, clock.now())
    report = send_pending(db.sessions, settings=settings, clock=clock)
    assert (report.sent, report.failed, report.retrying) == (6, 0, 0)
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == sorted(
        ["p0001@mail.example", "p0002@mail.example"]
        + ["jc01@coach.example", "jc02@coach.example"]
        + ["hr@werk.example"] * 2
    )
    with db.sessions.begin() as s:
        hashes = {h for (h,) in s.execute(select(Invitation.token_hash)) if h}
        bodies = list(s.scalars(select(Outbox.body)))
    for _, message in inbox.messages:
        body = message.get_payload(decode=True).decode()
        found = LINK.findall(body)
        assert len(found) == 2 and found[0] == found[1]
        assert tokens.hash_token(found[0]) in hashes  # the link opens exactly this invitation
        assert message["From"] == settings.mail_from
    assert all(LINK.search(b) is None for b in bodies)  # no token stored in the outbox
    # a second round sends nothing again, and neither does a second tick that same day
    tick_at(db.sessions, clock.now())
    assert send_pending(db.sessions, settings=settings, clock=clock).claimed == 0
    assert len(inbox.messages) == 6


def test_with_smtp_down_the_sender_retries_with_backoff_until_the_window_closes(db, tmp_path):
    clock = SimulatedClock(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port())
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
    tick_at(db.sessions, clock.now())

    first = send_pending(db.sessions, settings=settings, clock=clock)
    assert (first.sent, first.retrying, first.failed) == (0, 3, 0)
    # not yet due again: nothing is tried before the backoff has passed
    clock.advance(backoff(1) - dt.timedelta(seconds=1))
    assert send_pending(db.sessions, settings=settings, clock=clock).claimed == 0
    clock.advance(dt.timedelta(seconds=1))
    assert send_pending(db.sessions, settings=settings, clock=clock).retrying == 3
    # a day and a half of outage, tried every minute: waits double up to 30 minutes, and
    # nothing counts as failed while the invitations are open
    tried_at: list[dt.datetime] = []
    for _ in range(36 * 60):
        clock.advance(dt.timedelta(minutes=1))
        report = send_pending(db.sessions, settings=settings, clock=clock)
        assert report.failed == 0 and report.sent == 0
        if report.claimed:
            tried_at.append(clock.now())
    waits = [b - a for a, b in itertools.pairwise(tried_at)]
    assert waits[:3] == [dt.timedelta(minutes=m) for m in (4, 8, 16)]
    assert set(waits[4:]) == {dt.timedelta(minutes=30)}
    with db.read_sessions() as s:
        pending = s.scalar(
            select(func.count()).where(
                Outbox.status == OutboxStatus.PENDING, Outbox.last_error.is_not(None)
            )
        )
        closes_on = max(s.scalars(select(Invitation.closes_on).where(Invitation.status == "open")))
    assert pending == 3
    # once the last day of the window has passed, the mail is failed and says why
    clock.set(dt.datetime.combine(closes_on, dt.time(23, 50), AMSTERDAM).astimezone(dt.UTC))
    last = send_pending(db.sessions, settings=settings, clock=clock)
    assert (last.failed, last.retrying) == (3, 0)
    assert len(last.errors) == 3
    with db.read_sessions() as s:
        status = outbox_status(s)
        failures = outbox_failures(s)
    assert status.set_index(["status", "kind"]).loc[("failed", "invitation"), "n"] == 3
    assert len(failures) == 3
    assert failures["last_error"].str.contains("ConnectionRefused").all()
    assert backoff(1) < backoff(2) < backoff(3) <= backoff(40) == dt.timedelta(minutes=30)


def test_without_smtp_mail_goes_to_files_and_stays_in_the_outbox(db, clock, tmp_path):
    settings = settings_for(tmp_path)
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
    tick_at(db.sessions, clock.now())
    report = send_pending(db.sessions, settings=settings, clock=clock)
    files = sorted(settings.mail_dir.glob("*.eml"))
    assert report.sent == 3 and len(files) == 3
    message = message_from_bytes(files[0].read_bytes())
    assert LINK.search(message.get_payload(decode=True).decode())
    with db.sessions.begin() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.SENT)
            )
            == 3
        )


def test_a_reminder_for_a_completed_form_is_not_sent(db, clock, tmp_path):
    settings = settings_for(tmp_path)
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
    tick_at(db.sessions, clock.now())
    send_pending(db.sessions, settings=settings, clock=clock)
    clock.advance(dt.timedelta(days=7))
    assert tick_at(db.sessions, clock.now()).reminders == 3
    with db.sessions.begin() as s:  # the employee answers before the sender runs
        inv = s.scalars(
            select(Invitation).where(Invitation.respondent == Respondent.EMPLOYEE)
        ).first()
        inv.status = "completed"
    report = send_pending(db.sessions, settings=settings, clock=clock)
    assert (report.sent, report.cancelled) == (2, 1)
    assert settings.secret_key == SECRET
