"""Due dates of waves as pure calendar arithmetic.

Due dates are calendar dates in the study's timezone (Europe/Amsterdam). Arithmetic is done on
dates, never on timestamps, so a daylight-saving change cannot shift or double a due date. Months
are calendar months with the end-of-month clamp: 31 January + 1 month is 28 (or 29) February.

The SQL of the tick (:mod:`study.scheduling.sqldates`) computes the same dates inside the database;
a test holds the two to each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from study.protocol import WaveSpec
from study.vocab import Respondent


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the last day of the target month."""
    return day + relativedelta(months=months)


@dataclass(frozen=True)
class WaveDates:
    """The window of one wave for one trajectory."""

    due_on: dt.date
    opens_on: dt.date
    closes_on: dt.date
    reminders_on: tuple[dt.date, ...]


@dataclass(frozen=True)
class PlannedInvitation:
    """One invitation the protocol asks for, before it is stored."""

    wave_code: str
    wave_index: int
    respondent: Respondent
    instrument_id: str
    dates: WaveDates


def wave_dates(
    wave: WaveSpec, start_date: dt.date, end_date: dt.date | None = None
) -> WaveDates | None:
    """The dates of ``wave`` for a trajectory, or None when the wave does not apply.

    An end-anchored wave applies once the trajectory has an end date; a wave that requires an
    active trajectory applies only when the trajectory is still open on the due date. Reminders are
    counted from the due date, like the closing day.
    """
    if wave.anchor == "end":
        if end_date is None:
            return None
        due = add_months(end_date, wave.offset_months)
    else:
        due = add_months(start_date, wave.offset_months)
    if wave.requires_active and end_date is not None and due > end_date:
        return None
    return WaveDates(
        due_on=due,
        opens_on=due - dt.timedelta(days=wave.opens_days_before),
        closes_on=due + dt.timedelta(days=wave.closes_days_after),
        reminders_on=tuple(due + dt.timedelta(days=d) for d in wave.reminder_days),
    )


def plan_trajectory(
    waves: list[WaveSpec], start_date: dt.date, end_date: dt.date | None = None
) -> list[PlannedInvitation]:
    """Every invitation the protocol ``waves`` asks for one trajectory, in wave order."""
    planned: list[PlannedInvitation] = []
    for index, wave in enumerate(waves):
        dates = wave_dates(wave, start_date, end_date)
        if dates is None:
            continue
        for respondent, instrument_id in wave.instruments.items():
            planned.append(
                PlannedInvitation(wave.code, index, Respondent(respondent), instrument_id, dates)
            )
    return planned
