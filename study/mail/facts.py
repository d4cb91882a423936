"""What a mail about an invitation says: the facts of each invitation, read in one query."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from study.mail.compose import MailFacts
from study.mail.recipients import recipient_address
from study.models import (
    Employer,
    Invitation,
    Jobcoach,
    Participant,
    ParticipantIdentity,
    Trajectory,
    Wave,
)
from study.vocab import Respondent


def invitation_mail_rows(
    session: Session, invitation_ids: Sequence[int]
) -> Iterator[dict[str, Any]]:
    """Per invitation: id, respondent, wave_code, due_on, closes_on, anchor, offset_months,
    study_code and the respondent's current address (None when unknown)."""
    statement = (
        select(
            Invitation.id,
            Invitation.respondent,
            Invitation.wave_code,
            Invitation.due_on,
            Invitation.closes_on,
            Wave.anchor,
            Wave.offset_months,
            Participant.study_code,
            recipient_address().label("address"),
        )
        .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
        .join(Participant, Participant.id == Trajectory.participant_id)
        .outerjoin(ParticipantIdentity, ParticipantIdentity.participant_id == Participant.id)
        .outerjoin(Jobcoach, Jobcoach.id == Trajectory.jobcoach_id)
        .outerjoin(Employer, Employer.id == Trajectory.employer_id)
        .outerjoin(
            Wave,
            and_(Wave.protocol_id == Invitation.protocol_id, Wave.code == Invitation.wave_code),
        )
        .where(Invitation.id.in_(invitation_ids))
    )
    for row in session.execute(statement).mappings():
        yield dict(row)


def mail_facts(row: dict[str, Any], kind: str, number: int) -> MailFacts:
    """The :class:`MailFacts` of one :func:`invitation_mail_rows` row for a mail of ``kind``."""
    return MailFacts(
        kind=kind,
        reminder_number=number,
        respondent=Respondent(row["respondent"]),
        wave_code=row["wave_code"],
        anchor=row["anchor"] or "start",
        offset_months=row["offset_months"] or 0,
        due_on=row["due_on"],
        closes_on=row["closes_on"],
        participant_code=row["study_code"],
    )
