"""The jobcoach's signals over HTTP: the caseload with traffic lights, a client's card, marking a
signal as seen; crafted requests as another jobcoach, a viewer, or with made-up signals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from study import services
from study.models import AuditEvent, Participant, SignalAcknowledgement, Trajectory
from tests.dashboard.conftest import Env, dash_post

REFRESH = [(f"workspace-{k}", "data", None) for k in ("enrolled", "ended", "withdrawn")]
SICK_SINCE = dt.date(2025, 12, 10)


def _clients(env: Env, coach_index: int) -> list[tuple[int, str]]:
    with env.container.read_sessions() as s:
        rows = s.execute(
            select(Trajectory.id, Participant.study_code)
            .join(Participant, Participant.id == Trajectory.participant_id)
            .where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index])
            .order_by(Trajectory.id)
        ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


@pytest.fixture
def sick_env(env: Env) -> Env:
    """coach1's first client reported sick on 10 December, still sick on 5 January."""
    tid, _ = _clients(env, 0)[0]
    with env.container.sessions.begin() as s:
        services.record_employment_event(
            s, env.cohort.study_id, tid,
            {"event_date": SICK_SINCE, "kind": "sick_leave_start"}, actor="test", at=env.clock.now(),
        )  # fmt: skip
    return env


def _overview(client, coach=None) -> str:
    resp = dash_post(
        client,
        [("workspace-overview", "children"), ("workspace-client", "options")],
        [("workspace-coach", "value", coach), *REFRESH],
    )
    return resp.get_data(as_text=True)


def _detail(client, tid) -> str:
    resp = dash_post(
        client,
        [("workspace-detail", "children")],
        [("workspace-client", "value", tid), *REFRESH[1:]],
    )
    return resp.get_data(as_text=True)


def _ack_request(client, key, action=None, headers=None):
    """The request the browser sends when "Markeer als gezien" beside ``key`` is pressed."""
    from tests.dashboard.conftest import body_text, csrf_headers

    button = {"type": "workspace-ack", "index": key}
    action_id = {"type": "workspace-ack-action", "index": key}
    body = {
        "output": "..workspace-ack-msg.children...workspace-signals-box.children..",
        "outputs": [
            {"id": "workspace-ack-msg", "property": "children"},
            {"id": "workspace-signals-box", "property": "children"},
        ],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [
            '{"index":"%s","type":"workspace-ack"}.n_clicks' % key  # noqa: UP031
        ],
        "state": [
            [{"id": action_id, "property": "value", "value": action}],
            [{"id": action_id, "property": "id", "value": action_id}],
        ],
    }
    resp = client.post(
        "/_dash-update-component", json=body, headers=headers or csrf_headers(client)
    )
    return resp.status_code, body_text(resp)


def _n_acks(env: Env) -> int:
    with env.container.read_sessions() as s:
        return int(s.scalar(select(func.count()).select_from(SignalAcknowledgement)))


def test_the_caseload_puts_the_red_client_first_and_shows_only_own_clients(sick_env: Env) -> None:
    own = _clients(sick_env, 0)
    other = _clients(sick_env, 1)
    body = _overview(sick_env.login("coach1"))
    assert "workspace-caseload" in body
    sick_code = own[0][1]
    # the sick client is first in the caseload, red, named by its signal
    order = re.findall(r'"data-trajectory": ?"(\d+)"', body)
    assert sorted(map(int, order)) == sorted(tid for tid, _ in own)
    assert int(order[0]) == own[0][0]
    assert re.findall(r'"data-light": ?"(\w+)"', body)[0] == "red"
    assert "nu bespreken" in body and "Verzuim" in body
    assert not any(code in body for _, code in other)
    # the other coach sees none of it
    body = _overview(sick_env.login("coach2"))
    assert sick_code not in body and "Verzuim" not in body


def test_the_client_card_says_which_rule_fired_on_which_values(sick_env: Env) -> None:
    tid, _ = _clients(sick_env, 0)[0]
    body = _detail(sick_env.login("coach1"), tid)
    assert "Verzuim langer dan 14 dagen: 26 dagen sinds 10-12-2025" in body
    assert "Bespreek bij rood" in body  # the checklist on red
    assert "Sociale steun" in body and "Reizen" in body
    assert "/workspace/print?client=%d" % tid in body  # noqa: UP031
    coach = sick_env.login("coach1")
    coach.get("/lang/en")
    assert "Sick leave over 14 days: 26 days since 2025-12-10" in _detail(coach, tid)


def test_another_coach_gets_nothing_of_the_card(sick_env: Env) -> None:
    tid, code = _clients(sick_env, 0)[0]
    body = _detail(sick_env.login("coach2"), tid)
    assert "hoort niet bij uw cliënten" in body
    assert "Verzuim" not in body and code not in body


def _sick_key(env: Env) -> str:
    tid, _ = _clients(env, 0)[0]
    return f"{tid}|sick_leave|sick_long|2025-12-25"


def test_a_jobcoach_marks_a_signal_seen_with_an_action_and_it_is_audited(sick_env: Env) -> None:
    coach = sick_env.login("coach1")
    key = _sick_key(sick_env)
    status, body = _ack_request(coach, key, action="conversation")
    assert status == 200, body
    assert "Gemarkeerd als gezien" in body
    with sick_env.container.read_sessions() as s:
        row = s.scalars(select(SignalAcknowledgement)).one()
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "acknowledge_signal")).one()
    assert (row.signal, row.rule, row.level, row.fired_on) == (
        "sick_leave", "sick_long", "red", dt.date(2025, 12, 25),
    )  # fmt: skip
    assert row.action == "conversation" and row.seen_by == "coach1"
    assert audit.actor == "coach1" and audit.new_values["rule"] == "sick_long"
    # the card now says it was seen; the caseload no longer counts it as open
    assert "Gezien op" in _detail(coach, int(key.split("|")[0]))
    # pressing again is refused, nothing new is stored
    status, body = _ack_request(coach, key)
    assert "al als gezien gemarkeerd" in body
    assert _n_acks(sick_env) == 1


@pytest.mark.parametrize(
    "key",
    [
        "{tid}|sick_leave|sick_long|2025-12-24",  # a day the signal did not fire
        "{tid}|klik_drop|klik_item_drop|2025-12-25",  # a signal that did not fire
        "{tid}|nonsense|x|2025-12-25",
        "{tid}|sick_leave|sick_long",
        "not a key",
        "{tid}|sick_leave|sick_long|2025-12-25'; DROP TABLE signal_acknowledgement; --",
    ],
)
def test_made_up_signals_are_refused(sick_env: Env, key: str) -> None:
    tid, _ = _clients(sick_env, 0)[0]
    _status, body = _ack_request(sick_env.login("coach1"), key.format(tid=tid))
    assert "klik-alert" in body
    assert _n_acks(sick_env) == 0


def test_another_coach_cannot_mark_a_signal_of_someone_elses_client(sick_env: Env) -> None:
    _status, body = _ack_request(sick_env.login("coach2"), _sick_key(sick_env))
    assert "hoort niet bij uw cliënten" in body
    assert _n_acks(sick_env) == 0


def test_a_made_up_action_is_refused(sick_env: Env) -> None:
    _status, body = _ack_request(sick_env.login("coach1"), _sick_key(sick_env), action="ontslag")
    assert "onbekende actie" in body
    assert _n_acks(sick_env) == 0


def test_a_viewer_cannot_mark_or_read_signals(sick_env: Env) -> None:
    viewer = sick_env.login("viewer")
    status, body = _ack_request(viewer, _sick_key(sick_env))
    assert status in (401, 403) or "klik-alert" in body or "geen toegang" in body
    assert _n_acks(sick_env) == 0
    assert "Verzuim" not in _overview(viewer)


def test_without_csrf_nothing_is_stored(sick_env: Env) -> None:
    coach = sick_env.login("coach1")
    status, _body = _ack_request(coach, _sick_key(sick_env), headers={"Origin": "http://localhost"})
    assert status in (400, 403)
    assert _n_acks(sick_env) == 0


def _print_page(client, tid) -> str:
    from tests.dashboard.conftest import body_text, route_to

    return body_text(route_to(client, "/workspace/print", f"?client={tid}"))


def test_the_printable_version_is_for_own_clients_only(sick_env: Env) -> None:
    tid, code = _clients(sick_env, 0)[0]
    body = _print_page(sick_env.login("coach1"), tid)
    assert code in body and "Verzuim langer dan 14 dagen" in body
    assert "Afspraken" in body and "Sociale steun" in body
    assert "Markeer als gezien" not in body  # paper has no buttons
    other = _print_page(sick_env.login("coach2"), tid)
    assert "hoort niet bij uw cliënten" in other and "Verzuim" not in other
    for odd in ("abc", "-1", "1 OR 1=1", "9" * 30, ""):
        assert "hoort niet bij uw cliënten" in _print_page(sick_env.login("coach1"), odd)


def test_the_researchers_printable_opening_is_audited(sick_env: Env) -> None:
    tid, _ = _clients(sick_env, 0)[0]
    _print_page(sick_env.login("researcher"), tid)
    with sick_env.container.read_sessions() as s:
        reasons = s.scalars(select(AuditEvent.reason).where(AuditEvent.entity_id == tid)).all()
    assert "workspace: printable signals" in reasons


def _save_contract(client, tid, day):
    return dash_post(
        client,
        [("contract-end-msg", "children")],
        [("contract-end-save", "n_clicks", 1)],
        [("workspace-client", "value", tid), ("contract-end-date", "date", day)],
    ).get_data(as_text=True)


def test_a_contract_end_within_eight_weeks_is_a_signal(env: Env) -> None:
    (tid, _), *_ = _clients(env, 0)
    coach = env.login("coach1")
    assert "Einddatum opgeslagen" in _save_contract(coach, tid, "2026-02-20")
    assert "Contract eindigt op 20-02-2026 (nog 46 dagen)" in _detail(coach, tid)
    # a date before the trajectory started is refused in Dutch
    assert "vóór de start van het traject" in _save_contract(coach, tid, "2020-01-01")
    assert "geen datum" in _save_contract(coach, tid, "20-02-2026x")
    # another coach cannot set it
    assert "hoort niet bij uw cliënten" in _save_contract(env.login("coach2"), tid, "2026-01-10")
    # saved empty, the date is gone and so is the signal
    assert "Einddatum gewist" in _save_contract(coach, tid, None)
    assert "Contract eindigt" not in _detail(coach, tid)


def test_a_researcher_sees_a_chosen_coachs_caseload_and_the_read_is_audited(sick_env: Env) -> None:
    body = _overview(sick_env.login("researcher"), sick_env.cohort.jobcoach_ids[0])
    own = _clients(sick_env, 0)
    order = re.findall(r'"data-trajectory": ?"(\d+)"', body)
    assert sorted(map(int, order)) == sorted(tid for tid, _ in own)
    assert "Verzuim" in body
    with sick_env.container.read_sessions() as s:
        reasons = s.scalars(select(AuditEvent.reason).where(AuditEvent.entity == "jobcoach")).all()
    assert "workspace: clients of a jobcoach" in reasons
