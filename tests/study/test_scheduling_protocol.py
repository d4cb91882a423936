"""Changing the protocol recomputes future invitations, never past ones; one scheduler ticks."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from typer import Typer
from typer.testing import CliRunner

from klik.scheduler_cli import register
from study.models import Invitation, Outbox, Protocol
from study.protocol import change_protocol, default_waves
from study.scheduling.lease import acquire_lease, release_lease
from study.scheduling.plan import add_months
from study.scheduling.runner import SchedulerJobs
from study.vocab import InvitationStatus
from tests import factory
from tests.study.scheduling_support import SECRET, VERSIONS, settings_for, tick_at


def _snapshot(s, trajectory_id):
    return {
        (i.wave_code, i.respondent.value): (i.id, i.protocol_id, i.due_on, i.status)
        for i in s.scalars(select(Invitation).where(Invitation.trajectory_id == trajectory_id))
    }


def test_a_changed_protocol_recomputes_only_future_invitations(db, clock):
    with db.sessions.begin() as s:
        cohort = factory.build_cohort(s, clock.now(), n_trajectories=1)
    trajectory = cohort.trajectory_ids[0]
    start = dt.date(2026, 1, 5)
    for _ in range(95):  # until 10 April: T0 missed, T1 (due 5 April) open
        tick_at(db.sessions, clock.now())
        clock.advance(dt.timedelta(days=1))
    with db.sessions.begin() as s:
        before = _snapshot(s, trajectory)
    assert before[("T1", "employee")][3] == InvitationStatus.OPEN
    # New version: T1 moves to 4 months (too late: it is open), T2 to 7 months, T5 is dropped.
    waves = [
        dataclasses.replace(w, offset_months={"T1": 4, "T2": 7}.get(w.code, w.offset_months))
        for w in default_waves()
        if w.code != "T5"
    ]
    with db.sessions.begin() as s:
        change = change_protocol(s, cohort.study_id, waves, actor="researcher", at=clock.now())
        after = _snapshot(s, trajectory)
        current = s.scalar(select(Protocol.id).where(Protocol.is_current))
    assert change.version == 2 and change.removed == 4 * 3 and change.created == 3 * 3
    for key in [("T0", "employee"), ("T1", "employee"), ("T1", "jobcoach")]:
        assert after[key] == before[key]  # the past and the open: untouched, old version
    assert after[("T2", "employee")][1:3] == (current, add_months(start, 7))
    assert after[("T3", "employer")][2] == add_months(start, 12)
    assert ("T5", "employee") not in after
    # and the ticks go on from the new plan without sending anything twice
    report = tick_at(db.sessions, clock.now())
    assert report.created == 0 and report.opened == 0


def test_only_one_scheduler_holds_the_lease(db, clock):
    now = clock.now()
    with db.sessions.begin() as s:
        assert acquire_lease(s, name="tick", holder="a", now=now)
    with db.sessions.begin() as s:
        assert not acquire_lease(s, name="tick", holder="b", now=now + dt.timedelta(minutes=1))
        assert acquire_lease(s, name="tick", holder="a", now=now + dt.timedelta(minutes=1))
    with db.sessions.begin() as s:  # a's lease lapses (process died): b takes over
        assert acquire_lease(s, name="tick", holder="b", now=now + dt.timedelta(minutes=7))
        release_lease(s, name="tick", holder="b", now=now + dt.timedelta(minutes=7))
    with db.sessions.begin() as s:
        assert acquire_lease(s, name="tick", holder="a", now=now + dt.timedelta(minutes=8))


def test_the_scheduler_job_ticks_only_with_the_lease(db, clock, tmp_path):
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=1)
    settings = settings_for(tmp_path)

    def jobs(holder: str) -> SchedulerJobs:
        return SchedulerJobs(db.sessions, clock, settings, holder, lambda: VERSIONS)

    first, second = jobs("web-1"), jobs("web-2")
    report = first.tick_once()
    assert report is not None and report.opened == 3
    assert second.tick_once() is None
    assert first.send_once().sent == 3
    with db.sessions.begin() as s:
        versions = set(
            s.scalars(
                select(Invitation.instrument_version).where(
                    Invitation.status == InvitationStatus.OPEN
                )
            )
        )
    assert versions == {"1.0"}


def test_klik_tick_runs_one_tick_for_a_given_day(db, clock, monkeypatch):
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=2, spacing_days=0)
    app = Typer()
    register(app)
    monkeypatch.setenv("KLIK_SECRET_KEY", SECRET)
    runner = CliRunner()
    result = runner.invoke(app, ["tick", "--as-of", "2026-01-05", "--database", db.url])
    assert result.exit_code == 0, result.output
    assert "Tick 2026-01-05: 36 aangemaakt/created, 6 geopend/opened" in result.output
    again = runner.invoke(app, ["tick", "--as-of", "2026-01-05", "--database", db.url])
    assert "0 aangemaakt/created, 0 geopend/opened" in again.output
    with db.sessions.begin() as s:
        assert len(s.scalars(select(Outbox.id)).all()) == 6


def test_the_first_tick_of_a_day_prepares_that_days_frames(db, clock, tmp_path):
    """Once a day, after the tick, the kept frames of the whole study are brought up to date;
    a failure there stops neither that tick nor the next."""
    from study.db import make_read_sessions
    from study.frame_store import frame_store_options
    from study.report_data import warm_frames

    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=2)
    folder = tmp_path / "frames"
    readers = make_read_sessions(db.engine.execution_options(**frame_store_options(folder)))
    days: list[dt.date] = []

    def warm(day: dt.date) -> None:
        days.append(day)
        assert warm_frames(readers, day)

    jobs = SchedulerJobs(db.sessions, clock, settings_for(tmp_path), "web-1", lambda: VERSIONS,
                         warm=warm)  # fmt: skip
    report = jobs.tick_once()
    assert report is not None and days == [report.day]
    assert [p.name[-15:] for p in folder.glob("*.json")] == [f"{report.day.isoformat()}.json"]
    clock.advance(dt.timedelta(hours=1))
    jobs.tick_once()
    assert days == [report.day]  # once a day

    def broken(day: dt.date) -> None:
        raise OSError("schijf vol")

    jobs.warm = broken
    clock.advance(dt.timedelta(days=1))
    assert jobs.tick_once() is not None
    jobs.warm = warm
    clock.advance(dt.timedelta(hours=1))
    later = jobs.tick_once()
    assert later is not None and days[-1] == later.day  # tried again after the failure
