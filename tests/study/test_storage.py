"""Storage: migrations agree with the models; SQLite is configured for concurrent writers."""

from __future__ import annotations

import datetime as dt
import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from study.db import make_engine, make_sessions
from study.migrate import current_revision, head_revision, upgrade
from study.models import Base, Participant
from tests import factory


def test_migrations_and_models_agree(any_db):
    with any_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert current_revision(any_db.engine) == head_revision()


def test_upgrade_is_idempotent(any_db):
    assert upgrade(any_db.engine) == head_revision()


def test_sqlite_connection_settings(db):
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced_on_sqlite(db, clock):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.sessions.begin() as s:
        s.add(
            Participant(
                study_id=999,
                study_code="X",
                birth_year=2000,
                gender="male",
                benefit="none",
                doelgroepregister=False,
                enrolled_at=clock.now(),
            )
        )


def test_concurrent_writers_do_not_fail_with_database_locked(tmp_path, clock):
    """Eight threads, each with its own engine, enrolling in read-modify-write transactions."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessions(engine).begin() as s:
        study_id = factory.add_study(s, clock.now()).id
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        eng = make_engine(url)
        sessions = make_sessions(eng)
        try:
            for i in range(15):
                with sessions.begin() as s:
                    # reads first, then writes: the pattern that deadlocks under deferred BEGIN
                    s.scalar(select(func.count()).select_from(Participant))
                    factory.enrol(s, study_id, clock.now(), f"W{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM participant")).scalar() == 120
    engine.dispose()


def test_timestamps_come_back_as_utc(any_db):
    amsterdam = dt.timezone(dt.timedelta(hours=2))
    at = dt.datetime(2026, 6, 1, 12, 0, tzinfo=amsterdam)
    with any_db.sessions.begin() as s:
        study = factory.add_study(s, at)
        sid = study.id
    with any_db.read_sessions() as s:
        from study.models import Study

        created = s.get(Study, sid).created_at
    assert created == dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
    assert created.utcoffset() == dt.timedelta(0)
