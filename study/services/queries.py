"""Data queries: a researcher asks about one stored value of a participant's record, the
jobcoach answers (and corrects the value on the record page when needed), the researcher closes
the query. Every step is audited; the texts follow the rules of notes (no personal data)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from study import audit
from study.errors import Conflict, InvalidInput, NotFound
from study.models import CoachingContact, DataQuery, EmploymentEvent, Participant, Trajectory
from study.services import rules
from study.services.common import get_in_study, utc

#: what a query may be about, and how its participant is found
SUBJECTS = ("participant", "trajectory", "coaching_contact", "employment_event")
MAX_TEXT = 2000


def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("schrijf de vraag of het antwoord", "write the question or the answer", field=field)  # fmt: skip
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"de tekst is te lang: {len(text)} tekens, hoogstens {MAX_TEXT} toegestaan",
            f"the text is too long: {len(text)} characters, at most {MAX_TEXT} allowed",
            field=field,
        )
    rules.check_free_text(text, "note")
    return text


def participant_of(session: Session, study_id: int, entity: str, entity_id: int) -> int:
    """The participant whose record holds ``entity`` ``entity_id`` (of this study)."""
    if entity == "participant":
        return get_in_study(session, Participant, entity_id, study_id).id
    if entity == "trajectory":
        return get_in_study(session, Trajectory, entity_id, study_id).participant_id
    model = {"coaching_contact": CoachingContact, "employment_event": EmploymentEvent}.get(entity)
    row = session.get(model, entity_id) if model is not None else None
    if row is None:
        raise NotFound(f"{entity} {entity_id} bestaat niet", f"{entity} {entity_id} does not exist")
    return get_in_study(session, Trajectory, row.trajectory_id, study_id).participant_id


def open_query(
    session: Session,
    study_id: int,
    entity: str,
    entity_id: int,
    field: str | None,
    message: str,
    *,
    actor: str,
    at: dt.datetime,
) -> DataQuery:
    """Open a query on a value of a record (``entity`` one of ``SUBJECTS``)."""
    if entity not in SUBJECTS:
        raise InvalidInput(f"{entity}: kies een van {', '.join(SUBJECTS)}", f"{entity}: choose one of {', '.join(SUBJECTS)}", field="entity")  # fmt: skip
    text = _text(message, "message")
    pid = participant_of(session, study_id, entity, entity_id)
    query = DataQuery(
        study_id=study_id, participant_id=pid, entity=entity, entity_id=entity_id,
        field=(field or None), message=text, status="open", opened_by=actor, opened_at=utc(at),
    )  # fmt: skip
    session.add(query)
    session.flush()
    audit.record(
        session, at=utc(at), actor=actor, action="query_opened", entity="data_query",
        entity_id=query.id, new={"entity": entity, "entity_id": entity_id, "field": field, "message": text},
    )  # fmt: skip
    return query


def _query(session: Session, study_id: int, query_id: int) -> DataQuery:
    query = session.get(DataQuery, query_id)
    if query is None or query.study_id != study_id:
        raise NotFound(f"vraag {query_id} bestaat niet", f"query {query_id} does not exist")
    return query


def query_trajectories(session: Session, study_id: int, query_id: int) -> list[int]:
    """The trajectories of the query's participant (for checking who may answer it)."""
    query = _query(session, study_id, query_id)
    return list(
        session.scalars(
            select(Trajectory.id).where(Trajectory.participant_id == query.participant_id)
        )
    )


def answer_query(
    session: Session, study_id: int, query_id: int, answer: str, *, actor: str, at: dt.datetime
) -> DataQuery:
    """Answer an open (or again an answered) query; a closed one is refused."""
    query = _query(session, study_id, query_id)
    if query.status == "closed":
        raise Conflict("deze vraag is al gesloten", "this query is already closed")
    text = _text(answer, "answer")
    old = {"status": query.status, "answer": query.answer}
    query.status, query.answer, query.answered_by, query.answered_at = (
        "answered",
        text,
        actor,
        utc(at),
    )
    audit.record(
        session, at=utc(at), actor=actor, action="query_answered", entity="data_query",
        entity_id=query.id, old=old, new={"status": "answered", "answer": text},
    )  # fmt: skip
    return query


def close_query(
    session: Session, study_id: int, query_id: int, *, actor: str, at: dt.datetime
) -> DataQuery:
    """Close a query (the researcher is satisfied)."""
    query = _query(session, study_id, query_id)
    if query.status == "closed":
        raise Conflict("deze vraag is al gesloten", "this query is already closed")
    old = {"status": query.status}
    query.status, query.closed_by, query.closed_at = "closed", actor, utc(at)
    audit.record(
        session, at=utc(at), actor=actor, action="query_closed", entity="data_query",
        entity_id=query.id, old=old, new={"status": "closed"},
    )  # fmt: skip
    return query
