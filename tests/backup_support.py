"""Submissions under way while a backup runs, and empty databases to restore into."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from questionnaires.registry import load_instruments
from study import responses
from study.clock import SystemClock
from study.db import make_engine
from study.models import Invitation
from tests.conftest import POSTGRES_URL
from tests.forms_support import full_answers


class SubmissionLoad:
    """A thread that submits every open invitation's form, one transaction each, and notes when
    each submission was acknowledged (its transaction committed)."""

    def __init__(self, sessions: sessionmaker[Session], pause: float = 0.005) -> None:
        self.sessions = sessions
        self.pause = pause
        self.acknowledged: list[tuple[int, float]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SubmissionLoad:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        try:
            instruments = load_instruments()
            with self.sessions() as s:
                open_ids = list(
                    s.execute(
                        select(Invitation.id, Invitation.instrument_id)
                        .where(Invitation.status == "open")
                        .order_by(Invitation.id)
                    )
                )
            for n, (invitation_id, instrument_id) in enumerate(open_ids):
                if self._stop.is_set():
                    return
                with self.sessions.begin() as s:
                    responses.submit(
                        s,
                        invitation_id,
                        full_answers(instruments[instrument_id], seed=n),
                        submission_id=f"load-{invitation_id}",
                        instruments=instruments,
                        actor="employee",
                        at=SystemClock().now(),
                    )
                self.acknowledged.append((invitation_id, time.monotonic()))
                time.sleep(self.pause)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'restored-{uuid.uuid4().hex[:6]}.db'}"
        return
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
