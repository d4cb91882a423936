"""Answering a questionnaire: finding an invitation by its link, saving a draft section by section,
submitting once, and correcting a submitted answer with a reason.

These are services like those in :mod:`study.services`: they take a ``Session`` (the caller owns the
transaction), the moment as ``at``/``as_of`` and raise :class:`study.errors.KlikError` subclasses with
Dutch and English messages. They need no web request, so the cohort simulator answers every wave
through :func:`submit` exactly as a respondent's browser does.

A draft keeps the answers of every saved section in ``Response.answers``: each item of a saved section
has a key (``None`` when left empty), so which sections were saved is known without a separate table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, delete, insert, select, update
from sqlalchemy.orm import Session

from questionnaires.completeness import answer_counts
from questionnaires.model import Instrument, Item
from questionnaires.registry import Registry
from questionnaires.scoring import score_response
from questionnaires.validation import ValidationResult, validate_answers
from study import audit
from study.clock import local_date
from study.errors import Conflict, InvalidInput, KlikError, NotFound
from study.models import (
    AuditEvent,
    Invitation,
    Response,
    ResponseScore,
    ResponseValue,
    Study,
    Trajectory,
)
from study.services.common import utc
from study.tokens import hash_token, is_well_formed
from study.vocab import InvitationStatus, ResponseStatus

#: what callers may pass as ``instruments``: latest versions by id, or a registry of all versions
Instruments = Mapping[str, Instrument] | Registry

ANSWERABLE = (InvitationStatus.SCHEDULED, InvitationStatus.OPEN)
MAX_SUBMISSION_ID = 64


class LinkGone(KlikError):
    """A link that once worked but does not any more: submitted, closed, missed or cancelled."""

    status = 410


class AnswersInvalid(InvalidInput):
    """A submission or correction whose answers break the instrument's rules; nothing was stored.

    ``errors`` maps item ids to messages in the language asked for.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(
            "niet alle antwoorden zijn geldig",
            "not all answers are valid",
            field=next(iter(errors)),
        )
        self.errors = dict(errors)


class StaleSection(Conflict):
    """A save from a page shown before the section's answers last changed (another tab, another
    device): refused, so that the newer answers are not overwritten by older ones."""

    def __init__(self) -> None:
        super().__init__(
            "dit deel is intussen opnieuw opgeslagen, in een ander venster, op een ander "
            "apparaat of vanaf een oudere pagina; hieronder staan de antwoorden zoals ze nu "
            "bewaard zijn: pas ze zo nodig aan en ga verder",
            "this part was saved again meanwhile, in another window, on another device or from "
            "an older page; below are the answers as they are saved now: change them if needed "
            "and go on",
        )


def section_version(answers: Mapping[str, Any], item_ids: Sequence[str]) -> str:
    """A fingerprint of the saved answers of one section. A page carries the one it was shown
    with; :func:`save_section` refuses a save whose fingerprint is no longer the stored one."""
    shown = json.dumps({i: answers.get(i) for i in sorted(item_ids)}, sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()[:20]


def _link_not_found() -> NotFound:
    # One message for malformed and unknown tokens, so the answer says nothing about existence.
    return NotFound(
        "deze link werkt niet; controleer of de hele link is gekopieerd",
        "this link does not work; check that the whole link was copied",
    )


def _link_gone() -> LinkGone:
    return LinkGone(
        "deze vragenlijst is niet meer open: hij is al verzonden of de termijn is voorbij",
        "this questionnaire is no longer open: it was already sent or its time is up",
    )


def instrument_for(
    instruments: Instruments, instrument_id: str, version: str | None = None
) -> Instrument:
    """The instrument an invitation or response refers to, in the version it names.

    Raises
    ------
    Conflict
        When the instrument (or that version of it) is not loaded.
    """
    try:
        if isinstance(instruments, Registry):
            return instruments.get(instrument_id, version)
        instrument = instruments[instrument_id]
    except KeyError:
        instrument = None
    if instrument is None or (version is not None and instrument.version != version):
        raise Conflict(
            f"vragenlijst {instrument_id} versie {version or '?'} is niet geladen",
            f"questionnaire {instrument_id} version {version or '?'} is not loaded",
        )
    return instrument


def is_answerable(invitation: Invitation, as_of: dt.datetime) -> bool:
    """Whether the invitation can be answered at ``as_of``: open or scheduled, inside its window.

    The window's dates are calendar days in Europe/Amsterdam, both ends included. A scheduled
    invitation whose window has begun counts as open: the dates decide, not whether the scheduler
    has already ticked.
    """
    today = local_date(as_of)
    return invitation.status in ANSWERABLE and invitation.opens_on <= today <= invitation.closes_on


def ensure_answerable(invitation: Invitation, as_of: dt.datetime) -> None:
    """Raise :class:`LinkGone` unless the invitation can be answered at ``as_of``."""
    if not is_answerable(invitation, as_of):
        raise _link_gone()


def find_invitation_by_token(session: Session, token: str, *, as_of: dt.datetime) -> Invitation:
    """The invitation a personal-link token opens.

    Raises
    ------
    NotFound
        For a malformed or unknown token (one message for both: nothing about existence leaks).
    LinkGone
        For a token whose invitation was submitted, closed, missed or cancelled, or whose window has
        not opened yet.
    """
    if not isinstance(token, str) or not is_well_formed(token):
        raise _link_not_found()
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    if invitation is None:
        raise _link_not_found()
    ensure_answerable(invitation, as_of)
    return invitation


def _locked_invitation(session: Session, invitation_id: int) -> Invitation:
    # FOR UPDATE serialises concurrent saves and submits of one invitation on PostgreSQL; SQLite
    # already serialises writers through BEGIN IMMEDIATE and ignores the clause.
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    ).first()
    if invitation is None:
        raise NotFound(
            f"uitnodiging {invitation_id} bestaat niet",
            f"invitation {invitation_id} does not exist",
        )
    return invitation


def response_for(session: Session, invitation_id: int) -> Response | None:
    """The invitation's response (draft or submitted), if any."""
    return session.scalars(select(Response).where(Response.invitation_id == invitation_id)).first()


def saved_sections(instrument: Instrument, answers: Mapping[str, Any]) -> list[str]:
    """Ids of the sections whose answers were saved (every answerable item has a key)."""
    done = []
    for section in instrument.sections:
        ids = [i for i in section.item_ids if instrument.item(i).answerable]
        if all(i in answers for i in ids):
            done.append(section.id)
    return done


def resume_index(instrument: Instrument, answers: Mapping[str, Any]) -> int:
    """Where to continue a draft: the first section not saved yet, or ``len(sections)`` (review)."""
    done = set(saved_sections(instrument, answers))
    for index, section in enumerate(instrument.sections):
        if section.id not in done:
            return index
    return len(instrument.sections)


def section_items(instrument: Instrument, section_id: str) -> list[str]:
    """The answerable item ids of one section (an unknown section is refused)."""
    for section in instrument.sections:
        if section.id == section_id:
            return [i for i in section.item_ids if instrument.item(i).answerable]
    raise InvalidInput(
        f"onderdeel {section_id} bestaat niet in deze vragenlijst",
        f"section {section_id} does not exist in this questionnaire",
        field="section",
    )


def _storable(value: Any) -> Any:
    """A JSON-safe form of a typed answer (dates as ISO text, lists as lists)."""
    return audit.jsonable(value)


def save_section(
    session: Session,
    invitation_id: int,
    section_id: str,
    raw: Mapping[str, Any],
    *,
    instruments: Instruments,
    lang: str = "nl",
    at: dt.datetime,
    shown_version: str | None = None,
) -> ValidationResult:
    """Validate one section's raw answers and keep them in the invitation's draft.

    Only the items of ``section_id`` are taken from ``raw``; an item absent from ``raw`` is an empty
    answer, and required items of the section must be answered. Answers saved for other sections
    stay. When the result is not ``ok`` nothing is stored. ``shown_version`` is the
    :func:`section_version` the page was shown with (None: not checked).

    Raises
    ------
    LinkGone
        When the invitation can no longer be answered (submitted, closed, cancelled).
    InvalidInput
        For a section the instrument does not have.
    StaleSection
        When the section's saved answers changed since the page was shown; nothing is stored.
    """
    at = utc(at)
    invitation = _locked_invitation(session, invitation_id)
    ensure_answerable(invitation, at)
    instrument = instrument_for(
        instruments, invitation.instrument_id, invitation.instrument_version
    )
    ids = section_items(instrument, section_id)
    response = response_for(session, invitation_id)
    if response is not None and response.status == ResponseStatus.SUBMITTED:
        raise _link_gone()
    saved = dict(response.answers) if response is not None else {}
    # Other keys of ``raw`` (buttons, the CSRF field, other sections) are not this section's answers.
    result = validate_answers(
        instrument,
        {i: raw[i] for i in ids if i in raw},
        lang,
        section=section_id,
        partial=False,
        known={k: v for k, v in saved.items() if k not in ids},
        events=earlier_waves(session, invitation),
        now=respondent_now(session, invitation, at),
        saved=saved,
    )
    # checked under the invitation's lock: two tabs saving at once are taken one after the
    # other; the same answers sent twice (a double click) are no conflict
    stale = shown_version is not None and shown_version != section_version(saved, ids)
    repeated = result.ok and all(_storable(result.values.get(i)) == saved.get(i) for i in ids)
    if stale and not repeated:
        raise StaleSection()
    if not result.ok:
        return result
    answers = {k: v for k, v in saved.items() if k not in ids}
    answers.update({i: _storable(result.values.get(i)) for i in ids})
    if response is None:
        response = Response(
            invitation_id=invitation.id,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            status=ResponseStatus.DRAFT,
            answers=answers,
            lang=lang,
            started_at=at,
            updated_at=at,
        )
        session.add(response)
    else:
        response.answers = answers
        response.lang = lang
        response.updated_at = at
    if invitation.opened_at is None:
        invitation.opened_at = at
    session.flush()
    return result


def _check_submission_id(submission_id: str) -> str:
    if not isinstance(submission_id, str) or not (0 < len(submission_id) <= MAX_SUBMISSION_ID):
        raise InvalidInput(
            "ongeldige verzending; laad de pagina opnieuw",
            "invalid submission; reload the page",
            field="submission_id",
        )
    return submission_id


def _value_columns(item: Item, value: Any) -> tuple[float | None, str | None]:
    if isinstance(value, list | tuple | set):
        return None, ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return float(value), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return (number, None) if math.isfinite(number) else (None, str(value))
    if isinstance(value, dt.date):
        return None, value.isoformat()
    return None, str(value)


def _value_dicts(
    instrument: Instrument, response_id: int, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    for item in instrument.answerable_items:
        value = values.get(item.id)
        if value is None or value == "" or value == []:
            continue
        num, text = _value_columns(item, value)
        rows.append(
            {"response_id": response_id, "item_id": item.id, "value_num": num, "value_text": text}
        )
    return rows


def _value_rows(instrument: Instrument, response_id: int, values: Mapping[str, Any]) -> list:
    return [ResponseValue(**row) for row in _value_dicts(instrument, response_id, values)]


@dataclass(frozen=True)
class CheckedAnswers:
    """A full answer set validated and scored, ready to store (see :func:`check_answers`)."""

    instrument_key: tuple[str, str]
    source: dict[str, Any]
    values: dict[str, Any]
    scores: dict[str, float | None]
    #: of the questions the respondent could answer (:func:`answer_counts`), how many were
    answered: int = 0
    applicable: int = 0


def respondent_now(session: Session, invitation: Invitation, at: dt.datetime) -> dt.datetime:
    """``at`` on the study's clock: what ``today`` and ``now`` mean in a form's bounds, formulas
    and action tags (a date answered just after midnight is today's, not yesterday's in UTC)."""
    zone = session.scalar(
        select(Study.timezone)
        .join(Trajectory, Trajectory.study_id == Study.id)
        .where(Trajectory.id == invitation.trajectory_id)
    )
    return at.astimezone(ZoneInfo(zone or "Europe/Amsterdam"))


def earlier_waves(session: Session, invitation: Invitation) -> dict[str, dict[str, Any]]:
    """The submitted answers of the trajectory's earlier waves, by wave code.

    What ``[T0][hours]`` reads in a condition or formula: every instrument submitted for an
    earlier wave of the same trajectory, merged (later instruments of a wave win a clash).
    """
    rows = session.execute(
        select(Invitation.wave_code, Response.answers)
        .join(Response, Response.invitation_id == Invitation.id)
        .where(
            Invitation.trajectory_id == invitation.trajectory_id,
            Invitation.wave_index < invitation.wave_index,
            Response.status == ResponseStatus.SUBMITTED,
        )
        .order_by(Invitation.wave_index, Response.id)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for wave_code, answers in rows:
        out.setdefault(wave_code, {}).update(answers or {})
    return out


def check_answers(
    instrument: Instrument,
    raw: Mapping[str, Any],
    lang: str = "nl",
    *,
    now: dt.datetime | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
    saved: Mapping[str, Any] | None = None,
) -> CheckedAnswers:
    """Validate and score a full answer set without touching the database.

    ``now`` and ``events`` (earlier waves' answers, :func:`earlier_waves`) are what formulas
    and conditions read besides the answers; ``saved`` is the stored draft (hidden and
    read-only items keep its values).

    Scoring is the slowest step of a submission; a caller that does it before opening the write
    transaction (and hands the result to :func:`submit` as ``checked``) keeps the write lock short.

    Raises
    ------
    AnswersInvalid
        When the answers break the instrument's rules.
    """
    result = validate_answers(
        instrument, raw, lang, partial=False, now=now, events=events, saved=saved
    )
    if not result.ok:
        raise AnswersInvalid(result.errors)
    answered, applicable = answer_counts(instrument, result.values, result.hidden)
    return CheckedAnswers(
        instrument.key,
        dict(raw),
        result.values,
        score_response(instrument, result.values),
        answered,
        applicable,
    )


def submit(
    session: Session,
    invitation_id: int,
    raw_or_none: Mapping[str, Any] | None,
    *,
    submission_id: str,
    instruments: Instruments,
    lang: str = "nl",
    actor: str,
    at: dt.datetime,
    checked: CheckedAnswers | None = None,
) -> Response:
    """Submit the answers to an invitation, once.

    ``raw_or_none`` is the full set of raw answers, or ``None`` to submit the saved draft. The answers
    are validated against the instrument, scored, stored as ``Response`` (status submitted),
    ``ResponseValue`` and ``ResponseScore`` rows, and the invitation is marked completed, with an
    audit event.

    Idempotent: a repeated ``submission_id``, or any submission for an invitation already submitted,
    returns the stored response and writes nothing.

    ``checked`` may carry the result of :func:`check_answers` computed before the transaction; it
    is used only when it was computed from exactly the answers being submitted.

    Raises
    ------
    AnswersInvalid
        When the answers break the instrument's rules (``errors`` per item); nothing is stored.
    LinkGone
        When the invitation cannot be answered any more (closed, missed, cancelled).
    Conflict
        When ``submission_id`` was used for another invitation.
    """
    at = utc(at)
    submission_id = _check_submission_id(submission_id)
    earlier = session.scalars(
        select(Response).where(Response.submission_id == submission_id)
    ).first()
    if earlier is not None:
        if earlier.invitation_id != invitation_id:
            raise Conflict(
                "deze verzending hoort bij een andere vragenlijst",
                "this submission belongs to another questionnaire",
                field="submission_id",
            )
        return earlier
    invitation = _locked_invitation(session, invitation_id)
    response = response_for(session, invitation_id)
    if response is not None and response.status == ResponseStatus.SUBMITTED:
        return response
    ensure_answerable(invitation, at)
    instrument = instrument_for(
        instruments, invitation.instrument_id, invitation.instrument_version
    )
    if raw_or_none is None:
        raw = {k: v for k, v in (response.answers if response else {}).items() if v is not None}
    else:
        raw = dict(raw_or_none)
    if checked is None or checked.instrument_key != instrument.key or checked.source != raw:
        checked = check_answers(
            instrument,
            raw,
            lang,
            now=respondent_now(session, invitation, at),
            events=earlier_waves(session, invitation),
            saved=raw if raw_or_none is None else None,
        )
    values = checked.values
    scores = checked.scores
    answers = {it.id: _storable(values.get(it.id)) for it in instrument.answerable_items}
    if response is None:
        response = Response(invitation_id=invitation.id, started_at=at)
        session.add(response)
    response.instrument_id = instrument.id
    response.instrument_version = instrument.version
    response.status = ResponseStatus.SUBMITTED
    response.submission_id = submission_id
    response.answers = answers
    response.lang = lang
    response.updated_at = at
    response.submitted_at = at
    response.submitted_by = actor
    response.answered_items = checked.answered
    response.applicable_items = checked.applicable
    invitation.status = InvitationStatus.COMPLETED
    invitation.completed_at = at
    if invitation.opened_at is None:
        invitation.opened_at = at
    session.flush()
    session.add_all(_value_rows(instrument, response.id, values))
    session.add_all(
        ResponseScore(response_id=response.id, score_id=k, value=v) for k, v in scores.items()
    )
    audit.record(
        session,
        at=at,
        actor=actor,
        action="submit_response",
        entity="response",
        entity_id=response.id,
        new={
            "invitation_id": invitation.id,
            "instrument": f"{instrument.id} {instrument.version}",
            "submission_id": submission_id,
            "answers": answers,
            "scores": scores,
        },
    )
    session.flush()
    return response


@dataclass(frozen=True)
class Submission:
    """One submission of :func:`submit_many`: what :func:`submit` takes for one invitation.

    ``answers`` is the full set of raw answers, or ``None`` to submit the saved draft; ``actor``
    falls back to the batch's actor; ``checked`` may carry :func:`check_answers`'s result.
    """

    invitation_id: int
    answers: Mapping[str, Any] | None
    submission_id: str
    actor: str | None = None
    lang: str = "nl"
    checked: CheckedAnswers | None = None


@dataclass
class _Planned:
    invitation_id: int
    submission_id: str
    actor: str
    lang: str
    instrument: Instrument
    raw: dict[str, Any]
    checked: CheckedAnswers
    draft: bool
    opened: bool


BULK_CHUNK = 5000


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + BULK_CHUNK] for i in range(0, len(values), BULK_CHUNK)]


def submit_many(
    session: Session,
    items: Sequence[Submission],
    *,
    instruments: Instruments,
    actor: str,
    at: dt.datetime,
) -> list[int]:
    """Submit many answer sets at once, exactly as :func:`submit` would one after the other.

    Every item is checked as :func:`submit` checks it (submission id, invitation exists and can
    still be answered, instrument loaded) and validated and scored with :func:`check_answers`
    before anything is written; the first refusal raises and nothing of the batch is stored. Then
    the ``Response``, ``ResponseValue`` and ``ResponseScore`` rows are written with multi-row
    INSERTs, the invitations are marked completed with one UPDATE, and each response gets its own
    ``submit_response`` audit event with the same content :func:`submit` records. An invitation
    with a saved draft goes through :func:`submit` itself (the draft row is updated).

    Idempotent as :func:`submit`: a repeated ``submission_id`` (in the database or earlier in the
    batch), or an invitation already submitted, gives the stored response and writes nothing.

    Returns
    -------
    list[int]
        The response id of each item, in order.

    Raises
    ------
    AnswersInvalid, LinkGone, NotFound, Conflict
        As :func:`submit`, for the first item that is refused; nothing is stored.
    """
    at = utc(at)
    for item in items:
        _check_submission_id(item.submission_id)
    sids = sorted({item.submission_id for item in items})
    inv_ids = sorted({item.invitation_id for item in items})
    earlier: dict[str, tuple[int, int]] = {}
    invitations: dict[int, Any] = {}
    existing: dict[int, tuple[int, ResponseStatus, dict[str, Any]]] = {}
    for chunk in _chunks(sids):
        rows = session.execute(
            select(Response.submission_id, Response.id, Response.invitation_id).where(
                Response.submission_id.in_(chunk)
            )
        )
        earlier.update({sid: (rid, iid) for sid, rid, iid in rows})
    for chunk in _chunks(inv_ids):
        # FOR UPDATE as in submit: serialises concurrent submits of one invitation on PostgreSQL.
        rows = session.execute(
            select(
                Invitation.id,
                Invitation.status,
                Invitation.opens_on,
                Invitation.closes_on,
                Invitation.instrument_id,
                Invitation.instrument_version,
                Invitation.opened_at,
            )
            .where(Invitation.id.in_(chunk))
            .with_for_update()
        )
        invitations.update({row.id: row for row in rows})
        rows = session.execute(
            select(Response.invitation_id, Response.id, Response.status, Response.answers).where(
                Response.invitation_id.in_(chunk)
            )
        )
        existing.update({iid: (rid, status, answers) for iid, rid, status, answers in rows})

    results: list[int | _Planned] = []
    by_sid: dict[str, tuple[int | _Planned, int]] = {}
    by_invitation: dict[int, int | _Planned] = {}
    for item in items:
        inv_id = item.invitation_id
        known = earlier.get(item.submission_id) or by_sid.get(item.submission_id)
        if known is not None:
            if known[1] != inv_id:
                raise Conflict(
                    "deze verzending hoort bij een andere vragenlijst",
                    "this submission belongs to another questionnaire",
                    field="submission_id",
                )
            results.append(known[0])
            continue
        invitation = invitations.get(inv_id)
        if invitation is None:
            raise NotFound(
                f"uitnodiging {inv_id} bestaat niet",
                f"invitation {inv_id} does not exist",
            )
        if inv_id in by_invitation:
            results.append(by_invitation[inv_id])
            continue
        stored = existing.get(inv_id)
        if stored is not None and stored[1] == ResponseStatus.SUBMITTED:
            results.append(stored[0])
            continue
        ensure_answerable(invitation, at)
        instrument = instrument_for(
            instruments, invitation.instrument_id, invitation.instrument_version
        )
        if item.answers is None:
            draft = stored[2] if stored is not None else {}
            raw = {k: v for k, v in (draft or {}).items() if v is not None}
        else:
            raw = dict(item.answers)
        checked = item.checked
        if checked is None or checked.instrument_key != instrument.key or checked.source != raw:
            checked = check_answers(instrument, raw, item.lang)
        planned = _Planned(
            invitation_id=inv_id,
            submission_id=item.submission_id,
            actor=item.actor or actor,
            lang=item.lang,
            instrument=instrument,
            raw=raw,
            checked=checked,
            draft=stored is not None,
            opened=invitation.opened_at is not None,
        )
        results.append(planned)
        by_sid[item.submission_id] = (planned, inv_id)
        by_invitation[inv_id] = planned

    fresh = [p for p in results if isinstance(p, _Planned) and not p.draft]
    fresh = list({id(p): p for p in fresh}.values())
    response_ids = _insert_responses(session, fresh, at)
    ids_of: dict[int, int] = {id(p): rid for p, rid in zip(fresh, response_ids, strict=True)}
    for p in {id(p): p for p in results if isinstance(p, _Planned) and p.draft}.values():
        response = submit(
            session,
            p.invitation_id,
            p.raw,
            submission_id=p.submission_id,
            instruments=instruments,
            lang=p.lang,
            actor=p.actor,
            at=at,
            checked=p.checked,
        )
        ids_of[id(p)] = response.id
    return [ids_of[id(r)] if isinstance(r, _Planned) else r for r in results]


def _insert_plain(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows of a table whose columns are plain numbers and text, with the driver's own
    ``executemany``.

    Item values and scores are most of the rows a large cohort writes. Their columns (integer,
    text, float given as float or None) need no bind processing on any backend, so the statement SQLAlchemy compiles for
    the dialect is handed the values as they are; this skips only the per-row parameter
    bookkeeping, which costs more than the insert itself.
    """
    if not rows:
        return
    connection = session.connection()
    compiled = insert(table).compile(dialect=connection.dialect)
    names = list(rows[0])
    for column in table.columns:
        # a float column's processor only turns other numbers into floats; ours are floats
        plain = (
            isinstance(column.type, Float) or column.type.bind_processor(connection.dialect) is None
        )
        if column.name in names and not plain:
            raise TypeError(f"{table.name}.{column.name} needs bind processing")  # pragma: no cover
    if compiled.positional:
        order = compiled.positiontup or []
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = rows
    for chunk in _chunks(params):
        connection.exec_driver_sql(compiled.string, chunk)


def _insert_responses(session: Session, planned: list[_Planned], at: dt.datetime) -> list[int]:
    """Write new submitted responses with their values, scores and audit events."""
    if not planned:
        return []
    answers = [
        {it.id: _storable(p.checked.values.get(it.id)) for it in p.instrument.answerable_items}
        for p in planned
    ]
    rows = [
        {
            "invitation_id": p.invitation_id,
            "instrument_id": p.instrument.id,
            "instrument_version": p.instrument.version,
            "status": ResponseStatus.SUBMITTED,
            "submission_id": p.submission_id,
            "answers": a,
            "lang": p.lang,
            "started_at": at,
            "updated_at": at,
            "submitted_at": at,
            "submitted_by": p.actor,
            "answered_items": p.checked.answered,
            "applicable_items": p.checked.applicable,
        }
        for p, a in zip(planned, answers, strict=True)
    ]
    ids: list[int] = []
    for chunk in _chunks(rows):
        result = session.execute(
            insert(Response.__table__).returning(
                Response.__table__.c.id, sort_by_parameter_order=True
            ),
            chunk,
        )
        ids.extend(result.scalars().all())
    values = [
        row
        for p, rid in zip(planned, ids, strict=True)
        for row in _value_dicts(p.instrument, rid, p.checked.values)
    ]
    scores = [
        {"response_id": rid, "score_id": k, "value": v}
        for p, rid in zip(planned, ids, strict=True)
        for k, v in p.checked.scores.items()
    ]
    _insert_plain(session, ResponseValue.__table__, values)
    _insert_plain(session, ResponseScore.__table__, scores)
    inv_ids = [p.invitation_id for p in planned]
    unopened = [p.invitation_id for p in planned if not p.opened]
    for chunk in _chunks(inv_ids):
        session.execute(
            update(Invitation)
            .where(Invitation.id.in_(chunk))
            .values(status=InvitationStatus.COMPLETED, completed_at=at)
        )
    for chunk in _chunks(unopened):
        session.execute(update(Invitation).where(Invitation.id.in_(chunk)).values(opened_at=at))
    events = [
        {
            "at": at,
            "actor": p.actor,
            "action": "submit_response",
            "entity": "response",
            "entity_id": rid,
            "old_values": None,
            # what submit records; every part is JSON-safe already (answers went through
            # _storable, scores are floats), so audit.jsonable would return it unchanged
            "new_values": {
                "invitation_id": p.invitation_id,
                "instrument": f"{p.instrument.id} {p.instrument.version}",
                "submission_id": p.submission_id,
                "answers": a,
                "scores": p.checked.scores,
            },
            "reason": None,
        }
        for p, rid, a in zip(planned, ids, answers, strict=True)
    ]
    for chunk in _chunks(events):
        session.execute(insert(AuditEvent.__table__), chunk)
    return ids


def _scores_of(session: Session, response_id: int) -> dict[str, float | None]:
    rows = session.execute(
        select(ResponseScore.score_id, ResponseScore.value).where(
            ResponseScore.response_id == response_id
        )
    )
    return {score_id: value for score_id, value in rows}


def correct_answer(
    session: Session,
    study_id: int,
    response_id: int,
    item_id: str,
    value: Any,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
    instruments: Instruments,
    lang: str = "nl",
) -> Response:
    """Correct one answer of a submitted response; only with a reason.

    The corrected answer set is validated as a submission would be, the scores are computed again,
    and the audit log keeps the old and new answer and scores with the reason. ``value`` may be
    ``None`` (or ``""``) to remove an answer when the item is optional.

    Raises
    ------
    InvalidInput
        Without a reason, for an item the instrument does not have, or (as :class:`AnswersInvalid`)
        when the corrected answers break the instrument's rules; nothing is changed.
    NotFound
        For a response that does not exist in ``study_id``.
    Conflict
        For a response that is still a draft.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "geef een reden voor de correctie", "give a reason for the correction", field="reason"
        )
    at = utc(at)
    response = session.get(Response, response_id)
    invitation = session.get(Invitation, response.invitation_id) if response else None
    if response is None or invitation is None or invitation.study_id != study_id:
        raise NotFound(
            f"antwoord {response_id} bestaat niet in deze studie",
            f"response {response_id} does not exist in this study",
        )
    if response.status != ResponseStatus.SUBMITTED:
        raise Conflict(
            "een concept kan niet worden gecorrigeerd; alleen verzonden antwoorden",
            "a draft cannot be corrected; only submitted responses",
        )
    instrument = instrument_for(instruments, response.instrument_id, response.instrument_version)
    try:
        item = instrument.item(item_id)
    except KeyError:
        item = None
    if item is None or not item.answerable:
        raise InvalidInput(
            f"vraag {item_id} bestaat niet in deze vragenlijst",
            f"question {item_id} does not exist in this questionnaire",
            field="item_id",
        )
    old_answers = dict(response.answers)
    raw = {k: v for k, v in old_answers.items() if v is not None}
    if value is None or value == "":
        raw.pop(item_id, None)
    else:
        raw[item_id] = value
    result = validate_answers(instrument, raw, lang, partial=False)
    if not result.ok:
        raise AnswersInvalid(result.errors)
    new_answers = {it.id: _storable(result.values.get(it.id)) for it in instrument.answerable_items}
    if new_answers == old_answers:
        return response
    old_scores = _scores_of(session, response.id)
    new_scores = score_response(instrument, result.values)
    response.answers = new_answers
    response.updated_at = at
    session.execute(delete(ResponseValue).where(ResponseValue.response_id == response.id))
    session.execute(delete(ResponseScore).where(ResponseScore.response_id == response.id))
    session.add_all(_value_rows(instrument, response.id, result.values))
    session.add_all(
        ResponseScore(response_id=response.id, score_id=k, value=v) for k, v in new_scores.items()
    )
    changed = sorted(k for k in new_answers if new_answers[k] != old_answers.get(k))
    audit.record(
        session,
        at=at,
        actor=actor,
        action="correct_answer",
        entity="response",
        entity_id=response.id,
        old={
            "answers": {k: old_answers.get(k) for k in changed},
            "scores": {k: old_scores.get(k) for k in new_scores},
        },
        new={
            "answers": {k: new_answers[k] for k in changed},
            "scores": new_scores,
        },
        reason=reason.strip(),
    )
    session.flush()
    return response
