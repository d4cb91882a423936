"""The study model: SQLAlchemy 2 typed ORM classes.

Participants are pseudonymous; contact details live only in ``ParticipantIdentity``, which exports never
read. Rows are written only by the functions in ``study.services`` and the scheduler.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, UserDefinedType

from study import vocab

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and come back timezone-aware on every backend.

    SQLite keeps no offset, so a naive value read back is UTC by construction; a naive value handed
    in is refused, because its meaning would depend on the machine's clock settings.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass timezone-aware UTC timestamps")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON}


def choice(enum: type[StrEnum], name: str) -> SAEnum:
    """A text column restricted to an enum's values by a CHECK constraint on every backend."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Study(Base):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Amsterdam")
    min_cell_size: Mapped[int] = mapped_column(Integer, default=10)
    consent_version: Mapped[str] = mapped_column(String(40), default="1.0")
    #: days after today a contact or an employment event may be dated
    record_days_ahead: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: days after today a trajectory may start
    start_days_ahead: Mapped[int] = mapped_column(Integer, default=92, server_default="92")
    created_at: Mapped[dt.datetime]


class Protocol(Base):
    """A version of the study's wave schedule; exactly one is current per study."""

    __tablename__ = "protocol"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    version: Mapped[int]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    repeat_every_months: Mapped[int | None] = mapped_column(Integer, default=6)
    max_months: Mapped[int] = mapped_column(Integer, default=24)
    followup_after_end_months: Mapped[int | None] = mapped_column(Integer, default=6)
    created_at: Mapped[dt.datetime]

    waves: Mapped[list[Wave]] = relationship(
        back_populates="protocol", order_by="Wave.offset_months", cascade="all, delete-orphan"
    )


class Wave(Base):
    """One measurement occasion, relative to the trajectory's start (or end) date."""

    __tablename__ = "wave"
    __table_args__ = (
        UniqueConstraint("protocol_id", "code"),
        CheckConstraint("opens_days_before >= 0", name="opens_non_negative"),
        CheckConstraint("closes_days_after >= 0", name="closes_non_negative"),
        CheckConstraint("anchor IN ('start', 'end')", name="anchor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocol.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    anchor: Mapped[str] = mapped_column(String(8), default="start")
    offset_months: Mapped[int]
    opens_days_before: Mapped[int] = mapped_column(Integer, default=7)
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [7, 14])
    closes_days_after: Mapped[int] = mapped_column(Integer, default=28)
    requires_active: Mapped[bool] = mapped_column(Boolean, default=False)

    protocol: Mapped[Protocol] = relationship(back_populates="waves")
    instruments: Mapped[list[WaveInstrument]] = relationship(
        back_populates="wave", cascade="all, delete-orphan"
    )


class WaveInstrument(Base):
    __tablename__ = "wave_instrument"
    __table_args__ = (UniqueConstraint("wave_id", "respondent", "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    respondent: Mapped[vocab.Respondent] = mapped_column(choice(vocab.Respondent, "respondent"))
    instrument_id: Mapped[str] = mapped_column(String(80))

    wave: Mapped[Wave] = relationship(back_populates="instruments")


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[vocab.OrganisationKind] = mapped_column(
        choice(vocab.OrganisationKind, "organisation_kind")
    )


class Jobcoach(Base):
    __tablename__ = "jobcoach"
    __table_args__ = (
        UniqueConstraint("study_id", "code"),
        CheckConstraint("years_experience >= 0 AND years_experience <= 60", name="experience"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    coach_type: Mapped[vocab.CoachType] = mapped_column(choice(vocab.CoachType, "coach_type"))
    method: Mapped[vocab.Method] = mapped_column(choice(vocab.Method, "method"))
    education: Mapped[str | None] = mapped_column(String(100))
    years_experience: Mapped[int | None]
    registered: Mapped[bool] = mapped_column(Boolean, default=False)


class Employer(Base):
    __tablename__ = "employer"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))


class Participant(Base):
    """A coached employee, pseudonymous: no name, no date of birth, no address."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("study_id", "study_code"),
        CheckConstraint("birth_year >= 1900 AND birth_year <= 2100", name="birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    study_code: Mapped[str] = mapped_column(String(40))
    birth_year: Mapped[int]
    gender: Mapped[vocab.Gender] = mapped_column(choice(vocab.Gender, "gender"))
    benefit: Mapped[vocab.Benefit] = mapped_column(choice(vocab.Benefit, "benefit"))
    doelgroepregister: Mapped[bool] = mapped_column(Boolean)
    enrolled_at: Mapped[dt.datetime]


class ParticipantIdentity(Base):
    """Contact details for sending personal links. Exports and read models never touch this table."""

    __tablename__ = "participant_identity"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))


class Consent(Base):
    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= given_at", name="withdrawn_after_given"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    version: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


class Trajectory(Base):
    """A coaching trajectory (traject): one employee, one jobcoach, one employer."""

    __tablename__ = "trajectory"
    __table_args__ = (
        CheckConstraint("loonwaarde >= 0 AND loonwaarde <= 100", name="loonwaarde_range"),
        CheckConstraint("contract_hours >= 0 AND contract_hours <= 60", name="hours_range"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint(
            "(end_date IS NULL) = (end_reason IS NULL)", name="end_reason_with_end_date"
        ),
        Index(
            "uq_trajectory_open_participant_employer",
            "participant_id",
            "employer_id",
            unique=True,
            sqlite_where=text("end_date IS NULL"),
            postgresql_where=text("end_date IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    jobcoach_id: Mapped[int] = mapped_column(ForeignKey("jobcoach.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    funder: Mapped[vocab.Funder] = mapped_column(choice(vocab.Funder, "funder"))
    employment_form: Mapped[vocab.EmploymentForm] = mapped_column(
        choice(vocab.EmploymentForm, "employment_form")
    )
    contract_hours: Mapped[float] = mapped_column(Float)
    loonwaarde: Mapped[float | None] = mapped_column(Float)
    maatje: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[vocab.Method] = mapped_column(choice(vocab.Method, "method"))
    coach_type: Mapped[vocab.CoachType] = mapped_column(choice(vocab.CoachType, "coach_type"))
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[vocab.EndReason | None] = mapped_column(
        choice(vocab.EndReason, "end_reason")
    )
    created_at: Mapped[dt.datetime]

    participant: Mapped[Participant] = relationship()
    jobcoach: Mapped[Jobcoach] = relationship()
    employer: Mapped[Employer] = relationship()


class CoachingContact(Base):
    __tablename__ = "coaching_contact"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_range"),
        Index("ix_coaching_contact_trajectory_date", "trajectory_id", "contact_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"))
    contact_date: Mapped[dt.date] = mapped_column(Date)
    minutes: Mapped[int]
    mode: Mapped[vocab.ContactMode] = mapped_column(choice(vocab.ContactMode, "contact_mode"))
    with_whom: Mapped[vocab.ContactWith] = mapped_column(choice(vocab.ContactWith, "contact_with"))
    activity: Mapped[vocab.Activity] = mapped_column(choice(vocab.Activity, "activity"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    # a correction removes a row from every count and analysis but keeps it, with who and why
    deleted_at: Mapped[dt.datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(120))
    delete_reason: Mapped[str | None] = mapped_column(Text)


class EmploymentEvent(Base):
    __tablename__ = "employment_event"
    __table_args__ = (
        CheckConstraint("hours IS NULL OR (hours >= 0 AND hours <= 60)", name="hours_range"),
        CheckConstraint(
            "(kind = 'job_end') = (job_end_reason IS NOT NULL)", name="reason_only_for_job_end"
        ),
        Index("ix_employment_event_trajectory_date", "trajectory_id", "event_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"))
    event_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[vocab.EventKind] = mapped_column(choice(vocab.EventKind, "event_kind"))
    hours: Mapped[float | None] = mapped_column(Float)
    job_end_reason: Mapped[vocab.JobEndReason | None] = mapped_column(
        choice(vocab.JobEndReason, "job_end_reason")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    # a correction removes a row from every count and analysis but keeps it, with who and why
    deleted_at: Mapped[dt.datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(120))
    delete_reason: Mapped[str | None] = mapped_column(Text)


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role <> 'jobcoach' OR jobcoach_id IS NOT NULL", name="coach_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[vocab.Role] = mapped_column(choice(vocab.Role, "role"))
    jobcoach_id: Mapped[int | None] = mapped_column(ForeignKey("jobcoach.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # superseded by ``FailureCount`` (study.throttles) and no longer written; kept because
    # dropping columns on SQLite means rebuilding a table that others reference
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class FailureCount(Base):
    """Failed attempts of one kind (``scope``) for one account, one address, or the pair of both.

    Shared by every web process through the database; written only by :mod:`study.throttles`,
    which also deletes the rows once ``forget_at`` has passed.
    """

    __tablename__ = "failure_count"
    __table_args__ = (UniqueConstraint("scope", "account", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime | None]
    blocked_until: Mapped[dt.datetime | None]
    succeeded_at: Mapped[dt.datetime | None]
    forget_at: Mapped[dt.datetime] = mapped_column(index=True)


class UserSession(Base):
    """A server-side login session; the cookie holds a random token, the table its hash."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class AuditEvent(Base):
    """Insert-only log of every change and every read of an individual record.

    Triggers on both backends refuse UPDATE and DELETE of this table.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int | None]
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class Invitation(Base):
    """One questionnaire for one respondent in one wave of one trajectory."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("trajectory_id", "wave_code", "respondent", "instrument_id"),
        CheckConstraint("closes_on >= opens_on", name="window"),
        Index("ix_invitation_status_opens", "status", "opens_on"),
        Index("ix_invitation_status_closes", "status", "closes_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"), index=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocol.id"))
    wave_code: Mapped[str] = mapped_column(String(16))
    wave_index: Mapped[int]
    respondent: Mapped[vocab.Respondent] = mapped_column(choice(vocab.Respondent, "respondent"))
    instrument_id: Mapped[str] = mapped_column(String(80))
    instrument_version: Mapped[str | None] = mapped_column(String(40))
    due_on: Mapped[dt.date] = mapped_column(Date)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[vocab.InvitationStatus] = mapped_column(
        choice(vocab.InvitationStatus, "invitation_status"),
        default=vocab.InvitationStatus.SCHEDULED,
    )
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    token_salt: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    opened_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class Outbox(Base):
    """Mail to be delivered; written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(120))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[vocab.OutboxStatus] = mapped_column(
        choice(vocab.OutboxStatus, "outbox_status"), default=vocab.OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class Response(Base):
    """Answers to one invitation: a draft while being filled in, locked once submitted."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("invitation_id"), UniqueConstraint("submission_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"))
    instrument_id: Mapped[str] = mapped_column(String(80))
    instrument_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[vocab.ResponseStatus] = mapped_column(
        choice(vocab.ResponseStatus, "response_status"), default=vocab.ResponseStatus.DRAFT
    )
    submission_id: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lang: Mapped[str] = mapped_column(String(5), default="nl")
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    #: of the questions the respondent could answer (shown, not computed), how many were, at
    #: submission (None for responses submitted before this was recorded)
    answered_items: Mapped[int | None]
    applicable_items: Mapped[int | None]


class ResponseValue(Base):
    """One answered item of a submitted response, for set-based analysis (reliability, missingness)."""

    __tablename__ = "response_value"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)


class ResponseScore(Base):
    """One computed score of a submitted response."""

    __tablename__ = "response_score"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    score_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class TrajectoryPlan(Base):
    """For which protocol version and end date a trajectory's invitations were last planned.

    The scheduler tick plans only trajectories whose row is missing or differs (new trajectories,
    a trajectory that ended, a new protocol version), so a daily tick does not re-check every
    trajectory x wave of the study.
    """

    __tablename__ = "trajectory_plan"

    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"), primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocol.id"))
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_at: Mapped[dt.datetime]


class SchedulerLease(Base):
    """A lease row that lets exactly one scheduler process tick on SQLite."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime]


class CostParameterSet(Base):
    """A version of a study's cost parameters; the newest version is the one in use.

    A change never edits a version: it writes a new one (with who, when and why, also in the
    audit log), so a result can always name the parameters it was computed with.
    """

    __tablename__ = "cost_parameter_set"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    version: Mapped[int]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)

    parameters: Mapped[list[CostParameter]] = relationship(
        back_populates="parameter_set", cascade="all, delete-orphan"
    )


class CostParameter(Base):
    """One amount of a cost-parameter version: value, unit, year, source, payer and receiver."""

    __tablename__ = "cost_parameter"
    __table_args__ = (
        UniqueConstraint("set_id", "key", "coach_type", "year"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("cost_parameter_set.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    coach_type: Mapped[str | None] = mapped_column(String(16))
    year: Mapped[int]
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(120), default="")
    payer: Mapped[str] = mapped_column(String(60), default="")
    receiver: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(Text, default="")

    parameter_set: Mapped[CostParameterSet] = relationship(back_populates="parameters")


class SignalSettings(Base):
    """A study's own thresholds for the jobcoach signals (``analysis.signals.Thresholds``);
    a key that is absent keeps its default."""

    __tablename__ = "signal_settings"

    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class ContractEnd(Base):
    """The day a trajectory's contract or trial placement is due to end, as last recorded."""

    __tablename__ = "contract_end"

    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"), primary_key=True)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime]
    recorded_by: Mapped[str] = mapped_column(String(120))


class SignalAcknowledgement(Base):
    """A jobcoach saw one firing of a signal (trajectory, signal, rule, day) and what they did."""

    __tablename__ = "signal_acknowledgement"
    __table_args__ = (UniqueConstraint("trajectory_id", "signal", "rule", "fired_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectory.id"), index=True)
    signal: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))
    fired_on: Mapped[dt.date] = mapped_column(Date)
    seen_at: Mapped[dt.datetime]
    seen_by: Mapped[str] = mapped_column(String(120))
    action: Mapped[vocab.SignalAction | None] = mapped_column(
        choice(vocab.SignalAction, "signal_action")
    )
    note: Mapped[str | None] = mapped_column(Text)


class DataQuery(Base):
    """A researcher's question about one stored value (a data query, as in an EDC), its answer
    by the jobcoach and its closing by the researcher."""

    __tablename__ = "data_query"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered', 'closed')", name="status"),
        Index("ix_data_query_participant_status", "participant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int]
    field: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[dt.datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[dt.datetime | None]


class _Xid8Name(UserDefinedType[int]):
    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "xid8"


class _Xid8(TypeDecorator[int]):
    """PostgreSQL's 64-bit transaction id (``xid8``); an unused integer on SQLite."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(
            _Xid8Name() if dialect.name == "postgresql" else BigInteger()
        )


class FrameChange(Base):
    """A trajectory whose analysis rows a write touched (NULL: every trajectory).

    Written by database triggers on the tables the analysis frames read, so no write escapes
    it, whatever wrote it; :mod:`study.frame_store` brings its frames up to date from it.
    """

    __tablename__ = "frame_change"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    trajectory_id: Mapped[int | None] = mapped_column(Integer)
    #: the writing transaction (PostgreSQL), whose rows become visible at its commit, not in
    #: the order of their ids
    xid: Mapped[int | None] = mapped_column(_Xid8)


class FrameEpoch(Base):
    """One row: a token made when the database was created, so a kept copy of its frames is
    never taken for the frames of another database at the same address."""

    __tablename__ = "frame_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64))


#: tables about the database itself, not about the study: a backup leaves them out, and a
#: restored database keeps its own (its frames are read afresh)
DATABASE_BOOKKEEPING = frozenset({FrameChange.__tablename__, FrameEpoch.__tablename__})
