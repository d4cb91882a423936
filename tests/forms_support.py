"""Invitations with working personal links, and complete answer sets, for the form tests."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires.model import Instrument
from study.models import Invitation, Protocol
from study.tokens import hash_token, new_salt, token_for
from study.vocab import InvitationStatus, Respondent
from tests.factory import build_cohort

SECRET = "test-secret-key-for-forms"


@dataclass
class Link:
    """An invitation and the token of its personal link."""

    invitation_id: int
    token: str
    study_id: int
    trajectory_id: int


def add_invitation(
    s: Session,
    *,
    study_id: int,
    trajectory_id: int,
    instrument: Instrument,
    at: dt.datetime,
    secret: str = SECRET,
    wave_code: str = "T1",
    opens_on: dt.date = dt.date(2026, 1, 1),
    closes_on: dt.date = dt.date(2026, 2, 28),
    status: InvitationStatus = InvitationStatus.OPEN,
) -> Link:
    """An invitation with a salt and hashed token, as the scheduler writes them."""
    protocol_id = s.scalar(
        select(Protocol.id).where(Protocol.study_id == study_id, Protocol.is_current)
    )
    salt = new_salt()
    invitation = Invitation(
        study_id=study_id,
        trajectory_id=trajectory_id,
        protocol_id=protocol_id,
        wave_code=wave_code,
        wave_index=1,
        respondent=Respondent(instrument.respondent),
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        due_on=opens_on + (closes_on - opens_on) / 4,
        opens_on=opens_on,
        closes_on=closes_on,
        status=status,
        token_salt=salt,
        created_at=at,
    )
    s.add(invitation)
    s.flush()
    token = token_for(secret, invitation.id, salt)
    invitation.token_hash = hash_token(token)
    s.flush()
    return Link(invitation.id, token, study_id, trajectory_id)


def invitations_for_cohort(
    s: Session,
    at: dt.datetime,
    instruments: list[Instrument],
    *,
    n_trajectories: int = 2,
    secret: str = SECRET,
    study_code: str = "S1",
    **kw: Any,
) -> list[Link]:
    """A small cohort and one invitation per trajectory and instrument."""
    cohort = build_cohort(s, at, n_trajectories=n_trajectories, study_code=study_code)
    links = []
    for trajectory_id in cohort.trajectory_ids:
        for instrument in instruments:
            links.append(
                add_invitation(
                    s,
                    study_id=cohort.study_id,
                    trajectory_id=trajectory_id,
                    instrument=instrument,
                    at=at,
                    secret=secret,
                    **kw,
                )
            )
    return links


def valid_answer(instrument: Instrument, item_id: str, rng: random.Random) -> str | list[str]:
    """A valid raw answer (as a browser posts it) for one item."""
    item = instrument.item(item_id)
    if item.type == "multiple":
        return [str(rng.choice(item.options).code)]
    if item.options:
        return str(rng.choice(item.options).code)
    if item.type in ("integer", "number"):
        lo = int(item.min if item.min is not None else 0)
        hi = int(item.max if item.max is not None else lo + 40)
        return str(rng.randint(lo, hi))
    if item.type == "yesno":
        return str(rng.randint(0, 1))
    if item.type == "date":
        return "2026-01-10"
    return "antwoord"


def section_answers(
    instrument: Instrument, section_index: int, rng: random.Random
) -> dict[str, str | list[str]]:
    """Valid raw answers for every answerable item of one section."""
    return {
        it.id: valid_answer(instrument, it.id, rng)
        for it in instrument.section_items(section_index)
        if it.answerable
    }


def full_answers(instrument: Instrument, seed: int = 1) -> dict[str, str | list[str]]:
    """Valid raw answers for every answerable item of an instrument."""
    rng = random.Random(seed)
    out: dict[str, str | list[str]] = {}
    for index in range(len(instrument.sections)):
        out.update(section_answers(instrument, index, rng))
    return out
