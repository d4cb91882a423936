"""What researchers see of the outbox: counts per status and kind, trouble, recent failures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from study.models import Invitation, Outbox
from study.vocab import OutboxStatus


def outbox_status(session: Session) -> pd.DataFrame:
    """Number of outbox mails per status and kind.

    Returns
    -------
    DataFrame with columns ``status`` (pending, sent, failed, cancelled), ``kind`` (invitation,
    reminder), ``n`` (count), ``oldest_pending`` (earliest next attempt of pending mail, UTC).
    """
    rows = session.execute(
        select(
            Outbox.status,
            Outbox.kind,
            func.count().label("n"),
            func.min(Outbox.next_attempt_at).label("next_attempt_at"),
        )
        .group_by(Outbox.status, Outbox.kind)
        .order_by(Outbox.status, Outbox.kind)
    ).all()
    frame = pd.DataFrame(
        [
            {
                "status": str(r.status.value if hasattr(r.status, "value") else r.status),
                "kind": r.kind,
                "n": int(r.n),
                "oldest_pending": r.next_attempt_at if r.status == OutboxStatus.PENDING else None,
            }
            for r in rows
        ],
        columns=["status", "kind", "n", "oldest_pending"],
    )
    return frame


def outbox_failures(session: Session, limit: int = 50) -> pd.DataFrame:
    """The most recent failed mails, for the researchers' status page.

    Returns
    -------
    DataFrame with columns ``outbox_id``, ``invitation_id``, ``trajectory_id``, ``wave_code``,
    ``respondent``, ``kind``, ``recipient``, ``attempts``, ``last_error``, ``created_at`` (UTC),
    newest first.
    """
    rows = session.execute(
        select(
            Outbox.id.label("outbox_id"),
            Outbox.invitation_id,
            Invitation.trajectory_id,
            Invitation.wave_code,
            Invitation.respondent,
            Outbox.kind,
            Outbox.recipient,
            Outbox.attempts,
            Outbox.last_error,
            Outbox.created_at,
        )
        .outerjoin(Invitation, Invitation.id == Outbox.invitation_id)
        .where(Outbox.status == OutboxStatus.FAILED)
        .order_by(Outbox.created_at.desc(), Outbox.id.desc())
        .limit(limit)
    ).all()
    columns = [
        "outbox_id",
        "invitation_id",
        "trajectory_id",
        "wave_code",
        "respondent",
        "kind",
        "recipient",
        "attempts",
        "last_error",
        "created_at",
    ]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["respondent"] = frame["respondent"].map(lambda v: getattr(v, "value", v))
    return frame


@dataclass(frozen=True)
class MailTrouble:
    """Whether mail is failing now: how many mails, and since when."""

    #: mails given up on (window closed, address refused or unknown); a researcher can resend them
    failed: int
    #: mails still being retried after an error
    retrying: int
    #: when the oldest of these mails was queued (UTC), None when nothing fails
    since: dt.datetime | None
    #: the error of the most recently queued of them
    last_error: str | None

    @property
    def any(self) -> bool:
        """True when some mail is failing or being retried."""
        return bool(self.failed or self.retrying)


def mail_trouble(session: Session) -> MailTrouble:
    """Failed mail and mail being retried after an error, with the moment it started."""
    failing = or_(
        Outbox.status == OutboxStatus.FAILED,
        (Outbox.status == OutboxStatus.PENDING) & Outbox.last_error.is_not(None),
    )
    row = session.execute(
        select(
            func.count().filter(Outbox.status == OutboxStatus.FAILED),
            func.count().filter(Outbox.status == OutboxStatus.PENDING),
            func.min(Outbox.created_at),
        ).where(failing)
    ).one()
    last_error = session.scalar(
        select(Outbox.last_error)
        .where(failing)
        .order_by(Outbox.created_at.desc(), Outbox.id.desc())
        .limit(1)
    )
    return MailTrouble(
        failed=int(row[0] or 0), retrying=int(row[1] or 0), since=row[2], last_error=last_error
    )
