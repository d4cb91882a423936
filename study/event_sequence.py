"""Which orders of employment events are impossible: a sick leave that ends without having
started, a job that ends before it started."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from study.vocab import EventKind


@dataclass(frozen=True)
class Step:
    """One employment event in a trajectory's history; ``key`` keeps same-day events in order
    (stored events by id, new ones after them)."""

    day: dt.date
    kind: EventKind
    key: int


@dataclass(frozen=True)
class Problem:
    """An event that cannot follow the ones before it, with the reason in Dutch and English."""

    step: Step
    nl: str
    en: str


def sequence_problems(steps: Iterable[Step]) -> list[Problem]:
    """The events of one trajectory that are impossible given the events before them.

    A sick leave may end only while one is open (two overlapping leaves need two ends); when the
    history holds a job start, a job end needs a job start on or before its day (without any
    job start, the trajectory's start is the job's start).
    """
    ordered = sorted(steps, key=lambda s: (s.day, s.key))
    has_job_start = any(s.kind == EventKind.JOB_START for s in ordered)
    problems: list[Problem] = []
    sick_open = 0
    jobs_open = 0
    for step in ordered:
        if step.kind == EventKind.SICK_LEAVE_START:
            sick_open += 1
        elif step.kind == EventKind.SICK_LEAVE_END:
            if sick_open == 0:
                problems.append(
                    Problem(
                        step,
                        f"het einde van het verzuim op {step.day:%d-%m-%Y} heeft geen begin: "
                        "leg eerst de start van het verzuim vast",
                        f"the end of sick leave on {step.day:%Y-%m-%d} has no start: record the "
                        "start of the sick leave first",
                    )
                )
            else:
                sick_open -= 1
        elif step.kind == EventKind.JOB_START:
            jobs_open += 1
        elif step.kind == EventKind.JOB_END and has_job_start:
            if jobs_open == 0:
                problems.append(
                    Problem(
                        step,
                        f"het einde van de baan op {step.day:%d-%m-%Y} ligt vóór de start van de "
                        "baan",
                        f"the job end on {step.day:%Y-%m-%d} is before the job started",
                    )
                )
            else:
                jobs_open -= 1
    return problems


def new_problems(before: list[Step], after: list[Step]) -> list[Problem]:
    """The problems of ``after`` (a history with a change) that ``before`` did not have.

    A history stored before these rules may already hold an impossible order; only what the
    change adds is refused.
    """
    old = {(p.step.day, p.step.kind, p.nl) for p in sequence_problems(before)}
    return [p for p in sequence_problems(after) if (p.step.day, p.step.kind, p.nl) not in old]
