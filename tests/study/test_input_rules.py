"""Input rules of the services: no dates in the future, no personal data in notes, no silent
truncation, no impossible order of employment events. Every refusal leaves the database as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from study import services
from study.errors import InvalidInput
from study.event_sequence import Step, sequence_problems
from study.models import AuditEvent, CoachingContact, Consent, EmploymentEvent, Study, Trajectory
from study.services import bulk
from study.text_rules import is_bsn, personal_data
from study.vocab import EventKind
from tests import factory

D = dt.date
# the clock fixture's moment: Monday 5 January 2026, 09:00 UTC (10:00 in Amsterdam)
TODAY = D(2026, 1, 5)

CONTACT = {"minutes": 30, "mode": "phone", "with_whom": "employee", "activity": "placement"}


@pytest.fixture
def cohort(any_db, clock):
    with any_db.sessions.begin() as s:
        return factory.build_cohort(
            s, clock.now(), n_trajectories=2, n_coaches=1, first_start=D(2025, 6, 2)
        )


def contact(any_db, clock, cohort, **kw):
    with any_db.sessions.begin() as s:
        return services.record_contact(
            s,
            cohort.study_id,
            cohort.trajectory_ids[0],
            {"contact_date": TODAY, **CONTACT, **kw},
            actor="coach",
            at=clock.now(),
        ).id


def event(any_db, clock, cohort, kind, day, trajectory=0, **kw):
    with any_db.sessions.begin() as s:
        return services.record_employment_event(
            s,
            cohort.study_id,
            cohort.trajectory_ids[trajectory],
            {"event_date": day, "kind": kind, **kw},
            actor="coach",
            at=clock.now(),
        ).id


def n_rows(database, model) -> int:
    with database.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- dates ------------------------------------------------------------------------------------


def test_contact_dated_today_is_accepted_tomorrow_and_2030_refused(any_db, clock, cohort):
    contact(any_db, clock, cohort)
    for day in (TODAY + dt.timedelta(days=1), D(2030, 1, 3)):
        with pytest.raises(InvalidInput) as err:
            contact(any_db, clock, cohort, contact_date=day)
        assert err.value.field == "contact_date"
        assert "ligt in de toekomst" in err.value.message("nl")
        assert f"{day:%d-%m-%Y}" in err.value.message("nl")
    assert n_rows(any_db, CoachingContact) == 1


def test_today_is_the_study_timezones_date(any_db, clock, cohort):
    # 23:30 UTC on 5 January is already 6 January in Amsterdam: a contact of the 6th is today
    late = dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC)
    with any_db.sessions.begin() as s:
        services.record_contact(
            s,
            cohort.study_id,
            cohort.trajectory_ids[0],
            {"contact_date": D(2026, 1, 6), **CONTACT},
            actor="coach",
            at=late,
        )
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.record_contact(
            s,
            cohort.study_id,
            cohort.trajectory_ids[0],
            {"contact_date": D(2026, 1, 7), **CONTACT},
            actor="coach",
            at=late,
        )


def test_event_in_the_future_refused(any_db, clock, cohort):
    with pytest.raises(InvalidInput) as err:
        event(any_db, clock, cohort, "hours_change", D(2099, 1, 1), hours=20)
    assert err.value.field == "event_date"
    assert n_rows(any_db, EmploymentEvent) == 0


def test_start_date_2099_refused_and_a_start_next_month_accepted(any_db, clock, cohort):
    with any_db.sessions.begin() as s:
        p = factory.enrol(s, cohort.study_id, clock.now(), "P9001")
        e = factory.add_employer(s, cohort.study_id, clock.now(), "Later BV")
        pid, eid = p.id, e.id
    with pytest.raises(InvalidInput) as err, any_db.sessions.begin() as s:
        factory.start(
            s, cohort.study_id, clock.now(), pid, cohort.jobcoach_ids[0], eid, D(2099, 3, 1)
        )
    assert err.value.field == "start_date"
    assert "92 dagen" in err.value.message("nl")
    with any_db.sessions.begin() as s:
        factory.start(
            s, cohort.study_id, clock.now(), pid, cohort.jobcoach_ids[0], eid, D(2026, 2, 2)
        )


def test_days_ahead_are_the_studys_setting(any_db, clock, cohort):
    with any_db.sessions.begin() as s:
        s.execute(
            update(Study)
            .where(Study.id == cohort.study_id)
            .values(record_days_ahead=3, start_days_ahead=0)
        )
    contact(any_db, clock, cohort, contact_date=TODAY + dt.timedelta(days=3))
    with pytest.raises(InvalidInput) as err:
        contact(any_db, clock, cohort, contact_date=TODAY + dt.timedelta(days=4))
    assert "hoogstens 3 dagen" in err.value.message("nl")


def test_a_correction_may_not_move_a_date_into_the_future(any_db, clock, cohort):
    cid = contact(any_db, clock, cohort)
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.correct_value(
            s, cohort.study_id, "coaching_contact", cid, "contact_date", D(2030, 1, 1),
            reason="typo", actor="r", at=clock.now(),
        )  # fmt: skip
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.correct_value(
            s, cohort.study_id, "trajectory", cohort.trajectory_ids[0], "start_date",
            D(2099, 1, 1), reason="typo", actor="r", at=clock.now(),
        )  # fmt: skip


def test_bulk_refuses_the_whole_batch_for_one_future_date(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    entries = [(tid, {"contact_date": TODAY, **CONTACT}), (tid, {"contact_date": D(2030, 1, 1), **CONTACT})]  # fmt: skip
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        bulk.record_contacts(s, cohort.study_id, entries, actor="x", at=clock.now())
    assert n_rows(any_db, CoachingContact) == 0


# --- notes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("BSN 111222333 besproken", "burgerservicenummer"),
        ("bsn: 1112.22.333", "burgerservicenummer"),
        ("bel haar op 06-12345678 na vijven", "telefoonnummer"),
        ("tel 06 1234 5678", "telefoonnummer"),
        ("mobiel +31 6 12345678", "telefoonnummer"),
        ("vaste lijn 020-1234567", "telefoonnummer"),
        ("mail naar jan.jansen@example.nl gestuurd", "e-mailadres"),
    ],
)
def test_note_with_personal_data_refused(any_db, clock, cohort, note, kind):
    with pytest.raises(InvalidInput) as err:
        contact(any_db, clock, cohort, note=note)
    assert kind in err.value.message("nl")
    assert err.value.field == "note"
    with pytest.raises(InvalidInput):
        event(any_db, clock, cohort, "department_change", TODAY, note=note)
    assert n_rows(any_db, CoachingContact) == n_rows(any_db, EmploymentEvent) == 0


@pytest.mark.parametrize(
    "note",
    [
        "gesprek van 45 minuten met leidinggevende",
        "afspraak 12-01-2026 om 14:00, contract 32 uur",
        "loonwaarde 60%, contract tot 31-12-2026",
        "dossiernummer 123456789 (geen BSN)",  # nine digits that fail the eleven test
        "uren 08-16, 2026",
    ],
)
def test_ordinary_notes_pass(any_db, clock, cohort, note):
    contact(any_db, clock, cohort, note=note)


def test_eleven_test():
    assert is_bsn("111222333")
    assert is_bsn("123456782")
    assert not is_bsn("123456789")
    assert not is_bsn("000000000")
    assert not is_bsn("12345678")
    assert [f.kind for f in personal_data("BSN 123456782, 06-12345678, a@b.nl")] == [
        "bsn",
        "phone",
        "email",
    ]


def test_over_long_note_refused_with_its_limit_never_cut(any_db, clock, cohort):
    with pytest.raises(InvalidInput) as err:
        contact(any_db, clock, cohort, note="x" * 100_000)
    assert "100000 tekens, hoogstens 2000" in err.value.message("nl")
    assert err.value.field == "note"
    assert n_rows(any_db, CoachingContact) == 0
    cid = contact(any_db, clock, cohort, note="y" * 2000)
    with any_db.read_sessions() as s:
        assert len(s.get_one(CoachingContact, cid).note) == 2000


# --- order of events ------------------------------------------------------------------------


def test_end_of_sick_leave_without_a_start_refused(any_db, clock, cohort):
    with pytest.raises(InvalidInput) as err:
        event(any_db, clock, cohort, "sick_leave_end", D(2025, 12, 1))
    assert "heeft geen begin" in err.value.message("nl")
    event(any_db, clock, cohort, "sick_leave_start", D(2025, 11, 1))
    event(any_db, clock, cohort, "sick_leave_end", D(2025, 12, 1))
    # the leave is over: a second end has no start either
    with pytest.raises(InvalidInput):
        event(any_db, clock, cohort, "sick_leave_end", D(2025, 12, 15))
    # an end dated before the start is not an end of that leave
    event(any_db, clock, cohort, "sick_leave_start", D(2025, 12, 20), trajectory=1)
    with pytest.raises(InvalidInput):
        event(any_db, clock, cohort, "sick_leave_end", D(2025, 12, 10), trajectory=1)
    assert n_rows(any_db, EmploymentEvent) == 3


def test_start_and_end_of_sick_leave_in_one_batch(any_db, clock, cohort):
    tid = cohort.trajectory_ids[0]
    with any_db.sessions.begin() as s:
        bulk.record_employment_events(
            s,
            cohort.study_id,
            [
                (tid, {"event_date": D(2025, 9, 1), "kind": "sick_leave_start"}),
                (tid, {"event_date": D(2025, 9, 1), "kind": "sick_leave_end"}),
            ],
            actor="x",
            at=clock.now(),
        )
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        bulk.record_employment_events(
            s,
            cohort.study_id,
            [
                (tid, {"event_date": D(2025, 10, 1), "kind": "sick_leave_end"}),
                (tid, {"event_date": D(2025, 10, 1), "kind": "sick_leave_start"}),
            ],
            actor="x",
            at=clock.now(),
        )


def test_job_end_before_job_start_refused(any_db, clock, cohort):
    event(any_db, clock, cohort, "job_start", D(2025, 9, 1), hours=24)
    with pytest.raises(InvalidInput) as err:
        event(any_db, clock, cohort, "job_end", D(2025, 8, 1), job_end_reason="dismissed")
    assert "vóór de start van de baan" in err.value.message("nl")
    event(any_db, clock, cohort, "job_end", D(2025, 10, 1), job_end_reason="dismissed")


def test_moving_a_sick_leave_start_after_its_end_is_refused(any_db, clock, cohort):
    start = event(any_db, clock, cohort, "sick_leave_start", D(2025, 11, 1))
    event(any_db, clock, cohort, "sick_leave_end", D(2025, 11, 20))
    with pytest.raises(InvalidInput), any_db.sessions.begin() as s:
        services.correct_value(
            s, cohort.study_id, "employment_event", start, "event_date", D(2025, 12, 1),
            reason="datum verkeerd", actor="r", at=clock.now(),
        )  # fmt: skip
    with any_db.read_sessions() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "correct")) == 0


def test_sequence_rules_are_pure():
    s = EventKind
    steps = [Step(D(2025, 1, 1), s.SICK_LEAVE_START, 1), Step(D(2025, 1, 1), s.SICK_LEAVE_START, 2),
             Step(D(2025, 2, 1), s.SICK_LEAVE_END, 3), Step(D(2025, 3, 1), s.SICK_LEAVE_END, 4)]  # fmt: skip
    assert sequence_problems(steps) == []
    assert len(sequence_problems([*steps, Step(D(2025, 4, 1), s.SICK_LEAVE_END, 5)])) == 1
    # without any job start the trajectory's start is the job's start
    assert sequence_problems([Step(D(2025, 1, 1), s.JOB_END, 1)]) == []


def test_correction_reason_with_personal_data_refused(any_db, clock, cohort):
    cid = contact(any_db, clock, cohort)
    with pytest.raises(InvalidInput) as err, any_db.sessions.begin() as s:
        services.correct_value(
            s, cohort.study_id, "coaching_contact", cid, "minutes", 40,
            reason="gebeld op 0612345678", actor="r", at=clock.now(),
        )  # fmt: skip
    assert err.value.field == "reason"


@pytest.mark.parametrize(
    ("reason", "message"),
    [("x" * 2001, "at most 2000"), ("belt terug op 06-12345678", "phone number")],
)
def test_a_withdrawal_reason_follows_the_note_rules(any_db, clock, cohort, reason, message):
    with any_db.read_sessions() as s:
        pid = s.scalar(
            select(Trajectory.participant_id).where(Trajectory.id == cohort.trajectory_ids[0])
        )
    with pytest.raises(InvalidInput, match=message), any_db.sessions.begin() as s:
        services.withdraw_consent(
            s, cohort.study_id, pid, reason=reason, actor="coach", at=clock.now()
        )
    with any_db.read_sessions() as s:
        assert s.scalar(select(Consent.withdrawn_at).where(Consent.participant_id == pid)) is None
