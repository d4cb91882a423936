"""The analysis frames of a scope of trajectories, glued from the read models.

:func:`analysis_frames` is what the report, the dashboard's analysis pages and the notebook API
load: every frame of ``analysis.frames`` for the trajectories in ``scope`` as of one day.
:func:`data_version` is a cheap fingerprint of the study's data (a few aggregate queries) that
changes whenever a service or the scheduler writes, so cached analyses can be keyed on it without
building the frames first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from questionnaires.model import Instrument
from study import read_models
from study.frame_reads import frame_reads
from study.frame_store import kept_frames, store_folder
from study.models import AuditEvent, Invitation, Trajectory

NON_DATA_ACTIONS: tuple[str, ...] = (
    "read",
    "export",
    "login",
    "login_failed",
    "login_locked",
    "logout",
)
NON_DATA_ENTITIES: tuple[str, ...] = ("app_user", "user_session")

FRAME_NAMES: tuple[str, ...] = (
    "trajectories",
    "survival",
    "person_wave",
    "contacts",
    "counting_process",
    "response_items",
)
"""Keys of :func:`analysis_frames`, in the order they are built."""


def analysis_frames(
    session: Session,
    scope: Select[tuple[int]],
    *,
    as_of: dt.date,
    instruments: Mapping[str, Instrument] | None = None,
    include_items: bool = True,
) -> dict[str, pd.DataFrame]:
    """Every analysis frame of the trajectories in ``scope``, as known on ``as_of``.

    Parameters
    ----------
    session : Session
        A (read) session; nothing is written.
    scope : Select
        A SELECT of visible trajectory ids (from :func:`study.access.visible_trajectories` or
        :func:`study.access.trajectory_scope`): the only authorisation the frames get.
    as_of : date
        The day the data are looked at: open trajectories are censored there, invitations that
        had not opened by then are left out.
    instruments : mapping of str to Instrument, optional
        Used to reverse-key item answers in ``response_items``; the built-in instruments when
        omitted.
    include_items : bool
        Build ``response_items`` (the largest frame); the survival and trajectory analyses do
        not need it.

    Returns
    -------
    dict of str to DataFrame
        ``trajectories`` (TRAJECTORIES), ``survival`` (SURVIVAL plus every trajectory column),
        ``person_wave`` (PERSON_WAVE plus anchor and due_date), ``contacts`` (CONTACTS plus day),
        ``counting_process`` (COUNTING_PROCESS plus wave_index) and, with ``include_items``,
        ``response_items`` (RESPONSE_ITEMS, reverse-keyed, plus reversed). The column lists are
        in :mod:`analysis.frames`.
    """
    # one reader for all of it: the kept frames and the item answers come from one snapshot
    with frame_reads(session):
        kept = _from_store(session, scope, as_of)
        frames = kept if kept is not None else read_frames(session, scope, as_of)
        if include_items:
            if instruments is None:
                from questionnaires.registry import load_instruments

                instruments = load_instruments()
            frames["response_items"] = read_models.response_items_frame(
                session, scope, instruments=instruments
            )
    return frames


def warm_frames(read_sessions: sessionmaker[Session], as_of: dt.date) -> bool:
    """Bring the kept frames of every trajectory on ``as_of`` up to date, when the sessions
    have a frame store; whether they have one."""
    with read_sessions() as session:
        if store_folder(session) is None:
            return False
        analysis_frames(session, select(Trajectory.id), as_of=as_of, include_items=False)
    return True


def monitor_frames(
    session: Session, scope: Select[tuple[int]], as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monitor's frames of ``scope`` on ``as_of``: ``trajectories`` and a person-wave
    frame of one row per invitation, without scores (score and value empty); from the frame
    store when the session has one."""
    kept = _from_store(session, scope, as_of)
    if kept is None:
        with frame_reads(session):
            return (
                read_models.trajectories_frame(session, scope, as_of=as_of),
                read_models.person_wave_frame(session, scope, as_of=as_of, scores=()),
            )
    # the kept rows are per score, sorted with the invitation's keys first: its first row
    # stands where the invitation's one row would
    invitations = kept["person_wave"].drop_duplicates(
        ["trajectory_id", "wave", "respondent", "instrument_id"]
    )
    person_wave = invitations.assign(score=None, value=float("nan")).reset_index(drop=True)
    return kept["trajectories"], person_wave


def _from_store(
    session: Session, scope: Select[tuple[int]], as_of: dt.date
) -> dict[str, pd.DataFrame] | None:
    """The kept frames of ``scope``, or None when the session has no store (or writes)."""
    folder = store_folder(session)
    if folder is None:
        return None
    return kept_frames(session, scope, as_of=as_of, folder=folder, build=read_frames)


def read_frames(
    session: Session, scope: Select[tuple[int]], as_of: dt.date
) -> dict[str, pd.DataFrame]:
    """The frames of ``scope`` on ``as_of`` from the database: ``trajectories``, ``survival``,
    ``person_wave``, ``contacts`` and ``counting_process`` (see :func:`analysis_frames`)."""
    with frame_reads(session):
        trajectories = read_models.trajectories_frame(session, scope, as_of=as_of)
        person_wave = read_models.person_wave_frame(session, scope, as_of=as_of)
        contacts = read_models.contacts_frame(session, scope)
    survival = read_models.survival_frame(trajectories, as_of=as_of)
    return {
        "trajectories": trajectories,
        "survival": survival,
        "person_wave": person_wave,
        "contacts": contacts,
        "counting_process": read_models.counting_process_frame(survival, person_wave, contacts),
    }


def data_version(session: Session, study_id: int) -> str:
    """A short fingerprint of the data that changes with every write that matters.

    It combines the study, the last audit event that records a change of data (every service,
    every submission and every correction writes one; reads, exports, logins and user
    administration do not count) and the number of invitations per status with the largest invitation id (the
    scheduler creates invitations and changes their status without an audit event). Two cheap
    queries (an index-only count and a backward scan of the audit log), so it can run in every
    request; it is not limited to the study, so a change in another study of the same database
    also counts as a change.

    Returns
    -------
    str
        16 hexadecimal characters.
    """
    last_change = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.action.not_in(NON_DATA_ACTIONS),
            AuditEvent.entity.not_in(NON_DATA_ENTITIES),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    statuses = session.execute(
        select(Invitation.status, func.count())
        .group_by(Invitation.status)
        .order_by(Invitation.status)
    ).all()
    newest = session.scalar(select(func.max(Invitation.id)))
    parts = [study_id, last_change, newest, *[(str(k), n) for k, n in statuses]]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
