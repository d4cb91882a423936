"""The outbox as a list of messages, for researchers: one row per mail, never its address."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from study.models import Invitation, Outbox, Participant, Trajectory

#: messages one list shows at most (the newest)
LIMIT = 2000


def outbox_messages(session: Session, *, limit: int = LIMIT) -> pd.DataFrame:
    """The newest outbox messages with their delivery state.

    Returns
    -------
    DataFrame
        outbox_id, kind, study_code, wave_code, respondent, status, attempts, next_attempt_at,
        last_error, created_at, sent_at (timestamps as UTC text). The recipient's address is not
        among them: it is an identity, and the list is for finding delivery problems.
    """
    rows = session.execute(
        select(
            Outbox.id.label("outbox_id"),
            Outbox.kind,
            Participant.study_code,
            Invitation.wave_code,
            Invitation.respondent,
            Outbox.status,
            Outbox.attempts,
            Outbox.next_attempt_at,
            Outbox.last_error,
            Outbox.created_at,
            Outbox.sent_at,
        )
        .outerjoin(Invitation, Invitation.id == Outbox.invitation_id)
        .outerjoin(Trajectory, Trajectory.id == Invitation.trajectory_id)
        .outerjoin(Participant, Participant.id == Trajectory.participant_id)
        .order_by(Outbox.id.desc())
        .limit(limit)
    ).all()
    frame = pd.DataFrame(rows, columns=[
        "outbox_id", "kind", "study_code", "wave_code", "respondent", "status", "attempts",
        "next_attempt_at", "last_error", "created_at", "sent_at",
    ])  # fmt: skip
    for col in ("respondent", "status"):
        frame[col] = [getattr(v, "value", v) for v in frame[col]]
    for col in ("next_attempt_at", "created_at", "sent_at"):
        # a column with some missing moments comes back from pandas with NaT in them
        frame[col] = [
            "" if v is None or pd.isna(v) else v.strftime("%Y-%m-%d %H:%M") for v in frame[col]
        ]
    frame["last_error"] = frame["last_error"].fillna("")
    return frame
