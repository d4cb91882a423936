"""``klik backup`` of a study under submission load, ``klik restore``, ``--verify``."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from klik import secret_file
from klik.backup import BackupError, export_files, restore
from study.clock import SystemClock, local_date
from study.db import make_engine, make_sessions
from study.models import Response
from tests import factory
from tests.backup_support import SubmissionLoad, empty_database
from tests.process_support import child_database_url, klik_env, start_klik
from tests.study.scheduling_support import tick_at


def _cohort(db, n: int) -> None:
    now = SystemClock().now()
    with db.sessions.begin() as s:
        factory.build_cohort(s, now, n_trajectories=n, first_start=now.date(), spacing_days=0)
    tick_at(db.sessions, now)


def _submitted(url: str) -> set[int]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return set(
                c.scalars(select(Response.invitation_id).where(Response.status == "submitted"))
            )
    finally:
        engine.dispose()


def _exports(url: str) -> dict[str, bytes]:
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return export_files(s, local_date(SystemClock().now()))
    finally:
        engine.dispose()


def test_a_backup_under_submission_load_loses_no_acknowledged_submission(any_db, tmp_path):
    db = any_db
    _cohort(db, 60)
    secret = tmp_path / "klik.secret"
    secret_file.create(secret)
    instruments = tmp_path / "my-instruments"
    instruments.mkdir()
    (instruments / "extra.yaml").write_text("id: extra\n")
    env = klik_env(secret_file=secret, instrument_dirs=instruments)
    del env["KLIK_SECRET_KEY"]  # the key comes from the file, which the backup must hold
    out = tmp_path / "backup"
    with SubmissionLoad(db.sessions) as load:
        while len(load.acknowledged) < 20 and not load.errors:
            time.sleep(0.01)
        started = time.monotonic()
        backup = start_klik(
            ["backup", str(out), "--database", child_database_url(db), "--verify"], env, tmp_path
        )
        assert backup.wait(timeout=60) == 0, (tmp_path / "klik-0.out").read_text()
        finished = time.monotonic()
        time.sleep(0.2)
    assert not load.errors
    before = {i for i, at in load.acknowledged if at < started}
    during = {i for i, at in load.acknowledged if started <= at < finished}
    after = {i for i, at in load.acknowledged if at >= finished}
    in_backup = _submitted(f"sqlite:///{out / 'klik.db'}")
    assert before <= in_backup  # 0 acknowledged submissions missing
    assert not after & in_backup  # the backup is of one moment, not a later one
    assert during or after  # submissions went on while the backup ran
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verified"] is True
    assert (out / "secret" / "klik.secret").read_bytes() == secret.read_bytes()
    assert (out / "instruments" / "0-my-instruments" / "extra.yaml").is_file()
    assert any("KLIK_" in line for line in manifest["not_included"])
    if db.dialect == "postgresql":
        assert (out / "klik.pgdump").stat().st_size > 0

    # restore into an empty database, with the secret file where this installation wants it
    with empty_database(db.dialect, tmp_path) as target:
        restored_secret = tmp_path / "elsewhere" / "klik.secret"
        env = klik_env(secret_file=restored_secret)
        del env["KLIK_SECRET_KEY"]
        done = start_klik(["restore", str(out), "--database", target, "--verify"], env, tmp_path)
        assert done.wait(timeout=120) == 0, (tmp_path / "klik-1.out").read_text()
        assert "identical" in (tmp_path / "klik-1.out").read_text()
        assert restored_secret.read_bytes() == secret.read_bytes()
        assert _submitted(target) == in_backup
        assert _exports(target) == _exports(f"sqlite:///{out / 'klik.db'}")
        # restoring again into the now filled database is refused
        again = start_klik(["restore", str(out), "--database", target], env, tmp_path)
        assert again.wait(timeout=60) == 1


def test_a_sqlite_study_restored_into_postgresql_exports_byte_identical_files(
    db, tmp_path, postgres_reason
):
    if postgres_reason:
        pytest.skip(postgres_reason)
    from klik.backup import backup

    _cohort(db, 12)
    with SubmissionLoad(db.sessions, pause=0) as load:
        while len(load.acknowledged) < 15 and not load.errors:
            time.sleep(0.01)
    now = SystemClock().now()
    report = backup(db.engine, tmp_path / "b", taken_at=now, as_of=local_date(now), verify=True)
    assert report.tables["response"] >= 15
    with empty_database("postgresql", tmp_path) as target:
        engine = make_engine(target)
        try:
            result = restore(tmp_path / "b", engine, verify=True)
            assert result.verified, result.differences
            long_sqlite, long_pg = _exports(db.url), _exports(target)
            assert long_sqlite == long_pg  # the same bytes, row for row
            # new rows after a restore get fresh ids (the sequences continue after the copy)
            with make_sessions(engine).begin() as s:
                assert factory.add_study(s, now, "S2").id > 1
        finally:
            engine.dispose()


def test_restore_refuses_a_folder_that_is_no_backup(db, tmp_path):
    with pytest.raises(BackupError):
        restore(tmp_path, db.engine)
