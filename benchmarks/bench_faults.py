"""Soak: mail, scheduling and backup under repeated faults, against real parts.

The longer versions of the fault tests (``tests/study/test_mail_faults.py``,
``tests/study/test_scheduler_takeover.py``, ``tests/klik/test_backup.py``), run ``--cycles`` times
on each database:

* ``sender``: ``--mails`` invitations (default 3000) delivered by ``klik send-mail`` processes to an
  SMTP server on loopback, each cycle killing a sender with SIGKILL after a random number of mails;
  counted: mails delivered, copies delivered twice (at most one per kill) and whether every copy
  kept the Message-ID of its first;
* ``outage``: per cycle a mail server that is down for a random 1 to 48 hours (on a simulated
  clock) while 150 invitations wait, some of whose windows close meanwhile; counted: mails lost
  (must be none: every mail within its window delivered once), mails failed because the window
  closed first;
* ``scheduler``: two ``klik scheduler`` processes; each cycle kills the lease holder with SIGKILL,
  enrols a trajectory and starts a replacement; counted: takeover time (lease of 3 s), invitations
  and mails sent twice (must be none);
* ``backup``: per cycle ``klik backup --verify`` of a study receiving submissions, then
  ``klik restore --verify`` into an empty database; counted: acknowledged submissions missing from
  the backup (must be none), restores whose exports differ (must be none).

Run: ``python -m benchmarks.bench_faults [--cycles N] [--mails M] [--parts sender,outage,...]
[--databases sqlite,postgresql]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select, update

from study.clock import SimulatedClock, SystemClock
from study.db import make_engine, make_read_sessions, make_sessions
from study.mail.sender import send_pending
from study.migrate import upgrade
from study.models import Invitation, Outbox, Response, SchedulerLease
from study.vocab import OutboxStatus

PARTS = ("sender", "outage", "scheduler", "backup")


@contextmanager
def fresh(kind: str, directory: Path) -> Iterator[object]:
    """A migrated, empty database of ``kind`` as the tests' ``Database``."""
    from tests.backup_support import empty_database
    from tests.conftest import Database

    with empty_database(kind, directory) as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield Database(url, engine, make_sessions(engine), make_read_sessions(engine))
        finally:
            engine.dispose()


def _cohort(db: object, n: int, at: dt.datetime) -> object:
    from tests import factory
    from tests.study.scheduling_support import tick_at

    with db.sessions.begin() as s:  # type: ignore[attr-defined]
        cohort = factory.build_cohort(
            s, at, n_trajectories=n, first_start=at.date(), spacing_days=0
        )
    tick_at(db.sessions, at)  # type: ignore[attr-defined]
    return cohort


def _unsent(db: object) -> int:
    with db.read_sessions() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).where(Outbox.status != OutboxStatus.SENT)))


def soak_sender(kind: str, cycles: int, mails: int, rng: random.Random) -> str:
    """Kill ``klik send-mail`` ``cycles`` times while it delivers ``mails`` mails."""
    from tests.process_support import child_database_url, kill9, klik_env, start_klik
    from tests.study.mail_support import Inbox, free_port, smtp_on

    with tempfile.TemporaryDirectory() as tmp, fresh(kind, Path(tmp)) as db:
        _cohort(db, max(mails // 3, 1), SystemClock().now())
        total = _unsent(db)
        port, inbox = free_port(), Inbox()
        env = klik_env(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls="false",
                       mail_claim_seconds=2)  # fmt: skip
        args = ["send-mail", "--database", child_database_url(db)]
        kills = runs = 0
        started = time.perf_counter()
        with smtp_on(port, inbox):
            while _unsent(db) and runs < cycles * 4 + total // 100 + 20:
                runs += 1
                before, wanted = inbox.count(), rng.randint(20, 200)
                sender = start_klik(args, env, Path(tmp))
                while sender.poll() is None and inbox.count() < before + wanted:
                    time.sleep(0.005)
                if sender.poll() is None and kills < cycles:
                    kill9(sender)
                    kills += 1
                else:
                    sender.wait(timeout=600)
                    time.sleep(0.5)
        copies = inbox.by_outbox_id()
        duplicates = sum(len(c) - 1 for c in copies.values())
        same_id = all(len({m["Message-ID"] for m in c}) == 1 for c in copies.values())
        return (
            f"{kind} sender: {total} mails, {kills} kills, {len(copies)} delivered, "
            f"{_unsent(db)} undelivered, {duplicates} delivered twice (limit {kills}), "
            f"same Message-ID for every copy: {same_id}; {time.perf_counter() - started:.1f} s"
        )


def soak_outage(kind: str, cycles: int, rng: random.Random) -> str:
    """An SMTP outage of 1 to 48 simulated hours per cycle, 150 invitations each."""
    from tests.study.mail_support import Inbox, free_port, smtp_on
    from tests.study.scheduling_support import settings_for

    lost = failed = delivered = twice = 0
    hours: list[int] = []
    for _ in range(cycles):
        with tempfile.TemporaryDirectory() as tmp, fresh(kind, Path(tmp)) as db:
            clock = SimulatedClock(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
            _cohort(db, 50, clock.now())
            port, inbox = free_port(), Inbox()
            settings = settings_for(Path(tmp), smtp_host="127.0.0.1", smtp_port=port,
                                    smtp_starttls=False)  # fmt: skip
            with db.sessions.begin() as s:  # type: ignore[attr-defined]
                ids = list(s.scalars(select(Invitation.id).where(Invitation.status == "open")))
                closing = rng.sample(ids, len(ids) // 5)
                s.execute(update(Invitation).where(Invitation.id.in_(closing))
                          .values(closes_on=dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 1))))  # fmt: skip
            outage = rng.randint(1, 48)
            hours.append(outage)
            for _ in range(outage * 12):
                send_pending(db.sessions, settings=settings, clock=clock)  # type: ignore[attr-defined]
                clock.advance(dt.timedelta(minutes=5))
            with smtp_on(port, inbox):
                for _ in range(8):
                    send_pending(db.sessions, settings=settings, clock=clock)  # type: ignore[attr-defined]
                    clock.advance(dt.timedelta(minutes=5))
            deadline = {}
            with db.read_sessions() as s:  # type: ignore[attr-defined]
                for outbox_id, status, closes_on in s.execute(
                    select(Outbox.id, Outbox.status, Invitation.closes_on).join(
                        Invitation, Invitation.id == Outbox.invitation_id
                    )
                ):
                    deadline[outbox_id] = (status, closes_on)
            copies = inbox.by_outbox_id()
            for outbox_id, (status, _closes) in deadline.items():
                if status == OutboxStatus.FAILED:
                    failed += 1
                elif outbox_id not in copies:
                    lost += 1
            delivered += len(copies)
            twice += sum(len(c) - 1 for c in copies.values())
    return (
        f"{kind} outage: {cycles} outages of {min(hours)}-{max(hours)} h, {delivered} delivered, "
        f"{twice} twice, {failed} failed as their window closed first, {lost} lost"
    )


def soak_scheduler(kind: str, cycles: int) -> str:
    """Kill the lease holder of two ``klik scheduler`` processes ``cycles`` times."""
    from tests import factory
    from tests.process_support import child_database_url, kill9, klik_env, start_klik, wait_for
    from tests.study.mail_support import Inbox, free_port, smtp_on

    lease = 3.0
    takeovers: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, fresh(kind, Path(tmp)) as db:
        now = SystemClock().now()
        cohort = _cohort(db, 2, now)
        port, inbox = free_port(), Inbox()
        env = klik_env(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls="false",
                       scheduler_lease_seconds=lease, scheduler_tick_seconds=1,
                       scheduler_send_seconds=0.5)  # fmt: skip
        args = ["scheduler", "--database", child_database_url(db)]

        def holder() -> str | None:
            with db.read_sessions() as s:  # type: ignore[attr-defined]
                row = s.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)).first()
            if row is None or row.expires_at <= dt.datetime.now(dt.UTC):
                return None
            return row.holder.rpartition(":")[2]

        with smtp_on(port, inbox):
            running = [start_klik(args, env, Path(tmp))]
            wait_for(lambda: holder() == str(running[0].pid), 60, "a first holder")
            running.append(start_klik(args, env, Path(tmp)))
            for cycle in range(cycles):
                time.sleep(1.5)
                dead = next(p for p in running if str(p.pid) == holder())
                kill9(dead)
                killed_at = time.monotonic()
                running.remove(dead)
                with db.sessions.begin() as s:  # type: ignore[attr-defined]
                    employer = factory.add_employer(s, cohort.study_id, now, f"W{cycle}")
                    person = factory.enrol(s, cohort.study_id, now, f"Q{cycle:04d}")
                    factory.start(s, cohort.study_id, now, person.id, cohort.jobcoach_ids[0],
                                  employer.id, now.date())  # fmt: skip
                survivor = running[0]
                wait_for(lambda p=survivor: holder() == str(p.pid), 60, "the takeover")
                takeovers.append(time.monotonic() - killed_at)
                running.append(start_klik(args, env, Path(tmp)))
            expected = 3 * (2 + cycles)
            wait_for(lambda: inbox.count() >= expected, 60, "every invitation")
            time.sleep(lease)
            for process in running:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        copies = inbox.by_outbox_id()
        with db.read_sessions() as s:  # type: ignore[attr-defined]
            rows = s.scalar(select(func.count()).select_from(Outbox))
    return (
        f"{kind} scheduler: {cycles} kills of the holder, takeover {min(takeovers):.1f}-"
        f"{max(takeovers):.1f} s (mean {statistics.mean(takeovers):.1f} s, lease {lease:.0f} s), "
        f"{rows} mails queued for {expected} invitations, {sum(len(c) - 1 for c in copies.values())} "
        "sent twice"
    )


def soak_backup(kind: str, cycles: int) -> str:
    """``klik backup --verify`` under submission load, then ``klik restore --verify``."""
    from tests.backup_support import SubmissionLoad, empty_database
    from tests.process_support import child_database_url, klik_env, start_klik

    missing = differing = backups = 0
    with tempfile.TemporaryDirectory() as tmp, fresh(kind, Path(tmp)) as db:
        _cohort(db, 60 * cycles, SystemClock().now())
        env = klik_env()
        with SubmissionLoad(db.sessions, pause=0.002) as load:  # type: ignore[attr-defined]
            for cycle in range(cycles):
                out = Path(tmp) / f"backup-{cycle}"
                started = time.monotonic()
                done = start_klik(["backup", str(out), "--database", child_database_url(db),
                                   "--verify"], env, Path(tmp))  # fmt: skip
                if done.wait(timeout=600) != 0:
                    differing += 1
                    continue
                backups += 1
                acked = {i for i, at in load.acknowledged if at < started}
                copy = make_engine(f"sqlite:///{out / 'klik.db'}")
                with copy.connect() as c:
                    held = set(c.scalars(select(Response.invitation_id)))
                copy.dispose()
                missing += len(acked - held)
                with empty_database(kind, Path(tmp)) as target:
                    restored = start_klik(["restore", str(out), "--database", target, "--verify"],
                                          env, Path(tmp))  # fmt: skip
                    differing += restored.wait(timeout=600) != 0
        submitted = len(load.acknowledged)
    return (
        f"{kind} backup: {backups} backups during {submitted} submissions, {missing} acknowledged "
        f"submissions missing, {differing} backups or restores whose exports differ"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    for kind in args.databases.split(","):
        for part in args.parts.split(","):
            try:
                if part == "sender":
                    line = soak_sender(kind, args.cycles, args.mails, rng)
                elif part == "outage":
                    line = soak_outage(kind, args.cycles, rng)
                elif part == "scheduler":
                    line = soak_scheduler(kind, args.cycles)
                else:
                    line = soak_backup(kind, args.cycles)
            except Exception as exc:  # e.g. PostgreSQL not reachable: report and go on
                line = f"{kind} {part}: skipped ({type(exc).__name__}: {exc})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
