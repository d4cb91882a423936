"""Running a simulated cohort through the front door, day by day, on a simulated clock.

Everything the simulation writes goes through the services (``study.services`` and their bulk
forms), the scheduler's :func:`study.scheduling.tick.tick` and :func:`study.responses.submit`, with
the same validation a jobcoach, a researcher or a respondent meets. A simulated day is the day's
enrolments and starts, contacts and employment events, trajectory ends and consent withdrawals
(09:00), the scheduler tick (12:00), and the answers respondents give that day (19:00,
Europe/Amsterdam). Each kind of record is written with the bulk form of its service (the same
input models and checks, refusing the whole batch on one bad entry) and the day's answers with
:func:`study.responses.submit_many`. While mail is delivered every day is its own transaction;
otherwise a week of days is one transaction (``params.transaction_days``): the rows are the same,
there are only fewer commits.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import services
from study.clock import AMSTERDAM, SimulatedClock
from study.models import (
    CoachingContact,
    EmploymentEvent,
    Invitation,
    Outbox,
    Response,
    Trajectory,
)
from study.protocol import WaveSpec
from study.responses import Submission, is_answerable, submit_many
from study.scheduling.tick import tick
from study.services import bulk
from study.simulator import truth as truth_mod
from study.simulator.answers import RespondentState, answer
from study.simulator.params import SimulationParams
from study.simulator.truth import RESPONDENTS, Truth
from study.vocab import InvitationStatus

Progress = Callable[[int, int], None]
SECTORS = ("zorg", "detailhandel", "horeca", "logistiek", "overheid", "techniek", "groen", "ICT")


@dataclass
class BuildReport:
    """What a simulation wrote (counts from the database) and how long it took."""

    study_id: int
    days: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    skipped_answers: int = 0
    #: seconds spent per part: setup, records, ticks, answers (planning, generating and
    #: submitting), commit, counts
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Pending:
    invitation_id: int
    row: int
    wave_index: int
    respondent: str


@dataclass
class _State:
    """Ids created so far, and what is queued for later days."""

    study_id: int
    coach_ids: list[int]
    employer_ids: dict[int, int] = field(default_factory=dict)
    participant_ids: dict[int, int] = field(default_factory=dict)
    trajectory_ids: dict[int, int] = field(default_factory=dict)
    row_of: dict[int, int] = field(default_factory=dict)
    withdrawn: set[int] = field(default_factory=set)
    answers_due: dict[int, list[_Pending]] = field(default_factory=lambda: defaultdict(list))
    skipped: int = 0


def local_moment(day: dt.date, hour: int) -> dt.datetime:
    """``hour`` o'clock on ``day`` in Europe/Amsterdam, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM).astimezone(dt.UTC)


def _by_day(days: np.ndarray) -> dict[int, np.ndarray]:
    """Indices of ``days`` grouped by value."""
    if len(days) == 0:
        return {}
    order = np.argsort(days, kind="stable")
    values, starts = np.unique(days[order], return_index=True)
    return {int(v): g for v, g in zip(values, np.split(order, starts[1:]), strict=True)}


class Simulation:
    """A cohort being written day by day; :func:`build` runs one to the end."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        params: SimulationParams,
        *,
        clock: SimulatedClock,
        secret_key: str,
        instruments: Mapping[str, Instrument] | None = None,
        deliver: Callable[[dt.datetime], Any] | None = None,
    ) -> None:
        self.sessions = sessions
        self.p = params
        self.clock = clock
        self.secret_key = secret_key
        self.instruments = dict(instruments or load_instruments())
        self.versions = {k: v.version for k, v in self.instruments.items()}
        self.deliver = deliver
        self.truth: Truth = truth_mod.generate(params)
        self.intercepts = truth_mod.response_intercepts(params)
        self.days = (params.end_date - params.start_date).days
        self.timings: dict[str, float] = defaultdict(float)
        self._index_events()

    # -- preparing ------------------------------------------------------------------------------

    def _index_events(self) -> None:
        t, c, s = self.truth.trajectories, self.truth.contacts, self.truth.sick_leave
        start = t.start_offset
        withdraw = start + np.floor(np.where(np.isfinite(t.withdraw), t.withdraw, 1e9))
        self.withdraw_day = withdraw.astype(np.int64)
        before_withdraw = (start + t.end) < self.withdraw_day
        end_day = np.where(np.isfinite(t.end), start + t.end, 1e9).astype(np.int64)
        self.end_day = end_day
        self.starts = _by_day(start)
        self.contacts = _by_day(start[c.trajectory] + c.day)
        self.ends = _by_day(np.where(before_withdraw, end_day, 10**9))
        step_ok = (t.step < t.end) & (start + t.step < self.withdraw_day)
        self.steps = _by_day(np.where(step_ok, start + np.ceil(t.step), 10**9).astype(np.int64))
        sick_start = start[s.trajectory] + s.start
        sick_end = np.minimum(start[s.trajectory] + s.end, end_day[s.trajectory])
        sick_end = np.where(sick_end < self.withdraw_day[s.trajectory], sick_end, 10**9)
        self.sick_starts = _by_day(sick_start)
        self.sick_ends = _by_day(sick_end)
        first = t.parent < 0
        self.withdrawals = _by_day(np.where(first, self.withdraw_day, 10**9))
        self.contact_bounds = np.searchsorted(c.trajectory, np.arange(len(t) + 1))
        self.sick_bounds = np.searchsorted(s.trajectory, np.arange(len(t) + 1))

    # -- running --------------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> BuildReport:
        """Simulate every day from the start date to the end date; returns counts and timing."""
        began = time.perf_counter()
        with self._timed("setup"):
            state = self._setup()
        span = self.p.transaction_days
        for first in range(0, self.days, span):
            days = range(first, min(first + span, self.days))
            self.steps_in_one_transaction(state, days)
            if progress is not None:
                for day in days:
                    progress(day + 1, self.days)
        with self._timed("counts"):
            counts = self.counts(state.study_id)
        return BuildReport(
            study_id=state.study_id,
            days=self.days,
            seconds=time.perf_counter() - began,
            counts=counts,
            skipped_answers=state.skipped,
            timings={k: round(v, 2) for k, v in self.timings.items()},
        )

    @contextmanager
    def _timed(self, part: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.timings[part] += time.perf_counter() - began

    def waves(self) -> list[WaveSpec] | None:
        """The protocol: the default one, or T0 plus waves at ``params.wave_months``."""
        if self.p.wave_months is None:
            return None
        return [WaveSpec("T0", "Nulmeting", 0, opens_days_before=0)] + [
            WaveSpec(f"T{i + 1}", f"{m} maanden", m) for i, m in enumerate(self.p.wave_months)
        ]

    def _setup(self) -> _State:
        p, coaches = self.p, self.truth.coaches
        at = local_moment(p.start_date, 9)
        self.clock.set(at)
        with self.sessions.begin() as s:
            study = services.create_study(
                s, code=p.study_code, name=p.study_name, actor=p.actor, at=at, waves=self.waves()
            )
            org_ids = [
                services.add_organisation(
                    s,
                    study.id,
                    {"name": f"Jobcoachorganisatie {i + 1:02d}", "kind": "jobcoachorganisatie"},
                    actor=p.actor,
                    at=at,
                ).id
                for i in range(p.n_organisations)
            ]
            coach_ids = bulk.add_jobcoaches(
                s,
                study.id,
                [
                    {
                        "code": f"JC{i + 1:04d}",
                        "name": f"Jobcoach {i + 1:04d}",
                        "email": f"jc{i + 1:04d}@jobcoach.example",
                        "organisation_id": org_ids[int(coaches.organisation[i])],
                        "coach_type": "external" if coaches.external[i] else "internal",
                        "method": str(coaches.method[i]),
                        "years_experience": int(coaches.years_experience[i]),
                        "registered": bool(i % 3 != 0),
                    }
                    for i in range(p.n_coaches)
                ],
                actor=p.actor,
                at=at,
            )
            return _State(study_id=study.id, coach_ids=coach_ids)

    def step(self, state: _State, day: int) -> None:
        """Simulate one day in one transaction."""
        self.steps_in_one_transaction(state, [day])

    def steps_in_one_transaction(self, state: _State, days: Iterable[int]) -> None:
        """Simulate the ``days`` one after the other in one transaction; then deliver mail."""
        evening = None
        with self.sessions.begin() as s:
            for day in days:
                evening = self._day(s, state, day)
            began = time.perf_counter()
        self.timings["commit"] += time.perf_counter() - began
        if self.deliver is not None and evening is not None:
            with self._timed("mail"):
                self.deliver(evening)

    def _day(self, s: Session, state: _State, day: int) -> dt.datetime:
        date = self.p.start_date + dt.timedelta(days=day)
        at = local_moment(date, 9)
        self.clock.set(at)
        with self._timed("records"):
            self._start_trajectories(s, state, day, date, at)
            self._log_contacts(s, state, day, date, at)
            self._log_events(s, state, day, date, at)
            self._end_trajectories(s, state, day, date, at)
            self._withdraw(s, state, day, at)
        if day % self.p.tick_days == 0 or day == self.days - 1:
            noon = local_moment(date, 12)
            self.clock.set(noon)
            with self._timed("ticks"):
                tick(s, as_of=noon, secret_key=self.secret_key, instrument_versions=self.versions)
            with self._timed("answers"):
                self._plan_answers(s, state, day, date, noon)
        evening = local_moment(date, 19)
        self.clock.set(evening)
        with self._timed("answers"):
            self._answer(s, state, day, date, evening)
        return evening

    # -- the day's records ------------------------------------------------------------------------

    def _add_employers(
        self, s: Session, state: _State, indices: list[int], at: dt.datetime
    ) -> None:
        new = list(dict.fromkeys(i for i in indices if i not in state.employer_ids))
        if not new:
            return
        ids = bulk.add_employers(
            s,
            state.study_id,
            [
                {
                    "name": f"Werkgever {index + 1:06d}",
                    "sector": SECTORS[index % len(SECTORS)],
                    "contact_name": f"Leidinggevende {index + 1:06d}",
                    "contact_email": f"hr{index + 1:06d}@werkgever.example",
                }
                for index in new
            ],
            actor=self.p.actor,
            at=at,
        )
        state.employer_ids.update(zip(new, ids, strict=True))

    def _start_trajectories(
        self, s: Session, state: _State, day: int, date: dt.date, at: dt.datetime
    ) -> None:
        t, p, coach = self.truth.trajectories, self.p, self.truth.coaches
        rows = [
            int(row)
            for row in self.starts.get(day, ())
            if int(t.participant[int(row)]) not in state.withdrawn
        ]
        if not rows:
            return
        persons = list(
            dict.fromkeys(
                int(t.participant[row])
                for row in rows
                if int(t.participant[row]) not in state.participant_ids
            )
        )
        first_row = {}
        for row in rows:
            first_row.setdefault(int(t.participant[row]), row)
        if persons:
            enrolments = []
            for person in persons:
                row, code = first_row[person], f"P{person + 1:06d}"
                enrolments.append(
                    {
                        "study_code": code,
                        "birth_year": int(t.birth_year[row]),
                        "gender": str(t.gender[row]),
                        "benefit": str(t.benefit[row]),
                        "doelgroepregister": bool(t.doelgroepregister[row]),
                        "email": f"{code.lower()}@deelnemer.example",
                    }
                )
            ids = bulk.enrol_participants(s, state.study_id, enrolments, actor=p.actor, at=at)
            state.participant_ids.update(zip(persons, ids, strict=True))
        self._add_employers(s, state, [int(t.employer[row]) for row in rows], at)
        entries = []
        for row in rows:
            c = int(t.coach[row])
            entries.append(
                {
                    "participant_id": state.participant_ids[int(t.participant[row])],
                    "jobcoach_id": state.coach_ids[c],
                    "employer_id": state.employer_ids[int(t.employer[row])],
                    "start_date": date,
                    "funder": str(t.funder[row]),
                    "employment_form": str(t.employment_form[row]),
                    "contract_hours": float(t.contract_hours[row]),
                    "loonwaarde": float(t.loonwaarde[row]),
                    "maatje": bool(t.maatje[row]),
                    "method": str(coach.method[c]),
                    "coach_type": "external" if coach.external[c] else "internal",
                }
            )
        trajectory_ids = bulk.start_trajectories(s, state.study_id, entries, actor=p.actor, at=at)
        starts: list[tuple[int, dict[str, Any]]] = []
        for row, trajectory_id in zip(rows, trajectory_ids, strict=True):
            state.trajectory_ids[row] = trajectory_id
            state.row_of[trajectory_id] = row
            starts.append(
                (
                    trajectory_id,
                    {
                        "event_date": date,
                        "kind": "job_start",
                        "hours": float(t.contract_hours[row]),
                    },
                )
            )
        bulk.record_employment_events(s, state.study_id, starts, actor=p.actor, at=at)

    def _active(self, state: _State, row: int, day: int) -> int | None:
        """The trajectory id of ``row`` if records can still be made for it on ``day``."""
        trajectory_id = state.trajectory_ids.get(row)
        if trajectory_id is None or day >= self.withdraw_day[row]:
            return None
        return trajectory_id

    def _log_contacts(
        self, s: Session, state: _State, day: int, date: dt.date, at: dt.datetime
    ) -> None:
        c = self.truth.contacts
        entries = []
        for k in self.contacts.get(day, ()):
            trajectory_id = self._active(state, int(c.trajectory[k]), day)
            if trajectory_id is None:
                continue
            entries.append(
                (
                    trajectory_id,
                    {
                        "contact_date": date,
                        "minutes": int(c.minutes[k]),
                        "mode": str(c.mode[k]),
                        "with_whom": str(c.with_whom[k]),
                        "activity": str(c.activity[k]),
                    },
                )
            )
        if entries:
            bulk.record_contacts(s, state.study_id, entries, actor=self.p.actor, at=at)

    def _log_events(
        self, s: Session, state: _State, day: int, date: dt.date, at: dt.datetime
    ) -> None:
        t, sick = self.truth.trajectories, self.truth.sick_leave
        entries: list[tuple[int, dict[str, Any]]] = []

        def add(row: int, data: dict[str, Any]) -> None:
            trajectory_id = self._active(state, row, day)
            if trajectory_id is not None:
                entries.append((trajectory_id, {"event_date": date, **data}))

        for k in self.sick_starts.get(day, ()):
            add(int(sick.trajectory[k]), {"kind": "sick_leave_start"})
        for k in self.sick_ends.get(day, ()):
            add(int(sick.trajectory[k]), {"kind": "sick_leave_end"})
        for row in self.steps.get(day, ()):
            row = int(row)
            if t.step_kind[row] == "hours_change":
                add(row, {"kind": "hours_change", "hours": float(t.step_hours[row])})
            else:
                add(row, {"kind": "department_change"})
        for row in self.ends.get(day, ()):
            row = int(row)
            if t.end_reason[row] == "job_loss":
                add(row, {"kind": "job_end", "job_end_reason": str(t.job_end_reason[row])})
        if entries:
            bulk.record_employment_events(s, state.study_id, entries, actor=self.p.actor, at=at)

    def _end_trajectories(
        self, s: Session, state: _State, day: int, date: dt.date, at: dt.datetime
    ) -> None:
        t = self.truth.trajectories
        entries: list[tuple[int, dict[str, Any]]] = []
        for row in self.ends.get(day, ()):
            trajectory_id = self._active(state, int(row), day)
            if trajectory_id is not None:
                entries.append(
                    (trajectory_id, {"end_date": date, "end_reason": str(t.end_reason[int(row)])})
                )
        if entries:
            bulk.end_trajectories(s, state.study_id, entries, actor=self.p.actor, at=at)

    def _withdraw(self, s: Session, state: _State, day: int, at: dt.datetime) -> None:
        t = self.truth.trajectories
        for row in self.withdrawals.get(day, ()):
            person = int(t.participant[int(row)])
            participant_id = state.participant_ids.get(person)
            if participant_id is None or person in state.withdrawn:
                continue
            services.withdraw_consent(
                s,
                state.study_id,
                participant_id,
                reason="wil niet meer meedoen",
                actor=self.p.actor,
                at=at,
            )
            state.withdrawn.add(person)

    # -- answering -----------------------------------------------------------------------------

    def _plan_answers(
        self, s: Session, state: _State, day: int, date: dt.date, as_of: dt.datetime
    ) -> None:
        """Decide, for every invitation this tick opened, whether and when it is answered."""
        t = self.truth.trajectories
        opened = s.execute(
            select(
                Invitation.id,
                Invitation.trajectory_id,
                Invitation.wave_index,
                Invitation.respondent,
                Invitation.opens_on,
                Invitation.closes_on,
            )
            .where(
                Invitation.status == InvitationStatus.OPEN,
                Invitation.opens_on <= date,
                Invitation.opens_on > date - dt.timedelta(days=60),
                Invitation.opened_at == as_of,
            )
            .order_by(Invitation.id)
        ).all()
        for inv_id, trajectory_id, wave_index, respondent, opens_on, closes_on in opened:
            row = state.row_of.get(trajectory_id)
            if row is None:
                continue
            r = RESPONDENTS.index(
                str(respondent.value if hasattr(respondent, "value") else respondent)
            )
            w = min(int(wave_index), truth_mod.MAX_WAVES - 1)
            due_day = (opens_on - self.p.start_date).days
            probability = truth_mod.response_probability(
                self.p,
                self.intercepts,
                RESPONDENTS[r],
                klik=float(t.klik[row]),
                wave_index=int(wave_index),
                job_lost=self._job_lost(row, due_day),
            )
            if t.response_u[row, w, r] >= probability:
                continue
            window = (closes_on - opens_on).days + 1
            delay = truth_mod.response_delay_days(
                self.p, float(t.response_delay[row, w, r]), window
            )
            answer_day = max(day, (opens_on - self.p.start_date).days + delay)
            answer_day = min(answer_day, (closes_on - self.p.start_date).days)
            state.answers_due[answer_day].append(
                _Pending(inv_id, row, int(wave_index), RESPONDENTS[r])
            )

    def _job_lost(self, row: int, day: int) -> bool:
        t = self.truth.trajectories
        return bool(t.end_reason[row] == "job_loss" and day >= self.end_day[row])

    def respondent_state(
        self, row: int, day: int, wave_index: int, respondent: str
    ) -> RespondentState:
        """What the respondent of trajectory ``row`` reports on study day ``day``."""
        t, p = self.truth.trajectories, self.p
        since = day - int(t.start_offset[row])
        lost = self._job_lost(row, day)
        stepped = bool(t.step[row] < min(since, t.end[row]))
        hours = (
            float(t.step_hours[row])
            if stepped and t.step_kind[row] == "hours_change"
            else float(t.contract_hours[row])
        )
        sick = self.truth.sick_leave
        lo, hi = self.sick_bounds[row], self.sick_bounds[row + 1]
        sick_days = 0
        for k in range(lo, hi):
            a, b = max(int(sick.start[k]), since - 28), min(int(sick.end[k]), since)
            sick_days += max(0, b - a)
        c = self.truth.contacts
        lo, hi = self.contact_bounds[row], self.contact_bounds[row + 1]
        recent = c.day[lo:hi] > since - 92
        activities = frozenset(str(a) for a in c.activity[lo:hi][recent & (c.day[lo:hi] <= since)])
        changed = 2 if stepped and t.step_kind[row] == "department_change" else 0
        star = truth_mod.capability_star(
            p, t, self.truth.coaches.u_capability, row, wave_index, max(since, 0) / 365.25, lost
        )
        return RespondentState(
            klik=float(t.klik[row]),
            match=float(t.match[row]),
            wellbeing=float(t.wellbeing[row]) - (0.8 if lost else 0.0),
            satisfaction=float(0.6 * t.match[row] + 0.4 * t.intensity[row]),
            capability_count=truth_mod.capability_count(star),
            employed=not lost,
            hours=0.0 if lost else hours,
            sick_days=min(sick_days, 28),
            coached=bool(since < t.end[row]),
            changed=changed,
            activities=activities,
        )

    def _answer(self, s: Session, state: _State, day: int, date: dt.date, at: dt.datetime) -> None:
        t = self.truth.trajectories
        pending = []
        for item in state.answers_due.pop(day, []):
            if int(t.participant[item.row]) in state.withdrawn:
                state.skipped += 1
            else:
                pending.append(item)
        if not pending:
            return
        ids = sorted({item.invitation_id for item in pending})
        invitations = {}
        for i in range(0, len(ids), 5000):
            rows = s.execute(
                select(
                    Invitation.id,
                    Invitation.status,
                    Invitation.opens_on,
                    Invitation.closes_on,
                    Invitation.instrument_id,
                ).where(Invitation.id.in_(ids[i : i + 5000]))
            ).all()
            invitations.update({row.id: row for row in rows})
        items = []
        for item in pending:
            invitation = invitations.get(item.invitation_id)
            # a form that closed, was cancelled or was answered already is not answered again
            if (
                invitation is None
                or invitation.status != InvitationStatus.OPEN
                or not is_answerable(invitation, at)  # type: ignore[arg-type]
            ):
                state.skipped += 1
                continue
            respondent_state = self.respondent_state(
                item.row, day, item.wave_index, item.respondent
            )
            r = RESPONDENTS.index(item.respondent)
            rng = np.random.default_rng([self.p.seed, item.row, item.wave_index, r])
            instrument = self.instruments[invitation.instrument_id]
            items.append(
                Submission(
                    invitation_id=item.invitation_id,
                    answers=answer(instrument, respondent_state, rng),
                    submission_id=f"sim-{self.p.seed}-{item.invitation_id}",
                    actor=f"{item.respondent}:link",
                )
            )
        if items:
            submit_many(s, items, instruments=self.instruments, actor=self.p.actor, at=at)

    # -- summary ---------------------------------------------------------------------------------

    def counts(self, study_id: int) -> dict[str, int]:
        """Row counts of what the simulation wrote for ``study_id``."""
        with self.sessions() as s:
            traj = select(Trajectory.id).where(Trajectory.study_id == study_id)
            inv = select(Invitation.id).where(Invitation.study_id == study_id)
            return {
                "trajectories": s.scalar(select(func.count()).select_from(traj.subquery())) or 0,
                "contacts": s.scalar(
                    select(func.count(CoachingContact.id)).where(
                        CoachingContact.trajectory_id.in_(traj)
                    )
                )
                or 0,
                "employment_events": s.scalar(
                    select(func.count(EmploymentEvent.id)).where(
                        EmploymentEvent.trajectory_id.in_(traj)
                    )
                )
                or 0,
                "invitations": s.scalar(select(func.count()).select_from(inv.subquery())) or 0,
                "responses": s.scalar(
                    select(func.count(Response.id)).where(Response.invitation_id.in_(inv))
                )
                or 0,
                "mails": s.scalar(
                    select(func.count(Outbox.id)).where(Outbox.invitation_id.in_(inv))
                )
                or 0,
            }


def build(
    sessions: sessionmaker[Session],
    params: SimulationParams,
    *,
    clock: SimulatedClock,
    secret_key: str,
    instruments: Mapping[str, Instrument] | None = None,
    deliver: Callable[[dt.datetime], Any] | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Simulate the cohort of ``params`` into the (migrated, empty of this study) database.

    Parameters
    ----------
    sessions
        Writing session factory; each simulated day is one transaction.
    params
        The cohort's parameters (and seed).
    clock
        Set to each simulated moment; services, tick and submit receive its time.
    secret_key
        The server's secret key, for the invitation tokens the tick gives out.
    instruments
        Instruments by id (latest versions); the built-in set when omitted.
    deliver
        Called after each day's transaction with the moment, to send pending mail (e.g.
        ``lambda now: send_pending(sessions, settings=settings, clock=clock)``).
    progress
        Called with (days done, days in total) after each day.
    """
    simulation = Simulation(
        sessions,
        params,
        clock=clock,
        secret_key=secret_key,
        instruments=instruments,
        deliver=deliver,
    )
    return simulation.run(progress)
