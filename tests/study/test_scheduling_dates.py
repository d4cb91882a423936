"""Due dates: calendar months with the end-of-month clamp, in SQL as in Python, and DST-proof."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, bindparam, func, select

from study.clock import AMSTERDAM, local_date
from study.mail.sender import FileTransport, send_pending
from study.models import Invitation, Outbox, Trajectory
from study.protocol import default_waves
from study.scheduling.plan import add_months, plan_trajectory, wave_dates
from study.sqldates import add_days
from study.sqldates import add_months as sql_add_months
from tests import factory
from tests.study.scheduling_support import settings_for, tick_at


def test_calendar_months_clamp_to_the_end_of_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 3, 29), 6) == dt.date(2026, 9, 29)


def test_the_database_computes_the_same_dates_as_python(any_db):
    """Every day of 2027-2028 (a leap year, month ends, DST Sundays) and every offset in use."""
    days = [dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(731)]
    offsets = [0, 1, 3, 6, 12, 18, 24]
    d = bindparam("d", type_=Date())
    n = bindparam("n")
    shifted = select(sql_add_months(d, n), add_days(d, -n))
    with any_db.engine.connect() as c:
        for day in days:
            for months in offsets:
                got_months, got_days = c.execute(shifted, {"d": day, "n": months}).one()
                assert got_months == add_months(day, months), (day, months)
                assert got_days == day - dt.timedelta(days=months), (day, months)


def test_waves_requiring_an_active_trajectory_stop_at_its_end():
    waves = default_waves()
    t3 = next(w for w in waves if w.code == "T3")
    assert wave_dates(t3, dt.date(2026, 1, 5)) is not None
    assert wave_dates(t3, dt.date(2026, 1, 5), end_date=dt.date(2026, 12, 31)) is None
    assert wave_dates(t3, dt.date(2026, 1, 5), end_date=dt.date(2027, 1, 5)) is not None
    codes = {p.wave_code for p in plan_trajectory(waves, dt.date(2026, 1, 5), dt.date(2026, 7, 1))}
    assert codes == {"T0", "T1", "T2", "FU"}


MONTH = dt.timedelta(days=30)


def test_trajectories_around_the_dst_sundays_open_once_on_their_local_day(db, tmp_path):
    """Hourly ticks through both DST weekends of 2026 (29 March, 25 October): each invitation opens
    once, on the Amsterdam calendar day it is due, and gets exactly one invitation mail."""
    at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    starts = [
        dt.date(2026, 3, 28),
        dt.date(2026, 3, 29),
        dt.date(2026, 3, 30),
        dt.date(2026, 10, 24),
        dt.date(2026, 10, 25),
        dt.date(2026, 10, 26),
    ]
    with db.sessions.begin() as s:
        study = factory.add_study(s, at)
        coach = factory.add_coach(s, study.id, at, "JC01")
        for i, start in enumerate(starts):
            employer = factory.add_employer(s, study.id, at, f"W{i}")
            person = factory.enrol(s, study.id, at, f"P{i}")
            # entered a month before it starts: the services refuse a start further ahead
            entered = max(at, dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC) - MONTH)
            factory.start(s, study.id, entered, person.id, coach.id, employer.id, start)
    settings = settings_for(tmp_path)
    opened_on: dict[int, dt.date] = {}
    for first, last in [
        (dt.datetime(2026, 3, 27, 20, tzinfo=dt.UTC), dt.datetime(2026, 3, 31, 3, tzinfo=dt.UTC)),
        (dt.datetime(2026, 10, 23, 20, tzinfo=dt.UTC), dt.datetime(2026, 10, 27, 3, tzinfo=dt.UTC)),
    ]:
        moment = first
        while moment <= last:
            # every half hour, so that the repeated hour of October is ticked twice
            tick_at(db.sessions, moment)
            with db.sessions.begin() as s:
                for inv_id, opened_at in s.execute(
                    select(Invitation.id, Invitation.opened_at).where(
                        Invitation.opened_at.is_not(None)
                    )
                ):
                    opened_on.setdefault(inv_id, local_date(opened_at))
            moment += dt.timedelta(minutes=30)
    with db.sessions.begin() as s:
        rows = s.execute(
            select(
                Invitation.id,
                Invitation.wave_code,
                Invitation.due_on,
                Invitation.opens_on,
                Invitation.closes_on,
                Trajectory.start_date,
            ).join(Trajectory, Trajectory.id == Invitation.trajectory_id)
        ).all()
        waves = default_waves()
        for row in rows:
            planned = {p.wave_code: p.dates for p in plan_trajectory(waves, row.start_date)}
            assert (row.due_on, row.opens_on, row.closes_on) == (
                planned[row.wave_code].due_on,
                planned[row.wave_code].opens_on,
                planned[row.wave_code].closes_on,
            )
        t0 = {r.id: r.start_date for r in rows if r.wave_code == "T0"}
        # T0 opens on the start day; every T0 of the six trajectories did so in Amsterdam time
        assert {opened_on[i] for i in t0} == set(starts)
        assert all(opened_on[i] == start for i, start in t0.items())
        # one T0 invitation per trajectory and respondent, and one invitation mail each; (the
        # March trajectories' T2, due late September, opens late on the first October tick)
        assert len(t0) == 6 * 3
        per_invitation = dict(
            s.execute(
                select(Outbox.invitation_id, func.count())
                .where(Outbox.kind == "invitation")
                .group_by(Outbox.invitation_id)
            ).all()
        )
        assert set(per_invitation.values()) == {1}
        assert set(per_invitation) == set(opened_on)
        assert set(t0) <= set(per_invitation)
        late_t2 = [r for r in rows if r.wave_code == "T2" and r.start_date.month == 3]
        assert {opened_on[r.id] for r in late_t2} == {dt.date(2026, 10, 23)}
        pending = s.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
        )
    report = send_pending(
        db.sessions, settings=settings, clock=_Fixed(last), transport=FileTransport(tmp_path)
    )
    assert report.sent == pending >= 3 * 3


def test_a_local_midnight_tick_belongs_to_the_new_day(db):
    """23:30 UTC on 28 March 2026 is already 29 March in Amsterdam (and 01:30 after the switch)."""
    at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    with db.sessions.begin() as s:
        factory.build_cohort(s, at, n_trajectories=1, first_start=dt.date(2026, 3, 29))
    before = tick_at(db.sessions, dt.datetime(2026, 3, 28, 22, 59, tzinfo=dt.UTC))
    after = tick_at(db.sessions, dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC))
    assert before.day == dt.date(2026, 3, 28) and before.opened == 0
    assert after.day == dt.date(2026, 3, 29) and after.opened == 3
    assert dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC).astimezone(AMSTERDAM).hour == 0


class _Fixed:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment
