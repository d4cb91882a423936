"""Sending failed mail again, by a researcher's decision (outbox page, ``klik send-mail``).

Mail fails for good only when its invitation's window closed during an outage, or when the server
refused the address. A researcher who fixed the cause (added or corrected the address, waited for
the server to come back) queues it again here: the row becomes pending with a fresh retry budget and
the respondent's current address, and the decision is audited. Mail of an invitation that is no
longer open stays as it is, since its link would not work; mail with still no address stays failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from study import audit
from study.mail.recipients import recipient_address
from study.models import Employer, Invitation, Jobcoach, Outbox, ParticipantIdentity, Trajectory
from study.vocab import InvitationStatus, OutboxStatus


@dataclass(frozen=True)
class ResendReport:
    """What :func:`resend_failed` did."""

    queued: int = 0
    without_address: int = 0
    closed: int = 0


def resend_failed(
    session: Session,
    *,
    actor: str,
    at: dt.datetime,
    outbox_ids: Sequence[int] | None = None,
    kind: str | None = None,
    reason: str | None = None,
    within: Any = None,
) -> ResendReport:
    """Queue failed mail again: the rows ``outbox_ids``, or every failed mail (of ``kind``).

    Parameters
    ----------
    session:
        A writing session; the caller commits.
    actor:
        Who decided (a user name, or ``cli``); recorded in the audit log with ``reason``.
    at:
        The moment of the decision; the mail is due from then on.
    outbox_ids, kind:
        Which failed mail: the given rows, else all failed mail, of ``kind`` when given.
    within:
        A SELECT of trajectory ids: only their invitations' mail (what a user may see).
    """
    query = (
        select(Outbox.id, Outbox.recipient, Outbox.invitation_id, Invitation.status)
        .outerjoin(Invitation, Invitation.id == Outbox.invitation_id)
        .where(Outbox.status == OutboxStatus.FAILED)
        .order_by(Outbox.id)
    )
    if outbox_ids is not None:
        query = query.where(Outbox.id.in_(list(outbox_ids)))
    if kind is not None:
        query = query.where(Outbox.kind == kind)
    if within is not None:
        query = query.where(Invitation.trajectory_id.in_(within))
    rows = session.execute(query.with_for_update(of=Outbox)).all()
    addresses = _current_addresses(session, [r.invitation_id for r in rows if r.invitation_id])
    queued = without_address = closed = 0
    for outbox_id, old_recipient, invitation_id, invitation_status in rows:
        if invitation_id is not None and invitation_status != InvitationStatus.OPEN:
            closed += 1
            continue
        recipient = (
            (addresses.get(invitation_id) or "").strip()
            if invitation_id is not None
            else old_recipient
        )
        if not recipient:
            without_address += 1
            continue
        new = {
            "status": OutboxStatus.PENDING,
            "recipient": recipient,
            "attempts": 0,
            "next_attempt_at": at,
            "last_error": None,
        }
        session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.FAILED)
            .values(**new)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            at=at,
            actor=actor,
            action="mail.resend",
            entity="outbox",
            entity_id=outbox_id,
            old={"status": OutboxStatus.FAILED, "recipient_changed": False},
            new={"status": OutboxStatus.PENDING, "recipient_changed": recipient != old_recipient},
            reason=reason,
        )
        queued += 1
    return ResendReport(queued=queued, without_address=without_address, closed=closed)


def _current_addresses(session: Session, invitation_ids: list[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for start in range(0, len(invitation_ids), 500):
        batch = invitation_ids[start : start + 500]
        statement = (
            select(Invitation.id, recipient_address())
            .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
            .outerjoin(
                ParticipantIdentity,
                ParticipantIdentity.participant_id == Trajectory.participant_id,
            )
            .outerjoin(Jobcoach, Jobcoach.id == Trajectory.jobcoach_id)
            .outerjoin(Employer, Employer.id == Trajectory.employer_id)
            .where(Invitation.id.in_(batch))
        )
        found.update({i: a for i, a in session.execute(statement)})
    return found
