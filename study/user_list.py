"""The logins of a study as a table, for the researcher's user management."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from study.models import Jobcoach, User


def users_frame(session: Session, study_id: int) -> pd.DataFrame:
    """The study's logins (never a password hash).

    Returns
    -------
    DataFrame
        username, display_name, role, jobcoach (code), active, created_at (UTC text).
    """
    rows = session.execute(
        select(User.username, User.display_name, User.role, Jobcoach.code, User.active, User.created_at)
        .outerjoin(Jobcoach, Jobcoach.id == User.jobcoach_id)
        .where(User.study_id == study_id)
        .order_by(User.username)
    ).all()  # fmt: skip
    frame = pd.DataFrame(rows, columns=["username", "display_name", "role", "jobcoach", "active", "created_at"])  # fmt: skip
    frame["role"] = [getattr(v, "value", v) for v in frame["role"]]
    frame["jobcoach"] = frame["jobcoach"].fillna("")
    frame["created_at"] = [v.strftime("%Y-%m-%d %H:%M") for v in frame["created_at"]]
    return frame
