"""The wave protocol: the default (Trimbos-style, extended) as plain data, and changing it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from study.clock import local_date
from study.models import Invitation, Outbox, Response
from study.vocab import InvitationStatus, Respondent

DEFAULT_INSTRUMENTS: dict[Respondent, str] = {
    Respondent.EMPLOYEE: "employee_followup",
    Respondent.JOBCOACH: "jobcoach_followup",
    Respondent.EMPLOYER: "employer_followup",
}

#: at baseline the employee answers the version without questions about changes since last time
BASELINE_INSTRUMENTS: dict[Respondent, str] = {
    **DEFAULT_INSTRUMENTS,
    Respondent.EMPLOYEE: "employee_baseline",
}


@dataclass(frozen=True)
class WaveSpec:
    """One wave of a protocol, before it is stored."""

    code: str
    label: str
    offset_months: int
    anchor: str = "start"
    opens_days_before: int = 7
    reminder_days: tuple[int, ...] = (7, 14)
    closes_days_after: int = 28
    requires_active: bool = False
    instruments: dict[Respondent, str] = field(default_factory=lambda: dict(DEFAULT_INSTRUMENTS))


def default_waves(
    max_months: int = 24, every: int = 6, followup_after_end: int = 6
) -> list[WaveSpec]:
    """T0 at day 0, T1 at 3 months, T2 at 6 months, then every ``every`` months up to ``max_months``
    while the trajectory lasts, and a closing follow-up ``followup_after_end`` months after it ends.
    """
    waves = [
        WaveSpec("T0", "Nulmeting", 0, opens_days_before=0, instruments=dict(BASELINE_INSTRUMENTS)),
        WaveSpec("T1", "3 maanden", 3),
        WaveSpec("T2", "6 maanden", 6),
    ]
    months, index = 6 + every, 3
    while months <= max_months:
        waves.append(WaveSpec(f"T{index}", f"{months} maanden", months, requires_active=True))
        months += every
        index += 1
    if followup_after_end:
        waves.append(
            WaveSpec(
                "FU",
                f"Follow-up {followup_after_end} maanden na einde",
                followup_after_end,
                anchor="end",
            )
        )
    return waves


def change_protocol(
    session: Session,
    study_id: int,
    waves: list[WaveSpec],
    *,
    actor: str,
    at: dt.datetime,
) -> ProtocolChange:
    """Install ``waves`` as the study's new protocol version and recompute future invitations.

    Invitations that have not opened yet and open after the day of ``at`` (Europe/Amsterdam) are
    removed and planned again from the new protocol; open, completed, missed and cancelled
    invitations, and everything that already went out, stay exactly as they are.
    """
    from study import audit
    from study.scheduling.tick import create_invitations
    from study.services.setup import install_protocol

    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    today = local_date(at)
    protocol = install_protocol(session, study_id, waves, at=at)
    future = select(Invitation.id).where(
        Invitation.study_id == study_id,
        Invitation.status == InvitationStatus.SCHEDULED,
        Invitation.opens_on > today,
        ~exists().where(Outbox.invitation_id == Invitation.id),
        ~exists().where(Response.invitation_id == Invitation.id),
    )
    removed = session.execute(
        delete(Invitation)
        .where(Invitation.id.in_(future))
        .execution_options(synchronize_session=False)
    ).rowcount
    created, _ = create_invitations(session, as_of=at, study_id=study_id)
    audit.record(
        session,
        at=at.astimezone(dt.UTC),
        actor=actor,
        action="change_protocol",
        entity="protocol",
        entity_id=protocol.id,
        new={
            "version": protocol.version,
            "waves": [w.code for w in waves],
            "future_invitations_removed": removed,
            "invitations_planned": created,
        },
    )
    return ProtocolChange(protocol.id, protocol.version, removed, created)


@dataclass(frozen=True)
class ProtocolChange:
    """What :func:`change_protocol` did."""

    protocol_id: int
    version: int
    removed: int
    created: int
