"""Backup and restore of a running study: the database, the secret-key file, instrument folders.

A backup is a folder:

- ``klik.db``: the whole database as one SQLite file, from one consistent moment. From SQLite it is
  made with SQLite's online backup, inside a read transaction, so writers keep going; from
  PostgreSQL the rows are copied inside one ``REPEATABLE READ`` transaction. The same file restores
  into SQLite or PostgreSQL.
- ``klik.pgdump``: from PostgreSQL, also ``pg_dump --format=custom`` of the same snapshot when
  ``pg_dump`` is installed (for ``pg_restore`` by a database administrator).
- ``secret/``: the secret-key file, when the key comes from one. Without the key, personal links
  already sent stop working and every login session ends.
- ``instruments/``: a copy of each extra instrument folder.
- ``manifest.json``: when, what is in it and what is not, row counts per table, and digests of the
  study's exports (long and wide CSV) computed from the backup itself.

Restore needs an empty database (a new file, or a database that has only just been created): it
brings it to the current schema, copies the rows in, and with ``verify`` compares the exports of the
restored database with the digests in the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Table, func, insert, select, text
from sqlalchemy.orm import Session

import klik
from study.db import make_engine
from study.migrate import current_revision, head_revision, upgrade
from study.models import DATABASE_BOOKKEEPING, Base, Trajectory

DATABASE_FILE = "klik.db"
PG_DUMP_FILE = "klik.pgdump"
MANIFEST = "manifest.json"
EXPORT_KINDS = ("csv_long", "csv_wide")
CHUNK = 2000
NOT_INCLUDED = [
    "e-mail die als bestand is geschreven (mail_dir) / mail written to files (mail_dir)",
    "klaargezette exportbestanden / prepared export files",
    "instellingen uit de omgeving (KLIK_*, ook het SMTP-wachtwoord) / settings from the "
    "environment (KLIK_*, the SMTP password too)",
]


class BackupError(Exception):
    """A backup or restore that cannot be done as asked."""


@dataclass
class BackupReport:
    """What a backup holds, as written to its manifest."""

    directory: Path
    taken_at: dt.datetime
    as_of: dt.date
    source: str
    revision: str
    tables: dict[str, int]
    digests: dict[str, str]
    included: list[str] = field(default_factory=list)
    not_included: list[str] = field(default_factory=list)
    verified: bool | None = None

    def manifest(self) -> dict[str, Any]:
        """The manifest's content (JSON-ready)."""
        return {
            "klik_version": klik.__version__,
            "taken_at": self.taken_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "revision": self.revision,
            "tables": self.tables,
            "export_digests": self.digests,
            "included": self.included,
            "not_included": self.not_included,
            "verified": self.verified,
        }


@dataclass
class RestoreReport:
    """What a restore did."""

    tables: dict[str, int]
    restored_files: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    verified: bool | None = None
    differences: list[str] = field(default_factory=list)


def export_files(session: Session, as_of: dt.date) -> dict[str, bytes]:
    """The study's long and wide CSV exports of every trajectory, as the exports page builds them."""
    from dashboard.exports import build
    from study.read_models import person_wave_frame, trajectories_frame

    scope = select(Trajectory.id)
    trajectories = trajectories_frame(session, scope, as_of=as_of)
    person_wave = person_wave_frame(session, scope, as_of=as_of, scores=None)
    return {kind: build(kind, trajectories, person_wave)[0] for kind in EXPORT_KINDS}


def digests(files: dict[str, bytes]) -> dict[str, str]:
    """SHA-256 of each export."""
    return {kind: hashlib.sha256(content).hexdigest() for kind, content in files.items()}


def backup(
    engine: Engine,
    directory: Path,
    *,
    taken_at: dt.datetime,
    as_of: dt.date,
    secret_file: Path | None = None,
    secret_from_environment: bool = False,
    instrument_dirs: Sequence[Path] = (),
    verify: bool = False,
) -> BackupReport:
    """Back up the database of ``engine`` (while it is in use) and the files into ``directory``.

    ``directory`` must not exist yet or be empty. With ``verify`` the exports of the database at the
    moment of the backup are compared with those of the backup; a difference raises
    :class:`BackupError`.
    """
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty")
    revision = current_revision(engine)
    if revision != head_revision():
        raise BackupError(f"database at revision {revision}, not {head_revision()}: run klik init")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / DATABASE_FILE
    included = [f"{DATABASE_FILE}: de database / the database"]
    not_included = list(NOT_INCLUDED)
    if engine.dialect.name == "sqlite":
        before = _backup_sqlite(engine, target, as_of, verify)
    elif engine.dialect.name == "postgresql":
        before, dumped = _backup_postgresql(engine, target, directory / PG_DUMP_FILE, as_of, verify)
        (included if dumped.startswith(PG_DUMP_FILE) else not_included).append(dumped)
    else:
        raise BackupError(f"no backup for {engine.dialect.name}")
    copy = make_engine(f"sqlite:///{target}")
    try:
        with Session(copy) as s:
            tables = _counts(s.connection())
            after = digests(export_files(s, as_of))
    finally:
        copy.dispose()
    if verify and before != after:
        raise BackupError(f"exports differ between database and backup: {before} != {after}")
    if secret_file is not None and secret_file.is_file():
        (directory / "secret").mkdir()
        shutil.copy2(secret_file, directory / "secret" / secret_file.name)
        included.append(f"secret/{secret_file.name}: de geheime sleutel / the secret key")
    elif secret_from_environment:
        not_included.append(
            "de geheime sleutel komt uit KLIK_SECRET_KEY: bewaar hem apart / the secret key "
            "comes from KLIK_SECRET_KEY: keep it safe separately"
        )
    for index, folder in enumerate(instrument_dirs):
        if folder.is_dir():
            name = f"instruments/{index}-{folder.name}"
            shutil.copytree(folder, directory / name)
            included.append(f"{name}: instrumentmap / instrument folder {folder}")
        else:
            not_included.append(f"instrumentmap ontbreekt / instrument folder missing: {folder}")
    report = BackupReport(
        directory=directory,
        taken_at=taken_at,
        as_of=as_of,
        source=engine.dialect.name,
        revision=revision or "",
        tables=tables,
        digests=after,
        included=included,
        not_included=not_included,
        verified=True if verify else None,
    )
    manifest = report.manifest()
    manifest["instrument_dirs"] = [str(Path(f).resolve()) for f in instrument_dirs]
    manifest["secret_file"] = str(secret_file.resolve()) if secret_file else None
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return report


def _backup_sqlite(engine: Engine, target: Path, as_of: dt.date, verify: bool) -> dict[str, str]:
    """SQLite's online backup, from inside a read transaction so that the exports compared with
    the copy see exactly the same moment."""
    with engine.connect() as conn:
        conn = conn.execution_options(klik_read_only=True)
        with conn.begin():
            before = digests(export_files(Session(bind=conn), as_of)) if verify else {}
            source = conn.connection.driver_connection
            with sqlite3.connect(target) as copy:
                source.backup(copy)  # type: ignore[union-attr]
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            copy.close()
    return before


def _backup_postgresql(
    engine: Engine, target: Path, dump: Path, as_of: dt.date, verify: bool
) -> tuple[dict[str, str], str]:
    """Rows copied from one snapshot, and ``pg_dump`` of that same snapshot when installed."""
    copy = make_engine(f"sqlite:///{target}")
    try:
        upgrade(copy)
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                dumped = _pg_dump(conn, snapshot, dump)
                with copy.begin() as out:
                    _copy_rows(conn, out)
                before = digests(export_files(Session(bind=conn), as_of)) if verify else {}
    finally:
        copy.dispose()
    return before, dumped


def _pg_dump(conn: Connection, snapshot: str, dump: Path) -> str:
    program = shutil.which("pg_dump")
    if program is None:
        return "klik.pgdump: pg_dump is niet geïnstalleerd / pg_dump is not installed"
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(
        [program, "--format=custom", f"--snapshot={snapshot}", f"--schema={schema}",
         f"--file={dump}", url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        dump.unlink(missing_ok=True)
        return f"klik.pgdump: pg_dump faalde / failed: {result.stderr.strip()[:300]}"
    return f"{PG_DUMP_FILE}: pg_dump van dezelfde momentopname / of the same snapshot"


def _study_tables() -> list[Table]:
    """The tables that hold the study, parents before children (not the database's own
    bookkeeping, see :data:`study.models.DATABASE_BOOKKEEPING`)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in DATABASE_BOOKKEEPING]


def _copy_rows(source: Connection, target: Connection) -> None:
    """Every row of every study table, parents before children, in chunks."""
    for table in _study_tables():
        result = source.execution_options(yield_per=CHUNK).execute(
            select(table).order_by(*table.primary_key.columns)
        )
        for chunk in result.partitions(CHUNK):
            target.execute(insert(table), [dict(row._mapping) for row in chunk])


def _counts(conn: Connection) -> dict[str, int]:
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in _study_tables()
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the backup in ``directory``."""
    path = directory / MANIFEST
    if not path.is_file() or not (directory / DATABASE_FILE).is_file():
        raise BackupError(f"{directory} holds no Klik backup ({MANIFEST}, {DATABASE_FILE})")
    return json.loads(path.read_text())


def restore(
    directory: Path,
    engine: Engine,
    *,
    secret_file: Path | None = None,
    verify: bool = False,
) -> RestoreReport:
    """Restore the backup in ``directory`` into the empty database of ``engine``.

    The secret-key file goes back to ``secret_file`` and instrument folders to where they were,
    unless something is there already (which is left alone and reported). With ``verify`` the
    exports of the restored database are compared with the digests in the manifest.
    """
    manifest = read_manifest(directory)
    upgrade(engine)
    with engine.connect() as conn:
        filled = {name: n for name, n in _counts(conn).items() if n}
    if filled:
        raise BackupError(f"the database is not empty: {filled}")
    with tempfile.TemporaryDirectory() as scratch:
        # a copy, brought to this version's schema, so that older backups restore too
        copy_path = Path(scratch) / DATABASE_FILE
        shutil.copy2(directory / DATABASE_FILE, copy_path)
        copy = make_engine(f"sqlite:///{copy_path}")
        try:
            upgrade(copy)
            reading = copy.connect().execution_options(klik_read_only=True)
            with reading as source, engine.begin() as target:
                _copy_rows(source, target)
                if engine.dialect.name == "postgresql":
                    _reset_sequences(target)
        finally:
            copy.dispose()
    with engine.connect() as conn:
        report = RestoreReport(tables=_counts(conn))
    _restore_files(directory, manifest, secret_file, report)
    if verify:
        as_of = dt.date.fromisoformat(manifest["as_of"])
        with Session(engine) as s:
            found = digests(export_files(s, as_of))
        expected = manifest["export_digests"]
        report.differences = [k for k in expected if found.get(k) != expected[k]]
        report.verified = not report.differences
    return report


def _reset_sequences(conn: Connection) -> None:
    """Let new rows continue after the restored ids."""
    for table in _study_tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}
        ).scalar()
        if sequence:
            conn.execute(
                text(
                    f'SELECT setval(:s, COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) '
                    f'FROM "{table.name}"'
                ),
                {"s": sequence},
            )


def _restore_files(
    directory: Path, manifest: dict[str, Any], secret_file: Path | None, report: RestoreReport
) -> None:
    saved = sorted((directory / "secret").glob("*")) if (directory / "secret").is_dir() else []
    if saved and secret_file is not None:
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(saved[0], secret_file)
            secret_file.chmod(0o600)
            report.restored_files.append(str(secret_file))
        elif secret_file.read_bytes() != saved[0].read_bytes():
            report.left_alone.append(f"{secret_file} (bestaat en verschilt / exists and differs)")
    for index, original in enumerate(manifest.get("instrument_dirs") or []):
        saved_dir = directory / "instruments" / f"{index}-{Path(original).name}"
        if not saved_dir.is_dir():
            continue
        if Path(original).exists():
            report.left_alone.append(f"{original} (bestaat al / exists)")
        else:
            shutil.copytree(saved_dir, original)
            report.restored_files.append(original)
