"""APScheduler runs the tick and the sender in the background of the web process."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from klik.wiring import Container
from study.models import Invitation, Outbox
from study.scheduling.runner import start_background
from study.vocab import OutboxStatus
from tests import factory
from tests.study.scheduling_support import settings_for


def test_the_background_scheduler_ticks_and_sends(db, clock, tmp_path):
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
    container = Container(
        settings=settings_for(tmp_path, database_url=db.url),
        engine=db.engine,
        sessions=db.sessions,
        read_sessions=db.read_sessions,
        clock=clock,
    )
    scheduler = start_background(container)
    try:
        assert {job.id for job in scheduler.get_jobs()} == {"klik-tick", "klik-send", "klik-lease"}
        deadline = time.monotonic() + 30
        sent = 0
        while time.monotonic() < deadline:
            with db.sessions.begin() as s:
                sent = s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT))
                invitations = s.scalar(select(func.count()).select_from(Invitation))
            if sent == 3:
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert invitations == 6 * 3
    assert sent == 3
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3
