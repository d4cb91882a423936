"""Enrolling a coached employee, with consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study.inputs import EnrolmentInput
from study.models import Participant
from study.services import bulk


def enrol_participant(
    session: Session,
    study_id: int,
    data: EnrolmentInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> Participant:
    """Enrol a participant under a pseudonymous study code, with consent given at ``at``.

    Contact details (name, e-mail, phone) go to the separate identity table only.
    """
    [participant_id] = bulk.enrol_participants(session, study_id, [data], actor=actor, at=at)
    return session.get_one(Participant, participant_id)
