"""Benchmark: one scheduler tick over many trajectories, on SQLite and PostgreSQL.

The cohort: ``--trajectories`` coached employees (default 100,000) whose trajectories started
uniformly over the two years before the benchmark day (and up to a month after it); 35% have ended,
3% withdrew consent. Under the default protocol that is about 1.5 million invitations over the
study's life.

Measured, per database:

* ``first tick``: the tick that finds the cohort with no invitation yet and plans the whole
  study (all invitations of all waves, opening, tokens and mail of the windows open that day);
* ``next day``: the tick of the day after, which also sends the reminders held back on the day the
  invitations first went out;
* ``daily tick``: the tick of the third day, the one a running study executes every day (it still
  checks every trajectory and wave for missing invitations, then opens, reminds, expires and
  queues mail);
* ``floor``: one hand-written SQL statement that selects the same due set - every
  trajectory x wave x respondent whose window is open on the day - with nothing written.

The ratios daily/floor and first/floor say what the tick costs beyond the unavoidable scan.

Setup bypasses the services on purpose: the rows are bulk-inserted with plain SQL inserts, so that
building 100,000 trajectories takes seconds rather than the better part of an hour (the study and
its protocol are still created by ``create_study``).

Run: ``python -m benchmarks.bench_tick [--trajectories N] [--databases sqlite,postgresql]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, text

from study.clock import AMSTERDAM
from study.db import make_engine, make_sessions
from study.migrate import upgrade
from study.models import (
    Consent,
    Employer,
    Invitation,
    Jobcoach,
    Outbox,
    Participant,
    ParticipantIdentity,
    Trajectory,
)
from study.scheduling.tick import TickReport, tick
from study.services import create_study

POSTGRES_URL = os.environ.get(
    "KLIK_BENCH_POSTGRES_URL",
    os.environ.get("KLIK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
DAY = dt.date(2026, 6, 1)
SECRET = "benchmark-secret"
VERSIONS = {"employee_followup": "1", "jobcoach_followup": "1", "employer_followup": "1"}

FLOOR_SQL = {
    # Hand-written: the trajectory x wave x respondent combinations whose window is open today.
    "sqlite": """
        WITH due AS (
          SELECT t.id, wi.respondent, w.opens_days_before, w.closes_days_after,
                 CASE WHEN w.anchor = 'end' THEN t.end_date ELSE t.start_date END AS base,
                 w.offset_months AS m, w.requires_active, t.end_date
          FROM trajectory t
          JOIN protocol p ON p.study_id = t.study_id AND p.is_current
          JOIN wave w ON w.protocol_id = p.id
          JOIN wave_instrument wi ON wi.wave_id = w.id
          WHERE (w.anchor = 'start' OR t.end_date IS NOT NULL)
            AND t.participant_id NOT IN
                (SELECT participant_id FROM consent WHERE withdrawn_at IS NOT NULL)
        ), dated AS (
          SELECT *, CASE WHEN strftime('%d', date(base, '+' || m || ' months')) = strftime('%d', base)
                    THEN date(base, '+' || m || ' months')
                    ELSE date(date(base, '+' || m || ' months'),
                              '-' || strftime('%d', date(base, '+' || m || ' months')) || ' days')
                    END AS due_on
          FROM due
        )
        SELECT count(*) FROM dated
        WHERE date(due_on, '-' || opens_days_before || ' days') <= :day
          AND date(due_on, '+' || closes_days_after || ' days') >= :day
          AND (NOT requires_active OR end_date IS NULL OR due_on <= end_date)
    """,
    "postgresql": """
        WITH dated AS (
          SELECT t.id, wi.respondent, w.opens_days_before, w.closes_days_after,
                 w.requires_active, t.end_date,
                 (CASE WHEN w.anchor = 'end' THEN t.end_date ELSE t.start_date END
                  + make_interval(months => w.offset_months))::date AS due_on
          FROM trajectory t
          JOIN protocol p ON p.study_id = t.study_id AND p.is_current
          JOIN wave w ON w.protocol_id = p.id
          JOIN wave_instrument wi ON wi.wave_id = w.id
          WHERE (w.anchor = 'start' OR t.end_date IS NOT NULL)
            AND t.participant_id NOT IN
                (SELECT participant_id FROM consent WHERE withdrawn_at IS NOT NULL)
        )
        SELECT count(*) FROM dated
        WHERE due_on - opens_days_before <= CAST(:day AS date)
          AND due_on + closes_days_after >= CAST(:day AS date)
          AND (NOT requires_active OR end_date IS NULL OR due_on <= end_date)
    """,
}


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6), AMSTERDAM).astimezone(dt.UTC)


@contextmanager
def database(kind: str) -> Iterator[Engine]:
    """A fresh, migrated database of ``kind``, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _chunks(rows: list[dict[str, object]], size: int = 10_000) -> Iterator[list[dict[str, object]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def populate(engine: Engine, n: int, seed: int = 7) -> None:
    """Bulk-insert a study with ``n`` trajectories (plain SQL inserts; see the module docstring)."""
    rng = random.Random(seed)
    at = _moment(DAY - dt.timedelta(days=800))
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        study_id = create_study(s, code="BENCH", name="Benchmark", actor="bench", at=at).id
    n_coaches, n_employers = max(1, n // 50), max(1, n // 20)
    coaches = [
        {
            "id": i + 1,
            "study_id": study_id,
            "code": f"JC{i + 1:05d}",
            "name": f"Coach {i + 1}",
            "email": f"jc{i + 1}@coach.example",
            "coach_type": "external",
            "method": "ips",
            "registered": False,
        }
        for i in range(n_coaches)
    ]
    employers = [
        {
            "id": i + 1,
            "study_id": study_id,
            "name": f"Werkgever {i + 1}",
            "contact_email": f"hr{i + 1}@werk.example",
        }
        for i in range(n_employers)
    ]
    participants, identities, consents, trajectories = [], [], [], []
    for i in range(1, n + 1):
        start = DAY - dt.timedelta(days=rng.randint(-30, 730))
        end = start + dt.timedelta(days=rng.randint(30, 600)) if rng.random() < 0.35 else None
        if end is not None and end >= DAY:
            end = None
        participants.append(
            {
                "id": i,
                "study_id": study_id,
                "study_code": f"P{i:06d}",
                "birth_year": 1990 + i % 15,
                "gender": "female" if i % 2 else "male",
                "benefit": "wajong",
                "doelgroepregister": True,
                "enrolled_at": at,
            }
        )
        identities.append({"participant_id": i, "email": f"p{i}@mail.example"})
        withdrawn = _moment(DAY - dt.timedelta(days=10)) if rng.random() < 0.03 else None
        consents.append(
            {"participant_id": i, "version": "1.0", "given_at": at, "withdrawn_at": withdrawn}
        )
        trajectories.append(
            {
                "id": i,
                "study_id": study_id,
                "participant_id": i,
                "jobcoach_id": rng.randint(1, n_coaches),
                "employer_id": rng.randint(1, n_employers),
                "start_date": start,
                "funder": "uwv",
                "employment_form": "begeleid_werken",
                "contract_hours": 24.0,
                "loonwaarde": 60.0,
                "maatje": bool(i % 3),
                "method": "ips",
                "coach_type": "external",
                "end_date": end,
                "end_reason": "job_loss" if end else None,
                "created_at": at,
            }
        )
    with engine.begin() as c:
        for model, rows in [
            (Jobcoach, coaches),
            (Employer, employers),
            (Participant, participants),
            (ParticipantIdentity, identities),
            (Consent, consents),
            (Trajectory, trajectories),
        ]:
            for chunk in _chunks(rows):
                c.execute(insert(model), chunk)
        if engine.dialect.name == "postgresql":
            for table in ("jobcoach", "employer", "participant", "trajectory"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n + 1})"))
            c.execute(text("ANALYZE"))
        else:
            c.execute(text("ANALYZE"))


def timed_tick(engine: Engine, day: dt.date) -> tuple[float, TickReport]:
    sessions = make_sessions(engine)
    began = time.perf_counter()
    with sessions.begin() as s:
        report = tick(s, as_of=_moment(day), secret_key=SECRET, instrument_versions=VERSIONS)
    return time.perf_counter() - began, report


def timed_floor(engine: Engine, day: dt.date) -> tuple[float, int]:
    began = time.perf_counter()
    with engine.connect() as c:
        n = c.execute(text(FLOOR_SQL[engine.dialect.name]), {"day": day}).scalar_one()
    return time.perf_counter() - began, int(n)


def run(kind: str, n: int) -> dict[str, object]:
    """Populate a fresh ``kind`` database with ``n`` trajectories and time the ticks."""
    with database(kind) as engine:
        began = time.perf_counter()
        populate(engine, n)
        setup = time.perf_counter() - began
        first, first_report = timed_tick(engine, DAY)
        if kind == "postgresql":
            with engine.begin() as c:
                c.execute(text("ANALYZE"))
        second, second_report = timed_tick(engine, DAY + dt.timedelta(days=1))
        daily, daily_report = timed_tick(engine, DAY + dt.timedelta(days=2))
        floor, due = timed_floor(engine, DAY + dt.timedelta(days=2))
        with engine.connect() as c:
            invitations = c.scalar(select(func.count()).select_from(Invitation))
            mails = c.scalar(select(func.count()).select_from(Outbox))
    return {
        "database": kind,
        "trajectories": n,
        "setup_s": setup,
        "invitations": invitations,
        "mails": mails,
        "first_tick_s": first,
        "first": first_report,
        "second_tick_s": second,
        "second": second_report,
        "daily_tick_s": daily,
        "daily": daily_report,
        "floor_s": floor,
        "due_set": due,
    }


def _line(name: str, seconds: float, r: TickReport, floor: float) -> str:
    return (
        f"  {name:<11} {seconds:8.2f} s  ratio to floor {seconds / floor:6.1f}  "
        f"({r.created:,} created, {r.opened:,} opened, {r.reminders:,} reminders, "
        f"{r.missed:,} missed, {r.cancelled:,} cancelled, {r.mails:,} mails)"
    )


def report(result: dict[str, object]) -> str:
    """The figures of one database as text."""
    floor = float(result["floor_s"])  # type: ignore[arg-type]
    lines = [
        f"{result['database']}: {result['trajectories']:,} trajectories "
        f"(setup {result['setup_s']:.1f} s), {result['invitations']:,} invitations, "
        f"{result['mails']:,} mails queued"
    ]
    for name, key in [("first tick", "first"), ("next day", "second"), ("daily tick", "daily")]:
        seconds = float(result[f"{key}_tick_s"])  # type: ignore[arg-type]
        lines.append(_line(name, seconds, result[key], floor))  # type: ignore[arg-type]
    lines.append(
        f"  {'floor':<11} {floor:8.2f} s  (one SELECT of the due set: "
        f"{result['due_set']:,} open windows)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for kind in args.databases.split(","):
        try:
            result = run(kind.strip(), args.trajectories)
        except Exception as exc:  # e.g. PostgreSQL not reachable: report and go on
            print(f"{kind}: skipped ({type(exc).__name__}: {exc})")
            continue
        print(report(result), flush=True)


if __name__ == "__main__":
    main()
