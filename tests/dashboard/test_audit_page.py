"""The audit-log viewer over HTTP: filters, CSV download (itself audited), researchers only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from study.models import AuditEvent
from tests.dashboard.conftest import Env, dash_post, route_to


def _search(client, code=None, actor=None, action=None, since=None, until=None):
    return dash_post(
        client,
        [("audit-grid", "rowData"), ("audit-count", "children")],
        [("audit-code", "value", code), ("audit-actor", "value", actor),
         ("audit-action", "value", action), ("audit-period", "start_date", since),
         ("audit-period", "end_date", until)],
    )  # fmt: skip


def _rows(resp) -> list[dict]:
    return json.loads(resp.get_data(as_text=True))["response"]["audit-grid"]["rowData"]


def test_search_by_record_finds_that_participant_only(env: Env) -> None:
    client = env.login("researcher")
    rows = _rows(_search(client, code="P0001"))
    pid = env.cohort.participant_ids[0]
    assert rows and {"participant", "trajectory"} <= {r["entity"] for r in rows}
    assert all(r["entity_id"] != env.cohort.participant_ids[1] or r["entity"] != "participant" for r in rows)  # fmt: skip
    assert any(r["entity"] == "participant" and r["entity_id"] == pid for r in rows)
    assert _rows(_search(client, code="P9999")) == []


def test_filters_by_user_action_and_period(env: Env) -> None:
    client = env.login("researcher")
    everything = _rows(_search(client))
    enrols = _rows(_search(client, action="enrol"))
    assert enrols and all(r["action"] == "enrol" for r in enrols) and len(enrols) < len(everything)
    assert all(r["actor"] == "test" for r in _rows(_search(client, actor="test")))
    assert _rows(_search(client, since="2030-01-01")) == []
    day = env.clock.now().date().isoformat()
    assert len(_rows(_search(client, since=day, until=day))) == len(everything)
    body = _search(client, since="gisteren").get_data(as_text=True)
    assert "Ongeldige datum" in body


@pytest.mark.parametrize("crafted", [["x"], {"a": 1}, 12])
def test_crafted_filters_are_ignored_not_trusted(env: Env, crafted) -> None:
    client = env.login("researcher")
    resp = _search(client, code=crafted, actor=crafted)
    assert resp.status_code == 200


def test_csv_download_holds_the_rows_and_is_audited(env: Env) -> None:
    client = env.login("researcher")
    resp = dash_post(
        client, [("audit-download", "data")], [("audit-csv", "n_clicks", 1)],
        [("audit-code", "value", "P0002"), ("audit-actor", "value", None),
         ("audit-action", "value", None), ("audit-period", "start_date", None),
         ("audit-period", "end_date", None)],
    )  # fmt: skip
    data = json.loads(resp.get_data(as_text=True))["response"]["audit-download"]["data"]
    lines = data["content"].strip().splitlines()
    assert lines[0].startswith("audit_id,at,actor,action,entity,entity_id")
    assert len(lines) - 1 == len(_rows(_search(client, code="P0002")))
    with env.container.read_sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity == "audit_event")).one()
    assert event.actor == "researcher" and event.action == "export"
    assert event.new_values["study_code"] == "P0002"


@pytest.mark.parametrize("username", ["coach1", "viewer"])
def test_only_researchers_see_the_audit_log(env: Env, username: str) -> None:
    client = env.login(username)
    assert _search(client).status_code == 403
    resp = dash_post(
        client, [("audit-download", "data")], [("audit-csv", "n_clicks", 1)],
        [("audit-code", "value", None), ("audit-actor", "value", None),
         ("audit-action", "value", None), ("audit-period", "start_date", None),
         ("audit-period", "end_date", None)],
    )  # fmt: skip
    assert resp.status_code == 403
    page = route_to(client, "/audit").get_data(as_text=True)
    assert "geen toegang" in page and "audit-grid" not in page
