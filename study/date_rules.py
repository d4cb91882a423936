"""Dates that cannot be right: a contact, an event or a trajectory's start too far ahead."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from study.errors import InvalidInput

#: days after today a contact or an employment event may be dated (0: not after today)
RECORD_DAYS_AHEAD = 0
#: days after today a trajectory may start (an enrolment before the first working day)
START_DAYS_AHEAD = 92


def study_today(at: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of ``at`` in the study's timezone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def check_not_ahead(
    day: dt.date, today: dt.date, days_ahead: int, *, field: str, what: tuple[str, str]
) -> None:
    """Refuse ``day`` when it lies more than ``days_ahead`` days after ``today``.

    ``what`` names the date in Dutch and English (e.g. ``("de datum van het contact", ...)``).
    """
    latest = today + dt.timedelta(days=days_ahead)
    if day <= latest:
        return
    nl_what, en_what = what
    if days_ahead == 0:
        nl_rule = f"vandaag is {today:%d-%m-%Y}"
        en_rule = f"today is {today:%Y-%m-%d}"
    else:
        nl_rule = f"hoogstens {days_ahead} dagen na vandaag ({latest:%d-%m-%Y}) is toegestaan"
        en_rule = f"at most {days_ahead} days after today ({latest:%Y-%m-%d}) is allowed"
    raise InvalidInput(
        f"{nl_what} ({day:%d-%m-%Y}) ligt in de toekomst; {nl_rule}",
        f"{en_what} ({day:%Y-%m-%d}) is in the future; {en_rule}",
        field=field,
    )
