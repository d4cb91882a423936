"""The input rules hold for a jobcoach's crafted requests to the workspace's save callbacks."""

from __future__ import annotations

from sqlalchemy import func, select

from study.models import CoachingContact, EmploymentEvent, Trajectory
from tests.dashboard.conftest import dash_post


def _contact(client, tid, day, note=None):
    return dash_post(
        client,
        [("contact-msg", "children")],
        [("contact-save", "n_clicks", 1)],
        [
            ("workspace-client", "value", tid),
            ("contact-minutes", "value", 30),
            ("contact-mode", "value", "phone"),
            ("contact-with", "value", "employee"),
            ("contact-activity", "value", "placement"),
            ("contact-note", "value", note),
            ("contact-date", "date", day),
        ],
    )


def _event(client, tid, day, kind, hours=None, reason=None):
    return dash_post(
        client,
        [("event-msg", "children")],
        [("event-save", "n_clicks", 1)],
        [
            ("workspace-client", "value", tid),
            ("event-kind", "value", kind),
            ("event-hours", "value", hours),
            ("event-reason", "value", reason),
            ("event-note", "value", None),
            ("event-date", "date", day),
        ],
    )


def _count(env, model) -> int:
    with env.container.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _own(env) -> int:
    with env.container.read_sessions() as s:
        return s.scalar(
            select(Trajectory.id).where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[0])
        )


def test_contact_dated_2030_refused_over_http(env):
    client = env.login("coach1")
    resp = _contact(client, _own(env), "2030-01-03")
    assert resp.status_code == 200
    assert "ligt in de toekomst" in resp.get_data(as_text=True)
    assert _count(env, CoachingContact) == 0
    resp = _contact(client, _own(env), "2026-01-05")
    assert _count(env, CoachingContact) == 1


def test_note_with_bsn_phone_and_email_refused_over_http(env):
    client = env.login("coach1")
    for note in ("BSN 111222333", "belt terug op 06-12345678", "mail: piet@example.nl"):
        body = _contact(client, _own(env), "2026-01-02", note).get_data(as_text=True)
        assert "lijkt" in body and "klik-alert" in body, body
    assert _count(env, CoachingContact) == 0


def test_end_of_sick_leave_without_start_refused_over_http(env):
    client = env.login("coach1")
    body = _event(client, _own(env), "2025-12-01", "sick_leave_end").get_data(as_text=True)
    assert "heeft geen begin" in body
    assert _count(env, EmploymentEvent) == 0
    _event(client, _own(env), "2025-11-01", "sick_leave_start")
    body = _event(client, _own(env), "2025-12-01", "sick_leave_end").get_data(as_text=True)
    assert "heeft geen begin" not in body
    assert _count(env, EmploymentEvent) == 2


def test_event_in_2099_refused_in_english_too(env):
    client = env.login("coach1")
    client.get("/lang/en")
    body = _event(client, _own(env), "2099-01-01", "hours_change", hours=10).get_data(as_text=True)
    assert "is in the future" in body
    assert _count(env, EmploymentEvent) == 0


def test_a_100_kb_note_is_refused_with_its_limit_not_cut(env):
    client = env.login("coach1")
    body = _contact(client, _own(env), "2026-01-02", "lang verslag " * 8000).get_data(as_text=True)
    assert "klik-alert" in body and "2000" in body, body[:500]
    assert _count(env, CoachingContact) == 0
    _contact(client, _own(env), "2026-01-02", "x" * 2000)
    with env.container.read_sessions() as s:
        assert len(s.scalar(select(CoachingContact.note))) == 2000
