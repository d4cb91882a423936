"""The outbox's message list: every mail with its state but never its address, and a resend of
ticked rows that trusts only their ids; researchers only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from study.models import AuditEvent, Outbox
from tests.dashboard.conftest import Env, csrf_headers, dash_post
from tests.dashboard.test_outbox import _fail_some


def _messages(client):
    return dash_post(
        client, [("outbox-messages", "rowData")], [("outbox-refresh", "n_intervals", 1)]
    )


def _post_rows(env: Env, client, rows):
    app = env.app.extensions["klik_dash"]
    key = next(k for k in app.callback_map if k.startswith("..outbox-rows-msg"))
    outputs = [{"id": o.split(".")[0], "property": o.split(".", 1)[1]} for o in key.strip(".").split("...")]  # fmt: skip
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": "outbox-resend-rows", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["outbox-resend-rows.n_clicks"],
        "state": [{"id": "outbox-messages", "property": "selectedRows", "value": rows}],
    }
    return client.post("/_dash-update-component", json=body, headers=csrf_headers(client))


def test_the_list_shows_every_message_without_addresses(forms_env: Env) -> None:
    from sqlalchemy import update

    failed = _fail_some(forms_env, 2)
    with forms_env.container.sessions.begin() as s:
        # a mail still waiting, never sent: its moments are missing
        s.execute(
            update(Outbox).where(Outbox.id == failed[1]).values(status="pending", sent_at=None)
        )
    resp = _messages(forms_env.login("researcher"))
    rows = json.loads(resp.get_data(as_text=True))["response"]["outbox-messages"]["rowData"]
    with forms_env.container.read_sessions() as s:
        total = s.scalar(select(func.count(Outbox.id)))
        addresses = set(s.scalars(select(Outbox.recipient)))
    assert len(rows) == total
    by_id = {r["outbox_id"]: r for r in rows}
    assert by_id[failed[0]]["status"] == "failed" and "storing" in by_id[failed[0]]["last_error"]
    assert (by_id[failed[1]]["status"], by_id[failed[1]]["sent_at"]) == ("pending", "")
    text = resp.get_data(as_text=True)
    assert not any(a in text for a in addresses)


def test_ticked_rows_are_sent_again_and_crafted_ones_ignored(forms_env: Env) -> None:
    failed = _fail_some(forms_env, 2)
    client = forms_env.login("researcher")
    crafted = [{"outbox_id": failed[0]}, {"outbox_id": "1 or 1=1"}, {"outbox_id": True}, "x"]
    resp = _post_rows(forms_env, client, crafted)
    assert "1 opnieuw in de wachtrij" in json.dumps(resp.get_json(), ensure_ascii=False)
    assert "Kies eerst" in json.dumps(_post_rows(forms_env, client, "all").get_json(), ensure_ascii=False)  # fmt: skip
    with forms_env.container.read_sessions() as s:
        assert s.get_one(Outbox, failed[0]).status.value == "pending"
        assert s.get_one(Outbox, failed[1]).status.value == "failed"
        assert s.scalar(select(func.count()).where(AuditEvent.action == "mail.resend")) == 1


@pytest.mark.parametrize("username", ["coach1", "viewer"])
def test_others_get_no_messages_and_cannot_resend(forms_env: Env, username: str) -> None:
    failed = _fail_some(forms_env, 1)
    client = forms_env.login(username)
    assert _messages(client).status_code == 403
    assert _post_rows(forms_env, client, [{"outbox_id": failed[0]}]).status_code == 403
