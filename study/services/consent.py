"""Withdrawing consent: it stops every future invitation and unsent mail at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from study import audit
from study.errors import InvalidInput
from study.models import Invitation, Outbox, Participant, Trajectory
from study.services import rules
from study.services.common import ensure_consent, get_in_study, utc
from study.vocab import InvitationStatus, OutboxStatus

#: the longest reason for a withdrawal, in characters (refused beyond, never cut)
MAX_REASON = 2000


def withdraw_consent(
    session: Session,
    study_id: int,
    participant_id: int,
    *,
    reason: str | None,
    actor: str,
    at: dt.datetime,
) -> int:
    """Record the withdrawal and cancel the participant's scheduled and open invitations and their
    unsent mail. Returns the number of invitations cancelled. Answers already given are kept (the
    consent form says so); they can be removed on request through a correction."""
    get_in_study(session, Participant, participant_id, study_id)
    reason = (reason or "").strip() or None
    if reason is not None:
        if len(reason) > MAX_REASON:
            raise InvalidInput(
                f"de reden is te lang: {len(reason)} tekens, hoogstens {MAX_REASON} toegestaan",
                f"the reason is too long: {len(reason)} characters, at most {MAX_REASON} allowed",
                field="reason",
            )
        rules.check_free_text(reason, "reason")
    consent = ensure_consent(session, participant_id)
    at = utc(at)
    consent.withdrawn_at = at
    consent.withdrawal_reason = reason
    # A participant has a handful of invitations and mails. Look them up by their own keys and
    # filter the statuses here: given a status condition, SQLite's planner walks the status index
    # through every pending row of the study instead.
    trajectory_ids = list(
        session.scalars(select(Trajectory.id).where(Trajectory.participant_id == participant_id))
    )
    live = {InvitationStatus.SCHEDULED, InvitationStatus.OPEN}
    invitation_ids = [
        i
        for i, status in session.execute(
            select(Invitation.id, Invitation.status).where(
                Invitation.trajectory_id.in_(trajectory_ids)
            )
        )
        if status in live
    ]
    mail_ids = [
        i
        for i, status in session.execute(
            select(Outbox.id, Outbox.status).where(Outbox.invitation_id.in_(invitation_ids))
        )
        if status == OutboxStatus.PENDING
    ]
    if mail_ids:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(mail_ids))
            .values(status=OutboxStatus.CANCELLED, last_error="consent withdrawn")
        )
    cancelled = 0
    if invitation_ids:
        cancelled = session.execute(
            update(Invitation)
            .where(Invitation.id.in_(invitation_ids))
            .values(status=InvitationStatus.CANCELLED, token_hash=None)
        ).rowcount
    audit.record(
        session,
        at=at,
        actor=actor,
        action="withdraw_consent",
        entity="participant",
        entity_id=participant_id,
        new={"withdrawn_at": at, "invitations_cancelled": cancelled},
        reason=reason,
    )
    return cancelled
