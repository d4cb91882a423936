"""Submitting many answer sets at once stores exactly what one submission after another would."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import responses
from study.db import make_engine, make_sessions
from study.errors import Conflict, NotFound
from study.migrate import upgrade
from study.models import AuditEvent, Invitation, Response, ResponseScore, ResponseValue
from study.responses import AnswersInvalid, LinkGone, Submission
from study.vocab import InvitationStatus
from tests.forms_support import Link, full_answers, invitations_for_cohort, section_answers

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=3)
#: random by design (link salts), or numbered in the order of writing
SKIP = {"token_salt", "token_hash"}


@pytest.fixture(scope="module")
def instruments() -> dict[str, Instrument]:
    return load_instruments()


def fresh(path: Path, instruments: dict[str, Instrument]) -> tuple[Engine, list[Link]]:
    """A database with a small cohort and one open invitation per trajectory and instrument."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with make_sessions(engine).begin() as s:
        links = invitations_for_cohort(s, AT, list(instruments.values()), n_trajectories=3)
    return engine, links


def dump(engine: Engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as c:
        for table, order in (
            ("response", "id"),
            ("response_value", "response_id, item_id"),
            ("response_score", "response_id, score_id"),
            ("invitation", "id"),
        ):
            cols = [
                r[1] for r in c.execute(text(f"PRAGMA table_info({table})")) if r[1] not in SKIP
            ]
            rows = c.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}"))
            out[table] = [tuple(r) for r in rows]
        rows = c.execute(
            select(
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.entity,
                AuditEvent.entity_id,
                AuditEvent.new_values,
            )
            .where(AuditEvent.action == "submit_response")
            .order_by(AuditEvent.entity_id)
        )
        out["audit"] = [tuple(r) for r in rows]
    return out


def count(engine: Engine, model: type) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(model))


def items_for(links: list[Link], instruments: dict[str, Instrument]) -> list[Submission]:
    by_id = list(instruments.values())
    items = []
    for k, link in enumerate(links):
        instrument = by_id[k % len(by_id)]
        items.append(
            Submission(
                link.invitation_id,
                full_answers(instrument, seed=k),
                f"sub-{k}",
                actor=f"{instrument.respondent}:link",
            )
        )
    return items


def test_submit_many_stores_exactly_what_submit_stores(
    tmp_path: Path, instruments: dict[str, Instrument]
) -> None:
    one, links = fresh(tmp_path / "one.db", instruments)
    many, links_many = fresh(tmp_path / "many.db", instruments)
    assert [link.invitation_id for link in links] == [link.invitation_id for link in links_many]
    items = items_for(links, instruments)
    with make_sessions(one).begin() as s:
        single_ids = [
            responses.submit(
                s,
                item.invitation_id,
                item.answers,
                submission_id=item.submission_id,
                instruments=instruments,
                actor=item.actor or "x",
                at=LATER,
            ).id
            for item in items
        ]
    with make_sessions(many).begin() as s:
        bulk_ids = responses.submit_many(
            s, items, instruments=instruments, actor="unused", at=LATER
        )
    assert bulk_ids == single_ids
    a, b = dump(one), dump(many)
    assert len(a["response"]) == len(items) and len(a["response_value"]) > 10 * len(items)
    for table in a:
        assert a[table] == b[table], table
    with make_sessions(many)() as s:
        statuses = {s.get(Invitation, i).status for i in bulk_ids}
    assert statuses == {InvitationStatus.COMPLETED}


def test_one_invalid_answer_set_refuses_the_whole_batch(
    tmp_path: Path, instruments: dict[str, Instrument]
) -> None:
    engine, links = fresh(tmp_path / "v.db", instruments)
    items = items_for(links, instruments)
    employee = instruments["employee_followup"]
    bad_index = next(k for k, link in enumerate(links) if k % len(instruments) == 1)
    assert list(instruments.values())[1] is employee
    items[bad_index] = Submission(
        items[bad_index].invitation_id,
        {**full_answers(employee), "job_sat": ["1", "2"]},
        "bad",
    )
    with pytest.raises(AnswersInvalid) as refused, make_sessions(engine).begin() as s:
        responses.submit_many(s, items, instruments=instruments, actor="t", at=LATER)
    assert "job_sat" in refused.value.errors
    assert count(engine, Response) == count(engine, ResponseValue) == 0
    assert count(engine, ResponseScore) == 0
    with make_sessions(engine)() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "submit_response")) == 0
        open_now = s.scalars(select(Invitation.status).distinct()).all()
    assert open_now == [InvitationStatus.OPEN]


def test_closed_unknown_and_conflicting_invitations_refuse_the_batch(
    tmp_path: Path, instruments: dict[str, Instrument]
) -> None:
    engine, links = fresh(tmp_path / "c.db", instruments)
    items = items_for(links, instruments)
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        s.get(Invitation, links[2].invitation_id).status = InvitationStatus.MISSED
    cases = [
        (LinkGone, items),
        (NotFound, [items[0], Submission(999_999, {}, "nowhere")]),
        (Conflict, [items[0], Submission(links[1].invitation_id, None, items[0].submission_id)]),
    ]
    for error, batch in cases:
        with pytest.raises(error), sessions.begin() as s:
            responses.submit_many(s, batch, instruments=instruments, actor="t", at=LATER)
        assert count(engine, Response) == 0, error


def test_submit_many_is_idempotent_and_submits_drafts(
    tmp_path: Path, instruments: dict[str, Instrument]
) -> None:
    engine, links = fresh(tmp_path / "i.db", instruments)
    sessions = make_sessions(engine)
    items = items_for(links, instruments)[:4]
    employee = instruments["employee_followup"]
    draft_link = links[1]
    with sessions.begin() as s:
        assert s.get(Invitation, draft_link.invitation_id).instrument_id == employee.id
        for index in range(len(employee.sections)):
            responses.save_section(
                s,
                draft_link.invitation_id,
                employee.sections[index].id,
                section_answers(employee, index, random.Random(index)),
                instruments=instruments,
                at=AT,
            )
    items[1] = Submission(draft_link.invitation_id, None, "draft")
    with sessions.begin() as s:
        first = responses.submit_many(s, items, instruments=instruments, actor="t", at=LATER)
    # a replay, plus a second click on an answered form with a new submission id
    again_items = [*items, Submission(links[0].invitation_id, items[2].answers, "new-click")]
    with sessions.begin() as s:
        again = responses.submit_many(s, again_items, instruments=instruments, actor="t", at=LATER)
    assert again == [*first, first[0]]
    assert count(engine, Response) == 4
    with sessions() as s:
        draft = s.get(Response, first[1])
        assert draft.submission_id == "draft" and draft.submitted_at == LATER
        assert s.scalar(select(func.count()).where(AuditEvent.action == "submit_response")) == 4
