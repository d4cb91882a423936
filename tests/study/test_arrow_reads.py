"""Frames read as Arrow columns over ADBC are the frames read through the session: on SQLite
and PostgreSQL, for a simulated cohort, with a column that is empty for thousands of rows before
its first text; in one snapshot; never for a writer or an in-memory database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import case, literal, null, select, update

from study.access import trajectory_scope
from study.arrow_reads import arrow_reads, can_read_arrow, reader_of
from study.db import make_engine, make_read_sessions
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
        assert not can_read_arrow(database.sessions())
        with database.sessions() as w:
            return analysis_frames(w, trajectory_scope(study_id), as_of=AS_OF)


def test_frames_through_arrow_are_the_frames_through_the_session(any_db: Database) -> None:
    study_id = simulated_study(any_db, n_trajectories=24, n_coaches=5, months=7, seed=11)
    with any_db.read_sessions() as s:
        assert can_read_arrow(s)
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
    """The ADBC SQLite driver guesses a column's type from its first batch of rows."""
    series = select(literal(1).label("n")).cte("series", recursive=True)
    series = series.union_all(select(series.c.n + 1).where(series.c.n < 3000))
    stmt = select(
        series.c.n,
        case((series.c.n > 2500, "laat"), else_=null()).label("late_text"),
        case((series.c.n > 2500, series.c.n * 0.5), else_=null()).label("late_number"),
    ).order_by(series.c.n)
    with any_db.read_sessions() as s, arrow_reads(s):
        reader = reader_of(s)
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
    with any_db.read_sessions() as s, arrow_reads(s):
        reader = reader_of(s)
        assert reader is not None
        before = reader.frame(hours)
        assert (before["contract_hours"] != 1).all()
        with any_db.sessions.begin() as w:
            w.execute(update(Trajectory).values(contract_hours=1))
        pd.testing.assert_frame_equal(reader.frame(hours), before)
    with any_db.read_sessions() as s, arrow_reads(s):
        assert (reader_of(s).frame(hours)["contract_hours"] == 1).all()  # type: ignore[union-attr]


def test_an_in_memory_database_is_read_through_the_session() -> None:
    engine = make_engine("sqlite://")
    with make_read_sessions(engine)() as s:
        assert not can_read_arrow(s)
        with arrow_reads(s):
            assert reader_of(s) is None
    engine.dispose()


@pytest.mark.parametrize("rows", [0])
def test_an_empty_scope_gives_the_contract_frames(any_db: Database, rows: int) -> None:
    with any_db.read_sessions() as s:
        frames = analysis_frames(s, trajectory_scope(987654), as_of=AS_OF)
    for name, frame in frames.items():
        assert len(frame) == rows and "trajectory_id" in frame.columns, name
