"""Enrolling a coached employee, with consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict
from study.inputs import EnrolmentInput, parse
from study.models import Consent, Participant, ParticipantIdentity, Study
from study.services.common import get_in_study, utc


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
    inp = parse(EnrolmentInput, data)
    study = get_in_study(session, Study, study_id, study_id)
    if (
        session.scalar(
            select(Participant.id).where(
                Participant.study_id == study_id, Participant.study_code == inp.study_code
            )
        )
        is not None
    ):
        raise Conflict(
            f"studiecode {inp.study_code} is al in gebruik",
            f"study code {inp.study_code} is already in use",
            field="study_code",
        )
    at = utc(at)
    participant = Participant(
        study_id=study_id,
        study_code=inp.study_code,
        birth_year=inp.birth_year,
        gender=inp.gender,
        benefit=inp.benefit,
        doelgroepregister=inp.doelgroepregister,
        enrolled_at=at,
    )
    session.add(participant)
    session.flush()
    session.add(
        ParticipantIdentity(
            participant_id=participant.id, name=inp.name, email=inp.email, phone=inp.phone
        )
    )
    consent = Consent(
        participant_id=participant.id,
        version=inp.consent_version or study.consent_version,
        given_at=at,
    )
    session.add(consent)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="enrol",
        entity="participant",
        entity_id=participant.id,
        new={
            "study_code": inp.study_code,
            "birth_year": inp.birth_year,
            "gender": inp.gender,
            "benefit": inp.benefit,
            "doelgroepregister": inp.doelgroepregister,
            "consent_version": consent.version,
        },
    )
    return participant
