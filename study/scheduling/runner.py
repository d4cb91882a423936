"""APScheduler 3 wiring: the tick and the sender as jobs, in the web process or on their own.

Only one scheduler may tick at a time: each tick job first takes the lease (a row with an expiry,
renewed by every tick) and, on PostgreSQL, the advisory lock, and skips the round when another
scheduler holds them. APScheduler cannot share a job store between processes, so each process keeps
its jobs in memory and the database decides who works.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from study.clock import Clock
from study.mail.sender import SendReport, send_pending
from study.scheduling.lease import acquire_lease, try_lock_ticks
from study.scheduling.tick import TickReport, tick

if TYPE_CHECKING:
    from klik.wiring import Container

log = logging.getLogger("klik.scheduler")

LEASE_NAME = "tick"
TICK_EVERY = dt.timedelta(minutes=10)
SEND_EVERY = dt.timedelta(minutes=1)


def holder_id() -> str:
    """Who holds the lease: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def instrument_versions(extra_dirs: tuple[Any, ...] = ()) -> dict[str, str]:
    """Current version per instrument id from the questionnaire registry (empty if unavailable)."""
    try:
        from questionnaires.registry import load_instruments
    except ImportError:
        return {}
    try:
        return {i.id: str(i.version) for i in load_instruments(extra_dirs=extra_dirs).values()}
    except Exception:  # a broken instrument file must not stop mail from going out
        log.exception("could not load instruments; invitations open without a version")
        return {}


@dataclass
class SchedulerJobs:
    """The two jobs, bound to one database, clock and settings."""

    sessions: sessionmaker[Session]
    clock: Clock
    settings: Any
    holder: str
    versions: Callable[[], Mapping[str, str]]
    lease_ttl: dt.timedelta = TICK_EVERY * 3

    def tick_once(self) -> TickReport | None:
        """Run a tick if this process holds the lease; None when another scheduler does."""
        now = self.clock.now()
        with self.sessions.begin() as s:
            if not try_lock_ticks(s):
                return None
            if not acquire_lease(
                s, name=LEASE_NAME, holder=self.holder, now=now, ttl=self.lease_ttl
            ):
                return None
            report = tick(
                s,
                as_of=now,
                secret_key=self.settings.secret_key,
                instrument_versions=self.versions(),
            )
        log.info("tick %s", report)
        return report

    def send_once(self) -> SendReport:
        """Deliver due mail."""
        report = send_pending(self.sessions, settings=self.settings, clock=self.clock)
        if report.claimed:
            log.info("mail %s", report)
        return report


def jobs_for(container: Container) -> SchedulerJobs:
    """The jobs of ``container``'s database, clock and settings."""
    settings = container.settings
    return SchedulerJobs(
        sessions=container.sessions,
        clock=container.clock,
        settings=settings,
        holder=holder_id(),
        versions=lambda: instrument_versions(tuple(settings.instrument_dirs)),
    )


def _add_jobs(scheduler: BaseScheduler, jobs: SchedulerJobs) -> None:
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(
        _logged(jobs.tick_once),
        "interval",
        seconds=TICK_EVERY.total_seconds(),
        id="klik-tick",
        next_run_time=dt.datetime.now(dt.UTC),
        **common,
    )
    scheduler.add_job(
        _logged(jobs.send_once),
        "interval",
        seconds=SEND_EVERY.total_seconds(),
        id="klik-send",
        next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
        **common,
    )


def _logged(job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # the next round retries; the scheduler thread must survive
            log.exception("scheduler job %s failed", getattr(job, "__name__", job))

    run.__name__ = getattr(job, "__name__", "job")
    return run


def start_background(container: Container) -> BackgroundScheduler:
    """Start the tick and the sender in a background thread of this process (``klik serve``)."""
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    _add_jobs(scheduler, jobs_for(container))
    scheduler.start()
    return scheduler


def run_blocking(container: Container) -> None:
    """Run the tick and the sender in the foreground until interrupted (``klik scheduler``)."""
    scheduler = BlockingScheduler(timezone=dt.UTC)
    _add_jobs(scheduler, jobs_for(container))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
