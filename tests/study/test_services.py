"""The services: normal paths, every refusal, rollback, audit rows; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from study import services
from study.errors import Conflict, ConsentWithdrawn, InvalidInput, KlikError, NotFound
from study.models import (
    AuditEvent,
    CoachingContact,
    Consent,
    EmploymentEvent,
    Participant,
    ParticipantIdentity,
    Trajectory,
)
from tests import factory

D = dt.date


def counts(database) -> dict[str, int]:
    """Row counts of every table, to show a refused call changed nothing."""
    from study.models import Base

    with database.read_sessions() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def cohort(any_db, clock):
    with any_db.sessions.begin() as s:
        built = factory.build_cohort(s, clock.now(), n_trajectories=3, n_coaches=2)
    # the tests log contacts and events of the months after the start, so they are entered
    # later (no date may lie after the day it is entered)
    clock.set(dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC))
    return built


def refused(database, call, error=KlikError):
    """Run ``call(session)`` in a transaction; assert it raises ``error`` and changes nothing."""
    before = counts(database)
    with pytest.raises(error) as info, database.sessions.begin() as s:
        call(s)
    assert counts(database) == before
    assert info.value.message("nl") and info.value.message("en")
    assert info.value.message("nl") != info.value.message("en")
    return info.value


def test_enrol_writes_participant_identity_consent_and_audit(any_db, clock):
    with any_db.sessions.begin() as s:
        study = factory.add_study(s, clock.now())
        p = factory.enrol(s, study.id, clock.now(), "P0001", email="a@b.nl", name="Anna")
        pid = p.id
    with any_db.read_sessions() as s:
        participant = s.get(Participant, pid)
        assert participant.study_code == "P0001" and participant.birth_year == 2000
        assert not hasattr(participant, "email")
        identity = s.get(ParticipantIdentity, pid)
        assert (identity.email, identity.name) == ("a@b.nl", "Anna")
        consent = s.scalars(select(Consent).where(Consent.participant_id == pid)).one()
        assert consent.withdrawn_at is None and consent.version == "1.0"
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "participant", AuditEvent.entity_id == pid
            )
        ).one()
        assert event.action == "enrol" and event.actor == "test"
        assert event.at == clock.now()
        assert event.new_values["study_code"] == "P0001"
        assert "a@b.nl" not in str(event.new_values)


def test_duplicate_study_code_is_refused(any_db, clock, cohort):
    err = refused(
        any_db, lambda s: factory.enrol(s, cohort.study_id, clock.now(), "P0001"), Conflict
    )
    assert "P0001" in err.message("nl") and "al in gebruik" in err.message("nl")


def test_trajectory_ending_before_start_is_refused(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    err = refused(
        any_db,
        lambda s: services.end_trajectory(
            s,
            cohort.study_id,
            tid,
            {"end_date": D(2025, 12, 1), "end_reason": "job_loss"},
            actor="test",
            at=clock.now(),
        ),
        InvalidInput,
    )
    assert "vóór de startdatum" in err.message("nl")


def test_end_trajectory_records_reason_and_old_values(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    with any_db.sessions.begin() as s:
        services.end_trajectory(
            s,
            cohort.study_id,
            tid,
            {"end_date": D(2026, 6, 1), "end_reason": "job_loss"},
            actor="coach",
            at=clock.now(),
        )
    with any_db.read_sessions() as s:
        t = s.get(Trajectory, tid)
        assert (t.end_date, t.end_reason.value) == (D(2026, 6, 1), "job_loss")
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "end")).one()
        assert ev.old_values == {"end_date": None, "end_reason": None}
        assert ev.new_values == {"end_date": "2026-06-01", "end_reason": "job_loss"}
    refused(
        any_db,
        lambda s: services.end_trajectory(
            s,
            cohort.study_id,
            tid,
            {"end_date": D(2026, 7, 1), "end_reason": "other"},
            actor="coach",
            at=clock.now(),
        ),
        Conflict,
    )


def test_negative_minutes_are_refused(any_db, clock, cohort):
    data = {
        "contact_date": D(2026, 1, 20),
        "minutes": -5,
        "mode": "phone",
        "with_whom": "employee",
        "activity": "self_reliance",
    }
    err = refused(
        any_db,
        lambda s: services.record_contact(
            s, cohort.study_id, cohort.trajectory_ids[0], data, actor="c", at=clock.now()
        ),
        InvalidInput,
    )
    assert err.message("nl") == "minuten moet meer dan 0 zijn"
    assert err.message("en") == "minutes must be more than 0"


def test_contact_and_event_are_recorded_with_audit(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    with any_db.sessions.begin() as s:
        services.record_contact(
            s,
            cohort.study_id,
            tid,
            {
                "contact_date": D(2026, 1, 20),
                "minutes": 45,
                "mode": "on_site",
                "with_whom": "supervisor",
                "activity": "supervisor_communication",
            },
            actor="coach",
            at=clock.now(),
        )
        services.record_employment_event(
            s,
            cohort.study_id,
            tid,
            {"event_date": D(2026, 3, 1), "kind": "hours_change", "hours": 28},
            actor="coach",
            at=clock.now(),
        )
    with any_db.read_sessions() as s:
        assert s.scalar(select(CoachingContact.minutes)) == 45
        assert s.scalar(select(EmploymentEvent.hours)) == 28
        actions = s.scalars(select(AuditEvent.entity).where(AuditEvent.actor == "coach")).all()
        assert sorted(actions) == ["coaching_contact", "employment_event"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"event_date": D(2026, 3, 1), "kind": "job_end"}, "job_end_reason"),
        ({"event_date": D(2026, 3, 1), "kind": "hours_change"}, "hours"),
        (
            {"event_date": D(2026, 3, 1), "kind": "sick_leave_start", "job_end_reason": "health"},
            "job_end_reason",
        ),
        ({"event_date": D(2025, 3, 1), "kind": "sick_leave_start"}, "event_date"),
        ({"event_date": D(2026, 3, 1), "kind": "hours_change", "hours": 80}, "hours"),
        ({"event_date": D(2026, 3, 1), "kind": "promotion"}, "kind"),
    ],
)
def test_bad_employment_events_are_refused(any_db, clock, cohort, data, field):
    err = refused(
        any_db,
        lambda s: services.record_employment_event(
            s, cohort.study_id, cohort.trajectory_ids[0], data, actor="c", at=clock.now()
        ),
        InvalidInput,
    )
    assert err.field == field


def test_event_on_another_studys_trajectory_is_refused(any_db, clock, cohort):
    with any_db.sessions.begin() as s:
        other = factory.add_study(s, clock.now(), "S2")
        other_id = other.id
    err = refused(
        any_db,
        lambda s: services.record_employment_event(
            s,
            other_id,
            cohort.trajectory_ids[0],
            {"event_date": D(2026, 3, 1), "kind": "task_change"},
            actor="c",
            at=clock.now(),
        ),
        NotFound,
    )
    assert "bestaat niet in deze studie" in err.message("nl")


def test_second_open_trajectory_is_refused(any_db, clock, cohort):
    with any_db.read_sessions() as s:
        t = s.get(Trajectory, cohort.trajectory_ids[0])
        args = (t.participant_id, t.jobcoach_id, t.employer_id)
    err = refused(
        any_db,
        lambda s: factory.start(s, cohort.study_id, clock.now(), *args, D(2026, 5, 1)),
        Conflict,
    )
    assert "al een lopend traject" in err.message("nl")


def test_database_itself_refuses_a_second_open_trajectory(any_db, clock, cohort):
    """The partial unique index holds even if a writer skips the service."""
    with any_db.read_sessions() as s:
        t = s.get(Trajectory, cohort.trajectory_ids[0])
        values = {c.key: getattr(t, c.key) for c in Trajectory.__table__.columns if c.key != "id"}
    with pytest.raises(IntegrityError), any_db.sessions.begin() as s:
        s.add(Trajectory(**values))


@pytest.mark.parametrize(
    ("field", "value"), [("loonwaarde", 120), ("contract_hours", 61), ("minutes", 0)]
)
def test_database_constraints_hold_without_services(any_db, clock, cohort, field, value):
    from sqlalchemy import update

    table = CoachingContact if field == "minutes" else Trajectory
    if table is CoachingContact:
        with any_db.sessions.begin() as s:
            services.record_contact(
                s,
                cohort.study_id,
                cohort.trajectory_ids[0],
                {
                    "contact_date": D(2026, 1, 20),
                    "minutes": 30,
                    "mode": "phone",
                    "with_whom": "employee",
                    "activity": "placement",
                },
                actor="c",
                at=clock.now(),
            )
    with pytest.raises((IntegrityError, DBAPIError)), any_db.sessions.begin() as s:
        s.execute(update(table).values({field: value}))


def test_withdrawn_consent_blocks_every_action(any_db, clock, cohort):
    with any_db.read_sessions() as s:
        t = s.get(Trajectory, cohort.trajectory_ids[0])
        pid, tid, coach = t.participant_id, t.id, t.jobcoach_id
    with any_db.sessions.begin() as s:
        services.withdraw_consent(
            s, cohort.study_id, pid, reason="wil stoppen", actor="r", at=clock.now()
        )
    contact = {
        "contact_date": D(2026, 1, 20),
        "minutes": 30,
        "mode": "phone",
        "with_whom": "employee",
        "activity": "placement",
    }
    refused(
        any_db,
        lambda s: services.record_contact(
            s, cohort.study_id, tid, contact, actor="c", at=clock.now()
        ),
        ConsentWithdrawn,
    )
    refused(
        any_db,
        lambda s: services.record_employment_event(
            s,
            cohort.study_id,
            tid,
            {"event_date": D(2026, 2, 1), "kind": "task_change"},
            actor="c",
            at=clock.now(),
        ),
        ConsentWithdrawn,
    )
    with any_db.sessions.begin() as s:
        employer2 = factory.add_employer(s, cohort.study_id, clock.now(), "Nieuwe werkgever").id
    err = refused(
        any_db,
        lambda s: factory.start(
            s, cohort.study_id, clock.now(), pid, coach, employer2, D(2026, 5, 1)
        ),
        ConsentWithdrawn,
    )
    assert "toestemming ingetrokken" in err.message("nl")
    refused(
        any_db,
        lambda s: services.withdraw_consent(
            s, cohort.study_id, pid, reason=None, actor="r", at=clock.now()
        ),
        ConsentWithdrawn,
    )


def test_correction_needs_a_reason_and_is_audited(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    refused(
        any_db,
        lambda s: services.correct_value(
            s,
            cohort.study_id,
            "trajectory",
            tid,
            "contract_hours",
            32,
            reason=" ",
            actor="r",
            at=clock.now(),
        ),
        InvalidInput,
    )
    refused(
        any_db,
        lambda s: services.correct_value(
            s,
            cohort.study_id,
            "trajectory",
            tid,
            "contract_hours",
            99,
            reason="typo",
            actor="r",
            at=clock.now(),
        ),
        InvalidInput,
    )
    refused(
        any_db,
        lambda s: services.correct_value(
            s,
            cohort.study_id,
            "trajectory",
            tid,
            "study_id",
            2,
            reason="typo",
            actor="r",
            at=clock.now(),
        ),
        InvalidInput,
    )
    with any_db.sessions.begin() as s:
        services.end_trajectory(
            s,
            cohort.study_id,
            tid,
            {"end_date": D(2026, 6, 1), "end_reason": "dropout"},
            actor="r",
            at=clock.now(),
        )
    refused(
        any_db,
        lambda s: services.correct_value(
            s,
            cohort.study_id,
            "trajectory",
            tid,
            "start_date",
            D(2026, 7, 1),
            reason="typo",
            actor="r",
            at=clock.now(),
        ),
        InvalidInput,
    )
    with any_db.sessions.begin() as s:
        services.correct_value(
            s,
            cohort.study_id,
            "trajectory",
            tid,
            "contract_hours",
            32,
            reason="verkeerd overgenomen",
            actor="r",
            at=clock.now(),
        )
    with any_db.read_sessions() as s:
        assert s.get(Trajectory, tid).contract_hours == 32
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "correct")).one()
        assert ev.old_values == {"contract_hours": 24.0}
        assert ev.new_values == {"contract_hours": 32.0}
        assert ev.reason == "verkeerd overgenomen"


def test_audit_log_is_insert_only(any_db, clock, cohort):
    from sqlalchemy import delete, update

    with pytest.raises(DBAPIError, match="insert-only"), any_db.sessions.begin() as s:
        s.execute(update(AuditEvent).values(reason="rewritten"))
    with pytest.raises(DBAPIError, match="insert-only"), any_db.sessions.begin() as s:
        s.execute(delete(AuditEvent))
    with any_db.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_unknown_fields_and_bad_vocabulary_are_refused(any_db, clock, cohort):
    err = refused(
        any_db,
        lambda s: factory.enrol(s, cohort.study_id, clock.now(), "P9", diagnosis="x"),
        InvalidInput,
    )
    assert err.message("en") == "unknown field: diagnosis"
    err = refused(
        any_db,
        lambda s: factory.enrol(s, cohort.study_id, clock.now(), "P9", benefit="pension"),
        InvalidInput,
    )
    assert err.field == "benefit" and "uitkering" in err.message("nl")
