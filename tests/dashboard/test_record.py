"""The participant record page over HTTP: who may see which record (crafted callbacks included),
that every view is audited, and corrections, deletions, ending and undoing an end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from study import services
from study.access import trajectory_scope
from study.models import AuditEvent, CoachingContact, Participant, Trajectory
from study.read_models import contacts_frame
from tests.dashboard.conftest import Env, body_text, csrf_headers, dash_post, route_to

NOTE = "Gesprek over werktijden; leidinggevende tevreden"


@pytest.fixture
def rec(env: Env) -> Env:
    """``env`` with a contact (with a note) on the first trajectory of each jobcoach."""
    with env.container.sessions.begin() as s:
        for coach in env.cohort.jobcoach_ids:
            tid = s.scalar(select(Trajectory.id).where(Trajectory.jobcoach_id == coach).order_by(Trajectory.id))  # fmt: skip
            services.record_contact(
                s, env.cohort.study_id, tid,
                {"contact_date": dt.date(2025, 12, 1), "minutes": 40, "mode": "on_site",
                 "with_whom": "supervisor", "activity": "supervisor_communication", "note": NOTE},
                actor="test", at=env.clock.now(),
            )  # fmt: skip
    return env


def _people(env: Env, coach_index: int) -> list[tuple[int, str]]:
    with env.container.read_sessions() as s:
        return list(
            s.execute(
                select(Participant.id, Participant.study_code)
                .join(Trajectory, Trajectory.participant_id == Participant.id)
                .where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index])
                .order_by(Participant.id)
            ).all()
        )


def _show(client, participant):
    return dash_post(
        client,
        [("record-content", "children"), ("record-entry", "options"), ("record-end-trajectory", "options")],
        [("record-pick", "value", participant), ("record-changed", "data", None), ("record-ended", "data", None)],
    )  # fmt: skip


def _reads(env: Env, actor: str) -> list[int]:
    with env.container.read_sessions() as s:
        return list(
            s.scalars(
                select(AuditEvent.entity_id).where(
                    AuditEvent.actor == actor,
                    AuditEvent.action == "read",
                    AuditEvent.entity == "participant",
                )
            )
        )


def test_researcher_sees_any_record_with_note_timeline_forms_and_history(rec: Env) -> None:
    pid, code = _people(rec, 1)[0]
    resp = _show(rec.login("researcher"), pid)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert code in body and NOTE in body
    assert "record-timeline" in body and "record-history" in body
    assert "Start traject" in body
    # contact details never appear on a record
    assert "@mail.example" not in body
    assert _reads(rec, "researcher") == [pid]


def test_jobcoach_sees_own_client_and_the_view_is_audited(rec: Env) -> None:
    pid, code = _people(rec, 0)[0]
    body = _show(rec.login("coach1"), pid).get_data(as_text=True)
    assert code in body and NOTE in body
    assert _reads(rec, "coach1") == [pid]


@pytest.mark.parametrize("crafted", ["other", 999999, True, "1", [1], {"id": 1}, -1])
def test_jobcoach_crafting_another_coachs_client_learns_nothing(rec: Env, crafted) -> None:
    other_pid, other_code = _people(rec, 1)[0]
    value = other_pid if crafted == "other" else crafted
    resp = _show(rec.login("coach1"), value)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert other_code not in body and NOTE not in body
    assert "record-timeline" not in body
    assert _reads(rec, "coach1") == []


def test_viewer_never_gets_a_record(rec: Env) -> None:
    pid, code = _people(rec, 0)[0]
    viewer = rec.login("viewer")
    resp = _show(viewer, pid)
    assert resp.status_code == 403
    assert code not in resp.get_data(as_text=True)
    page = route_to(viewer, "/record").get_data(as_text=True)
    assert "geen toegang" in page and "record-pick" not in page
    assert _reads(rec, "viewer") == []


def test_logged_out_requests_get_nothing(rec: Env) -> None:
    _pid, code = _people(rec, 0)[0]
    client = rec.client()
    resp = client.post("/_dash-update-component", json={})
    assert resp.status_code in (302, 401, 403)
    assert code not in resp.get_data(as_text=True)


def test_record_page_lists_only_own_clients_for_a_jobcoach(rec: Env) -> None:
    page = route_to(rec.login("coach1"), "/record").get_data(as_text=True)
    for _pid, code in _people(rec, 0):
        assert code in page
    for _pid, code in _people(rec, 1):
        assert code not in page


def _contact_id(env: Env, coach_index: int) -> int:
    with env.container.read_sessions() as s:
        return s.scalar(
            select(CoachingContact.id)
            .join(Trajectory, Trajectory.id == CoachingContact.trajectory_id)
            .where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index])
        )


def _correct(client, entry, field, value, reason, delete=False):
    return dash_post(
        client,
        [("record-msg", "children"), ("record-changed", "data")],
        [("record-correct", "n_clicks", None if delete else 1), ("record-delete", "submit_n_clicks", 1 if delete else None)],
        [("record-entry", "value", entry), ("record-field", "value", field),
         ("record-value", "value", value), ("record-reason", "value", reason)],
    )  # fmt: skip


def _delete(client, entry, reason):
    body = {
        "output": "..record-msg.children...record-changed.data..",
        "outputs": [{"id": "record-msg", "property": "children"}, {"id": "record-changed", "property": "data"}],
        "inputs": [{"id": "record-correct", "property": "n_clicks", "value": None},
                   {"id": "record-delete", "property": "submit_n_clicks", "value": 1}],
        "changedPropIds": ["record-delete.submit_n_clicks"],
        "state": [{"id": "record-entry", "property": "value", "value": entry},
                  {"id": "record-field", "property": "value", "value": None},
                  {"id": "record-value", "property": "value", "value": None},
                  {"id": "record-reason", "property": "value", "value": reason}],
    }  # fmt: skip
    resp = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    resp.set_data(body_text(resp).encode())
    return resp


def test_correction_needs_a_reason_and_records_old_and_new(rec: Env) -> None:
    cid = _contact_id(rec, 0)
    coach = rec.login("coach1")
    body = _correct(coach, f"coaching_contact:{cid}", "minutes", "55", "").get_data(as_text=True)
    assert "reden" in body
    body = _correct(coach, f"coaching_contact:{cid}", "minutes", "55", "typfout").get_data(as_text=True)  # fmt: skip
    assert "Gecorrigeerd" in body
    with rec.container.read_sessions() as s:
        assert s.get_one(CoachingContact, cid).minutes == 55
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "correct")).one()
        assert (event.old_values, event.new_values, event.reason) == ({"minutes": 40}, {"minutes": 55}, "typfout")  # fmt: skip
        assert event.actor == "coach1"


def test_correcting_a_note_keeps_the_note_rules(rec: Env) -> None:
    cid = _contact_id(rec, 0)
    body = _correct(rec.login("coach1"), f"coaching_contact:{cid}", "note", "bel 06-12345678", "aanvulling").get_data(as_text=True)  # fmt: skip
    assert "telefoonnummer" in body
    long = _correct(rec.login("coach1"), f"coaching_contact:{cid}", "note", "x" * 100_000, "aanvulling").get_data(as_text=True)  # fmt: skip
    assert "100000 tekens, hoogstens 2000" in long
    with rec.container.read_sessions() as s:
        assert s.get_one(CoachingContact, cid).note == NOTE


def test_jobcoach_cannot_correct_or_delete_another_coachs_entry(rec: Env) -> None:
    other = _contact_id(rec, 1)
    coach = rec.login("coach1")
    body = _correct(coach, f"coaching_contact:{other}", "minutes", "5", "weg ermee").get_data(as_text=True)  # fmt: skip
    assert "hoort niet bij uw cliënten" in body
    body = _delete(coach, f"coaching_contact:{other}", "weg ermee").get_data(as_text=True)
    assert "hoort niet bij uw cliënten" in body
    for crafted in ("coaching_contact:abc", "participant:1", "coaching_contact:99999", 7, None):
        assert "klik-alert" in _delete(coach, crafted, "x").get_data(as_text=True)
    with rec.container.read_sessions() as s:
        row = s.get_one(CoachingContact, other)
        assert (row.minutes, row.deleted_at) == (40, None)


def test_deleted_contact_leaves_the_counts_but_stays_on_the_record(rec: Env) -> None:
    cid = _contact_id(rec, 0)
    coach = rec.login("coach1")
    assert "reden" in _delete(coach, f"coaching_contact:{cid}", " ").get_data(as_text=True)
    body = _delete(coach, f"coaching_contact:{cid}", "dubbel ingevoerd").get_data(as_text=True)
    assert "Verwijderd" in body
    assert "al verwijderd" in _delete(coach, f"coaching_contact:{cid}", "nogmaals").get_data(as_text=True)  # fmt: skip
    with rec.container.read_sessions() as s:
        frame = contacts_frame(s, trajectory_scope(rec.cohort.study_id))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert cid not in set(frame.get("contact_id", [])) and len(frame) == 1
    assert event.reason == "dubbel ingevoerd" and event.old_values["minutes"] == 40
    pid = _people(rec, 0)[0][0]
    shown = _show(coach, pid).get_data(as_text=True)
    assert NOTE in shown and "verwijderd door coach1" in shown
    assert f"coaching_contact:{cid}" not in shown  # no longer offered for correction


def _end(client, tid, day, reason):
    return dash_post(
        client,
        [("record-end-msg", "children"), ("record-ended", "data")],
        [("record-end-confirm", "submit_n_clicks", 1), ("record-reopen", "submit_n_clicks", None)],
        [("record-end-trajectory", "value", tid), ("record-end-date", "date", day),
         ("record-end-reason", "value", reason), ("record-reopen-reason", "value", None)],
    )  # fmt: skip


def _reopen(client, tid, why):
    body = {
        "output": "..record-end-msg.children...record-ended.data..",
        "outputs": [{"id": "record-end-msg", "property": "children"}, {"id": "record-ended", "property": "data"}],
        "inputs": [{"id": "record-end-confirm", "property": "submit_n_clicks", "value": None},
                   {"id": "record-reopen", "property": "submit_n_clicks", "value": 1}],
        "changedPropIds": ["record-reopen.submit_n_clicks"],
        "state": [{"id": "record-end-trajectory", "property": "value", "value": tid},
                  {"id": "record-end-date", "property": "date", "value": None},
                  {"id": "record-end-reason", "property": "value", "value": None},
                  {"id": "record-reopen-reason", "property": "value", "value": why}],
    }  # fmt: skip
    resp = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    resp.set_data(body_text(resp).encode())
    return resp


def test_end_is_confirmed_and_only_a_researcher_undoes_it(rec: Env) -> None:
    with rec.container.read_sessions() as s:
        tid = s.scalar(select(Trajectory.id).where(Trajectory.jobcoach_id == rec.cohort.jobcoach_ids[0]))  # fmt: skip
    coach = rec.login("coach1")
    assert "beëindigd" in _end(coach, tid, "2026-01-02", "dropout").get_data(as_text=True)
    resp = _reopen(coach, tid, "per ongeluk")
    assert resp.status_code == 403
    researcher = rec.login("researcher")
    assert "reden" in _reopen(researcher, tid, "").get_data(as_text=True)
    assert "teruggedraaid" in _reopen(researcher, tid, "per ongeluk beëindigd").get_data(as_text=True)  # fmt: skip
    with rec.container.read_sessions() as s:
        t = s.get_one(Trajectory, tid)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "reopen")).one()
    assert (t.end_date, t.end_reason) == (None, None)
    assert event.old_values == {"end_date": "2026-01-02", "end_reason": "dropout"}
    assert event.reason == "per ongeluk beëindigd" and event.actor == "researcher"
    assert "niet beëindigd" in _reopen(researcher, tid, "nogmaals").get_data(as_text=True)
