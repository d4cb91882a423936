"""The scheduler tick over a small cohort through 13 simulated months, with exact counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select, update

from study import services
from study.mail.sender import FileTransport, send_pending
from study.models import Invitation, Outbox, Trajectory
from study.vocab import InvitationStatus, OutboxStatus, Respondent
from tests import factory
from tests.study.scheduling_support import run_days, settings_for, total

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LAST_DAY = dt.date(2027, 2, 5)


def _cohort(s, at):
    """Four trajectories a week apart (5, 12, 19, 26 January 2026); B's employee has no e-mail."""
    study = factory.add_study(s, at)
    coach = factory.add_coach(s, study.id, at, "JC01")
    ids = {}
    for i, name in enumerate("ABCD"):
        employer = factory.add_employer(s, study.id, at, f"Werkgever {name}")
        extra = {"email": None} if name == "B" else {}
        participant = factory.enrol(s, study.id, at, f"P{name}", **extra)
        trajectory = factory.start(
            s,
            study.id,
            at,
            participant.id,
            coach.id,
            employer.id,
            dt.date(2026, 1, 5) + dt.timedelta(days=7 * i),
        )
        ids[name] = (trajectory.id, participant.id)
    return study.id, ids


def test_thirteen_months_of_a_small_cohort(any_db, clock, tmp_path: Path):
    db = any_db
    settings = settings_for(tmp_path)
    with db.sessions.begin() as s:
        study_id, ids = _cohort(s, clock.now())
    a_traj, _ = ids["A"]
    c_traj, c_participant = ids["C"]
    d_traj, _ = ids["D"]
    withdrawn_at: list[dt.datetime] = []

    def before_tick(day: dt.date) -> None:
        with db.sessions.begin() as s:
            if day == dt.date(2026, 4, 14):
                # A's employee fills in T1 after the first reminder (12 April), before the second.
                s.execute(
                    update(Invitation)
                    .where(
                        Invitation.trajectory_id == a_traj,
                        Invitation.wave_code == "T1",
                        Invitation.respondent == Respondent.EMPLOYEE,
                    )
                    .values(status=InvitationStatus.COMPLETED, completed_at=clock.now())
                )
            if day == dt.date(2026, 5, 15):
                services.end_trajectory(
                    s,
                    study_id,
                    d_traj,
                    {"end_date": day, "end_reason": "job_loss"},
                    actor="test",
                    at=clock.now(),
                )
            if day == dt.date(2026, 6, 1):
                services.withdraw_consent(
                    s, study_id, c_participant, reason=None, actor="test", at=clock.now()
                )
                withdrawn_at.append(clock.now())

    def after_tick(day: dt.date) -> None:
        send_pending(
            db.sessions,
            settings=settings,
            clock=clock,
            transport=FileTransport(settings.mail_dir),
        )

    reports = run_days(db.sessions, clock, LAST_DAY, before_tick=before_tick, after_tick=after_tick)

    # Default protocol: T0 (day 0), T1 (3 m), T2 (6 m), T3/T4/T5 (12/18/24 m, only while the
    # trajectory lasts), FU (6 m after the end); three respondents each; the window opens 7 days
    # before the due date (T0: on it), reminders 7 and 14 days after it, closed after 28 days.
    #
    # A (start 5 Jan): T0, T1, T2, T3 (due 5 Jan 2027, closes 2 Feb) open, remind twice, are
    #   missed; except A's employee T1, completed after one reminder. 12 opened, 23 reminders,
    #   11 missed.
    # B (start 12 Jan): T0-T2 as A; T3 due 12 Jan 2027 opens 5 Jan, reminders 19 and 26 Jan, still
    #   open on 5 Feb. 12 opened, 24 reminders, 9 missed.
    # C (start 19 Jan): withdraws on 1 June, after T1 closed (17 May): T0 and T1 only; T2-T5
    #   (12 invitations) are cancelled by the withdrawal. 6 opened, 12 reminders, 6 missed.
    # D (start 26 Jan): ends 15 May. T0-T2 go (not tied to an active trajectory); T3-T5 are
    #   cancelled (9); FU due 15 Nov opens, reminds, is missed 14 Dec. 12 opened, 24 reminders,
    #   12 missed.
    assert total(reports, "created") == 4 * 6 * 3 + 3
    assert total(reports, "opened") == 12 + 12 + 6 + 12
    assert total(reports, "reminders") == 23 + 24 + 12 + 24
    assert total(reports, "missed") == 11 + 9 + 6 + 12
    assert total(reports, "cancelled") == 9  # the tick's; the withdrawal cancelled 12 itself
    assert total(reports, "mails") == 42 + 83
    # B's employee has no address: 4 invitations and 8 reminders cannot go out.
    assert total(reports, "mails_without_address") == 4 + 8

    with db.sessions.begin() as s:
        statuses = dict(
            s.execute(select(Invitation.status, func.count()).group_by(Invitation.status)).all()
        )
        assert statuses == {
            InvitationStatus.COMPLETED: 1,
            InvitationStatus.MISSED: 38,
            InvitationStatus.CANCELLED: 21,
            InvitationStatus.OPEN: 3,  # B's T3
            InvitationStatus.SCHEDULED: 12,  # T4 and T5 of A and B
        }
        mail = dict(s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
        assert mail == {OutboxStatus.SENT: 125 - 12, OutboxStatus.FAILED: 12}
        # Nothing went to C after the withdrawal.
        after = s.scalar(
            select(func.count())
            .select_from(Outbox)
            .join(Invitation, Invitation.id == Outbox.invitation_id)
            .where(Invitation.trajectory_id == c_traj, Outbox.created_at >= withdrawn_at[0])
        )
        assert after == 0
        d_end = s.get(Trajectory, d_traj).end_date
        fu = s.scalars(
            select(Invitation).where(
                Invitation.trajectory_id == d_traj, Invitation.wave_code == "FU"
            )
        ).all()
        assert {i.due_on for i in fu} == {dt.date(2026, 11, 15)} and d_end == dt.date(2026, 5, 15)
    assert len(list(settings.mail_dir.glob("*.eml"))) == 125 - 12


def test_a_second_tick_on_the_same_day_does_nothing(db, clock):
    with db.sessions.begin() as s:
        factory.build_cohort(s, clock.now(), n_trajectories=3, spacing_days=0)
    from tests.study.scheduling_support import tick_at

    first = tick_at(db.sessions, clock.now())
    again = tick_at(db.sessions, clock.now() + dt.timedelta(hours=3))
    assert (first.created, first.opened, first.mails) == (3 * 6 * 3, 3 * 3, 3 * 3)
    assert (again.created, again.opened, again.reminders, again.mails) == (0, 0, 0, 0)


def test_withdrawal_stops_all_mail_at_once(db, clock, tmp_path):
    """Mail queued but not yet delivered is not sent after the withdrawal."""
    from tests.study.scheduling_support import tick_at

    settings = settings_for(tmp_path)
    with db.sessions.begin() as s:
        cohort = factory.build_cohort(s, clock.now(), n_trajectories=2, spacing_days=0)
    tick_at(db.sessions, clock.now())  # T0 of both opens, 6 mails queued, none delivered yet
    with db.sessions.begin() as s:
        services.withdraw_consent(
            s, cohort.study_id, cohort.participant_ids[0], reason="", actor="t", at=clock.now()
        )
    report = send_pending(
        db.sessions, settings=settings, clock=clock, transport=FileTransport(settings.mail_dir)
    )
    assert (report.sent, report.cancelled) == (3, 0)
    for _ in range(60):  # two more months: only the other trajectory gets mail
        clock.advance(dt.timedelta(days=1))
        tick_at(db.sessions, clock.now())
    with db.sessions.begin() as s:
        withdrawn = s.scalar(
            select(func.count())
            .select_from(Outbox)
            .join(Invitation, Invitation.id == Outbox.invitation_id)
            .where(
                Invitation.trajectory_id == cohort.trajectory_ids[0],
                Outbox.status != OutboxStatus.CANCELLED,
            )
        )
        other = s.scalar(
            select(func.count())
            .select_from(Outbox)
            .join(Invitation, Invitation.id == Outbox.invitation_id)
            .where(Invitation.trajectory_id == cohort.trajectory_ids[1])
        )
    assert withdrawn == 0
    assert other == 3 * (1 + 2)  # T0 invitation and two reminders, three respondents
