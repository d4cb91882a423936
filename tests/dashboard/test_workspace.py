"""Jobcoach workspace: own clients only, forms to fill in, logging, signals, audited reads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from dashboard.workspace_views import form_state
from study.models import AuditEvent, CoachingContact, EmploymentEvent, Invitation, Trajectory
from study.vocab import Respondent
from tests.dashboard.conftest import Env, dash_post, route_to

CONTACT_STATES = ["minutes", "mode", "with", "activity", "note"]
# the stores an enrolment, an ended trajectory or a withdrawal write to refresh the page
REFRESH = [(f"workspace-{k}", "data", None) for k in ("enrolled", "ended", "withdrawn")]


def _codes(env: Env, coach_index: int) -> tuple[list[int], list[str]]:
    with env.container.read_sessions() as s:
        from study.models import Participant

        rows = s.execute(
            select(Trajectory.id, Participant.study_code)
            .join(Participant, Participant.id == Trajectory.participant_id)
            .where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index])
        ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def _overview(client, coach=None):
    return dash_post(
        client,
        [("workspace-overview", "children"), ("workspace-client", "options")],
        [("workspace-coach", "value", coach), *REFRESH],
    )


def _detail(client, trajectory_id):
    return dash_post(
        client,
        [("workspace-detail", "children")],
        [("workspace-client", "value", trajectory_id), *REFRESH[1:]],
    )


def _save_contact(client, trajectory_id, minutes=45, day="2026-01-05"):
    return dash_post(
        client,
        [("contact-msg", "children")],
        [("contact-save", "n_clicks", 1)],
        [
            ("workspace-client", "value", trajectory_id),
            ("contact-minutes", "value", minutes),
            ("contact-mode", "value", "phone"),
            ("contact-with", "value", "employee"),
            ("contact-activity", "value", "self_reliance"),
            ("contact-note", "value", None),
            ("contact-date", "date", day),
        ],
    )


def _n_contacts(env: Env) -> int:
    with env.container.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(CoachingContact))


def test_a_jobcoach_sees_only_own_clients(forms_env: Env) -> None:
    _own_ids, own_codes = _codes(forms_env, 0)
    _other_ids, other_codes = _codes(forms_env, 1)
    body = _overview(forms_env.login("coach1")).get_data(as_text=True)
    for code in own_codes:
        assert code in body
    for code in other_codes:
        assert code not in body


def test_crafted_requests_for_another_coachs_client_get_nothing(forms_env: Env) -> None:
    coach = forms_env.login("coach1")
    other_ids, other_codes = _codes(forms_env, 1)
    for tid in other_ids:
        body = _detail(coach, tid).get_data(as_text=True)
        assert "hoort niet bij uw cliënten" in body
        assert not any(code in body for code in other_codes)
    # writing to another coach's client is refused and writes nothing
    before = _n_contacts(forms_env)
    body = _save_contact(coach, other_ids[0]).get_data(as_text=True)
    assert "hoort niet bij uw cliënten" in body
    assert _n_contacts(forms_env) == before
    # a researcher's coach picker is ignored for a jobcoach: still only their own clients
    body = _overview(coach, forms_env.cohort.jobcoach_ids[1]).get_data(as_text=True)
    assert not any(code in body for code in other_codes)
    # odd inputs are refused, not crashed on
    for value in ("1 OR 1=1", [other_ids[0]], True, -1, 10**12):
        assert "hoort niet bij uw cliënten" in _detail(coach, value).get_data(as_text=True)


def test_a_jobcoach_logs_a_contact_and_sees_errors_in_their_language(forms_env: Env) -> None:
    coach = forms_env.login("coach1")
    own_ids, _ = _codes(forms_env, 0)
    before = _n_contacts(forms_env)
    assert "Opgeslagen" in _save_contact(coach, own_ids[0]).get_data(as_text=True)
    assert _n_contacts(forms_env) == before + 1
    bad = _save_contact(coach, own_ids[0], day="2020-01-01").get_data(as_text=True)
    assert "vóór de start van het traject" in bad
    coach.get("/lang/en")
    bad = _save_contact(coach, own_ids[0], day="2020-01-01").get_data(as_text=True)
    assert "before the trajectory started" in bad
    assert _n_contacts(forms_env) == before + 1


def test_a_jobcoach_logs_an_employment_event(forms_env: Env) -> None:
    coach = forms_env.login("coach1")
    own_ids, _ = _codes(forms_env, 0)
    resp = dash_post(
        coach,
        [("event-msg", "children")],
        [("event-save", "n_clicks", 1)],
        [
            ("workspace-client", "value", own_ids[0]),
            ("event-kind", "value", "job_end"),
            ("event-hours", "value", None),
            ("event-reason", "value", None),
            ("event-note", "value", None),
            ("event-date", "date", "2026-01-02"),
        ],
    )
    assert "reden waarom de baan eindigde" in resp.get_data(as_text=True)
    resp = dash_post(
        coach,
        [("event-msg", "children")],
        [("event-save", "n_clicks", 2)],
        [
            ("workspace-client", "value", own_ids[0]),
            ("event-kind", "value", "hours_change"),
            ("event-hours", "value", 28),
            ("event-reason", "value", None),
            ("event-note", "value", None),
            ("event-date", "date", "2026-01-02"),
        ],
    )
    assert "Opgeslagen" in resp.get_data(as_text=True)
    with forms_env.container.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(EmploymentEvent)) == 1
    assert "Urenwijziging" in _detail(coach, own_ids[0]).get_data(as_text=True)


def test_own_forms_open_from_the_workspace_and_nobody_elses_link_shows(forms_env: Env) -> None:
    body = _overview(forms_env.login("coach1")).get_data(as_text=True)
    with forms_env.container.read_sessions() as s:
        own = _codes(forms_env, 0)[0]
        coach_forms = s.scalars(
            select(Invitation.id).where(
                Invitation.trajectory_id.in_(own),
                Invitation.respondent == Respondent.JOBCOACH,
                Invitation.status == "open",
            )
        ).all()
    for inv_id in coach_forms:
        assert f"/coach/forms/{inv_id}" in body
    # employees' and employers' forms offer to mail the link again, never the link itself
    assert "Stuur de link opnieuw" in body
    assert "/f/" not in body


def test_coach_form_route_refuses_another_coachs_invitation(forms_env: Env) -> None:
    other = _codes(forms_env, 1)[0]
    with forms_env.container.read_sessions() as s:
        inv = s.scalar(
            select(Invitation.id).where(
                Invitation.trajectory_id.in_(other), Invitation.respondent == Respondent.JOBCOACH
            )
        )
    resp = forms_env.login("coach1").get(f"/coach/forms/{inv}")
    assert resp.status_code in (403, 404)
    assert forms_env.client().get(f"/coach/forms/{inv}").status_code == 302  # anonymous: login


def test_researcher_reads_are_audited(forms_env: Env) -> None:
    c = forms_env.login("researcher")
    assert "Kies een jobcoach" in _overview(c).get_data(as_text=True)
    body = _overview(c, forms_env.cohort.jobcoach_ids[1]).get_data(as_text=True)
    assert all(code in body for code in _codes(forms_env, 1)[1])
    tid = _codes(forms_env, 1)[0][0]
    assert "Traject P" in _detail(c, tid).get_data(as_text=True)
    with forms_env.container.read_sessions() as s:
        reads = s.execute(
            select(AuditEvent.actor, AuditEvent.entity, AuditEvent.entity_id).where(
                AuditEvent.action == "read"
            )
        ).all()
    assert ("researcher", "trajectory", tid) in reads
    assert ("researcher", "jobcoach", forms_env.cohort.jobcoach_ids[1]) in reads


def test_viewers_get_no_workspace(forms_env: Env) -> None:
    viewer = forms_env.login("viewer")
    assert _overview(viewer).status_code == 403
    assert _detail(viewer, 1).status_code == 403
    assert "geen toegang" in route_to(viewer, "/workspace").get_data(as_text=True)


def test_form_state() -> None:
    today = dt.date(2026, 1, 5)
    assert form_state(dt.date(2026, 1, 1), dt.date(2025, 12, 20), today) == "overdue"
    assert form_state(dt.date(2026, 1, 8), dt.date(2026, 1, 1), today) == "due"
    assert form_state(dt.date(2026, 1, 20), dt.date(2026, 1, 13), today) == "upcoming"
