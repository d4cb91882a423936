"""Delivery of outbox mail: over SMTP when configured, else as ``.eml`` files in a folder.

A send round claims due pending rows in a short transaction (pushing their next attempt a claim
ahead, so a second sender skips them) and delivers them outside any transaction, one message at a
time: the outcome of each message is committed before the next one goes out, so a sender killed
mid-round sends again at most the one message it was handing over. Every attempt of one outbox row
carries the same Message-ID (:func:`message_id`), so a receiving server can drop such a copy.

The personal link is derived at delivery time from the invitation's salt and the secret key; a mail
whose invitation is no longer open is cancelled instead of sent. A failure the server may get over
is retried with exponential backoff (``settings.mail_retry_first_seconds`` doubling up to
``settings.mail_retry_max_seconds``) for as long as the mail can still matter: until the end of the
invitation's closing day, or ``settings.mail_give_up_hours`` after it was queued when it belongs to
no invitation. Only then, or when the server refuses the address, is it marked ``failed``, with the
error kept for the researchers; :mod:`study.mail.resend` queues failed mail again.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Protocol as TypingProtocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from study import tokens
from study.clock import AMSTERDAM, Clock
from study.mail.compose import with_link
from study.models import Invitation, Outbox
from study.vocab import InvitationStatus, OutboxStatus

log = logging.getLogger("klik.mail")

CLAIM_LEASE = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(minutes=30)
BATCH = 200


class MailSettings(TypingProtocol):
    """The settings the sender reads (``klik.settings.Settings`` has them)."""

    @property
    def secret_key(self) -> str: ...
    @property
    def signing_keys(self) -> tuple[str, ...]: ...
    @property
    def base_url(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def mail_retry_first_seconds(self) -> float: ...
    @property
    def mail_retry_max_seconds(self) -> float: ...
    @property
    def mail_give_up_hours(self) -> float: ...
    @property
    def mail_claim_seconds(self) -> float: ...
    @property
    def mail_dir(self) -> Path: ...
    @property
    def smtp_host(self) -> str | None: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_user(self) -> str | None: ...
    @property
    def smtp_password(self) -> str | None: ...
    @property
    def smtp_starttls(self) -> bool: ...


class PermanentFailure(Exception):
    """Delivery can never succeed (e.g. the server refuses the address): no retry."""


class Transport(TypingProtocol):
    def deliver(self, messages: Iterable[EmailMessage]) -> Iterator[Exception | None]:
        """Deliver ``messages`` one by one, yielding each outcome (None when delivered) as soon
        as it is known and before the next message is taken: the caller records it in between."""
        ...


@dataclass
class SmtpTransport:
    """SMTP with STARTTLS when configured; one connection per send round."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 30.0

    def deliver(self, messages: Iterable[EmailMessage]) -> Iterator[Exception | None]:
        """One connection for all ``messages``; see :meth:`Transport.deliver`."""
        pending = iter(messages)
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:
            for _ in pending:
                yield exc
            return
        broken: Exception | None = None
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            broken = exc
        try:
            for message in pending:
                if broken is not None:
                    yield broken
                    continue
                try:
                    smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused as exc:
                    # 4xx (a full mailbox, greylisting) passes; only 5xx is the server's final word
                    codes = [code for code, _ in exc.recipients.values()]
                    final = bool(codes) and all(code >= 500 for code in codes)
                    yield PermanentFailure(f"recipient refused: {exc.recipients}") if final else exc
                    continue
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    broken = exc  # the rest of the round cannot go over this connection
                    yield exc
                    continue
                except smtplib.SMTPResponseException as exc:
                    final = exc.smtp_code >= 500
                    yield (
                        PermanentFailure(f"refused: {exc.smtp_code} {exc.smtp_error!r}")
                        if final
                        else exc
                    )
                    continue
                except smtplib.SMTPException as exc:
                    yield exc
                    continue
                yield None
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


@dataclass
class FileTransport:
    """Writes each mail as an ``.eml`` file into ``directory`` (the offline demo's mailbox)."""

    directory: Path

    def deliver(self, messages: Iterable[EmailMessage]) -> Iterator[Exception | None]:
        """One file per message; see :meth:`Transport.deliver`."""
        for message in messages:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = str(message["X-Klik-Outbox-Id"]) + ".eml"
                (self.directory / name).write_bytes(bytes(message))
            except OSError as exc:
                yield exc
                continue
            yield None


def transport_for(settings: MailSettings) -> Transport:
    """SMTP when ``settings.smtp_host`` is set, else files in ``settings.mail_dir``."""
    if settings.smtp_host:
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return FileTransport(Path(settings.mail_dir))


@dataclass
class SendReport:
    """Outcome of one send round."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled


def backoff(
    attempts: int, first: dt.timedelta = BACKOFF_BASE, cap: dt.timedelta = BACKOFF_MAX
) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: ``first``, twice that, four times ..., at most
    ``cap`` (by default 1, 2, 4 ... minutes, at most 30)."""
    return min(first * (2 ** min(max(attempts - 1, 0), 40)), cap)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often the sender keeps trying."""

    first: dt.timedelta = BACKOFF_BASE
    cap: dt.timedelta = BACKOFF_MAX
    give_up_after: dt.timedelta = dt.timedelta(hours=72)
    claim: dt.timedelta = CLAIM_LEASE

    @classmethod
    def of(cls, settings: MailSettings) -> RetryPolicy:
        """The policy ``settings`` ask for (defaults where a setting is missing)."""

        def seconds(name: str, default: dt.timedelta) -> dt.timedelta:
            value = getattr(settings, name, None)
            return default if value is None else dt.timedelta(seconds=float(value))

        hours = getattr(settings, "mail_give_up_hours", None)
        return cls(
            first=seconds("mail_retry_first_seconds", BACKOFF_BASE),
            cap=seconds("mail_retry_max_seconds", BACKOFF_MAX),
            give_up_after=dt.timedelta(hours=72 if hours is None else float(hours)),
            claim=seconds("mail_claim_seconds", CLAIM_LEASE),
        )


def matters_until(
    closes_on: dt.date | None, created_at: dt.datetime, policy: RetryPolicy
) -> dt.datetime:
    """Until when a mail is worth trying: the end of its invitation's closing day in Amsterdam,
    or ``policy.give_up_after`` after it was queued when it belongs to no invitation."""
    if closes_on is None:
        return created_at + policy.give_up_after
    end = dt.datetime.combine(closes_on + dt.timedelta(days=1), dt.time(), AMSTERDAM)
    return end.astimezone(dt.UTC)


def message_id(outbox_id: int, created_at: dt.datetime, mail_from: str) -> str:
    """The Message-ID of every attempt of one outbox row.

    Built from the row's id and the moment it was queued, which never change, so a copy sent again
    after a crash is recognisable as the same message; the queueing moment keeps ids distinct
    between studies (and between a database and its restored copy's new rows) that share a sender
    domain.
    """
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "klik.local"
    stamp = created_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    return f"<klik.{outbox_id}.{stamp}@{domain}>"


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime
    closes_on: dt.date | None
    attempts: int
    invitation_id: int | None
    invitation_status: str | None
    token_salt: str | None
    token_hash: str | None


def send_pending(
    session_factory: sessionmaker[Session],
    *,
    settings: MailSettings,
    clock: Clock,
    transport: Transport | None = None,
    limit: int = 1000,
) -> SendReport:
    """Deliver due pending outbox mail, at most ``limit`` messages; see the module docstring."""
    transport = transport or transport_for(settings)
    policy = RetryPolicy.of(settings)
    report = SendReport()
    remaining = limit
    while remaining > 0:
        claimed_at = clock.now()
        claimed = _claim(session_factory, claimed_at, min(BATCH, remaining), policy.claim)
        if not claimed:
            break
        remaining -= len(claimed)
        deliverable: list[_Claimed] = []
        for row in claimed:
            if row.invitation_id is not None and (
                row.invitation_status != InvitationStatus.OPEN or not row.token_salt
            ):
                _record(session_factory, row, "cancelled", f"invitation {row.invitation_status}")
                report.cancelled += 1
                continue
            deliverable.append(row)
        # Past half the claim another sender may soon take these rows over: leave the rest to
        # the next claim rather than risk two senders handing over the same message.
        messages = _messages(deliverable, settings, clock, until=claimed_at + policy.claim / 2)
        for row, error in zip(deliverable, transport.deliver(messages), strict=False):
            _settle(session_factory, row, error, clock.now(), policy, report)
    return report


def _messages(
    rows: list[_Claimed], settings: MailSettings, clock: Clock, *, until: dt.datetime
) -> Iterator[EmailMessage]:
    """The mails of ``rows``, built as the transport takes them, none handed over after ``until``."""
    for row in rows:
        if clock.now() >= until:
            return
        yield _message(row, settings)


def _settle(
    session_factory: sessionmaker[Session],
    row: _Claimed,
    error: Exception | None,
    now: dt.datetime,
    policy: RetryPolicy,
    report: SendReport,
) -> None:
    """Record one delivery outcome at once, before the next message goes out."""
    if error is None:
        _record(session_factory, row, "sent", None, now)
        report.sent += 1
        return
    reason = f"{type(error).__name__}: {error}"
    next_at = now + backoff(row.attempts, policy.first, policy.cap)
    deadline = matters_until(row.closes_on, row.created_at, policy)
    if isinstance(error, PermanentFailure) or next_at >= deadline:
        _record(session_factory, row, "failed", reason, now)
        report.failed += 1
        report.errors.append(f"outbox {row.id}: {reason}")
    else:
        _record(session_factory, row, "retry", reason, next_at)
        report.retrying += 1


def _claim(
    session_factory: sessionmaker[Session],
    now: dt.datetime,
    n: int,
    claim: dt.timedelta = CLAIM_LEASE,
) -> list[_Claimed]:
    with session_factory.begin() as s:
        due = (
            select(Outbox.id)
            .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(n)
            .with_for_update(skip_locked=True)
        )
        ids = list(s.scalars(due))
        if not ids:
            return []
        # Push the next attempt a lease ahead and count the attempt before delivering, so that a
        # crash during delivery leads to a retry later and never to a lost message.
        s.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids))
            .values(next_attempt_at=now + claim, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = s.execute(
            select(
                Outbox.id,
                Outbox.recipient,
                Outbox.subject,
                Outbox.body,
                Outbox.created_at,
                Invitation.closes_on,
                Outbox.attempts,
                Outbox.invitation_id,
                Invitation.status,
                Invitation.token_salt,
                Invitation.token_hash,
            )
            .outerjoin(Invitation, Invitation.id == Outbox.invitation_id)
            .where(Outbox.id.in_(ids))
            .order_by(Outbox.id)
        ).all()
        return [_Claimed(*row) for row in rows]


def _message(row: _Claimed, settings: MailSettings) -> EmailMessage:
    body = row.body
    if row.invitation_id is not None and row.token_salt:
        # the key that made the link may since have been rotated out of first place
        token = tokens.stored_token(
            settings.signing_keys, row.invitation_id, row.token_salt, row.token_hash
        )
        if token is None:
            log.warning("no secret key makes the stored link of invitation %s", row.invitation_id)
            token = tokens.token_for(settings.secret_key, row.invitation_id, row.token_salt)
        body = with_link(body, tokens.link_for(settings.base_url, token))
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(row.id, row.created_at, settings.mail_from)
    message["X-Klik-Outbox-Id"] = str(row.id)
    message.set_content(body)
    return message


def _record(
    session_factory: sessionmaker[Session],
    row: _Claimed,
    outcome: str,
    error: str | None,
    at: dt.datetime | None = None,
) -> None:
    """Commit one row's outcome in its own short transaction; ``at`` is when it was sent, or
    when to try again."""
    values: dict[str, object]
    if outcome == "sent":
        values = {"status": OutboxStatus.SENT, "sent_at": at, "last_error": None}
    elif outcome == "cancelled":
        values = {"status": OutboxStatus.CANCELLED, "last_error": error}
    elif outcome == "failed":
        values = {"status": OutboxStatus.FAILED, "last_error": error}
    else:
        values = {"next_attempt_at": at, "last_error": error}
    with session_factory.begin() as s:
        s.execute(
            update(Outbox)
            .where(Outbox.id == row.id, Outbox.status == OutboxStatus.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
