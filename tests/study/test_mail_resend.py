"""Failed mail is sent again by a researcher's decision, to the address known now, audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from study.mail.resend import resend_failed
from study.mail.sender import send_pending
from study.mail.status import mail_trouble
from study.models import AuditEvent, Invitation, Outbox, ParticipantIdentity
from study.scheduling.tick import NO_ADDRESS
from study.vocab import OutboxStatus, Respondent
from tests import factory
from tests.study.mail_support import Inbox, free_port, smtp_on
from tests.study.scheduling_support import settings_for, tick_at


def _statuses(db) -> dict[str, int]:
    with db.read_sessions() as s:
        rows = s.execute(select(Outbox.status, Outbox.recipient)).all()
    found: dict[str, int] = {}
    for status, _ in rows:
        found[str(status.value)] = found.get(str(status.value), 0) + 1
    return found


def test_mail_without_an_address_goes_out_once_the_address_is_added_and_it_is_resent(
    any_db, clock, tmp_path
):
    db = any_db
    port, inbox = free_port(), Inbox()
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=2, spacing_days=0)
        s.execute(update(ParticipantIdentity).values(email=None))
    tick_at(db.sessions, clock.now())
    assert _statuses(db) == {"pending": 4, "failed": 2}
    with db.read_sessions() as s:
        trouble = mail_trouble(s)
        errors = set(s.scalars(select(Outbox.last_error).where(Outbox.status == "failed")))
    assert (trouble.failed, trouble.since) == (2, clock.now())
    assert errors == {NO_ADDRESS}

    clock.advance(dt.timedelta(hours=1))
    with db.sessions.begin() as s:  # resending before the address is known changes nothing
        assert resend_failed(s, actor="an", at=clock.now()).without_address == 2
    with db.sessions.begin() as s:
        s.execute(update(ParticipantIdentity).values(email="nieuw@mail.example"))
    with db.sessions.begin() as s:
        report = resend_failed(s, actor="an", at=clock.now(), kind="invitation")
    assert (report.queued, report.without_address, report.closed) == (2, 0, 0)
    with smtp_on(port, inbox):
        sent = send_pending(db.sessions, settings=settings, clock=clock)
    assert (sent.sent, sent.failed) == (6, 0)
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts).count("nieuw@mail.example") == 2
    with db.read_sessions() as s:
        audited = s.scalars(select(AuditEvent).where(AuditEvent.action == "mail.resend")).all()
        assert mail_trouble(s).failed == 0
    assert len(audited) == 2 and {a.actor for a in audited} == {"an"}


def test_failed_mail_of_a_closed_invitation_is_not_resent(any_db, clock, tmp_path):
    db = any_db
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
        s.execute(update(ParticipantIdentity).values(email=None))
    tick_at(db.sessions, clock.now())
    with db.sessions.begin() as s:
        employee = s.scalar(
            select(Invitation.id).where(
                Invitation.respondent == Respondent.EMPLOYEE, Invitation.status == "open"
            )
        )
        s.execute(update(Invitation).where(Invitation.id == employee).values(status="missed"))
        s.execute(update(ParticipantIdentity).values(email="laat@mail.example"))
    with db.sessions.begin() as s:
        report = resend_failed(s, actor="an", at=clock.now())
    assert (report.queued, report.closed) == (0, 1)
    with db.read_sessions() as s:
        assert s.scalar(select(Outbox.status).where(Outbox.invitation_id == employee)) == (
            OutboxStatus.FAILED
        )


class _Picky(Inbox):
    """Refuses one address for good (550) and greylists another (451) until told otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing = True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing and address == "p0001@mail.example":
            return "550 5.1.1 no such user"
        if self.refusing and address == "p0002@mail.example":
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_address_fails_at_once_a_greylisted_one_waits_and_both_can_be_resent(
    db, tmp_path
):
    from study.clock import SimulatedClock, SystemClock
    from tests.process_support import child_database_url, klik_env, start_klik

    # the child process below runs on the wall clock: so does this study
    clock = SimulatedClock(SystemClock().now())
    port, inbox = free_port(), _Picky()
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with db.sessions.begin() as s:
        factory.build_cohort(
            s, clock.now(), n_trajectories=2, spacing_days=0, first_start=clock.now().date()
        )
    tick_at(db.sessions, clock.now())
    with smtp_on(port, inbox):
        report = send_pending(db.sessions, settings=settings, clock=clock)
    assert (report.sent, report.failed, report.retrying) == (4, 1, 1)
    assert "550" in report.errors[0]
    # the address is corrected; `klik send-mail --retry-failed` queues the refused mail again
    inbox.refusing = False
    env = klik_env(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls="false")
    args = ["send-mail", "--retry-failed", "--database", child_database_url(db)]
    with smtp_on(port, inbox):
        assert start_klik(args, env, tmp_path).wait(timeout=60) == 0
    output = (tmp_path / "klik-0.out").read_text()
    assert "queued again: 1" in output
    copies = inbox.by_outbox_id()
    assert len(copies) == 5 and {len(c) for c in copies.values()} == {1}
    with db.read_sessions() as s:  # the greylisted one waits for its back-off, it is not lost
        waiting = s.execute(
            select(Outbox.recipient, Outbox.status).where(Outbox.status != OutboxStatus.SENT)
        ).all()
    assert waiting == [("p0002@mail.example", OutboxStatus.PENDING)]
