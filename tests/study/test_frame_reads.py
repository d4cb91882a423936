"""Frames read by a frame reader (Arrow columns over ADBC on PostgreSQL) are the frames read
through a writer's session: for a simulated cohort, with a column that is empty for thousands of
rows before its first text; in one snapshot; never for a writer. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import case, literal, null, select, update

from study.access import trajectory_scope
from study.frame_reads import frame_reads, is_read_only
from study.models import Trajectory
from study.report_data import analysis_frames
from tests.conftest import Database
from tests.process_support import simulated_study

AS_OF = dt.date(2025, 8, 1)


def _frames(database: Database, study_id: int, *, arrow: bool) -> dict[str, pd.DataFrame]:
    with database.read_sessions() as s:
        if arrow:
            return analysis_frames(s, trajectory_scope(study_id), as_of=AS_OF)
        # a writer's session reads through the session itself
        assert not is_read_only(database.sessions())
        with database.sessions() as w:
            return analysis_frames(w, trajectory_scope(study_id), as_of=AS_OF)


def test_frames_of_a_reader_are_the_frames_through_a_writers_session(any_db: Database) -> None:
    study_id = simulated_study(any_db, n_trajectories=24, n_coaches=5, months=7, seed=11)
    with any_db.read_sessions() as s:
        assert is_read_only(s)
    fast = _frames(any_db, study_id, arrow=True)
    slow = _frames(any_db, study_id, arrow=False)
    assert fast.keys() == slow.keys()
    # the cohort has what the typing has to get right: ends, missing answers, late answers
    assert fast["survival"]["end_reason"].notna().any()
    assert fast["survival"]["end_reason"].isna().any()
    assert {"missing", "on_time"} <= set(fast["person_wave"]["status"])
    for name in fast:
        assert len(fast[name]) > 0, name
        pd.testing.assert_frame_equal(fast[name], slow[name], obj=name)


def test_a_column_empty_for_thousands_of_rows_keeps_its_text(any_db: Database) -> None:
    """Drivers that hand over columns may guess a column's type from its first rows."""
    series = select(literal(1).label("n")).cte("series", recursive=True)
    series = series.union_all(select(series.c.n + 1).where(series.c.n < 3000))
    stmt = select(
        series.c.n,
        case((series.c.n > 2500, "laat"), else_=null()).label("late_text"),
        case((series.c.n > 2500, series.c.n * 0.5), else_=null()).label("late_number"),
    ).order_by(series.c.n)
    with any_db.read_sessions() as s, frame_reads(s) as reader:
        assert reader is not None
        out = reader.frame(stmt)
    assert len(out) == 3000
    assert out["late_text"].iloc[:2500].isna().all()
    assert (out["late_text"].iloc[2500:] == "laat").all()
    assert out["late_number"].iloc[-1] == 1500.0


def test_one_snapshot_for_every_frame(any_db: Database) -> None:
    """A change a writer commits halfway is in none of the frames read after the reads began."""
    study_id = simulated_study(any_db, n_trajectories=4, n_coaches=2, months=2, seed=3)
    hours = select(Trajectory.id, Trajectory.contract_hours).where(
        Trajectory.id.in_(trajectory_scope(study_id))
    )
    with any_db.read_sessions() as s, frame_reads(s) as reader:
        assert reader is not None
        before = reader.frame(hours)
        assert (before["contract_hours"] != 1).all()
        with any_db.sessions.begin() as w:
            w.execute(update(Trajectory).values(contract_hours=1))
        pd.testing.assert_frame_equal(reader.frame(hours), before)
    with any_db.read_sessions() as s, frame_reads(s) as reader:
        assert (reader.frame(hours)["contract_hours"] == 1).all()  # type: ignore[union-attr]


def test_a_writers_session_reads_its_own_rows(any_db: Database) -> None:
    """A writer's frames show what it wrote and has not committed: no reader of its own."""
    study_id = simulated_study(any_db, n_trajectories=3, n_coaches=1, months=1, seed=2)
    with any_db.sessions() as w:
        w.execute(update(Trajectory).values(contract_hours=7))
        with frame_reads(w) as reader:
            assert reader is None
        frames = analysis_frames(w, trajectory_scope(study_id), as_of=AS_OF)
        assert (frames["trajectories"]["contract_hours"] == 7).all()
        w.rollback()


@pytest.mark.parametrize("rows", [0])
def test_an_empty_scope_gives_the_contract_frames(any_db: Database, rows: int) -> None:
    with any_db.read_sessions() as s:
        frames = analysis_frames(s, trajectory_scope(987654), as_of=AS_OF)
    for name, frame in frames.items():
        assert len(frame) == rows and "trajectory_id" in frame.columns, name
