"""What jobcoaches log: coaching contacts (intensity) and employment events.

One entry is a batch of one: the rules live once, in :mod:`study.services.bulk`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study.inputs import ContactInput, EmploymentEventInput
from study.models import CoachingContact, EmploymentEvent
from study.services import bulk


def record_contact(
    session: Session,
    study_id: int,
    trajectory_id: int,
    data: ContactInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> CoachingContact:
    """Log a coaching contact: date, minutes (> 0), mode, with whom, activity category."""
    [contact_id] = bulk.record_contacts(
        session, study_id, [(trajectory_id, data)], actor=actor, at=at
    )
    return session.get_one(CoachingContact, contact_id)


def record_employment_event(
    session: Session,
    study_id: int,
    trajectory_id: int,
    data: EmploymentEventInput | dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> EmploymentEvent:
    """Log an employment event: job start or end (with reason), hours, department or task change,
    sick leave start or end."""
    [event_id] = bulk.record_employment_events(
        session, study_id, [(trajectory_id, data)], actor=actor, at=at
    )
    return session.get_one(EmploymentEvent, event_id)
