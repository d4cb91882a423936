"""Lookups and checks shared by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from study.errors import ConsentWithdrawn, NotFound
from study.models import Base, Consent

T = TypeVar("T", bound=Base)

ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "study": ("studie", "study"),
    "participant": ("deelnemer", "participant"),
    "trajectory": ("traject", "trajectory"),
    "jobcoach": ("jobcoach", "job coach"),
    "employer": ("werkgever", "employer"),
    "organisation": ("organisatie", "organisation"),
    "response": ("antwoord", "response"),
}


def get_in_study(session: Session, model: type[T], entity_id: int, study_id: int) -> T:
    """The row ``entity_id`` of ``model`` if it belongs to ``study_id``; otherwise NotFound.

    A row of another study is reported exactly like a missing one, so ids of other studies leak nothing.
    """
    row = session.get(model, entity_id)
    if row is None or getattr(row, "study_id", study_id) != study_id:
        nl, en = ENTITY_NAMES.get(model.__tablename__, (model.__tablename__, model.__tablename__))
        raise NotFound(
            f"{nl} {entity_id} bestaat niet in deze studie",
            f"{en} {entity_id} does not exist in this study",
        )
    return row


def ensure_consent(session: Session, participant_id: int) -> Consent:
    """The participant's consent, refusing when none is given or it was withdrawn."""
    consent = session.scalars(
        select(Consent).where(Consent.participant_id == participant_id).order_by(Consent.id.desc())
    ).first()
    if consent is None or consent.withdrawn_at is not None:
        raise ConsentWithdrawn(
            "deze deelnemer heeft de toestemming ingetrokken; er kan niets meer worden vastgelegd",
            "this participant withdrew consent; nothing more can be recorded",
        )
    return consent


def columns_of(row: Base, names: list[str] | None = None) -> dict[str, Any]:
    """The row's column values, for the audit log."""
    keys = names or [c.key for c in row.__table__.columns]
    return {k: getattr(row, k) for k in keys}


def utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return at.astimezone(dt.UTC)
