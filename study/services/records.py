"""What jobcoaches log: coaching contacts (intensity) and employment events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study import audit
from study.errors import InvalidInput
from study.inputs import ContactInput, EmploymentEventInput, parse
from study.models import CoachingContact, EmploymentEvent, Trajectory
from study.services.common import trajectory_in_study, utc
from study.vocab import EventKind


def _check_date_in_trajectory(trajectory: Trajectory, day: dt.date, field: str) -> None:
    if day < trajectory.start_date:
        raise InvalidInput(
            f"de datum ({day:%d-%m-%Y}) ligt vóór de start van het traject "
            f"({trajectory.start_date:%d-%m-%Y})",
            f"the date ({day}) is before the trajectory started ({trajectory.start_date})",
            field=field,
        )


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
    inp = parse(ContactInput, data)
    trajectory = trajectory_in_study(session, trajectory_id, study_id)
    _check_date_in_trajectory(trajectory, inp.contact_date, "contact_date")
    if trajectory.end_date is not None and inp.contact_date > trajectory.end_date:
        raise InvalidInput(
            "de datum ligt na het einde van het traject",
            "the date is after the trajectory ended",
            field="contact_date",
        )
    contact = CoachingContact(trajectory_id=trajectory.id, created_at=utc(at), **inp.model_dump())
    session.add(contact)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="create",
        entity="coaching_contact",
        entity_id=contact.id,
        new={"trajectory_id": trajectory.id, **inp.model_dump()},
    )
    return contact


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
    inp = parse(EmploymentEventInput, data)
    trajectory = trajectory_in_study(session, trajectory_id, study_id)
    _check_date_in_trajectory(trajectory, inp.event_date, "event_date")
    if inp.kind == EventKind.JOB_END and inp.job_end_reason is None:
        raise InvalidInput(
            "geef de reden waarom de baan eindigde",
            "give the reason the job ended",
            field="job_end_reason",
        )
    if inp.kind != EventKind.JOB_END and inp.job_end_reason is not None:
        raise InvalidInput(
            "een reden hoort alleen bij het einde van een baan",
            "a reason belongs only to the end of a job",
            field="job_end_reason",
        )
    if inp.kind == EventKind.HOURS_CHANGE and inp.hours is None:
        raise InvalidInput(
            "geef het nieuwe aantal uren per week",
            "give the new number of hours per week",
            field="hours",
        )
    event = EmploymentEvent(trajectory_id=trajectory.id, created_at=utc(at), **inp.model_dump())
    session.add(event)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="create",
        entity="employment_event",
        entity_id=event.id,
        new={"trajectory_id": trajectory.id, **inp.model_dump()},
    )
    return event
