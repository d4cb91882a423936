"""Personal links stay personal: a jobcoach never sees, receives or uses an employee's or
employer's link, and can only have it mailed to its owner again, within limits."""

from __future__ import annotations

import datetime as dt
import email
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from dashboard.workspace_views import forms_table
from study.mail.sender import send_pending
from study.models import AuditEvent, Invitation, Outbox, Response, Trajectory
from study.services import link_resend
from study.tokens import token_for
from study.vocab import InvitationStatus, Respondent
from tests.dashboard.conftest import (
    ORIGIN,
    Env,
    csrf_headers,
    dash_post,
    populate_forms,
    route_to,
)

REFRESH = [(f"workspace-{k}", "data", None) for k in ("enrolled", "ended", "withdrawn")]
RESEND = "workspace-resend"


@pytest.fixture
def open_env(env: Env) -> Env:
    """``env`` after months of scheduling with nothing answered: open forms of every role."""
    populate_forms(env.container, answer_share=0.0)
    return env


def _own_trajectories(env: Env, coach_index: int) -> list[int]:
    with env.container.read_sessions() as s:
        return list(
            s.scalars(
                select(Trajectory.id).where(
                    Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index]
                )
            )
        )


def _invitations(env: Env, trajectories: list[int], *roles: Respondent, status=None) -> list:
    with env.container.read_sessions() as s:
        q = select(Invitation).where(
            Invitation.trajectory_id.in_(trajectories), Invitation.respondent.in_(roles)
        )
        if status is not None:
            q = q.where(Invitation.status == status)
        rows = list(s.scalars(q.order_by(Invitation.id)))
        for r in rows:
            s.expunge(r)
    return rows


def _other_peoples_tokens(env: Env) -> list[str]:
    """Every employee and employer token in the study, whatever its state."""
    with env.container.read_sessions() as s:
        rows = s.execute(
            select(Invitation.id, Invitation.token_salt).where(
                Invitation.respondent.in_([Respondent.EMPLOYEE, Respondent.EMPLOYER]),
                Invitation.token_salt.is_not(None),
            )
        ).all()
    return [token_for(env.container.settings.secret_key, i, salt) for i, salt in rows]


def _resend(client: FlaskClient, invitation_id: object, clicks: int = 1):
    """The callback request a press on one "Stuur de link opnieuw" button makes (or a forged one)."""
    button = {"index": invitation_id, "type": RESEND}
    body = {
        "output": "workspace-resend-msg.children",
        "outputs": {"id": "workspace-resend-msg", "property": "children"},
        "inputs": [[{"id": button, "property": "n_clicks", "value": clicks}]],
        "changedPropIds": [json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    return resp.status_code, json.dumps(resp.get_json(silent=True), ensure_ascii=False)


def _count(env: Env, model, *where) -> int:
    with env.container.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_no_page_or_callback_of_the_workspace_carries_another_persons_link(
    open_env: Env,
) -> None:
    tokens = _other_peoples_tokens(open_env)
    assert len(tokens) > 5  # the cohort has open and answered employee and employer forms
    own = _own_trajectories(open_env, 0)
    open_employee = _invitations(open_env, own, Respondent.EMPLOYEE, status=InvitationStatus.OPEN)
    collected: list[bytes] = []
    for username, coach in (("coach1", None), ("researcher", open_env.cohort.jobcoach_ids[0])):
        c = open_env.login(username)
        for path in ("/workspace", "/_dash-layout", "/_dash-dependencies"):
            collected.append(c.get(path, headers=ORIGIN).get_data())
        collected.append(route_to(c, "/workspace").get_data())
        overview = dash_post(
            c,
            [("workspace-overview", "children"), ("workspace-client", "options")],
            [("workspace-coach", "value", coach), *REFRESH],
        )
        assert overview.status_code == 200
        collected.append(overview.get_data())
        for tid in own:
            collected.append(
                dash_post(
                    c,
                    [("workspace-detail", "children")],
                    [("workspace-client", "value", tid), *REFRESH[1:]],
                ).get_data()
            )
        for inv in open_employee[:2]:
            collected.append(_resend(c, inv.id)[1].encode())
    everything = b"\n".join(collected)
    # the test must see what a link would look like, were one there
    assert b"Stuur de link opnieuw" in everything
    for token in tokens:
        assert token.encode() not in everything
    assert b"/f/" not in everything


def test_a_jobcoach_cannot_open_or_answer_an_employee_or_employer_form(open_env: Env) -> None:
    own = _own_trajectories(open_env, 0)
    theirs = _invitations(
        open_env, own, Respondent.EMPLOYEE, Respondent.EMPLOYER, status=InvitationStatus.OPEN
    )
    mine = _invitations(open_env, own, Respondent.JOBCOACH, status=InvitationStatus.OPEN)
    assert theirs and mine
    coach = open_env.login("coach1")
    # the coach's own form works, and gives the coach a form-session cookie to misuse
    page = coach.get(f"/coach/forms/{mine[0].id}")
    assert page.status_code == 200
    csrf = re.search(r'name="_csrf" value="([^"]*)"', page.get_data(as_text=True)).group(1)
    own_cookie = coach.get_cookie("klik_coach_form", path=f"/coach/forms/{mine[0].id}")
    assert own_cookie is not None
    responses_before = _count(open_env, Response)
    for inv in theirs:
        base = f"/coach/forms/{inv.id}"
        coach.set_cookie("klik_coach_form", own_cookie.value, path=base)
        answers = MultiDict([("_csrf", csrf), ("_section", "0"), ("_action", "next")])
        for resp in (
            coach.get(base),
            coach.post(base, data=answers, headers=ORIGIN),
            coach.post(
                f"{base}/submit",
                data={"_csrf": csrf, "submission_id": "s" * 32},
                headers=ORIGIN,
            ),
        ):
            assert resp.status_code == 403, (inv.id, resp.status_code)
    # the coach's signed cookie is no key to the personal-link form either
    coach.set_cookie("klik_form", own_cookie.value, path="/form")
    assert coach.get("/form").status_code == 403
    assert _count(open_env, Response) == responses_before
    # a researcher answers nobody's form from the dashboard
    researcher = open_env.login("researcher")
    assert researcher.get(f"/coach/forms/{mine[0].id}").status_code == 403


def test_resend_mails_the_respondent_once_is_audited_and_refused_again_within_the_hour(
    open_env: Env, tmp_path: Path
) -> None:
    own = _own_trajectories(open_env, 0)
    inv = _invitations(open_env, own, Respondent.EMPLOYEE, status=InvitationStatus.OPEN)[0]
    coach = open_env.login("coach1")
    outbox_before = _count(open_env, Outbox)
    status, body = _resend(coach, inv.id)
    assert status == 200 and "opnieuw per e-mail naar de werknemer" in body, body
    assert _count(open_env, Outbox) == outbox_before + 1
    assert _count(open_env, Outbox, Outbox.kind == "resend", Outbox.invitation_id == inv.id) == 1
    with open_env.container.read_sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "resend_link")).one()
        email_address = s.scalar(
            select(Outbox.recipient).where(Outbox.kind == "resend", Outbox.invitation_id == inv.id)
        )
    assert (event.actor, event.entity, event.entity_id) == ("coach1", "invitation", inv.id)
    assert "@" in email_address and email_address not in json.dumps(event.new_values)

    status, body = _resend(coach, inv.id, clicks=2)
    assert status == 200 and "één keer per uur" in body, body
    assert _count(open_env, Outbox) == outbox_before + 1
    open_env.clock.advance(dt.timedelta(minutes=61))
    assert "opnieuw per e-mail" in _resend(coach, inv.id, clicks=3)[1]
    assert _count(open_env, Outbox) == outbox_before + 2

    # the mail goes to the respondent with their own, working link
    settings = open_env.container.settings.model_copy(update={"mail_dir": tmp_path})
    send_pending(open_env.container.sessions, settings=settings, clock=open_env.clock)
    token = token_for(settings.secret_key, inv.id, inv.token_salt)
    mails = [email.message_from_bytes(p.read_bytes()) for p in tmp_path.glob("*.eml")]
    resent = [m for m in mails if token in m.get_payload(decode=True).decode()]
    assert len(resent) >= 2 and all(m["To"] == email_address for m in resent)
    assert open_env.client().get(f"/f/{token}").status_code == 200


def test_resend_is_refused_for_another_coachs_client_and_for_forms_without_a_link(
    open_env: Env,
) -> None:
    coach = open_env.login("coach1")
    other = _invitations(
        open_env,
        _own_trajectories(open_env, 1),
        Respondent.EMPLOYEE,
        Respondent.EMPLOYER,
        status=InvitationStatus.OPEN,
    )
    own = _own_trajectories(open_env, 0)
    mine = _invitations(open_env, own, Respondent.JOBCOACH, status=InvitationStatus.OPEN)
    done = _invitations(open_env, own, Respondent.EMPLOYEE, status=InvitationStatus.MISSED)
    assert other and mine and done
    before = _count(open_env, Outbox)
    for inv in other:
        status, body = _resend(coach, inv.id)
        assert status == 200 and "hoort niet bij uw cliënten" in body, body
    assert "vul hem zelf in" in _resend(coach, mine[0].id)[1]
    assert "niet open" in _resend(coach, done[0].id)[1]
    for forged in ("1", True, None, [other[0].id], 10**12, -1):
        status, body = _resend(coach, forged)
        assert status in (200, 400, 500) and "opnieuw per e-mail" not in body
    assert _count(open_env, Outbox) == before
    assert _count(open_env, AuditEvent, AuditEvent.action == "resend_link") == 0
    # a viewer cannot even ask
    assert _resend(open_env.login("viewer"), other[0].id)[0] == 403


def test_a_user_has_a_daily_cap_on_resends(open_env: Env, monkeypatch) -> None:
    monkeypatch.setattr(link_resend, "RESENDS_PER_DAY", 2)
    own = _own_trajectories(open_env, 0)
    forms = _invitations(
        open_env, own, Respondent.EMPLOYEE, Respondent.EMPLOYER, status=InvitationStatus.OPEN
    )
    assert len(forms) >= 3
    coach = open_env.login("coach1")
    assert "opnieuw per e-mail" in _resend(coach, forms[0].id)[1]
    open_env.clock.advance(dt.timedelta(hours=2))
    assert "opnieuw per e-mail" in _resend(coach, forms[1].id)[1]
    body = _resend(coach, forms[2].id)[1]
    assert "afgelopen 24 uur al 2 links" in body, body
    assert _count(open_env, Outbox, Outbox.kind == "resend") == 2
    # another user's requests do not count against this one
    assert "opnieuw per e-mail" in _resend(open_env.login("researcher"), forms[2].id)[1]
    open_env.clock.advance(dt.timedelta(hours=23))
    # a day after the first request there is room for one again
    coach = open_env.login("coach1")
    assert "opnieuw per e-mail" in _resend(coach, forms[0].id, clicks=5)[1]


def _form_row(**kw) -> dict:
    row = {
        "invitation_id": 7, "trajectory_id": 1, "study_code": "P0001", "jobcoach_id": 1,
        "wave": "T1", "wave_index": 1, "respondent": "jobcoach", "instrument_id": "x",
        "status": "open", "opens_on": dt.date(2026, 1, 1), "due_on": dt.date(2026, 1, 8),
        "closes_on": dt.date(2026, 2, 5), "link_sent": True,
    }  # fmt: skip
    row.update(kw)
    return row


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_forms_table_offers_own_forms_only_when_open_and_says_when_they_open(lang: str) -> None:
    forms = pd.DataFrame(
        [
            _form_row(),
            _form_row(invitation_id=8, status="scheduled", opens_on=dt.date(2026, 1, 20),
                      due_on=dt.date(2026, 1, 27), link_sent=False),
            _form_row(invitation_id=9, respondent="employee"),
            _form_row(invitation_id=10, respondent="employer", status="scheduled",
                      opens_on=dt.date(2026, 1, 12), link_sent=False),
        ]
    )  # fmt: skip
    text = json.dumps(forms_table(forms, as_of=dt.date(2026, 1, 5), lang=lang).to_plotly_json(),
                      default=lambda o: o.to_plotly_json(), ensure_ascii=False)  # fmt: skip
    assert '"/coach/forms/7"' in text and "/coach/forms/8" not in text
    assert ("Opent op 20 januari 2026" if lang == "nl" else "Opens on 20 January 2026") in text
    assert ("Opent op 12 januari 2026" if lang == "nl" else "Opens on 12 January 2026") in text
    assert '"index": 9' in text and '"index": 10' not in text
    assert "/f/" not in text
