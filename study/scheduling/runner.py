"""APScheduler 3 wiring: the tick and the sender as jobs, in the web process or on their own.

Only one scheduler may tick at a time: each tick job first takes the lease (a row with an expiry)
and, on PostgreSQL, the advisory lock, and skips the round when another scheduler holds them. The
lease is short (``settings.scheduler_lease_seconds``) and a heartbeat job renews it every quarter of
that, so a scheduler that died loses it within moments; a waiting scheduler's heartbeat then takes
it and ticks at once. A scheduler shut down cleanly gives the lease up straight away. APScheduler
cannot share a job store between processes, so each process keeps its jobs in memory and the
database decides who works.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, SchedulerEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from study.clock import Clock
from study.mail.sender import SendReport, send_pending
from study.report_data import warm_frames
from study.scheduling.lease import acquire_lease, release_lease, try_lock_ticks
from study.scheduling.tick import TickReport, tick

if TYPE_CHECKING:
    from klik.wiring import Container

log = logging.getLogger("klik.scheduler")

LEASE_NAME = "tick"
TICK_EVERY = dt.timedelta(minutes=10)
SEND_EVERY = dt.timedelta(minutes=1)
LEASE = dt.timedelta(seconds=40)


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
    lease_ttl: dt.timedelta = LEASE
    tick_every: dt.timedelta = TICK_EVERY
    send_every: dt.timedelta = SEND_EVERY
    holding: bool = False
    #: called with the day after the first tick of that day: prepares the day's kept frames,
    #: so the first page of the morning does not read the whole study
    warm: Callable[[dt.date], None] | None = None
    warmed: dt.date | None = None

    @property
    def heartbeat_every(self) -> dt.timedelta:
        """How often the lease is renewed: a quarter of its length, so one missed beat is no loss."""
        return self.lease_ttl / 4

    def heartbeat(self) -> bool:
        """Take or renew the lease; True when this process got it just now (it should tick)."""
        with self.sessions.begin() as s:
            held = acquire_lease(
                s, name=LEASE_NAME, holder=self.holder, now=self.clock.now(), ttl=self.lease_ttl
            )
        gained = held and not self.holding
        if held != self.holding:
            log.info("scheduler lease %s by %s", "taken" if held else "lost", self.holder)
        self.holding = held
        return gained

    def release(self) -> None:
        """Give the lease up, so that another scheduler need not wait for it to expire."""
        with self.sessions.begin() as s:
            release_lease(s, name=LEASE_NAME, holder=self.holder, now=self.clock.now())
        self.holding = False

    def tick_once(self) -> TickReport | None:
        """Run a tick if this process holds the lease; None when another scheduler does."""
        now = self.clock.now()
        with self.sessions.begin() as s:
            if not try_lock_ticks(s):
                return None
            if not acquire_lease(
                s, name=LEASE_NAME, holder=self.holder, now=now, ttl=self.lease_ttl
            ):
                self.holding = False
                return None
            self.holding = True
            report = tick(
                s,
                as_of=now,
                secret_key=self.settings.secret_key,
                instrument_versions=self.versions(),
            )
        log.info("tick %s", report)
        if self.warm is not None and self.warmed != report.day:
            try:
                self.warm(report.day)
                self.warmed = report.day
            except Exception:  # the pages read the frames themselves then; mail goes on
                log.exception("could not prepare the frames of %s", report.day)
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

    def seconds(name: str, default: dt.timedelta) -> dt.timedelta:
        value = getattr(settings, name, None)
        return default if value is None else dt.timedelta(seconds=float(value))

    return SchedulerJobs(
        sessions=container.sessions,
        clock=container.clock,
        settings=settings,
        holder=holder_id(),
        versions=lambda: instrument_versions(tuple(settings.instrument_dirs)),
        lease_ttl=seconds("scheduler_lease_seconds", LEASE),
        tick_every=seconds("scheduler_tick_seconds", TICK_EVERY),
        send_every=seconds("scheduler_send_seconds", SEND_EVERY),
        warm=lambda day: warm_frames(container.read_sessions, day),
    )


def _add_jobs(scheduler: BaseScheduler, jobs: SchedulerJobs) -> None:
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    # Job times come from APScheduler's own wall clock: they say when to look, while what a tick
    # does depends only on ``jobs.clock``.
    started = dt.datetime.now(dt.UTC)
    scheduler.add_job(
        _logged(jobs.tick_once),
        "interval",
        seconds=jobs.tick_every.total_seconds(),
        id="klik-tick",
        next_run_time=started,
        **common,
    )
    scheduler.add_job(
        _logged(jobs.send_once),
        "interval",
        seconds=jobs.send_every.total_seconds(),
        id="klik-send",
        next_run_time=started + min(dt.timedelta(seconds=5), jobs.send_every),
        **common,
    )

    def beat() -> None:
        if jobs.heartbeat():
            # the lease was someone else's until now: tick at once rather than at the next round
            scheduler.modify_job("klik-tick", next_run_time=dt.datetime.now(dt.UTC))

    beat.__name__ = "heartbeat"
    scheduler.add_job(
        _logged(beat),
        "interval",
        seconds=max(jobs.heartbeat_every.total_seconds(), 0.2),
        id="klik-lease",
        next_run_time=started + jobs.heartbeat_every,
        **common,
    )

    def give_up_lease(_event: SchedulerEvent) -> None:
        try:
            jobs.release()
        except Exception:  # shutting down must go on; the lease then simply expires
            log.exception("could not release the scheduler lease")

    scheduler.add_listener(give_up_lease, EVENT_SCHEDULER_SHUTDOWN)


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
    # A service manager stops with SIGTERM: shut down as on Ctrl+C, giving the lease up.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(0)
