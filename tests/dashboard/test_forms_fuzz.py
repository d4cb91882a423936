"""Fuzzing the form endpoints: whatever is posted, never a server error and nothing invalid stored."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from dashboard.app import create_app
from questionnaires.registry import load_instruments
from questionnaires.validation import validate_answers
from study.clock import SimulatedClock
from study.models import Invitation, Response, ResponseValue
from study.vocab import InvitationStatus, ResponseStatus
from tests.conftest import Database
from tests.dashboard.forms_http import container_for, hidden
from tests.factory import build_cohort
from tests.forms_support import add_invitation, section_answers

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
INSTRUMENTS = load_instruments()
EMPLOYEE = INSTRUMENTS["employee_followup"]
ITEM_IDS = [it.id for it in EMPLOYEE.answerable_items]
SECTION_IDS = [s.id for s in EMPLOYEE.sections]

text_values = st.one_of(
    st.sampled_from(
        ["", "0", "1", "3", "5", "6", "-1", "28", "29", "60", "61", "1e3", "ja", "nee"]
    ),
    st.text(max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
field_names = st.one_of(st.sampled_from(ITEM_IDS), st.text(max_size=8))
posted = st.lists(st.tuples(field_names, text_values), max_size=25)
steps = st.lists(
    st.tuples(
        st.sampled_from(["save", "save", "save", "submit", "show"]),
        st.one_of(st.sampled_from(SECTION_IDS), st.text(max_size=6)),
        st.sampled_from(["next", "back", "", "delete"]),
        posted,
        st.one_of(st.none(), st.text(max_size=70), st.uuids().map(lambda u: u.hex)),
    ),
    min_size=1,
    max_size=6,
)


def stored_answers_are_valid(db: Database) -> None:
    with db.read_sessions() as s:
        for response in s.scalars(select(Response)):
            answers = {k: v for k, v in response.answers.items() if v is not None}
            assert set(answers) <= set(ITEM_IDS)
            full = validate_answers(EMPLOYEE, answers, partial=response.status == "draft")
            assert full.ok, (response.status, full.errors)
            if response.status == ResponseStatus.SUBMITTED:
                invitation = s.get(Invitation, response.invitation_id)
                assert invitation.status == InvitationStatus.COMPLETED
                values = s.scalars(
                    select(ResponseValue).where(ResponseValue.response_id == response.id)
                ).all()
                assert {v.item_id for v in values} == {
                    k for k, v in answers.items() if v not in ("", [])
                }


@pytest.mark.slow
def test_posting_anything_never_errs_and_stores_only_valid_answers(db: Database) -> None:
    clock = SimulatedClock(AT)
    app = create_app(container_for(db, clock))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=1)
    counter = {"n": 0}

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=steps, prefill=st.booleans())
    def run(steps: list, prefill: bool) -> None:
        counter["n"] += 1
        with db.sessions.begin() as s:
            link = add_invitation(
                s,
                study_id=cohort.study_id,
                trajectory_id=cohort.trajectory_ids[0],
                instrument=EMPLOYEE,
                at=AT,
                wave_code=f"F{counter['n']}",
            )
        client = app.test_client()
        assert client.get(f"/f/{link.token}").status_code == 200
        page = client.get("/form").get_data(as_text=True)
        csrf = hidden(page, "_csrf")
        if prefill:  # a complete draft, so that submissions can go through
            rng = random.Random(counter["n"])
            for index, section_id in enumerate(SECTION_IDS):
                data = MultiDict([("_csrf", csrf), ("_section", section_id), ("_action", "next")])
                for key, value in section_answers(EMPLOYEE, index, rng).items():
                    data.add(key, value)
                assert client.post("/form", data=data).status_code == 303
        for kind, section, action, fields, sid in steps:
            if kind == "show":
                response = client.get(f"/form?section={section}&lang={action}")
            elif kind == "save":
                data = MultiDict([("_csrf", csrf), ("_section", section), ("_action", action)])
                for key, value in fields:
                    data.add(key, value)
                response = client.post("/form", data=data)
            else:
                data = MultiDict([("_csrf", csrf), *fields])
                if sid is not None:
                    data.add("submission_id", sid)
                response = client.post("/form/submit", data=data)
            assert response.status_code < 500, response.get_data(as_text=True)[-300:]
        stored_answers_are_valid(db)

    run()
    assert counter["n"] >= 150
    with db.read_sessions() as s:
        statuses = [r.status for r in s.scalars(select(Response))]
    # the fuzz reached both kinds of stored response, so the checks above were not vacuous
    assert ResponseStatus.DRAFT in statuses and ResponseStatus.SUBMITTED in statuses
