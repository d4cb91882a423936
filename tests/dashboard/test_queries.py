"""Data queries over HTTP: a researcher asks, the client's jobcoach answers, the researcher
closes; other coaches, viewers and crafted ids get nowhere; every step is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from study.access import trajectory_scope
from study.models import AuditEvent, DataQuery
from study.query_list import open_query_count
from tests.dashboard.conftest import Env, dash_post
from tests.dashboard.test_record import _contact_id, _people, rec  # noqa: F401


def _step(client, button, participant=None, entry=None, field=None, text=None, picked=None, answer=None):  # fmt: skip
    buttons = ["record-query-open", "record-query-reply", "record-query-close"]
    return dash_post(
        client,
        [("record-query-msg", "children"), ("record-query-changed", "data")],
        sorted(
            [(b, "n_clicks", 1 if b == button else None) for b in buttons],
            key=lambda i: i[0] != button,
        ),
        [
            ("record-pick", "value", participant),
            ("record-entry", "value", entry),
            ("record-field", "value", field),
            ("record-query-text", "value", text),
            ("record-query-pick", "value", picked),
            ("record-query-answer", "value", answer),
        ],
    )


def _text(resp) -> str:
    return json.dumps(resp.get_json(), ensure_ascii=False) if resp.is_json else resp.get_data(as_text=True)  # fmt: skip


def _list(client, participant):
    return _text(dash_post(
        client, [("record-queries", "children"), ("record-query-pick", "options")],
        [("record-pick", "value", participant), ("record-query-changed", "data", None)],
    ))  # fmt: skip


def _count(env: Env) -> int:
    with env.container.read_sessions() as s:
        return open_query_count(s, trajectory_scope(env.cohort.study_id))


def test_ask_answer_close(rec: Env) -> None:  # noqa: F811
    pid = _people(rec, 0)[0][0]
    cid = _contact_id(rec, 0)
    researcher, coach = rec.login("researcher"), rec.login("coach1")
    asked = _step(researcher, "record-query-open", pid, f"coaching_contact:{cid}", "minutes", "Klopt 40 minuten?")  # fmt: skip
    assert "Vraag gesteld" in _text(asked)
    assert _count(rec) == 1
    assert "Klopt 40 minuten?" in _list(coach, pid)
    with rec.container.read_sessions() as s:
        qid = s.scalar(select(DataQuery.id))
    assert "Antwoord opgeslagen" in _text(_step(coach, "record-query-reply", pid, picked=qid, answer="Ja, klopt"))  # fmt: skip
    assert _step(coach, "record-query-close", pid, picked=qid).status_code == 403
    assert "Vraag gesloten" in _text(_step(researcher, "record-query-close", pid, picked=qid))
    assert _count(rec) == 0
    assert "al gesloten" in _text(_step(coach, "record-query-reply", pid, picked=qid, answer="nog iets"))  # fmt: skip
    with rec.container.read_sessions() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "data_query").order_by(AuditEvent.id)))  # fmt: skip
    assert actions == ["query_opened", "query_answered", "query_closed"]


def test_other_coach_viewer_and_crafted_ids_get_nowhere(rec: Env) -> None:  # noqa: F811
    pid = _people(rec, 0)[0][0]
    researcher = rec.login("researcher")
    _step(researcher, "record-query-open", pid, None, None, "Geboortejaar juist?")
    with rec.container.read_sessions() as s:
        qid = s.scalar(select(DataQuery.id))
    other = rec.login("coach2")
    assert "hoort niet bij uw cliënten" in _text(_step(other, "record-query-reply", pid, picked=qid, answer="weet ik niet"))  # fmt: skip
    assert "Geboortejaar" not in _list(other, pid)
    for crafted in (99999, True, "1", [qid]):
        assert "klik-alert" in _text(_step(other, "record-query-reply", pid, picked=crafted, answer="x"))  # fmt: skip
    assert _step(rec.login("coach1"), "record-query-open", pid, None, None, "mag ik vragen?").status_code == 403  # fmt: skip
    viewer = rec.login("viewer")
    assert _step(viewer, "record-query-reply", pid, picked=qid, answer="x").status_code == 403
    with rec.container.read_sessions() as s:
        assert s.get_one(DataQuery, qid).status == "open"


@pytest.mark.parametrize("text", ["", "bel 06-12345678", "x" * 3000])
def test_query_texts_follow_the_note_rules(rec: Env, text: str) -> None:  # noqa: F811
    pid = _people(rec, 0)[0][0]
    assert "klik-alert" in _text(_step(rec.login("researcher"), "record-query-open", pid, None, None, text))  # fmt: skip
    assert _count(rec) == 0
