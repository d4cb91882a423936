"""Sending a respondent their personal link again, at a jobcoach's or researcher's request.

Nobody but the respondent ever sees a link: the request only queues a mail to the respondent's
own address through the outbox, and the sender puts the link in at delivery time. So that a
request cannot be used to flood someone's mailbox, a link goes out again at most once per
:data:`RESEND_EVERY` per invitation, and one user asks at most :data:`RESENDS_PER_DAY` times a day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from study import audit
from study.clock import AMSTERDAM
from study.errors import Conflict, NotFound, TooSoon
from study.mail.compose import KIND_REMINDER, compose
from study.mail.facts import invitation_mail_rows, mail_facts
from study.models import (
    AuditEvent,
    Invitation,
    Outbox,
)
from study.vocab import InvitationStatus, OutboxStatus, Respondent

RESEND_EVERY = dt.timedelta(hours=1)
RESENDS_PER_DAY = 20
KIND_RESEND = "resend"
ACTION = "resend_link"


def _not_found() -> NotFound:
    return NotFound(
        "Deze vragenlijst bestaat niet of hoort niet bij uw cliënten.",
        "This form does not exist or is not one of your clients'.",
    )


def resend_link(
    session: Session,
    scope: Select[tuple[int]],
    invitation_id: int,
    *,
    actor: str,
    at: dt.datetime,
    every: dt.timedelta | None = None,
    per_day: int | None = None,
) -> int:
    """Queue the personal link of an open employee or employer form to its respondent again.

    ``scope`` is the SELECT of trajectory ids the actor may see; an invitation outside it is
    refused as if it did not exist. ``every`` and ``per_day`` default to :data:`RESEND_EVERY`
    and :data:`RESENDS_PER_DAY`. Returns the id of the new outbox row.

    Raises
    ------
    NotFound
        The invitation is not one of ``scope``'s.
    Conflict
        The form is not open, is the jobcoach's own, or its respondent has no address.
    TooSoon
        The link went out again less than ``every`` ago, or ``actor`` reached ``per_day`` today.
    """
    every = RESEND_EVERY if every is None else every
    per_day = RESENDS_PER_DAY if per_day is None else per_day
    # FOR UPDATE: two requests at once for one invitation queue one mail (SQLite serialises
    # writers already)
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.trajectory_id.in_(scope))
        .with_for_update()
    )
    if invitation is None:
        raise _not_found()
    if invitation.respondent == Respondent.JOBCOACH:
        raise Conflict(
            "Dit is uw eigen vragenlijst; vul hem zelf in.",
            "This is your own form; fill it in yourself.",
        )
    if (
        invitation.status != InvitationStatus.OPEN
        or not invitation.token_hash
        or not _answerable(invitation, at)
    ):
        raise Conflict(
            "Deze vragenlijst staat niet open; er is geen link om opnieuw te sturen.",
            "This form is not open; there is no link to send again.",
        )
    last = session.scalar(
        select(func.max(Outbox.created_at)).where(
            Outbox.invitation_id == invitation.id, Outbox.kind == KIND_RESEND
        )
    )
    if last is not None and _aware(last) > at - every:
        again = (_aware(last) + every).astimezone(AMSTERDAM).strftime("%H:%M")
        raise TooSoon(
            f"De link is kort geleden al opnieuw verstuurd. Dat kan één keer per uur; "
            f"probeer het na {again} uur nog eens.",
            f"The link was sent again a short while ago. That can be done once an hour; "
            f"try again after {again}.",
        )
    asked_today = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == ACTION,
            AuditEvent.actor == actor,
            AuditEvent.at > at - dt.timedelta(days=1),
        )
    )
    if (asked_today or 0) >= per_day:
        raise TooSoon(
            f"U heeft in de afgelopen 24 uur al {per_day} links opnieuw laten versturen; "
            "dat is het maximum. Probeer het morgen weer.",
            f"You had {per_day} links sent again in the last 24 hours, the maximum. "
            "Try again tomorrow.",
        )
    row = next(invitation_mail_rows(session, [invitation.id]))
    address = (row["address"] or "").strip() or None
    if not address:
        raise Conflict(
            "Er is geen e-mailadres bekend voor deze invuller; vul dat eerst aan.",
            "No e-mail address is known for this respondent; add it first.",
        )
    subject, body = compose(mail_facts(row, KIND_REMINDER, invitation.reminders_sent + 1))
    outbox = Outbox(
        dedup_key=f"inv:{invitation.id}:{KIND_RESEND}:{at.isoformat()}",
        invitation_id=invitation.id,
        kind=KIND_RESEND,
        recipient=address,
        subject=subject,
        body=body,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(outbox)
    session.flush()
    # the address stays out of the audit log: it is identity data, kept in one place only
    audit.record(
        session, at=at, actor=actor, action=ACTION, entity="invitation", entity_id=invitation.id,
        new={"outbox_id": outbox.id, "respondent": invitation.respondent},
        reason="link opnieuw gestuurd op verzoek",
    )  # fmt: skip
    return outbox.id


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the study stores UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _answerable(invitation: object, at: dt.datetime) -> bool:
    # imported here: study.responses imports the services package, which imports this module
    from study.responses import is_answerable

    return is_answerable(invitation, at)
