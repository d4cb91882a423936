"""Deleting contacts and events (kept, marked, audited) and undoing a trajectory's end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from study import services
from study.errors import Conflict, ConsentWithdrawn, InvalidInput, NotFound
from study.models import AuditEvent, EmploymentEvent, Invitation, Trajectory
from study.scheduling.tick import tick
from study.vocab import InvitationStatus
from tests import factory

D = dt.date
SECRET = "s" * 64


@pytest.fixture
def cohort(any_db, clock):
    with any_db.sessions.begin() as s:
        return factory.build_cohort(s, clock.now(), n_trajectories=2, n_coaches=1, first_start=D(2025, 6, 2))  # fmt: skip


def _event(db, clock, cohort, kind, day):
    with db.sessions.begin() as s:
        return services.record_employment_event(
            s, cohort.study_id, cohort.trajectory_ids[0], {"event_date": day, "kind": kind},
            actor="c", at=clock.now(),
        ).id  # fmt: skip


def test_deleting_the_start_of_a_recorded_sick_leave_is_refused(any_db, clock, cohort):
    start = _event(any_db, clock, cohort, "sick_leave_start", D(2025, 10, 1))
    end = _event(any_db, clock, cohort, "sick_leave_end", D(2025, 10, 20))
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.delete_entry(s, cohort.study_id, "employment_event", start, reason="fout", actor="c", at=clock.now())  # fmt: skip
    with any_db.sessions.begin() as s:
        services.delete_entry(s, cohort.study_id, "employment_event", end, reason="fout", actor="c", at=clock.now())  # fmt: skip
        services.delete_entry(s, cohort.study_id, "employment_event", start, reason="fout", actor="c", at=clock.now())  # fmt: skip
    with any_db.read_sessions() as s:
        assert all(e.deleted_at is not None for e in s.scalars(select(EmploymentEvent)))
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).all()) == 2
    # a deleted end no longer closes anything: a new end without a start is refused again
    with pytest.raises(InvalidInput):
        _event(any_db, clock, cohort, "sick_leave_end", D(2025, 11, 1))


def test_delete_of_another_studys_or_a_missing_entry_is_refused(any_db, clock, cohort):
    eid = _event(any_db, clock, cohort, "department_change", D(2025, 10, 1))
    with any_db.sessions.begin() as s:
        other = factory.add_study(s, clock.now(), "S2").id
    for study_id, entity, entry in ((other, "employment_event", eid), (cohort.study_id, "employment_event", 999), (cohort.study_id, "participant", 1)):  # fmt: skip
        with pytest.raises(NotFound), any_db.sessions.begin() as s:
            services.delete_entry(s, study_id, entity, entry, reason="x", actor="c", at=clock.now())


def test_reopen_plans_cancelled_forms_again(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    now = clock.now()
    with any_db.sessions.begin() as s:
        tick(s, as_of=now, secret_key=SECRET)
        services.end_trajectory(s, cohort.study_id, tid, {"end_date": D(2025, 12, 1), "end_reason": "dropout"}, actor="c", at=now)  # fmt: skip
    with any_db.sessions.begin() as s:
        tick(s, as_of=now, secret_key=SECRET)
    with any_db.read_sessions() as s:
        cancelled = s.scalars(select(Invitation.id).where(Invitation.trajectory_id == tid, Invitation.status == InvitationStatus.CANCELLED)).all()  # fmt: skip
    assert cancelled
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.reopen_trajectory(s, cohort.study_id, tid, reason="", actor="r", at=now)
    with any_db.sessions.begin() as s:
        services.reopen_trajectory(s, cohort.study_id, tid, reason="per ongeluk", actor="r", at=now)
    with any_db.sessions.begin() as s:
        tick(s, as_of=now, secret_key=SECRET)
    with any_db.read_sessions() as s:
        statuses = {s.get_one(Invitation, i).status for i in cancelled}
        assert s.get_one(Trajectory, tid).end_date is None
    assert InvitationStatus.CANCELLED not in statuses
    with pytest.raises(Conflict), any_db.sessions.begin() as s:
        services.reopen_trajectory(s, cohort.study_id, tid, reason="nogmaals", actor="r", at=now)


def test_reopen_refused_after_withdrawal(any_db, clock, cohort):
    tid, pid = cohort.trajectory_ids[0], cohort.participant_ids[0]
    now = clock.now()
    with any_db.sessions.begin() as s:
        services.end_trajectory(s, cohort.study_id, tid, {"end_date": D(2025, 12, 1), "end_reason": "dropout"}, actor="c", at=now)  # fmt: skip
        services.withdraw_consent(s, cohort.study_id, pid, reason=None, actor="c", at=now)
    with pytest.raises(ConsentWithdrawn), any_db.sessions.begin() as s:
        services.reopen_trajectory(s, cohort.study_id, tid, reason="fout", actor="r", at=now)
