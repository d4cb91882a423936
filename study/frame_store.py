"""The analysis frames of every trajectory, kept on disk and brought up to date per change.

Reading a national study's frames from the database takes seconds however fast the rows
travel: the joins themselves cost that. Every frame is a set of rows per trajectory, so the
frames of the whole database on a day can be kept, and a write only asks for the rows of the
trajectories it touched. Database triggers record those trajectories in ``frame_change``
(migration 0008) whatever wrote them: a service, the scheduler, an import or plain SQL.

A request reads, in one snapshot: the database's epoch token, the newest change, and the
scope's trajectory ids. The kept frames of its day are then brought up to date (the changed
trajectories read again and put in place of their old rows, or everything read again when
the kept copy is missing, from another database, too far behind, or when a change touched
every trajectory), saved, and cut to the scope. On PostgreSQL, change ids are handed out
before commit, so a change is looked at again while the transaction that wrote it might have
been running at the last look (its transaction id is at least that snapshot's xmin).

A copy is a folder of Arrow files per frame; a small pointer file, replaced atomically, names
the folder that is current, so processes sharing the folder never read half a copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
from sqlalchemy import Select, delete, func, literal_column, or_, select
from sqlalchemy.orm import Session

from study.frame_reads import FrameReader, frame_reads
from study.models import FrameChange, FrameEpoch, Trajectory

log = logging.getLogger(__name__)

#: the frames kept; ``response_items`` (item answers, for the data-quality page) is not
FRAMES = ("trajectories", "survival", "person_wave", "contacts", "counting_process")
_OPTION = "klik_frame_store"
#: the frames of more changed trajectories than this are read again whole: a long IN list
#: costs more than the full read, and SQLite allows about 32,000 parameters per statement
MAX_CHANGED = 2000
#: change rows the daily tick keeps; a copy further behind than that is read again whole
KEEP_CHANGES = 1_000_000
#: days whose copies are kept (today, yesterday, a viewer's release day, ...); older pointers go
KEEP_DAYS = 4
#: copies no pointer names any more are removed once they are this old (a reader may still
#: have one open)
STALE_COPY_SECONDS = 600


@dataclass(frozen=True)
class Mark:
    """What a kept copy has seen: the database's epoch (its token and address), its newest
    change id and, on PostgreSQL, the oldest transaction still running when it was read."""

    epoch: str
    head: int
    xmin: int | None


def frame_store_options(folder: Path) -> dict[str, str]:
    """Execution options that give a (read) engine's sessions the store in ``folder``."""
    return {_OPTION: str(folder)}


def store_folder(session: Session) -> Path | None:
    """The store folder the session's engine was given (see :func:`frame_store_options`)."""
    folder = session.get_bind().get_execution_options().get(_OPTION)
    return Path(folder) if folder else None


BuildFrames = Callable[[Session, Select[tuple[int]], dt.date], dict[str, pd.DataFrame]]


def kept_frames(
    session: Session,
    scope: Select[tuple[int]],
    *,
    as_of: dt.date,
    folder: Path,
    build: BuildFrames,
) -> dict[str, pd.DataFrame] | None:
    """The :data:`FRAMES` of ``scope`` on ``as_of``, from the copy kept in ``folder``.

    ``build(session, scope, as_of)`` reads the frames of a scope from the database (the read
    models). None for a writer's session: its frames must show its own uncommitted rows.
    """
    with frame_reads(session) as reader:
        if reader is None:
            return None
        mark = _mark(reader, _address(session))
        kept = _load(folder, mark.epoch, as_of)
        changed = None if kept is None else _changed(reader, kept[0], mark)
        if kept is None or changed is None:
            frames = build(session, _everything(), as_of)
        elif changed:
            fresh = build(session, _everything().where(Trajectory.id.in_(changed)), as_of)
            frames = {name: _splice(kept[1][name], fresh[name], changed) for name in FRAMES}
        else:
            frames = kept[1]
        if kept is None or changed != []:
            _save(folder, as_of, mark, frames)
        ids = reader.frame(scope).iloc[:, 0]
    return {name: _cut(frames[name], ids) for name in FRAMES}


def prune_changes(session: Session, keep: int = KEEP_CHANGES) -> int:
    """Remove all but the newest ``keep`` rows of the change log; returns how many went.

    A kept copy that had not seen the removed rows notices the gap and reads everything again.
    """
    head = session.scalar(select(func.max(FrameChange.id)))
    if head is None or head <= keep:
        return 0
    return session.execute(delete(FrameChange).where(FrameChange.id <= head - keep)).rowcount


def _everything() -> Select[tuple[int]]:
    return select(Trajectory.id)


def _address(session: Session) -> str:
    """Where the database is: a file copy of a database (same token, same change log) at
    another address must not share its kept frames."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def _mark(reader: FrameReader, address: str) -> Mark:
    epoch = reader.frame(select(FrameEpoch.token).where(FrameEpoch.id == 1))
    head = reader.frame(select(func.coalesce(func.max(FrameChange.id), 0).label("head")))
    xmin = None
    if not reader.sqlite:
        snap = reader.frame(
            select(literal_column("pg_snapshot_xmin(pg_current_snapshot())::text").label("x"))
        )
        xmin = int(snap["x"].iloc[0])
    token = str(epoch["token"].iloc[0]) if len(epoch) else "none"
    return Mark(f"{token}-{address}", int(head["head"].iloc[0]), xmin)


def _changed(reader: FrameReader, seen: Mark, now: Mark) -> list[int] | None:
    """The trajectories changed since ``seen``; None when everything must be read again."""
    if now.head < seen.head:
        return None  # the change log went back: not the database the copy was made from
    low = reader.frame(select(func.min(FrameChange.id).label("low")))["low"].iloc[0]
    if pd.notna(low) and int(low) > seen.head + 1:
        return None  # changes after the copy may have been pruned from the log
    after = FrameChange.id > seen.head
    if seen.xmin is not None:
        after = or_(after, FrameChange.xid >= literal_column(f"'{int(seen.xmin)}'::xid8"))
    rows = reader.frame(select(FrameChange.trajectory_id).where(after).distinct())
    ids = rows["trajectory_id"]
    if ids.isna().any() or len(ids) > MAX_CHANGED:
        return None
    return sorted(int(i) for i in ids)


def _splice(kept: pd.DataFrame, fresh: pd.DataFrame, changed: list[int]) -> pd.DataFrame:
    """``kept`` with the rows of the ``changed`` trajectories replaced by ``fresh``.

    Every frame is in trajectory order with a trajectory's rows together and in their own
    order, so the result is the pieces of ``kept`` between the changed trajectories with each
    one's fresh rows in its place: one copy, no sort.
    """
    ids = kept["trajectory_id"].to_numpy()
    new_ids = fresh["trajectory_id"].to_numpy()
    pieces: list[pd.DataFrame] = []
    at = 0
    for t in changed:
        start, stop = np.searchsorted(ids, t, "left"), np.searchsorted(ids, t, "right")
        new_start, new_stop = (
            np.searchsorted(new_ids, t, "left"),
            np.searchsorted(new_ids, t, "right"),
        )
        pieces.append(kept.iloc[at:start])
        pieces.append(fresh.iloc[new_start:new_stop])
        at = stop
    pieces.append(kept.iloc[at:])
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return kept.iloc[:0].reset_index(drop=True)
    return pd.concat(pieces, ignore_index=True)


def _cut(frame: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    inside = frame["trajectory_id"].isin(ids)
    if inside.all():
        return frame  # read or spliced for this call alone: no one else holds it
    return frame[inside].reset_index(drop=True)


# -- the copies on disk -------------------------------------------------------------------------


def _format() -> str:
    """Frames change with the code that builds them: a copy is Klik's version's own."""
    try:
        return importlib.metadata.version("klik")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _pointer(folder: Path, epoch: str, as_of: dt.date) -> Path:
    return folder / f"{epoch}-{as_of.isoformat()}.json"


def _load(folder: Path, epoch: str, as_of: dt.date) -> tuple[Mark, dict[str, pd.DataFrame]] | None:
    pointer = _pointer(folder, epoch, as_of)
    try:
        meta = json.loads(pointer.read_text())
        if meta.get("format") != _format():
            return None
        copy = folder / meta["copy"]
        frames = {
            name: feather.read_table(copy / f"{name}.arrow", memory_map=False).to_pandas(
                coerce_temporal_nanoseconds=True, date_as_object=True
            )
            for name in FRAMES
        }
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None  # no copy yet, or one removed while it was read: read everything again
    return Mark(epoch, int(meta["head"]), meta.get("xmin")), frames


def _save(folder: Path, as_of: dt.date, mark: Mark, frames: dict[str, pd.DataFrame]) -> None:
    """Write a new copy, then name it in the day's pointer; a failure (a full disk, a folder
    that cannot be written) is logged and costs the next request a full read, nothing else."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{mark.epoch}-{as_of.isoformat()}-{mark.head}-{uuid.uuid4().hex[:8]}"
        copy = folder / name
        copy.mkdir()
        for frame_name in FRAMES:
            table = pa.Table.from_pandas(frames[frame_name], preserve_index=False)
            feather.write_feather(table, copy / f"{frame_name}.arrow", compression="uncompressed")
        meta = {"copy": name, "head": mark.head, "xmin": mark.xmin, "format": _format()}
        pointer = _pointer(folder, mark.epoch, as_of)
        partial = pointer.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp")
        partial.write_text(json.dumps(meta))
        os.replace(partial, pointer)
        _remove_stale(folder)
    except (OSError, pa.ArrowException):
        log.warning("could not keep the frames of %s in %s", as_of, folder, exc_info=True)


def _remove_stale(folder: Path) -> None:
    """Keep the pointers of the :data:`KEEP_DAYS` days written last; remove copies and
    half-written pointers that nothing names, once no reader can still have them open."""
    pointers = sorted(folder.glob("*.json"), key=_mtime, reverse=True)
    for pointer in pointers[KEEP_DAYS:]:
        pointer.unlink(missing_ok=True)
    current = set()
    for pointer in pointers[:KEEP_DAYS]:
        with contextlib.suppress(OSError, ValueError, KeyError):
            current.add(json.loads(pointer.read_text())["copy"])
    limit = time.time() - STALE_COPY_SECONDS
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            if path.name in current or path.stat().st_mtime >= limit:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            elif path.suffix == ".tmp":
                path.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
