"""Delivery of outbox mail: over SMTP when configured, else as ``.eml`` files in a folder.

A send round claims due pending rows in a short transaction (pushing their next attempt a lease
ahead, so a second sender skips them), delivers outside any transaction, and records each outcome
in its own short transaction. The personal link is derived at delivery time from the invitation's
salt and the secret key; a mail whose invitation is no longer open is cancelled instead of sent.
Failures are retried with exponential backoff and marked ``failed`` after
``settings.mail_max_attempts`` attempts, with the error kept for the researchers' status page.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol as TypingProtocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from study import tokens
from study.clock import Clock
from study.mail.compose import with_link
from study.models import Invitation, Outbox
from study.vocab import InvitationStatus, OutboxStatus

log = logging.getLogger("klik.mail")

CLAIM_LEASE = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
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
    def mail_max_attempts(self) -> int: ...
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
    def deliver(self, messages: list[EmailMessage]) -> list[Exception | None]:
        """Deliver ``messages``; one outcome per message (None when delivered)."""
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

    def deliver(self, messages: list[EmailMessage]) -> list[Exception | None]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:
            return [exc] * len(messages)
        outcomes: list[Exception | None] = []
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            for message in messages:
                try:
                    smtp.send_message(message)
                    outcomes.append(None)
                except smtplib.SMTPRecipientsRefused as exc:
                    outcomes.append(PermanentFailure(f"recipient refused: {exc.recipients}"))
                except (smtplib.SMTPException, OSError) as exc:
                    outcomes.append(exc)
        except (smtplib.SMTPException, OSError) as exc:
            outcomes.extend([exc] * (len(messages) - len(outcomes)))
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return outcomes


@dataclass
class FileTransport:
    """Writes each mail as an ``.eml`` file into ``directory`` (the offline demo's mailbox)."""

    directory: Path

    def deliver(self, messages: list[EmailMessage]) -> list[Exception | None]:
        outcomes: list[Exception | None] = []
        for message in messages:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = str(message["X-Klik-Outbox-Id"]) + ".eml"
                (self.directory / name).write_bytes(bytes(message))
                outcomes.append(None)
            except OSError as exc:
                outcomes.append(exc)
        return outcomes


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


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    subject: str
    body: str
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
    report = SendReport()
    remaining = limit
    while remaining > 0:
        now = clock.now()
        claimed = _claim(session_factory, now, min(BATCH, remaining))
        if not claimed:
            break
        remaining -= len(claimed)
        deliverable: list[tuple[_Claimed, EmailMessage]] = []
        outcomes: dict[int, tuple[str, str | None]] = {}
        for row in claimed:
            if row.invitation_id is not None and (
                row.invitation_status != InvitationStatus.OPEN or not row.token_salt
            ):
                outcomes[row.id] = ("cancelled", f"invitation {row.invitation_status}")
                continue
            deliverable.append((row, _message(row, settings)))
        results = transport.deliver([m for _, m in deliverable]) if deliverable else []
        for (row, _), error in zip(deliverable, results, strict=True):
            if error is None:
                outcomes[row.id] = ("sent", None)
            elif isinstance(error, PermanentFailure) or row.attempts >= settings.mail_max_attempts:
                outcomes[row.id] = ("failed", f"{type(error).__name__}: {error}")
            else:
                outcomes[row.id] = ("retry", f"{type(error).__name__}: {error}")
        _record(session_factory, claimed, outcomes, clock.now(), report)
    return report


def _claim(session_factory: sessionmaker[Session], now: dt.datetime, n: int) -> list[_Claimed]:
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
            .values(next_attempt_at=now + CLAIM_LEASE, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = s.execute(
            select(
                Outbox.id,
                Outbox.recipient,
                Outbox.subject,
                Outbox.body,
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
    message["Message-ID"] = make_msgid(idstring=f"klik-outbox-{row.id}")
    message["X-Klik-Outbox-Id"] = str(row.id)
    message.set_content(body)
    return message


def _record(
    session_factory: sessionmaker[Session],
    claimed: list[_Claimed],
    outcomes: dict[int, tuple[str, str | None]],
    now: dt.datetime,
    report: SendReport,
) -> None:
    attempts = {row.id: row.attempts for row in claimed}
    with session_factory.begin() as s:
        for outbox_id, (outcome, error) in outcomes.items():
            values: dict[str, object]
            if outcome == "sent":
                values = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
                report.sent += 1
            elif outcome == "cancelled":
                values = {"status": OutboxStatus.CANCELLED, "last_error": error}
                report.cancelled += 1
            elif outcome == "failed":
                values = {"status": OutboxStatus.FAILED, "last_error": error}
                report.failed += 1
                report.errors.append(f"outbox {outbox_id}: {error}")
            else:
                values = {
                    "next_attempt_at": now + backoff(attempts[outbox_id]),
                    "last_error": error,
                }
                report.retrying += 1
            s.execute(
                update(Outbox)
                .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
