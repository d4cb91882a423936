"""User management over HTTP: a researcher adds, disables, unlocks and re-roles logins and issues
one-time password links; the link works once; jobcoaches and viewers are refused."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from study.models import AuditEvent, User
from tests.dashboard.conftest import ORIGIN, PASSWORD, Env, dash_post


def _do(client, action, username, role=None, coach=None, name=None):
    return dash_post(
        client,
        [("users-msg", "children"), ("users-done", "data")],
        [("users-go", "n_clicks", 1)],
        [("users-action", "value", action), ("users-user", "value", username),
         ("users-role", "value", role), ("users-coach", "value", coach), ("users-name", "value", name)],
    )  # fmt: skip


def _link(resp) -> str:
    text = json.dumps(resp.get_json(), ensure_ascii=False)
    found = re.search(r"/login/reset/[A-Za-z0-9._-]+", text)
    assert found, text
    return found.group(0)


def test_added_login_sets_its_own_password_through_a_one_time_link(env: Env) -> None:
    client = env.login("researcher")
    resp = _do(client, "add", "nieuwe.coach", role="jobcoach", coach="JC02", name="Nieuwe Coach")
    link = _link(resp)
    with env.container.read_sessions() as s:
        user = s.scalars(select(User).where(User.username == "nieuwe.coach")).one()
        assert user.jobcoach_id == env.cohort.jobcoach_ids[1]
    anonymous = env.client()
    assert "nieuwe.coach" in anonymous.get(link).get_data(as_text=True)
    short = anonymous.post(link, data={"password": "kort", "again": "kort"}, headers=ORIGIN)
    assert short.status_code == 400 and "minstens 10" in short.get_data(as_text=True)
    differ = anonymous.post(link, data={"password": "een lang wachtwoord", "again": "een ander wachtwoord"}, headers=ORIGIN)  # fmt: skip
    assert differ.status_code == 400
    done = anonymous.post(link, data={"password": "een lang wachtwoord", "again": "een lang wachtwoord"}, headers=ORIGIN)  # fmt: skip
    assert done.status_code == 200 and "ingesteld" in done.get_data(as_text=True)
    login = env.client().post("/login", data={"username": "nieuwe.coach", "password": "een lang wachtwoord"}, headers=ORIGIN)  # fmt: skip
    assert login.status_code == 302
    # the link is spent
    again = anonymous.post(link, data={"password": "nog een wachtwoord", "again": "nog een wachtwoord"}, headers=ORIGIN)  # fmt: skip
    assert again.status_code == 403 and "al gebruikt" in again.get_data(as_text=True)
    assert anonymous.get(link.replace("reset/", "reset/x")).status_code == 403


def test_disable_ends_sessions_and_enable_restores(env: Env) -> None:
    coach = env.login("coach1")
    assert coach.get("/_dash-layout").status_code == 200
    researcher = env.login("researcher")
    assert "Gedaan" in json.dumps(_do(researcher, "disable", "coach1").get_json(), ensure_ascii=False)  # fmt: skip
    assert coach.get("/_dash-layout").status_code in (302, 401, 403)
    refused = env.client().post("/login", data={"username": "coach1", "password": PASSWORD}, headers=ORIGIN)  # fmt: skip
    assert refused.status_code == 401
    _do(researcher, "enable", "coach1")
    env.login("coach1")
    assert "eigen login" in json.dumps(_do(researcher, "disable", "researcher").get_json(), ensure_ascii=False)  # fmt: skip
    with env.container.read_sessions() as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "researcher")))
    assert {"login_disabled", "login_enabled"} <= actions


def test_role_change_narrows_what_the_login_sees(env: Env) -> None:
    researcher = env.login("researcher")
    _do(researcher, "role", "viewer", role="jobcoach", coach="JC01")
    with env.container.read_sessions() as s:
        user = s.scalars(select(User).where(User.username == "viewer")).one()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "role_changed")).one()
    assert (user.role.value, user.jobcoach_id) == ("jobcoach", env.cohort.jobcoach_ids[0])
    assert event.old_values["role"] == "viewer" and event.new_values["role"] == "jobcoach"
    body = json.dumps(_do(researcher, "role", "coach2", role="jobcoach", coach="NOPE").get_json(), ensure_ascii=False)  # fmt: skip
    assert "bestaat niet" in body
    body = json.dumps(
        _do(researcher, "role", "coach2", role="admin").get_json(), ensure_ascii=False
    )
    assert "kies een van" in body


def test_unknown_logins_and_crafted_actions_are_refused(env: Env) -> None:
    researcher = env.login("researcher")
    assert "bestaat niet" in json.dumps(_do(researcher, "disable", "niemand").get_json(), ensure_ascii=False)  # fmt: skip
    for action in ("drop", None, ["disable"]):
        assert "Kies een actie" in json.dumps(_do(researcher, action, "coach1").get_json(), ensure_ascii=False)  # fmt: skip


@pytest.mark.parametrize("username", ["coach1", "viewer"])
def test_only_researchers_manage_users(env: Env, username: str) -> None:
    client = env.login(username)
    assert _do(client, "add", "indringer", role="researcher").status_code == 403
    assert _do(client, "reset_link", "researcher").status_code == 403
    assert dash_post(client, [("users-grid", "rowData")], [("users-done", "data", None)]).status_code == 403  # fmt: skip
    with env.container.read_sessions() as s:
        assert s.scalar(select(User.id).where(User.username == "indringer")) is None
