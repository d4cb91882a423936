"""Dashboard users (argon2) and the bulk logging services."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from study import services
from study.errors import Conflict, ConsentWithdrawn, InvalidInput, NotFound
from study.models import AuditEvent, CoachingContact, EmploymentEvent, User
from study.services import bulk
from study.services.users import add_user, verify_password
from tests.factory import build_cohort

AT = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
# contacts and events are entered after the days they happened
LATER = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_add_user_stores_an_argon2_hash_and_never_the_password(db) -> None:  # type: ignore[no-untyped-def]
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=2)
        user = add_user(
            s,
            cohort.study_id,
            "Coach.One",
            "geheim-wachtwoord",
            "jobcoach",
            cohort.jobcoach_ids[0],
            display_name="Coach Een",
            actor="test",
            at=AT,
        )
        assert user.username == "coach.one"
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "geheim-wachtwoord")
        assert not verify_password(user.password_hash, "ander-wachtwoord")
        assert not verify_password("not a hash", "geheim-wachtwoord")
        logged = s.scalars(select(AuditEvent).where(AuditEvent.entity == "app_user")).one()
        assert "geheim" not in str(logged.new_values)


@pytest.mark.parametrize(
    "username,password,role,coach,error",
    [
        ("x", "geheim-wachtwoord", "viewer", False, InvalidInput),
        ("kijker", "kort", "viewer", False, InvalidInput),
        ("kijker", "geheim-wachtwoord", "admin", False, InvalidInput),
        ("coach", "geheim-wachtwoord", "jobcoach", False, InvalidInput),
        ("kijker", "geheim-wachtwoord", "viewer", True, InvalidInput),
    ],
)
def test_add_user_refuses_bad_input(db, username, password, role, coach, error) -> None:  # type: ignore[no-untyped-def]
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=1)
        with pytest.raises(error):
            add_user(
                s,
                cohort.study_id,
                username,
                password,
                role,
                cohort.jobcoach_ids[0] if coach else None,
                display_name="Naam",
                actor="test",
                at=AT,
            )
        assert s.scalar(select(func.count(User.id))) == 0


def test_add_user_refuses_a_taken_name_and_a_coach_of_another_study(db) -> None:  # type: ignore[no-untyped-def]
    with db.sessions.begin() as s:
        one = build_cohort(s, AT, n_trajectories=1, study_code="S1")
        other = build_cohort(s, AT, n_trajectories=1, study_code="S2")
        add_user(
            s,
            one.study_id,
            "onderzoeker",
            "geheim-wachtwoord",
            "researcher",
            display_name="O",
            actor="t",
            at=AT,
        )
        with pytest.raises(Conflict):
            add_user(
                s,
                one.study_id,
                "onderzoeker",
                "geheim-wachtwoord",
                "viewer",
                display_name="O",
                actor="t",
                at=AT,
            )
        with pytest.raises(NotFound):
            add_user(
                s,
                one.study_id,
                "jc",
                "geheim-wachtwoord",
                "jobcoach",
                other.jobcoach_ids[0],
                display_name="J",
                actor="t",
                at=AT,
            )


def test_bulk_contacts_write_what_the_single_service_writes(db) -> None:  # type: ignore[no-untyped-def]
    data = {
        "contact_date": dt.date(2026, 1, 20),
        "minutes": 30,
        "mode": "phone",
        "with_whom": "employee",
        "activity": "self_reliance",
    }
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=2)
        t1, t2 = cohort.trajectory_ids
        single = services.record_contact(s, cohort.study_id, t1, data, actor="t", at=LATER)
        ids = bulk.record_contacts(
            s, cohort.study_id, [(t2, data), (t1, data)], actor="t", at=LATER
        )
        assert ids == [single.id + 1, single.id + 2]
        rows = s.execute(
            select(
                CoachingContact.trajectory_id, CoachingContact.minutes, CoachingContact.mode
            ).order_by(CoachingContact.id)
        ).all()
        assert [tuple(r) for r in rows] == [(t1, 30, "phone"), (t2, 30, "phone"), (t1, 30, "phone")]
        audits = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "coaching_contact")
            .order_by(AuditEvent.id)
        ).all()
        assert [a.entity_id for a in audits] == [single.id, *ids]
        assert audits[0].new_values == audits[2].new_values


def test_bulk_refuses_the_whole_batch_on_one_bad_entry(db) -> None:  # type: ignore[no-untyped-def]
    good = {"event_date": dt.date(2026, 2, 1), "kind": "hours_change", "hours": 28}
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=2)
        t1, t2 = cohort.trajectory_ids
        for bad, field in [
            ({"event_date": dt.date(2026, 2, 1), "kind": "job_end"}, "job_end_reason"),
            ({"event_date": dt.date(2026, 2, 1), "kind": "hours_change"}, "hours"),
            ({"event_date": dt.date(2025, 1, 1), "kind": "sick_leave_start"}, "event_date"),
            ({"event_date": dt.date(2026, 2, 1), "kind": "hours_change", "hours": 99}, "hours"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                bulk.record_employment_events(
                    s, cohort.study_id, [(t1, good), (t2, bad)], actor="t", at=LATER
                )
            assert refused.value.field == field
        with pytest.raises(NotFound):
            bulk.record_employment_events(s, cohort.study_id, [(9999, good)], actor="t", at=LATER)
        assert s.scalar(select(func.count(EmploymentEvent.id))) == 0


def test_bulk_refuses_after_consent_is_withdrawn(db) -> None:  # type: ignore[no-untyped-def]
    data = {
        "contact_date": dt.date(2026, 1, 20),
        "minutes": 30,
        "mode": "phone",
        "with_whom": "employee",
        "activity": "self_reliance",
    }
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=1)
        services.withdraw_consent(
            s, cohort.study_id, cohort.participant_ids[0], reason=None, actor="t", at=AT
        )
        with pytest.raises(ConsentWithdrawn):
            bulk.record_contacts(
                s, cohort.study_id, [(cohort.trajectory_ids[0], data)], actor="t", at=LATER
            )
