"""The kept analysis frames are always the frames the database gives: after every kind of write
(a service, ORM rows, plain SQL on each table the frames read), for the whole study and for a
jobcoach's part, on SQLite and PostgreSQL; only the changed trajectories are read again; a copy
of another database, a pruned change log, a damaged copy and (on PostgreSQL) a transaction that
commits after a later one are all caught."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, func, select, update

from study.access import trajectory_scope
from study.db import make_engine, make_read_sessions, make_sessions
from study.frame_store import FRAMES, frame_store_options, kept_frames, prune_changes
from study.migrate import upgrade
from study.models import (
    CoachingContact,
    FrameChange,
    Invitation,
    Jobcoach,
    Participant,
    ResponseScore,
    Trajectory,
    Wave,
)
from study.report_data import analysis_frames, monitor_frames, read_frames
from study.services.trajectories import end_trajectory
from tests.conftest import Database, _postgres_database
from tests.process_support import simulated_study

AS_OF = dt.date(2025, 8, 1)
AT = dt.datetime(2025, 8, 1, 12, tzinfo=dt.UTC)


class Spy:
    """The frame builder, counting what it was asked to read."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, session, scope, as_of):
        frames = read_frames(session, scope, as_of)
        self.calls.append(len(frames["trajectories"]))
        return frames


def _kept(db: Database, folder: Path, study_id: int, spy: Spy, **scope_kw: object):
    with db.read_sessions() as s:
        return kept_frames(
            s, trajectory_scope(study_id, **scope_kw), as_of=AS_OF, folder=folder, build=spy
        )


def _fresh(db: Database, study_id: int, **scope_kw: object) -> dict[str, pd.DataFrame]:
    with db.read_sessions() as s:
        return read_frames(s, trajectory_scope(study_id, **scope_kw), AS_OF)


def _same(db: Database, folder: Path, study_id: int, spy: Spy) -> None:
    """The kept frames equal the database's, for the study and for one jobcoach."""
    for scope_kw in ({}, {"jobcoach_id": _coach(db)}):
        kept = _kept(db, folder, study_id, spy, **scope_kw)
        fresh = _fresh(db, study_id, **scope_kw)
        assert kept is not None
        for name in FRAMES:
            pd.testing.assert_frame_equal(kept[name], fresh[name], obj=f"{name} {scope_kw}")


def _coach(db: Database) -> int:
    with db.read_sessions() as s:
        return s.scalar(select(func.min(Trajectory.jobcoach_id)))  # type: ignore[return-value]


def _one(db: Database, column, offset: int = 0) -> int:
    with db.read_sessions() as s:
        return s.scalars(select(column).order_by(column).offset(offset).limit(1)).one()


@pytest.fixture
def cohort(any_db: Database) -> int:
    return simulated_study(any_db, n_trajectories=24, n_coaches=5, months=7, seed=5)


def test_every_kind_of_write_gives_the_databases_frames(
    any_db: Database, cohort: int, tmp_path: Path
) -> None:
    folder, spy, n = tmp_path / "frames", Spy(), 24
    sqlite = any_db.engine.dialect.name == "sqlite"
    _same(any_db, folder, cohort, spy)
    assert spy.calls == [n]  # the first read builds the copy; the jobcoach's comes from it
    open_one = _one(any_db, Trajectory.id)
    with any_db.sessions.begin() as s:
        open_one = s.scalars(
            select(Trajectory.id).where(Trajectory.end_date.is_(None)).limit(1)
        ).one()
    writes = [
        # a service: the trajectory ends
        lambda s: end_trajectory(
            s, cohort, open_one, {"end_date": AS_OF, "end_reason": "job_loss"}, actor="t", at=AT
        ),
        # plain SQL on each table the frames read
        lambda s: s.execute(
            update(Participant)
            .where(Participant.id == _one(any_db, Participant.id, 2))
            .values(gender="male", birth_year=1970)
        ),
        lambda s: s.execute(
            delete(ResponseScore).where(
                ResponseScore.response_id == _one(any_db, ResponseScore.response_id, 5)
            )
        ),
        lambda s: s.execute(
            update(ResponseScore)
            .where(ResponseScore.response_id == _one(any_db, ResponseScore.response_id, 9))
            .values(value=ResponseScore.value + 1)
        ),
        lambda s: s.execute(
            update(Invitation)
            .where(Invitation.id == _one(any_db, Invitation.id, 3))
            .values(status="cancelled")
        ),
        lambda s: s.execute(
            update(Jobcoach).where(Jobcoach.id == _coach(any_db)).values(organisation_id=None)
        ),
        lambda s: s.add(
            CoachingContact(
                trajectory_id=_one(any_db, Trajectory.id, 4),
                contact_date=dt.date(2025, 7, 1),
                minutes=45,
                mode="phone",
                with_whom="employee",
                activity="self_reliance",
                created_at=AT,
            )
        ),
        lambda s: s.execute(
            update(CoachingContact)
            .where(CoachingContact.id == _one(any_db, CoachingContact.id, 7))
            .values(deleted_at=AT, deleted_by="t", delete_reason="dubbel")
        ),
    ]
    for i, write in enumerate(writes):
        with any_db.sessions.begin() as s:
            write(s)
        before = len(spy.calls)
        _same(any_db, folder, cohort, spy)
        # only the touched trajectories were read again: once on SQLite; on PostgreSQL again
        # while a transaction that was running at the last look (anywhere on the server)
        # might still commit changes with lower ids
        new = spy.calls[before:]
        assert new and all(c < n for c in new), (i, spy.calls)
        assert len(new) == 1 or not sqlite, (i, spy.calls)
    # nothing changed: nothing is read (on PostgreSQL at most those trajectories again)
    before = len(spy.calls)
    _same(any_db, folder, cohort, spy)
    assert spy.calls[before:] == [] or (not sqlite and max(spy.calls[before:]) < n)
    # a protocol's wave changes every trajectory that follows it: everything is read again
    with any_db.sessions.begin() as s:
        s.execute(update(Wave).where(Wave.code == "FU").values(anchor="start"))
    before = len(spy.calls)
    _same(any_db, folder, cohort, spy)
    assert spy.calls[before] == n


def test_a_copy_of_another_database_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    frames = []
    for name, seed in (("a", 1), ("b", 2)):
        # the same address each time: the database is made again in between
        path = tmp_path / "klik.db"
        path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        db = Database(
            f"sqlite:///{path}", engine, make_sessions(engine), make_read_sessions(engine)
        )
        study_id = simulated_study(db, n_trajectories=6, n_coaches=2, months=3, seed=seed)
        kept = _kept(db, folder, study_id, Spy())
        assert kept is not None
        pd.testing.assert_frame_equal(kept["person_wave"], _fresh(db, study_id)["person_wave"])
        frames.append(kept["person_wave"])
        engine.dispose()
        del name
    assert not frames[0].equals(frames[1])


def test_a_pruned_change_log_or_a_damaged_copy_is_read_again(
    any_db: Database, cohort: int, tmp_path: Path
) -> None:
    folder, spy = tmp_path / "frames", Spy()
    _same(any_db, folder, cohort, spy)
    with any_db.sessions.begin() as s:
        s.execute(update(Trajectory).values(contract_hours=Trajectory.contract_hours + 1))
        total = s.scalar(select(func.count()).select_from(FrameChange))
        assert prune_changes(s, keep=1) == total - 1  # as the daily tick does, with a small log
        s.execute(update(Trajectory).where(Trajectory.id == _one(any_db, Trajectory.id)).values(
            contract_hours=2))  # fmt: skip
    before = len(spy.calls)
    _same(any_db, folder, cohort, spy)
    assert spy.calls[before] == 24  # changes were lost from the log: everything again
    for copy in folder.iterdir():
        if copy.is_dir():
            (copy / "person_wave.arrow").write_bytes(b"kapot")
    before = len(spy.calls)
    _same(any_db, folder, cohort, spy)
    assert spy.calls[before] == 24


@pytest.fixture
def postgres_db(postgres_reason: str | None) -> Iterator[Database]:
    """PostgreSQL only: SQLite has one writer at a time, its change ids become visible in order."""
    yield from _postgres_database(postgres_reason)


def test_a_transaction_that_commits_after_a_later_one_is_not_missed(
    postgres_db: Database, tmp_path: Path
) -> None:
    """PostgreSQL hands out change ids before commit: the lower id can become visible last."""
    any_db = postgres_db
    cohort = simulated_study(any_db, n_trajectories=24, n_coaches=5, months=7, seed=5)
    folder, spy = tmp_path / "frames", Spy()
    _same(any_db, folder, cohort, spy)
    first, second = _one(any_db, Trajectory.id, 1), _one(any_db, Trajectory.id, 2)
    slow = any_db.sessions()
    slow.begin()
    slow.execute(update(Trajectory).where(Trajectory.id == first).values(contract_hours=3))
    with any_db.sessions.begin() as s:
        s.execute(update(Trajectory).where(Trajectory.id == second).values(contract_hours=4))
    _same(any_db, folder, cohort, spy)  # sees the second change, not the first
    slow.commit()
    slow.close()
    _same(any_db, folder, cohort, spy)
    kept = _kept(any_db, folder, cohort, spy)
    assert kept is not None
    hours = kept["trajectories"].set_index("trajectory_id")["contract_hours"]
    assert (hours[first], hours[second]) == (3, 4)


def test_the_app_reads_its_frames_through_the_store(any_db: Database, tmp_path: Path) -> None:
    study_id = simulated_study(any_db, n_trajectories=6, n_coaches=2, months=3, seed=9)
    folder = tmp_path / "frames"
    readers = make_read_sessions(any_db.engine.execution_options(**frame_store_options(folder)))
    with readers() as s:
        frames = analysis_frames(s, trajectory_scope(study_id), as_of=AS_OF)
    assert list(folder.glob("*.json"))
    with any_db.read_sessions() as s:
        plain = analysis_frames(s, trajectory_scope(study_id), as_of=AS_OF)
    assert frames.keys() == plain.keys()
    for name in frames:
        pd.testing.assert_frame_equal(frames[name], plain[name], obj=name)


def test_the_monitors_frames_from_the_store_are_the_databases(
    any_db: Database, cohort: int, tmp_path: Path
) -> None:
    """The monitor counts invitations: one row each, without scores, as the read model has."""
    readers = make_read_sessions(
        any_db.engine.execution_options(**frame_store_options(tmp_path / "frames"))
    )
    for _ in range(2):  # the first builds the copy, the second reads it after a change
        with readers() as s:
            kept = monitor_frames(s, trajectory_scope(cohort), AS_OF)
        with any_db.read_sessions() as s:
            plain = monitor_frames(s, trajectory_scope(cohort), AS_OF)
        assert plain[1]["score"].isna().all() and len(plain[1]) > 24
        for a, b in zip(kept, plain, strict=True):
            pd.testing.assert_frame_equal(a, b)
        with any_db.sessions.begin() as w:
            w.execute(update(Invitation).where(Invitation.id == _one(any_db, Invitation.id, 5))
                      .values(status="cancelled"))  # fmt: skip


def test_processes_sharing_the_folder_never_read_half_a_copy(db: Database, tmp_path: Path) -> None:
    """Four readers and a writer at once on one folder: every answer is the database's as of
    some moment (each reader checks against a read in its own snapshot), and a copy left half
    written by a killed process is never named by the pointer."""
    import threading

    study_id = simulated_study(db, n_trajectories=8, n_coaches=2, months=3, seed=4)
    folder = tmp_path / "frames"
    _kept(db, folder, study_id, Spy())
    (folder / "killed-halfway").mkdir()
    (folder / "killed-halfway" / "person_wave.arrow").write_bytes(b"half")
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                with db.read_sessions() as s:
                    kept = kept_frames(
                        s, trajectory_scope(study_id), as_of=AS_OF, folder=folder, build=read_frames
                    )
                    fresh = read_frames(s, trajectory_scope(study_id), AS_OF)  # same snapshot
                assert kept is not None
                for name in FRAMES:
                    pd.testing.assert_frame_equal(kept[name], fresh[name], obj=name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    with db.read_sessions() as s:
        ids = list(s.scalars(select(Trajectory.id)))
    for round_ in range(12):
        with db.sessions.begin() as w:
            w.execute(update(Trajectory).where(Trajectory.id == ids[round_ % len(ids)])
                      .values(contract_hours=round_ + 1))  # fmt: skip
    done.set()
    for t in threads:
        t.join(60)
    assert not errors, errors[0]
    assert len(list(folder.glob("*.json"))) == 1


def test_old_days_and_their_copies_are_removed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy per day would fill the disk: the newest days are kept, older ones go."""
    import study.frame_store as store

    monkeypatch.setattr(store, "STALE_COPY_SECONDS", 0)
    study_id = simulated_study(db, n_trajectories=4, n_coaches=2, months=2, seed=6)
    folder = tmp_path / "frames"
    days = [AS_OF - dt.timedelta(days=d) for d in range(7)]
    for day in days:
        with db.read_sessions() as s:
            assert kept_frames(s, trajectory_scope(study_id), as_of=day, folder=folder,
                               build=read_frames) is not None  # fmt: skip
    pointers = sorted(p.name[-15:-5] for p in folder.glob("*.json"))
    assert pointers == sorted(d.isoformat() for d in days[-store.KEEP_DAYS :])
    assert len([p for p in folder.iterdir() if p.is_dir()]) == store.KEEP_DAYS


def test_a_folder_that_cannot_be_written_costs_time_not_answers(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study_id = simulated_study(db, n_trajectories=4, n_coaches=2, months=2, seed=7)
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    with db.read_sessions() as s:
        kept = kept_frames(s, trajectory_scope(study_id), as_of=AS_OF, folder=blocked,
                           build=read_frames)  # fmt: skip
    fresh = _fresh(db, study_id)
    assert kept is not None
    for name in FRAMES:
        pd.testing.assert_frame_equal(kept[name], fresh[name], obj=name)
    assert "could not keep the frames" in caplog.text


def test_a_file_copy_of_the_database_elsewhere_keeps_its_own_frames(
    db: Database, tmp_path: Path
) -> None:
    """A copy of the file has the same token and change log; both in one folder, each with
    its own writes, neither is served the other's rows."""
    import shutil

    study_id = simulated_study(db, n_trajectories=6, n_coaches=2, months=3, seed=8)
    folder = tmp_path / "frames"
    _kept(db, folder, study_id, Spy())
    db.engine.dispose()
    copy_path = tmp_path / "kopie.db"
    shutil.copy(tmp_path / "klik.db", copy_path)
    engine = make_engine(f"sqlite:///{copy_path}")
    copy = Database(f"sqlite:///{copy_path}", engine, make_sessions(engine),
                    make_read_sessions(engine))  # fmt: skip
    first = _one(db, Trajectory.id)
    for database, hours in ((db, 11), (copy, 22)):
        with database.sessions.begin() as w:
            w.execute(update(Trajectory).where(Trajectory.id == first).values(contract_hours=hours))
    for database, hours in ((db, 11), (copy, 22), (db, 11)):
        kept = _kept(database, folder, study_id, Spy())
        assert kept is not None
        frame = kept["trajectories"].set_index("trajectory_id")
        assert frame.loc[first, "contract_hours"] == hours
    engine.dispose()
