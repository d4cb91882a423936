"""Correcting a stored value, always with a reason, recorded with old and new value."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from study import audit
from study.errors import InvalidInput
from study.event_sequence import Step
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
from study.services import rules
from study.services.common import get_in_study, utc
from study.vocab import EventKind

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
        ("contact_date", "minutes", "mode", "with_whom", "activity", "note"),
    ),
    "employment_event": (
        EmploymentEvent,
        EmploymentEventInput,
        ("event_date", "hours", "job_end_reason", "note"),
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
    rules.check_free_text(reason, "reason")
    row = _row_in_study(session, model, entity_id, study_id)
    if getattr(row, "deleted_at", None) is not None:
        raise InvalidInput(
            "deze regel is verwijderd en kan niet meer worden gecorrigeerd",
            "this entry was deleted and can no longer be corrected",
        )
    current = {name: getattr(row, name) for name in input_model.model_fields if hasattr(row, name)}
    current.update({k: v for k, v in _required_stubs(input_model).items() if k not in current})
    current[field] = value
    new_value = getattr(parse(input_model, current), field)
    _check_cross_field(row, field, new_value)
    _check_rules(session, study_id, row, field, new_value, at=utc(at))
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


def _check_rules(
    session: Session, study_id: int, row: Any, field: str, value: Any, *, at: dt.datetime
) -> None:
    """The rules of a new entry, applied to the corrected value."""
    if field == "note":
        rules.check_free_text(value)
    limits = rules.limits(session, study_id, at)
    if field in ("contact_date", "event_date"):
        limits.check_record(value, field)
    elif field == "start_date":
        limits.check_start(value)
    if isinstance(row, EmploymentEvent) and field == "event_date":
        stored = rules.stored_steps(session, [row.trajectory_id])
        without = rules.stored_steps(session, [row.trajectory_id], without=row.id)
        rules.check_sequences(
            stored, without, [(row.trajectory_id, Step(value, EventKind(row.kind), row.id))]
        )
