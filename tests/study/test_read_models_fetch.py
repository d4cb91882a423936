"""The read models take their rows straight from the driver's cursor: the frames are unchanged.

``read_models._frame`` used to let SQLAlchemy process every row (dates parsed from SQLite's
text into ``date`` objects, booleans from 0/1) before pandas converted each column again; it now
hands the driver's rows to pandas as they are. Every frame, built both ways from the same
database, must be identical, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Select
from sqlalchemy.orm import Session

from study import read_models
from study.access import trajectory_scope
from study.report_data import FRAME_NAMES, analysis_frames
from study.vocab import Respondent
from tests.analysis_support import known_plans, random_plans, run_plans
from tests.conftest import Database

AS_OF = dt.date(2026, 6, 1)


def _processed_frame(session: Session, stmt: Select) -> pd.DataFrame:
    """The former ``_frame``: rows through SQLAlchemy's result processing."""
    result = session.connection().execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _every_frame(db: Database, study_id: int, as_of: dt.date) -> dict[str, pd.DataFrame]:
    scope = trajectory_scope(study_id)
    with db.read_sessions() as s:
        frames = analysis_frames(s, scope, as_of=as_of)
        frames["person_wave_all_scores"] = read_models.person_wave_frame(
            s, scope, as_of=as_of, scores=None
        )
        frames["person_wave_no_scores"] = read_models.person_wave_frame(
            s, scope, as_of=as_of, scores=()
        )
        frames["person_wave_jobcoach"] = read_models.person_wave_frame(
            s, scope, as_of=as_of, respondent=Respondent.JOBCOACH
        )
        frames["items_one_instrument"] = read_models.response_items_frame(
            s, scope, instrument_id=str(frames["response_items"]["instrument_id"].iloc[0])
        )
    return frames


@pytest.fixture
def cohort_db(any_db: Database) -> tuple[Database, int]:
    # hand-derived trajectories (late and missing forms, ends) plus random ones with spread
    cohort = run_plans(any_db.sessions, [*known_plans(), *random_plans(16, seed=3)], as_of=AS_OF)
    return any_db, cohort.study_id


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2026, 2, 20)])
def test_frames_from_driver_rows_equal_frames_from_processed_rows(
    cohort_db, as_of, monkeypatch
) -> None:
    db, study_id = cohort_db
    fast = _every_frame(db, study_id, as_of)
    monkeypatch.setattr(read_models, "_frame", _processed_frame)
    reference = _every_frame(db, study_id, as_of)
    assert set(fast) == set(reference) and set(FRAME_NAMES) <= set(fast)
    for name, frame in reference.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(fast[name], frame, check_exact=True, obj=name)
        # same Python types in object columns too (str, not enum members; None, not NaN)
        for column in frame.select_dtypes(include="object").columns:
            kinds = fast[name][column].map(type).tolist()
            assert kinds == frame[column].map(type).tolist(), (name, column)


def test_empty_scope_gives_the_same_empty_frames(any_db: Database, monkeypatch) -> None:
    with any_db.read_sessions() as s:
        fast = analysis_frames(s, trajectory_scope(999), as_of=AS_OF)
    monkeypatch.setattr(read_models, "_frame", _processed_frame)
    with any_db.read_sessions() as s:
        reference = analysis_frames(s, trajectory_scope(999), as_of=AS_OF)
    for name, frame in reference.items():
        pd.testing.assert_frame_equal(fast[name], frame, check_exact=True, obj=name)
