"""Correcting a stored value, always with a reason, recorded with old and new value."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study import audit
from study.errors import InvalidInput
from study.inputs import (
    ContactInput,
    EmploymentEventInput,
    EnrolmentInput,
    Input,
    TrajectoryEndInput,
    TrajectoryInput,
    parse,
)
from study.models import Base, CoachingContact, EmploymentEvent, Participant, Trajectory
from study.services.common import get_in_study, utc

#: entity -> (model, input model that validates it, correctable fields)
CORRECTABLE: dict[str, tuple[type[Base], type[Input], tuple[str, ...]]] = {
    "participant": (
        Participant,
        EnrolmentInput,
        ("birth_year", "gender", "benefit", "doelgroepregister"),
    ),
    "trajectory": (
        Trajectory,
        TrajectoryInput,
        (
            "start_date",
            "funder",
            "employment_form",
            "contract_hours",
            "loonwaarde",
            "maatje",
            "method",
            "coach_type",
        ),
    ),
    "trajectory_end": (Trajectory, TrajectoryEndInput, ("end_date", "end_reason")),
    "coaching_contact": (
        CoachingContact,
        ContactInput,
        ("contact_date", "minutes", "mode", "with_whom", "activity"),
    ),
    "employment_event": (
        EmploymentEvent,
        EmploymentEventInput,
        ("event_date", "hours", "job_end_reason"),
    ),
}


def correct_value(
    session: Session,
    study_id: int,
    entity: str,
    entity_id: int,
    field: str,
    value: Any,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> Any:
    """Set ``field`` of one row to ``value`` after validating it as a new entry would be validated.

    ``entity`` is one of ``CORRECTABLE``; the end date and reason of a trajectory are corrected as
    entity ``trajectory_end``. Returns the stored value.
    """
    if not reason or not reason.strip():
        raise InvalidInput(
            "geef een reden voor de correctie", "give a reason for the correction", field="reason"
        )
    if entity not in CORRECTABLE:
        raise InvalidInput(
            f"{entity} kan niet worden gecorrigeerd", f"{entity} cannot be corrected"
        )
    model, input_model, fields = CORRECTABLE[entity]
    if field not in fields:
        raise InvalidInput(
            f"veld {field} kan niet worden gecorrigeerd",
            f"field {field} cannot be corrected",
            field=field,
        )
    row = _row_in_study(session, model, entity_id, study_id)
    current = {name: getattr(row, name) for name in input_model.model_fields if hasattr(row, name)}
    current.update({k: v for k, v in _required_stubs(input_model).items() if k not in current})
    current[field] = value
    new_value = getattr(parse(input_model, current), field)
    _check_cross_field(row, field, new_value)
    old_value = getattr(row, field)
    setattr(row, field, new_value)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="correct",
        entity=model.__tablename__,
        entity_id=entity_id,
        old={field: old_value},
        new={field: new_value},
        reason=reason,
    )
    return new_value


def _row_in_study(session: Session, model: type[Base], entity_id: int, study_id: int) -> Any:
    if model in (CoachingContact, EmploymentEvent):
        row = session.get(model, entity_id)
        if row is not None:
            get_in_study(session, Trajectory, row.trajectory_id, study_id)
            return row
        raise InvalidInput(
            f"{model.__tablename__} {entity_id} bestaat niet",
            f"{model.__tablename__} {entity_id} does not exist",
        )
    return get_in_study(session, model, entity_id, study_id)


def _required_stubs(input_model: type[Input]) -> dict[str, Any]:
    # Input models also require fields that live elsewhere (e.g. consent); they are not corrected here.
    return {"study_code": "x"} if input_model is EnrolmentInput else {}


def _check_cross_field(row: Any, field: str, value: Any) -> None:
    if isinstance(row, Trajectory):
        start = value if field == "start_date" else row.start_date
        end = value if field == "end_date" else row.end_date
        if end is not None and end < start:
            raise InvalidInput(
                "de einddatum ligt vóór de startdatum",
                "the end date is before the start date",
                field=field,
            )
