"""Answering through the services: links, drafts per section, one submission, corrections."""

from __future__ import annotations

import datetime as dt
import random
import threading
from statistics import mean

import pytest
from sqlalchemy import func, select

from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import responses
from study.errors import Conflict, InvalidInput, NotFound
from study.models import AuditEvent, Invitation, Response, ResponseScore, ResponseValue
from study.responses import AnswersInvalid, LinkGone
from study.vocab import InvitationStatus, ResponseStatus
from tests.conftest import Database
from tests.forms_support import (
    Link,
    full_answers,
    invitations_for_cohort,
    section_answers,
)

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def instruments() -> dict[str, Instrument]:
    return load_instruments()


@pytest.fixture
def employee(instruments: dict[str, Instrument]) -> Instrument:
    return instruments["employee_followup"]


def make_links(database: Database, instrument: Instrument, n: int = 2, **kw: object) -> list[Link]:
    with database.sessions.begin() as s:
        return invitations_for_cohort(s, AT, [instrument], n_trajectories=n, **kw)


def count(database: Database, model: type) -> int:
    with database.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- finding an invitation by its link -----------------------------------------------------------


def test_token_finds_its_own_invitation(db: Database, employee: Instrument) -> None:
    links = make_links(db, employee)
    with db.read_sessions() as s:
        for link in links:
            assert (
                responses.find_invitation_by_token(s, link.token, as_of=AT).id == link.invitation_id
            )


@pytest.mark.parametrize("token", ["", "abc", "x" * 44, "a" * 42 + "!", "../../etc/passwd"])
def test_malformed_and_unknown_tokens_get_the_same_answer(
    db: Database, employee: Instrument, token: str
) -> None:
    links = make_links(db, employee)
    unknown = links[0].token[:-1] + ("A" if links[0].token[-1] != "A" else "B")
    with db.read_sessions() as s:
        with pytest.raises(NotFound) as malformed:
            responses.find_invitation_by_token(s, token, as_of=AT)
        with pytest.raises(NotFound) as not_there:
            responses.find_invitation_by_token(s, unknown, as_of=AT)
    assert malformed.value.messages == not_there.value.messages
    assert malformed.value.status == 404


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        (dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), InvitationStatus.OPEN),  # after closing day
        (dt.datetime(2025, 12, 31, 9, tzinfo=dt.UTC), InvitationStatus.SCHEDULED),  # before opening
        (AT, InvitationStatus.CANCELLED),
        (AT, InvitationStatus.MISSED),
        (AT, InvitationStatus.COMPLETED),
    ],
)
def test_links_outside_their_window_or_finished_are_gone(
    db: Database, employee: Instrument, as_of: dt.datetime, status: InvitationStatus
) -> None:
    (link,) = make_links(db, employee, n=1, status=status)
    with db.read_sessions() as s, pytest.raises(LinkGone) as exc:
        responses.find_invitation_by_token(s, link.token, as_of=as_of)
    assert exc.value.status == 410


def test_window_days_are_amsterdam_calendar_days(db: Database, employee: Instrument) -> None:
    (link,) = make_links(db, employee, n=1)  # closes on 28 February 2026
    last_minute = dt.datetime(2026, 2, 28, 22, 59, tzinfo=dt.UTC)  # 23:59 in Amsterdam
    just_after = dt.datetime(2026, 2, 28, 23, 0, tzinfo=dt.UTC)  # 1 March, 00:00 in Amsterdam
    with db.read_sessions() as s:
        assert responses.find_invitation_by_token(s, link.token, as_of=last_minute)
        with pytest.raises(LinkGone):
            responses.find_invitation_by_token(s, link.token, as_of=just_after)


# --- drafts -------------------------------------------------------------------------------------


def test_saving_sections_builds_a_resumable_draft(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    rng = random.Random(3)
    first = section_answers(employee, 0, rng)
    with db.sessions.begin() as s:
        result = responses.save_section(
            s,
            link.invitation_id,
            employee.sections[0].id,
            {**first, "_csrf": "x"},
            instruments=instruments,
            at=AT,
        )
    assert result.ok
    with db.read_sessions() as s:
        draft = responses.response_for(s, link.invitation_id)
        assert draft is not None and draft.status == ResponseStatus.DRAFT
        assert {k: str(v) for k, v in draft.answers.items()} == first
        assert responses.resume_index(employee, draft.answers) == 1
        assert s.get(Invitation, link.invitation_id).opened_at == AT
    # an all-empty optional section counts as saved, so resuming skips past it
    with db.sessions.begin() as s:
        assert responses.save_section(
            s, link.invitation_id, employee.sections[1].id, {}, instruments=instruments, at=AT
        ).ok
    with db.read_sessions() as s:
        draft = responses.response_for(s, link.invitation_id)
        assert responses.resume_index(employee, draft.answers) == 2
        assert responses.saved_sections(employee, draft.answers) == [
            employee.sections[0].id,
            employee.sections[1].id,
        ]


def test_invalid_section_stores_nothing(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    raw = section_answers(employee, 0, random.Random(1))
    raw["all_03"] = "9"  # not an option
    with db.sessions.begin() as s:
        result = responses.save_section(
            s, link.invitation_id, "alliance", raw, instruments=instruments, at=AT
        )
    assert not result.ok and set(result.errors) == {"all_03"}
    assert count(db, Response) == 0


def test_required_item_is_checked_on_its_own_page(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    with db.sessions.begin() as s:
        result = responses.save_section(
            s, link.invitation_id, "work", {}, instruments=instruments, lang="en", at=AT
        )
    assert set(result.errors) == {"ws_employed"}
    assert "answered" in result.errors["ws_employed"]


def test_unknown_section_is_refused(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    with db.sessions.begin() as s, pytest.raises(InvalidInput):
        responses.save_section(s, link.invitation_id, "nope", {}, instruments=instruments, at=AT)


# --- submission ---------------------------------------------------------------------------------


def submit(database: Database, link: Link, raw, instruments, sid: str = "sub-1", at=AT) -> int:
    with database.sessions.begin() as s:
        return responses.submit(
            s,
            link.invitation_id,
            raw,
            submission_id=sid,
            instruments=instruments,
            actor="employee",
            at=at,
        ).id


def test_submit_stores_values_scores_and_completes_the_invitation(
    any_db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(any_db, employee, n=1)
    raw = full_answers(employee, seed=5)
    response_id = submit(any_db, link, raw, instruments)
    with any_db.read_sessions() as s:
        response = s.get(Response, response_id)
        assert response.status == ResponseStatus.SUBMITTED
        assert response.submitted_at == AT and response.submitted_by == "employee"
        values = {
            v.item_id: v.value_num
            for v in s.scalars(
                select(ResponseValue).where(ResponseValue.response_id == response_id)
            )
        }
        assert values == {k: float(v) for k, v in raw.items()}
        scores = {
            r.score_id: r.value
            for r in s.scalars(
                select(ResponseScore).where(ResponseScore.response_id == response_id)
            )
        }
        alliance = [float(raw[f"all_{i:02d}"]) for i in range(1, 13)]
        assert scores["alliance"] == pytest.approx(mean(alliance))
        assert scores["job_satisfaction"] == float(raw["job_sat"])
        assert set(scores) == {sc.id for sc in employee.scores}
        invitation = s.get(Invitation, link.invitation_id)
        assert invitation.status == InvitationStatus.COMPLETED and invitation.completed_at == AT
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "response", AuditEvent.entity_id == response_id
            )
        ).all()
        assert [e.action for e in events] == ["submit_response"]
        assert events[0].new_values["scores"]["alliance"] == pytest.approx(mean(alliance))


def test_submit_is_idempotent(
    any_db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(any_db, employee, n=1)
    raw = full_answers(employee)
    first = submit(any_db, link, raw, instruments, sid="a")
    again = submit(any_db, link, raw, instruments, sid="a")  # replayed request
    other = submit(any_db, link, full_answers(employee, seed=9), instruments, sid="b")  # new click
    assert first == again == other
    assert count(any_db, Response) == 1
    assert count(any_db, ResponseScore) == len(employee.scores)
    with any_db.read_sessions() as s:
        stored = {v.item_id: v.value_num for v in s.scalars(select(ResponseValue))}
        assert stored == {k: float(v) for k, v in raw.items()}
        assert s.scalar(select(func.count()).where(AuditEvent.action == "submit_response")) == 1


def test_submission_id_of_another_invitation_conflicts(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    one, two = make_links(db, employee, n=2)
    submit(db, one, full_answers(employee), instruments, sid="same")
    with pytest.raises(Conflict):
        submit(db, two, full_answers(employee), instruments, sid="same")
    assert count(db, Response) == 1


def test_submitting_the_draft(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    rng = random.Random(2)
    expected = {}
    for index, section in enumerate(employee.sections):
        answers = section_answers(employee, index, rng)
        expected.update(answers)
        with db.sessions.begin() as s:
            assert responses.save_section(
                s, link.invitation_id, section.id, answers, instruments=instruments, at=AT
            ).ok
    response_id = submit(db, link, None, instruments)
    with db.read_sessions() as s:
        assert count(db, Response) == 1
        assert s.get(Response, response_id).answers == {k: int(v) for k, v in expected.items()}


@pytest.mark.parametrize(
    "change",
    [
        {"all_01": "6"},
        {"ws_hours": "-1"},
        {"ws_hours": "veertig"},
        {"ws_employed": ""},
        {"not_an_item": "1"},
        {"job_sat": ["1", "2"]},
    ],
)
def test_invalid_submission_stores_nothing(
    db: Database, employee: Instrument, instruments: dict[str, Instrument], change: dict
) -> None:
    (link,) = make_links(db, employee, n=1)
    raw = {**full_answers(employee), **change}
    with pytest.raises(AnswersInvalid) as exc:
        submit(db, link, raw, instruments)
    assert exc.value.errors
    assert count(db, Response) == 0 and count(db, ResponseValue) == 0
    with db.read_sessions() as s:
        assert s.get(Invitation, link.invitation_id).status == InvitationStatus.OPEN


def test_draft_without_required_answer_cannot_be_submitted(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    with db.sessions.begin() as s:
        responses.save_section(
            s,
            link.invitation_id,
            "alliance",
            section_answers(employee, 0, random.Random(1)),
            instruments=instruments,
            at=AT,
        )
    with pytest.raises(AnswersInvalid) as exc:
        submit(db, link, None, instruments)
    assert "ws_employed" in exc.value.errors
    with db.read_sessions() as s:
        assert responses.response_for(s, link.invitation_id).status == ResponseStatus.DRAFT


def test_closed_invitation_cannot_be_submitted(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    with pytest.raises(LinkGone):
        submit(
            db,
            link,
            full_answers(employee),
            instruments,
            at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        )
    assert count(db, Response) == 0


def test_draft_is_locked_after_submission(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    submit(db, link, full_answers(employee), instruments)
    with db.sessions.begin() as s, pytest.raises(LinkGone):
        responses.save_section(
            s, link.invitation_id, "alliance", {"all_01": "1"}, instruments=instruments, at=AT
        )


def test_concurrent_submissions_record_one_response(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    raw = full_answers(employee)
    ids: list[int] = []
    errors: list[BaseException] = []

    def click(n: int) -> None:
        try:
            ids.append(submit(db, link, raw, instruments, sid=f"click-{n % 3}"))
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(ids)) == 1 and len(ids) == 8
    assert count(db, Response) == 1


def test_all_builtin_instruments_submit_and_score(
    db: Database, instruments: dict[str, Instrument]
) -> None:
    chosen = [
        instruments[i] for i in ("employee_followup", "jobcoach_followup", "employer_followup")
    ]
    with db.sessions.begin() as s:
        links = invitations_for_cohort(s, AT, chosen, n_trajectories=1)
    for link, instrument in zip(links, chosen, strict=True):
        response_id = submit(
            db, link, full_answers(instrument), instruments, sid=f"s{link.invitation_id}"
        )
        with db.read_sessions() as s:
            n_scores = s.scalar(
                select(func.count()).where(
                    ResponseScore.response_id == response_id, ResponseScore.value.is_not(None)
                )
            )
        assert n_scores == len(instrument.scores)


# --- corrections --------------------------------------------------------------------------------


def test_correction_needs_a_reason_and_is_audited(
    any_db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(any_db, employee, n=1)
    raw = {**full_answers(employee), "job_sat": "2"}
    response_id = submit(any_db, link, raw, instruments)
    later = AT + dt.timedelta(days=3)
    for reason in ("", "   "):
        with any_db.sessions.begin() as s, pytest.raises(InvalidInput):
            responses.correct_answer(
                s,
                link.study_id,
                response_id,
                "job_sat",
                "5",
                reason=reason,
                actor="researcher",
                at=later,
                instruments=instruments,
            )
    with any_db.sessions.begin() as s:
        responses.correct_answer(
            s,
            link.study_id,
            response_id,
            "job_sat",
            "5",
            reason="typed on paper as 5",
            actor="researcher",
            at=later,
            instruments=instruments,
        )
    with any_db.read_sessions() as s:
        response = s.get(Response, response_id)
        assert response.answers["job_sat"] == 5
        value = s.get(ResponseValue, (response_id, "job_sat"))
        assert value.value_num == 5.0
        assert s.get(ResponseScore, (response_id, "job_satisfaction")).value == 5.0
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "correct_answer")).one()
        assert event.reason == "typed on paper as 5" and event.actor == "researcher"
        assert event.old_values["answers"] == {"job_sat": 2}
        assert event.new_values["answers"] == {"job_sat": 5}
        assert event.old_values["scores"]["job_satisfaction"] == 2.0
        assert event.new_values["scores"]["job_satisfaction"] == 5.0
        assert event.at == later


def test_correction_removing_an_optional_answer_rescoring(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    response_id = submit(db, link, full_answers(employee), instruments)
    with db.sessions.begin() as s:
        responses.correct_answer(
            s,
            link.study_id,
            response_id,
            "job_sat",
            None,
            reason="respondent asked",
            actor="researcher",
            at=AT,
            instruments=instruments,
        )
    with db.read_sessions() as s:
        assert s.get(ResponseValue, (response_id, "job_sat")) is None
        assert s.get(ResponseScore, (response_id, "job_satisfaction")).value is None


@pytest.mark.parametrize(
    ("item", "value"), [("job_sat", "7"), ("ws_employed", None), ("nope", "1")]
)
def test_invalid_correction_changes_nothing(
    db: Database, employee: Instrument, instruments: dict[str, Instrument], item: str, value
) -> None:
    (link,) = make_links(db, employee, n=1)
    response_id = submit(db, link, full_answers(employee), instruments)
    with db.read_sessions() as s:
        before = dict(s.get(Response, response_id).answers)
    with db.sessions.begin() as s, pytest.raises(InvalidInput):
        responses.correct_answer(
            s,
            link.study_id,
            response_id,
            item,
            value,
            reason="why not",
            actor="researcher",
            at=AT,
            instruments=instruments,
        )
    with db.read_sessions() as s:
        assert s.get(Response, response_id).answers == before
        assert s.scalar(select(func.count()).where(AuditEvent.action == "correct_answer")) == 0


def test_correction_is_confined_to_the_study_and_to_submitted_responses(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    one, two = make_links(db, employee, n=2)
    response_id = submit(db, one, full_answers(employee), instruments)
    with db.sessions.begin() as s, pytest.raises(NotFound):
        responses.correct_answer(
            s,
            one.study_id + 99,
            response_id,
            "job_sat",
            "1",
            reason="r",
            actor="researcher",
            at=AT,
            instruments=instruments,
        )
    with db.sessions.begin() as s:
        responses.save_section(
            s, two.invitation_id, "satisfaction", {"job_sat": "3"}, instruments=instruments, at=AT
        )
    with db.read_sessions() as s:
        draft_id = responses.response_for(s, two.invitation_id).id
    with db.sessions.begin() as s, pytest.raises(Conflict):
        responses.correct_answer(
            s,
            two.study_id,
            draft_id,
            "job_sat",
            "1",
            reason="r",
            actor="researcher",
            at=AT,
            instruments=instruments,
        )


def test_wrong_instrument_version_is_refused(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    with db.sessions.begin() as s:
        s.get(Invitation, link.invitation_id).instrument_version = "0.9"
    with pytest.raises(Conflict):
        submit(db, link, full_answers(employee), instruments)


def test_a_stale_precomputed_check_is_not_trusted(
    db: Database, employee: Instrument, instruments: dict[str, Instrument]
) -> None:
    (link,) = make_links(db, employee, n=1)
    raw = {**full_answers(employee), "job_sat": "1"}
    stale = responses.check_answers(employee, {**raw, "job_sat": "5"})
    with db.sessions.begin() as s:
        response = responses.submit(
            s,
            link.invitation_id,
            raw,
            submission_id="s",
            instruments=instruments,
            actor="employee",
            at=AT,
            checked=stale,
        )
        response_id = response.id
    with db.read_sessions() as s:
        assert s.get(ResponseScore, (response_id, "job_satisfaction")).value == 1.0
    with pytest.raises(AnswersInvalid):
        responses.check_answers(employee, {**raw, "job_sat": "8"})
