"""One scheduler tick: set-based SQL over all trajectories of all studies.

A tick, for the calendar day ``as_of`` falls on in Europe/Amsterdam:

1. cancels what may no longer go out: invitations of participants who withdrew consent, and
   invitations of waves that require an active trajectory whose due date lies after its end;
2. creates every invitation the current protocol asks for and that does not exist yet (one
   ``INSERT ... SELECT ... WHERE NOT EXISTS`` with ``ON CONFLICT DO NOTHING`` on the unique key
   trajectory + wave + respondent + instrument), as ``scheduled`` with its due, opening and closing
   dates computed in SQL (as ``missed`` when its window closed before today);
3. marks open and scheduled invitations whose window has closed as ``missed``;
4. opens scheduled invitations whose window has opened, gives each a token salt and hash, and
   queues the invitation mail;
5. queues the reminders that fell due (counted from the due date; after a pause only the latest
   one goes out), never on the day the invitation itself went out;
6. cancels unsent mail of invitations that are no longer open.

Everything happens in the caller's transaction, so the outbox rows commit together with the
status changes that caused them. Every step is conditional on the current state, and every mail
has a unique ``dedup_key`` (``inv:<id>:invitation:1``, ``inv:<id>:reminder:<n>``): a tick run
twice, two ticks at once, or a tick after a crash create nothing twice.

Only two steps touch rows in Python, and only the rows that changed in this tick, in batches:
token salts and hashes (an HMAC under the secret key, which the database must not see), and the
mail texts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from study import tokens
from study.clock import AMSTERDAM, local_date
from study.frame_store import prune_changes
from study.mail.compose import KIND_INVITATION, KIND_REMINDER, compose
from study.mail.facts import invitation_mail_rows, mail_facts
from study.models import (
    Consent,
    Invitation,
    Outbox,
    Protocol,
    Trajectory,
    TrajectoryPlan,
    UTCDateTime,
    Wave,
    WaveInstrument,
)
from study.scheduling.lease import lock_ticks
from study.sqldates import add_days, add_months
from study.vocab import InvitationStatus, OutboxStatus

BATCH = 500
#: invitations per query when composing mail (fewer, larger lookups; within bind-parameter limits)
MAIL_BATCH = 5000
LIVE = (InvitationStatus.SCHEDULED, InvitationStatus.OPEN)
NO_ADDRESS = (
    "geen e-mailadres bekend voor deze ontvanger; vul het adres aan en verstuur opnieuw via "
    "de pagina Verzending of met `klik send-mail --retry-failed` / "
    "no e-mail address known for this recipient; add it, then resend from the Outbox page or "
    "with `klik send-mail --retry-failed`"
)


@dataclass(frozen=True)
class TickReport:
    """What one tick did: counts of invitations and of outbox rows written."""

    as_of: dt.datetime
    day: dt.date
    created: int = 0
    opened: int = 0
    reminders: int = 0
    missed: int = 0
    cancelled: int = 0
    mails: int = 0
    mails_without_address: int = 0
    mails_cancelled: int = 0


def tick(
    session: Session,
    *,
    as_of: dt.datetime,
    secret_key: str,
    instrument_versions: Mapping[str, str] | None = None,
) -> TickReport:
    """Run one scheduler tick as of ``as_of`` (timezone-aware) in the caller's transaction.

    Parameters
    ----------
    session:
        A writing session; the caller commits (``with sessions.begin() as s: tick(s, ...)``).
    as_of:
        The moment of the tick; its calendar date in Europe/Amsterdam is the day that counts.
    secret_key:
        The server's secret, to give newly opened invitations their token hash.
    instrument_versions:
        Current version per instrument id, recorded on each invitation when it opens.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = as_of.astimezone(dt.UTC)
    today = local_date(as_of)
    lock_ticks(session)
    cancelled = _cancel_withdrawn(session) + _cancel_after_end(session)
    created, created_missed = create_invitations(session, as_of=as_of)
    missed = created_missed + _mark_missed(session, today)
    opened_ids = _open(session, as_of, today, instrument_versions or {})
    _give_tokens(session, opened_ids, secret_key)
    reminded = _remind(session, as_of, today)
    mails, without_address = _queue_mails(
        session,
        [(i, KIND_INVITATION, 1) for i in opened_ids]
        + [(i, KIND_REMINDER, n) for i, n in reminded],
        as_of,
    )
    mails_cancelled = _cancel_mail_of_closed(session)
    prune_changes(session)
    return TickReport(
        as_of=as_of,
        day=today,
        created=created,
        opened=len(opened_ids),
        reminders=len(reminded),
        missed=missed,
        cancelled=cancelled,
        mails=mails,
        mails_without_address=without_address,
        mails_cancelled=mails_cancelled,
    )


# -- 1. cancel -----------------------------------------------------------------------------------


def withdrawn_participants() -> Any:
    """Ids of participants who withdrew consent (a subquery)."""
    return select(Consent.participant_id).where(Consent.withdrawn_at.is_not(None))


def _cancel_withdrawn(session: Session) -> int:
    # Withdrawal cancels at once (study.services.consent); this catches anything left live. It
    # starts from the few withdrawn consents rather than from all live invitations.
    withdrawn = list(
        session.scalars(
            select(Trajectory.id)
            .join(Consent, Consent.participant_id == Trajectory.participant_id)
            .where(Consent.withdrawn_at.is_not(None))
            .distinct()
            .order_by(Trajectory.id)
        )
    )
    cancelled = 0
    for batch in _batches(withdrawn):
        cancelled += session.execute(
            update(Invitation)
            .where(Invitation.trajectory_id.in_(batch), _live_by_trajectory())
            .values(status=InvitationStatus.CANCELLED, token_hash=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return cancelled


def _live_by_trajectory() -> ColumnElement[bool]:
    """``status IN ('scheduled', 'open')`` written so that SQLite looks invitations up by
    trajectory: with statistics from an emptier table it would otherwise scan every live
    invitation through the status index."""
    return func.coalesce(Invitation.status, "").in_([s.value for s in LIVE])


def stale_trajectories(*, study_id: int | None = None) -> Any:
    """Ids of trajectories whose invitations are not planned for their current protocol version
    and end date (a subquery): new trajectories, ended ones, and those of a changed protocol."""
    plan = aliased(TrajectoryPlan)
    statement = (
        select(Trajectory.id)
        .join(Protocol, and_(Protocol.study_id == Trajectory.study_id, Protocol.is_current))
        .outerjoin(plan, plan.trajectory_id == Trajectory.id)
        .where(
            or_(
                plan.trajectory_id.is_(None),
                plan.protocol_id != Protocol.id,
                plan.end_date.is_distinct_from(Trajectory.end_date),
            )
        )
    )
    if study_id is not None:
        statement = statement.where(Trajectory.study_id == study_id)
    return statement


def _cancel_after_end(session: Session) -> int:
    # Waves that require an active trajectory go only while it is open on the due date. Only a
    # trajectory whose end date changed since it was planned can have such invitations; those are
    # few on any day but the first, so they are looked up first and handled in batches.
    ended = list(
        session.scalars(
            stale_trajectories().where(Trajectory.end_date.is_not(None)).order_by(Trajectory.id)
        )
    )
    cancelled = 0
    for batch in _batches(ended):
        beyond_end = (
            select(Invitation.id)
            .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
            .join(
                Wave,
                and_(Wave.protocol_id == Invitation.protocol_id, Wave.code == Invitation.wave_code),
            )
            .where(
                Invitation.trajectory_id.in_(batch),
                _live_by_trajectory(),
                Invitation.due_on > Trajectory.end_date,
                Wave.requires_active,
            )
        )
        cancelled += session.execute(
            update(Invitation)
            .where(Invitation.id.in_(beyond_end))
            .values(status=InvitationStatus.CANCELLED, token_hash=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return cancelled


# -- 2. create -----------------------------------------------------------------------------------


def due_set(*, study_id: int | None = None, only_stale: bool = False) -> Any:
    """SELECT of every invitation the current protocols ask for, with its dates, as a subquery.

    Columns: study_id, trajectory_id, protocol_id, wave_code, wave_index, respondent,
    instrument_id, due_on, opens_on, closes_on. Consent withdrawal, the trajectory end (for
    end-anchored waves and waves that require an active trajectory) are applied here. With
    ``only_stale``, only trajectories not yet planned as they are now (see
    :func:`stale_trajectories`).
    """
    wave_index = func.row_number().over(partition_by=Wave.protocol_id, order_by=Wave.id) - 1
    current_wave = (
        select(
            Wave.id,
            Wave.protocol_id,
            Protocol.study_id,
            Wave.code,
            Wave.anchor,
            Wave.offset_months,
            Wave.opens_days_before,
            Wave.closes_days_after,
            Wave.requires_active,
            wave_index.label("wave_index"),
        )
        .join(Protocol, Protocol.id == Wave.protocol_id)
        .where(Protocol.is_current)
        .subquery("current_wave")
    )
    w = current_wave.c
    due = case(
        (w.anchor == "end", add_months(Trajectory.end_date, w.offset_months)),
        else_=add_months(Trajectory.start_date, w.offset_months),
    )
    candidate = (
        select(
            Trajectory.study_id,
            Trajectory.id.label("trajectory_id"),
            Trajectory.end_date,
            w.protocol_id,
            w.code.label("wave_code"),
            w.wave_index,
            w.requires_active,
            w.opens_days_before,
            w.closes_days_after,
            WaveInstrument.respondent,
            WaveInstrument.instrument_id,
            due.label("due_on"),
        )
        .join(current_wave, w.study_id == Trajectory.study_id)
        .join(WaveInstrument, WaveInstrument.wave_id == w.id)
        .where(
            or_(w.anchor == "start", Trajectory.end_date.is_not(None)),
            Trajectory.participant_id.not_in(withdrawn_participants()),
        )
    )
    if study_id is not None:
        candidate = candidate.where(Trajectory.study_id == study_id)
    if only_stale:
        candidate = candidate.where(Trajectory.id.in_(stale_trajectories(study_id=study_id)))
    c = candidate.subquery("candidate")
    return (
        select(
            c.c.study_id,
            c.c.trajectory_id,
            c.c.protocol_id,
            c.c.wave_code,
            c.c.wave_index,
            c.c.respondent,
            c.c.instrument_id,
            c.c.due_on,
            add_days(c.c.due_on, -c.c.opens_days_before).label("opens_on"),
            add_days(c.c.due_on, c.c.closes_days_after).label("closes_on"),
        )
        .where(
            or_(
                c.c.requires_active == false(),
                c.c.end_date.is_(None),
                c.c.due_on <= c.c.end_date,
            )
        )
        .subquery("due_set")
    )


def insert_ignoring_duplicates(session: Session, model: Any) -> Any:
    """A dialect INSERT that supports ``on_conflict_do_nothing``."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def create_invitations(
    session: Session, *, as_of: dt.datetime, study_id: int | None = None
) -> tuple[int, int]:
    """Insert every invitation the current protocol asks for that does not exist yet.

    An invitation whose window closed before the day of ``as_of`` (a trajectory registered late,
    or a scheduler that was down) is created as ``missed`` straight away. Returns the numbers
    created in all and created as missed. Existing invitations (of any status, of any protocol
    version) are never touched: the unique key keeps the past as it was.
    """
    today = local_date(as_of)
    d = due_set(study_id=study_id, only_stale=True)
    existing = aliased(Invitation)
    status = case(
        (d.c.closes_on < today, literal(InvitationStatus.MISSED.value)),
        else_=literal(InvitationStatus.SCHEDULED.value),
    )
    rows = select(
        d.c.study_id,
        d.c.trajectory_id,
        d.c.protocol_id,
        d.c.wave_code,
        d.c.wave_index,
        d.c.respondent,
        d.c.instrument_id,
        d.c.due_on,
        d.c.opens_on,
        d.c.closes_on,
        status.label("status"),
        literal(0).label("reminders_sent"),
        literal(as_of, UTCDateTime()).label("created_at"),
    ).where(
        ~exists().where(
            existing.trajectory_id == d.c.trajectory_id,
            existing.wave_code == d.c.wave_code,
            existing.respondent == d.c.respondent,
            existing.instrument_id == d.c.instrument_id,
        )
    )
    columns = [
        "study_id",
        "trajectory_id",
        "protocol_id",
        "wave_code",
        "wave_index",
        "respondent",
        "instrument_id",
        "due_on",
        "opens_on",
        "closes_on",
        "status",
        "reminders_sent",
        "created_at",
    ]
    statement = (
        insert_ignoring_duplicates(session, Invitation)
        .from_select(columns, rows)
        .on_conflict_do_nothing(
            index_elements=["trajectory_id", "wave_code", "respondent", "instrument_id"]
        )
        .returning(Invitation.__table__.c.status)
    )
    missed = InvitationStatus.MISSED.value
    if session.get_bind().dialect.name == "postgresql":
        # With stale statistics (a new or fast-growing table) PostgreSQL plans the NOT EXISTS as a
        # nested loop over a sequential scan of the table being inserted into, which turns
        # quadratic as the insert proceeds; a hash anti-join is linear at every size.
        previous = session.scalar(text("SELECT current_setting('enable_nestloop')"))
        session.execute(text("SET LOCAL enable_nestloop = off"))
        # Count in the database rather than fetching a row per invitation created.
        inserted = statement.cte("inserted")
        created, created_missed = session.execute(
            select(func.count(), func.count().filter(inserted.c.status == missed))
        ).one()
        session.execute(
            text("SELECT set_config('enable_nestloop', :value, true)"), {"value": previous}
        )
    else:
        # SQLite buffers the RETURNING rows itself; they are counted as they stream by.
        created = created_missed = 0
        for (row_status,) in session.connection().execute(statement):
            created += 1
            created_missed += row_status == missed
    _record_plan(session, as_of, study_id)
    return int(created), int(created_missed)


def _record_plan(session: Session, as_of: dt.datetime, study_id: int | None) -> None:
    """Note that the stale trajectories are now planned for their protocol and end date."""
    rows = (
        select(
            Trajectory.id,
            Protocol.id,
            Trajectory.end_date,
            literal(as_of, UTCDateTime()),
        )
        .join(Protocol, and_(Protocol.study_id == Trajectory.study_id, Protocol.is_current))
        .where(Trajectory.id.in_(stale_trajectories(study_id=study_id)))
    )
    statement = insert_ignoring_duplicates(session, TrajectoryPlan).from_select(
        ["trajectory_id", "protocol_id", "end_date", "planned_at"], rows
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["trajectory_id"],
            set_={
                "protocol_id": statement.excluded.protocol_id,
                "end_date": statement.excluded.end_date,
                "planned_at": statement.excluded.planned_at,
            },
        )
    )


# -- 3. missed -----------------------------------------------------------------------------------


def _mark_missed(session: Session, today: dt.date) -> int:
    return session.execute(
        update(Invitation)
        .where(Invitation.status.in_(LIVE), Invitation.closes_on < today)
        .values(status=InvitationStatus.MISSED)
        .execution_options(synchronize_session=False)
    ).rowcount


# -- 4. open -------------------------------------------------------------------------------------


def _open(
    session: Session, as_of: dt.datetime, today: dt.date, versions: Mapping[str, str]
) -> list[int]:
    version: ColumnElement[Any] = Invitation.instrument_version
    if versions:
        version = func.coalesce(
            case(dict(versions), value=Invitation.instrument_id, else_=null()),
            Invitation.instrument_version,
        )
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.status == InvitationStatus.SCHEDULED,
            Invitation.opens_on <= today,
            Invitation.closes_on >= today,
        )
        .values(status=InvitationStatus.OPEN, opened_at=as_of, instrument_version=version)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def _give_tokens(session: Session, invitation_ids: Sequence[int], secret_key: str) -> None:
    table = Invitation.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(token_salt=bindparam("b_salt"), token_hash=bindparam("b_hash"))
    )
    for batch in _batches(invitation_ids):
        rows = []
        for invitation_id in batch:
            salt = tokens.new_salt()
            token = tokens.token_for(secret_key, invitation_id, salt)
            rows.append({"b_id": invitation_id, "b_salt": salt, "b_hash": tokens.hash_token(token)})
        session.connection().execute(statement, rows)


# -- 5. reminders --------------------------------------------------------------------------------


def _remind(session: Session, as_of: dt.datetime, today: dt.date) -> list[tuple[int, int]]:
    """Queue due reminders; returns (invitation id, reminder number) pairs."""
    waves = session.execute(
        select(Wave.protocol_id, Wave.code, Wave.reminder_days).where(
            Wave.protocol_id.in_(
                select(Invitation.protocol_id)
                .where(Invitation.status == InvitationStatus.OPEN)
                .distinct()
            )
        )
    ).all()
    # (reminder number, days after due) -> waves with that reminder
    groups: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    for protocol_id, code, days in waves:
        for number, offset in enumerate(days or [], start=1):
            groups[(number, int(offset))].append((protocol_id, code))
    start_of_today = dt.datetime.combine(today, dt.time(), AMSTERDAM).astimezone(dt.UTC)
    reminded: dict[int, int] = {}
    # The latest reminder first, so that after a pause only that one goes out.
    for (number, offset), keys in sorted(groups.items(), reverse=True):
        result = session.execute(
            update(Invitation)
            .where(
                Invitation.status == InvitationStatus.OPEN,
                Invitation.reminders_sent < number,
                Invitation.due_on <= today - dt.timedelta(days=offset),
                Invitation.opened_at < start_of_today,
                tuple_(Invitation.protocol_id, Invitation.wave_code).in_(keys),
            )
            .values(reminders_sent=number)
            .returning(Invitation.id)
            .execution_options(synchronize_session=False)
        )
        for invitation_id in result.scalars():
            reminded.setdefault(invitation_id, number)
    return sorted(reminded.items())


# -- mail ----------------------------------------------------------------------------------------


def _queue_mails(
    session: Session, wanted: list[tuple[int, str, int]], as_of: dt.datetime
) -> tuple[int, int]:
    """Write outbox rows for (invitation id, kind, number); returns (written, without address)."""
    by_id = {invitation_id: (kind, number) for invitation_id, kind, number in wanted}
    written = without_address = 0
    for batch in _batches(sorted(by_id), MAIL_BATCH):
        rows = []
        for fact_row in invitation_mail_rows(session, batch):
            kind, number = by_id[fact_row["id"]]
            facts = mail_facts(fact_row, kind, number)
            subject, body = compose(facts)
            address = (fact_row["address"] or "").strip()
            rows.append(
                {
                    "dedup_key": f"inv:{fact_row['id']}:{kind}:{number}",
                    "invitation_id": fact_row["id"],
                    "kind": kind,
                    "recipient": address,
                    "subject": subject,
                    "body": body,
                    "status": OutboxStatus.PENDING if address else OutboxStatus.FAILED,
                    "attempts": 0,
                    "next_attempt_at": as_of,
                    "last_error": None if address else NO_ADDRESS,
                    "created_at": as_of,
                    "sent_at": None,
                }
            )
            without_address += 0 if address else 1
        if rows:
            statement = (
                insert_ignoring_duplicates(session, Outbox)
                .on_conflict_do_nothing(index_elements=["dedup_key"])
                .returning(Outbox.__table__.c.id)
            )
            written += len(session.connection().execute(statement, rows).all())
    return written, without_address


def _cancel_mail_of_closed(session: Session) -> int:
    not_open = exists().where(
        Invitation.id == Outbox.invitation_id, Invitation.status != InvitationStatus.OPEN
    )
    reason = (
        select(literal("invitation ") + Invitation.status)
        .where(Invitation.id == Outbox.invitation_id)
        .scalar_subquery()
    )
    return session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, not_open)
        .values(status=OutboxStatus.CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def _batches(ids: Iterable[int], size: int = BATCH) -> Iterator[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
