"""Cohorts with answers, contacts and ends, built through the services and the scheduler.

A :class:`Plan` says per trajectory what happens and when: coaching contacts, the answers each
employee gives at each wave (every 1-5 item of the form answered with one value, so the scores
are known by hand) and how the trajectory ends. :func:`run_plans` plays that out day by day
through ``study.services``, ``study.scheduling.tick`` and ``study.responses.submit``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import responses, services
from study.models import Invitation
from study.scheduling.plan import add_months
from study.scheduling.tick import tick
from tests.factory import Cohort, build_cohort

SECRET = "analysis-test-secret"
AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
FIRST_START = dt.date(2026, 1, 5)


@dataclass
class Plan:
    """What happens in one trajectory, in days since its start."""

    contacts: list[tuple[int, int]] = field(default_factory=list)  # (day, minutes)
    # wave code -> (value given to every 1-5 item, days after the due date it is submitted)
    employee: dict[str, tuple[int, int]] = field(default_factory=dict)
    jobcoach: dict[str, tuple[int, int]] = field(default_factory=dict)
    end: tuple[int, str] | None = None  # (day, end reason)
    jitter: bool = False  # move each item answer by -1, 0 or +1 at random


def answers_with(
    instrument: Instrument, value: int, rng: random.Random | None = None
) -> dict[str, str | list[str]]:
    """Raw answers giving every numeric rating item ``value`` (clipped into its range), moved by
    -1, 0 or +1 per item when ``rng`` is given."""
    out: dict[str, str | list[str]] = {}
    for item in instrument.answerable_items:
        if item.type == "multiple":
            out[item.id] = [str(item.options[0].code)]
        elif item.type == "yesno":
            out[item.id] = "1"
        elif item.type == "integer":
            out[item.id] = "24" if "hours" in item.id else "0"
        elif item.value_range is not None:
            lo, hi = item.value_range
            given = value + (rng.choice((-1, 0, 0, 1)) if rng is not None else 0)
            out[item.id] = str(int(min(max(given, lo), hi)))
    return out


def _local(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)


WAVE_MONTHS = {"T0": 0, "T1": 3, "T2": 6, "T3": 12, "T4": 18, "T5": 24}


def run_plans(
    sessions: sessionmaker[Session],
    plans: list[Plan],
    *,
    as_of: dt.date,
    n_coaches: int = 2,
    spacing_days: int = 7,
    study_code: str = "S1",
) -> Cohort:
    """Build a cohort (trajectory i starts ``spacing_days * i`` after 5 January 2026) and play
    the plans out until ``as_of``, ticking the scheduler on every day something happens and on
    ``as_of`` itself. Nothing planned after ``as_of`` happens."""
    instruments = load_instruments()
    with sessions.begin() as s:
        cohort = build_cohort(
            s,
            AT,
            n_trajectories=len(plans),
            n_coaches=n_coaches,
            first_start=FIRST_START,
            spacing_days=spacing_days,
            study_code=study_code,
        )
    starts = [FIRST_START + dt.timedelta(days=spacing_days * i) for i in range(len(plans))]
    # (day, order within the day, action); contacts first, then answers, then ends
    actions: list[tuple[dt.date, int, tuple]] = []
    for tid, start, plan in zip(cohort.trajectory_ids, starts, plans, strict=True):
        for day, minutes in plan.contacts:
            actions.append((start + dt.timedelta(days=day), 0, ("contact", tid, minutes)))
        for role, waves in (("employee", plan.employee), ("jobcoach", plan.jobcoach)):
            for wave, (value, delay) in waves.items():
                due = add_months(start, WAVE_MONTHS[wave])
                actions.append(
                    (
                        due + dt.timedelta(days=delay),
                        1,
                        ("submit", tid, role, wave, value, plan.jitter),
                    )
                )
        if plan.end is not None:
            day, reason = plan.end
            actions.append((start + dt.timedelta(days=day), 2, ("end", tid, reason)))
    actions = [a for a in actions if a[0] <= as_of]
    for day in sorted({a[0] for a in actions} | {as_of}):
        with sessions.begin() as s:
            tick(s, as_of=_local(day), secret_key=SECRET)
            for _, _, act in sorted((a for a in actions if a[0] == day), key=lambda a: a[1]):
                _apply(s, cohort, act, day, instruments)
    return cohort


def _apply(
    s: Session, cohort: Cohort, act: tuple, day: dt.date, instruments: dict[str, Instrument]
) -> None:
    kind = act[0]
    if kind == "submit":
        _, tid, role, wave, value, jitter = act
        inv = s.scalar(
            select(Invitation).where(
                Invitation.trajectory_id == tid,
                Invitation.wave_code == wave,
                Invitation.respondent == role,
            )
        )
        if inv is None:
            raise AssertionError(f"no invitation {wave} {role} for trajectory {tid} on {day}")
        responses.submit(
            s,
            inv.id,
            answers_with(
                instruments[inv.instrument_id], value, random.Random(inv.id) if jitter else None
            ),
            submission_id=f"sub-{inv.id}",
            instruments=instruments,
            actor=role,
            at=_local(day),
        )
    elif kind == "contact":
        _, tid, minutes = act
        services.record_contact(
            s,
            cohort.study_id,
            tid,
            {
                "contact_date": day,
                "minutes": minutes,
                "mode": "on_site",
                "with_whom": "employee",
                "activity": "on_the_job_guidance",
            },
            actor="coach",
            at=_local(day),
        )
    elif kind == "end":
        _, tid, reason = act
        services.end_trajectory(
            s,
            cohort.study_id,
            tid,
            {"end_date": day, "end_reason": reason},
            actor="coach",
            at=_local(day),
        )


KNOWN_AS_OF = dt.date(2026, 5, 15)


def known_plans() -> list[Plan]:
    """Four trajectories whose frames are derived by hand in tests/study/test_read_models.py.

    Starts: 5, 12, 19 and 26 January 2026; coaches alternate (1, 2, 1, 2).

    1. contacts of 60 min (day 5) and 30 min (day 46); employee T0 all 4s on the due day, T1 all
       2s 15 days after its due date (late); jobcoach T0 all 5s; still open.
    2. one contact of 45 min (day 3); employee T0 all 5s two days after the due day; ends on day
       48 with job loss.
    3. no contacts, no answers; ends on day 27, working independently.
    4. one contact of 90 min on day 100 (after the first three months); employee T0 all 3s;
       still open.
    """
    return [
        Plan(
            contacts=[(5, 60), (46, 30)],
            employee={"T0": (4, 0), "T1": (2, 15)},
            jobcoach={"T0": (5, 0)},
        ),
        Plan(contacts=[(3, 45)], employee={"T0": (5, 2)}, end=(48, "job_loss")),
        Plan(end=(27, "working_independently")),
        Plan(contacts=[(100, 90)], employee={"T0": (3, 0)}),
    ]


def random_plans(n: int, seed: int = 1, *, days: int = 200) -> list[Plan]:
    """``n`` trajectories with random klik, contacts, answers and ends (for page and report
    tests that need spread, not hand-derived numbers). Higher klik: higher scores, fewer job
    losses."""
    rng = random.Random(seed)
    plans = []
    for _ in range(n):
        klik = rng.choice([2, 3, 3, 4, 4, 5])
        contacts = [
            (d, rng.choice([30, 45, 60, 90])) for d in sorted(rng.sample(range(1, days), 4))
        ]
        employee = {"T0": (klik, rng.choice([0, 1, 3, 10]))}
        if rng.random() < 0.85:
            employee["T1"] = (
                max(1, min(5, klik + rng.choice([-1, 0, 0, 1]))),
                rng.choice([0, 2, 12]),
            )
        if rng.random() < 0.8:
            employee["T2"] = (max(1, min(5, klik + rng.choice([-1, 0, 1]))), rng.choice([0, 5]))
        end = None
        if rng.random() < 0.5 - 0.08 * klik:
            end = (rng.randint(20, days - 5), "job_loss")
        elif rng.random() < 0.1:
            end = (rng.randint(20, days - 5), "working_independently")
        if end is not None:
            contacts = [c for c in contacts if c[0] <= end[0]]
            cutoff = end[0] - 35
            employee = {w: v for w, v in employee.items() if WAVE_MONTHS[w] * 30.4 <= cutoff}
        plans.append(
            Plan(
                contacts=contacts,
                employee=employee,
                jobcoach={"T0": (klik, 0)},
                end=end,
                jitter=True,
            )
        )
    return plans
