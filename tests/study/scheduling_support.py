"""Helpers shared by the scheduling and mail tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from klik.settings import Settings
from study.clock import SimulatedClock
from study.scheduling.tick import TickReport, tick

SECRET = "test-secret-key"
VERSIONS = {
    "employee_baseline": "1.0",
    "employee_followup": "1.0",
    "jobcoach_followup": "1.0",
    "employer_followup": "1.0",
}


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        secret_key=SECRET,
        base_url="https://klik.example",
        mail_dir=tmp_path / "mail",
        **overrides,  # type: ignore[arg-type]
    )


def tick_at(sessions: sessionmaker[Session], moment: dt.datetime) -> TickReport:
    with sessions.begin() as s:
        return tick(s, as_of=moment, secret_key=SECRET, instrument_versions=VERSIONS)


def run_days(
    sessions: sessionmaker[Session],
    clock: SimulatedClock,
    last_day: dt.date,
    *,
    before_tick: Callable[[dt.date], None] | None = None,
    after_tick: Callable[[dt.date], None] | None = None,
) -> list[TickReport]:
    """One tick a day at the clock's time of day, up to and including ``last_day``."""
    reports = []
    while clock.now().date() <= last_day:
        day = clock.now().date()
        if before_tick:
            before_tick(day)
        reports.append(tick_at(sessions, clock.now()))
        if after_tick:
            after_tick(day)
        clock.advance(dt.timedelta(days=1))
    return reports


def total(reports: list[TickReport], name: str) -> int:
    return sum(getattr(r, name) for r in reports)
