"""Enrolling a client, ending a trajectory and recording a withdrawal from the workspace, over HTTP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from study.enrolment_lists import next_study_code
from study.models import (
    AuditEvent,
    Consent,
    Employer,
    Invitation,
    Participant,
    ParticipantIdentity,
    Trajectory,
)
from study.vocab import InvitationStatus
from tests.dashboard.conftest import Env, dash_post, route_to

FIELDS = ("code", "birth_year", "gender", "benefit", "register", "email", "employer",
          "employer_name", "contact_name", "contact_email", "coach", "start", "funder", "form",
          "hours", "loonwaarde", "maatje", "method", "consent")  # fmt: skip
TABLES = (Participant, ParticipantIdentity, Consent, Employer, Trajectory, AuditEvent)


def _form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "code": "P0100", "birth_year": 1999, "gender": "female", "benefit": "wajong",
        "register": True, "email": "p0100@mail.example", "employer": None,
        "employer_name": "Bakkerij De Klik", "contact_name": "Mevr. Bakker",
        "contact_email": "hr@bakkerij.example", "coach": None, "start": "2026-01-05",
        "funder": "uwv", "form": "begeleid_werken", "hours": 24, "loonwaarde": 70,
        "maatje": True, "method": None, "consent": ["given"],
    }  # fmt: skip
    return {**form, **changes}


def _enrol(client, form: dict[str, object]):
    return dash_post(
        client,
        [
            ("enrol-msg", "children"),
            ("workspace-enrolled", "data"),
            ("enrol-code", "value"),
            ("enrol-consent", "value"),
        ],
        [("enrol-save", "n_clicks", 1)],
        [(f"enrol-{k}", "date" if k == "start" else "value", form[k]) for k in FIELDS],
    )


def _end(client, trajectory_id, reason="job_loss", day="2026-01-10"):
    return dash_post(
        client,
        [("end-msg", "children"), ("workspace-ended", "data")],
        [("end-confirm", "submit_n_clicks", 1)],
        [("workspace-client", "value", trajectory_id), ("end-date", "date", day),
         ("end-reason", "value", reason)],
    )  # fmt: skip


def _withdraw(client, trajectory_id, reason="wil niet meer meedoen"):
    return dash_post(
        client,
        [("withdraw-msg", "children"), ("workspace-withdrawn", "data")],
        [("withdraw-confirm", "submit_n_clicks", 1)],
        [("workspace-client", "value", trajectory_id), ("withdraw-reason", "value", reason)],
    )


def _counts(env: Env) -> dict[str, int]:
    with env.container.read_sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}


def _trajectory(env: Env, trajectory_id: int) -> Trajectory:
    with env.container.read_sessions() as s:
        return s.get_one(Trajectory, trajectory_id)


def test_a_jobcoach_enrols_a_client_in_one_go(env: Env) -> None:
    coach = env.login("coach1")
    before = _counts(env)
    # the coach field is ignored for a jobcoach: they always enrol for themselves
    resp = _enrol(coach, _form(coach=env.cohort.jobcoach_ids[1]))
    body = resp.get_data(as_text=True)
    assert "P0100 is aangemeld" in body
    after = _counts(env)
    for table in ("participant", "participant_identity", "consent", "employer", "trajectory"):
        assert after[table] == before[table] + 1, table
    with env.container.read_sessions() as s:
        participant = s.scalar(select(Participant).where(Participant.study_code == "P0100"))
        identity = s.get_one(ParticipantIdentity, participant.id)
        consent = s.scalar(select(Consent).where(Consent.participant_id == participant.id))
        trajectory = s.scalar(select(Trajectory).where(Trajectory.participant_id == participant.id))
        employer = s.get_one(Employer, trajectory.employer_id)
        audits = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.entity).where(
                AuditEvent.id > before["audit_event"]
            )
        ).all()
    assert (participant.birth_year, str(participant.benefit)) == (1999, "wajong")
    assert identity.email == "p0100@mail.example"
    assert consent.withdrawn_at is None and consent.version
    assert trajectory.jobcoach_id == env.cohort.jobcoach_ids[0]
    assert trajectory.start_date == dt.date(2026, 1, 5) and trajectory.contract_hours == 24
    assert (employer.name, employer.contact_email) == ("Bakkerij De Klik", "hr@bakkerij.example")
    assert {("coach1", "enrol", "participant"), ("coach1", "create", "employer")} <= set(audits)
    assert any(a[2] == "trajectory" and a[0] == "coach1" for a in audits)
    # the answer carries the new trajectory (to refresh the page) and the next free code
    payload = resp.get_json()["response"]
    assert payload["workspace-enrolled"]["data"] == trajectory.id
    assert payload["enrol-code"]["value"] == "P0101"
    assert payload["enrol-consent"]["value"] == []  # the next client's consent is ticked anew
    # the new client is one of the coach's own now
    overview = dash_post(
        coach,
        [("workspace-overview", "children"), ("workspace-client", "options")],
        [("workspace-coach", "value", None), ("workspace-enrolled", "data", trajectory.id),
         ("workspace-ended", "data", None), ("workspace-withdrawn", "data", None)],
    )  # fmt: skip
    assert {"label": "P0100", "value": trajectory.id} in (
        overview.get_json()["response"]["workspace-client"]["options"]
    )


def test_an_existing_employer_can_be_picked(env: Env) -> None:
    coach = env.login("coach2")
    employer_id = env.cohort.employer_ids[0]
    before = _counts(env)
    form = _form(employer=employer_id, employer_name=None, contact_name=None, contact_email=None)
    assert "is aangemeld" in _enrol(coach, form).get_data(as_text=True)
    with env.container.read_sessions() as s:
        trajectory = s.scalar(select(Trajectory).order_by(Trajectory.id.desc()))
    assert trajectory.employer_id == employer_id
    assert trajectory.jobcoach_id == env.cohort.jobcoach_ids[1]
    assert _counts(env)["employer"] == before["employer"]


def test_a_refused_enrolment_writes_nothing(env: Env) -> None:
    coach = env.login("coach1")
    before = _counts(env)
    taken = _enrol(coach, _form(code="P0001")).get_data(as_text=True)
    assert "studiecode P0001 is al in gebruik" in taken
    # a refusal late in the chain (the trajectory) also undoes the participant and the employer
    late = _enrol(coach, _form(hours=99)).get_data(as_text=True)
    assert "contracturen per week moet hoogstens 60" in late
    # the form's own checks
    assert "toestemming" in _enrol(coach, _form(consent=[])).get_data(as_text=True)
    assert "bestaande werkgever" in _enrol(coach, _form(employer_name=None)).get_data(as_text=True)
    both = _form(employer=env.cohort.employer_ids[0])
    assert "niet allebei" in _enrol(coach, both).get_data(as_text=True)
    assert "doelgroepregister ontbreekt" in _enrol(coach, _form(register=None)).get_data(
        as_text=True
    )
    coach.get("/lang/en")
    assert "study code P0001 is already in use" in _enrol(coach, _form(code="P0001")).get_data(
        as_text=True
    )
    assert _counts(env) == before


def test_a_researcher_enrols_for_a_chosen_coach_of_the_study(env: Env) -> None:
    researcher = env.login("researcher")
    before = _counts(env)
    assert "Kies de jobcoach" in _enrol(researcher, _form()).get_data(as_text=True)
    for crafted in ("1 OR 1=1", True, 10**9):
        assert "Kies de jobcoach" in _enrol(researcher, _form(coach=crafted)).get_data(as_text=True)
    assert _counts(env) == before
    coach_id = env.cohort.jobcoach_ids[1]
    assert "is aangemeld" in _enrol(researcher, _form(coach=coach_id)).get_data(as_text=True)
    with env.container.read_sessions() as s:
        trajectory = s.scalar(select(Trajectory).order_by(Trajectory.id.desc()))
    assert trajectory.jobcoach_id == coach_id


def test_a_coach_ends_a_trajectory_of_their_own_client(env: Env) -> None:
    coach = env.login("coach1")
    own = env.cohort.trajectory_ids[0]  # trajectories alternate between the two coaches
    assert "Kies eerst een cliënt" in _end(coach, None).get_data(as_text=True)
    assert "reden van beëindiging ontbreekt" in _end(coach, own, reason=None).get_data(as_text=True)
    assert _trajectory(env, own).end_date is None
    assert "Het traject is beëindigd" in _end(coach, own).get_data(as_text=True)
    ended = _trajectory(env, own)
    assert (ended.end_date, str(ended.end_reason)) == (dt.date(2026, 1, 10), "job_loss")


def test_crafted_requests_cannot_touch_another_coachs_client(env: Env) -> None:
    coach = env.login("coach1")
    other = env.cohort.trajectory_ids[1]
    assert _trajectory(env, other).jobcoach_id == env.cohort.jobcoach_ids[1]
    before = _counts(env)
    for value in (other, [other], "1 OR 1=1", True, -1):
        assert "hoort niet bij uw cliënten" in _end(coach, value).get_data(as_text=True)
        assert "hoort niet bij uw cliënten" in _withdraw(coach, value).get_data(as_text=True)
    assert _trajectory(env, other).end_date is None
    with env.container.read_sessions() as s:
        participant_id = _trajectory(env, other).participant_id
        consent = s.scalar(select(Consent).where(Consent.participant_id == participant_id))
    assert consent.withdrawn_at is None
    assert _counts(env) == before
    # viewers reach none of it
    viewer = env.login("viewer")
    assert _end(viewer, other).status_code == 403
    assert _enrol(viewer, _form()).status_code == 403


def test_a_withdrawal_stops_every_form_and_further_records(forms_env: Env) -> None:
    env = forms_env
    coach = env.login("coach1")
    own = env.cohort.trajectory_ids[0]
    pending = [InvitationStatus.SCHEDULED, InvitationStatus.OPEN]

    def n_pending() -> int:
        with env.container.read_sessions() as s:
            return s.scalar(
                select(func.count())
                .select_from(Invitation)
                .where(Invitation.trajectory_id == own, Invitation.status.in_(pending))
            )

    assert n_pending() > 0
    body = _withdraw(coach, own).get_data(as_text=True)
    assert "De intrekking is vastgelegd" in body
    assert n_pending() == 0
    participant_id = _trajectory(env, own).participant_id
    with env.container.read_sessions() as s:
        consent = s.scalar(select(Consent).where(Consent.participant_id == participant_id))
        audit = s.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "withdraw_consent", AuditEvent.entity_id == participant_id
            )
        )
    assert consent.withdrawn_at is not None
    assert consent.withdrawal_reason == "wil niet meer meedoen"
    assert audit is not None and audit.actor == "coach1"
    # nothing more can be recorded for this client, and a second withdrawal is refused too
    contact = dash_post(
        coach,
        [("contact-msg", "children")],
        [("contact-save", "n_clicks", 1)],
        [("workspace-client", "value", own), ("contact-minutes", "value", 30),
         ("contact-mode", "value", "phone"), ("contact-with", "value", "employee"),
         ("contact-activity", "value", "self_reliance"), ("contact-note", "value", None),
         ("contact-date", "date", "2026-01-05")],
    )  # fmt: skip
    assert "toestemming ingetrokken" in contact.get_data(as_text=True)


def test_the_page_offers_the_next_free_code_and_the_consent_version(env: Env) -> None:
    body = route_to(env.login("coach1"), "/workspace").get_data(as_text=True)
    with env.container.read_sessions() as s:
        code = next_study_code(s, env.cohort.study_id)
    assert code == "P0007"
    assert "Nieuwe cliënt aanmelden" in body and '"value": "P0007"' in body
    assert "Toestemming gegeven (versie 1.0)" in body
    # a jobcoach gets no coach picker in the form (they enrol for themselves); a researcher does
    research = route_to(env.login("researcher"), "/workspace").get_data(as_text=True)
    assert '"id": "enrol-coach", "data": null}, "type": "Store"' in body
    assert '"id": "enrol-coach"}, "type": "Dropdown"' in research and "JC02" in research
