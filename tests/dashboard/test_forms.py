"""The follow-up forms over HTTP: links, pages, saving, submitting once, refusals."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from dashboard.app import create_app
from dashboard.forms import coach_forms_blueprint
from questionnaires.completeness import applicable_items
from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import responses
from study.clock import SimulatedClock
from study.errors import Forbidden
from study.models import AuditEvent, Invitation, Response, ResponseValue
from study.throttles import LINK_ADDRESS
from study.vocab import InvitationStatus, ResponseStatus
from tests.conftest import Database
from tests.dashboard.forms_http import (
    audit_page,
    container_for,
    hidden,
    open_link,
    post_section,
)
from tests.forms_support import Link, invitations_for_cohort, section_answers

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def instruments() -> dict[str, Instrument]:
    return load_instruments()


@pytest.fixture
def employee(instruments: dict[str, Instrument]) -> Instrument:
    return instruments["employee_followup"]


@pytest.fixture
def sim() -> SimulatedClock:
    return SimulatedClock(AT)


@pytest.fixture
def app(db: Database, sim: SimulatedClock) -> Flask:
    return create_app(container_for(db, sim))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def links(db: Database, employee: Instrument) -> list[Link]:
    with db.sessions.begin() as s:
        return invitations_for_cohort(s, AT, [employee], n_trajectories=3)


def count(db: Database, model: type) -> int:
    with db.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def draft_answers(db: Database, invitation_id: int) -> dict:
    with db.read_sessions() as s:
        response = responses.response_for(s, invitation_id)
        return dict(response.answers) if response else {}


def answer_all_sections(client: FlaskClient, employee: Instrument, page: str, seed: int = 1) -> str:
    rng = random.Random(seed)
    for index in range(len(employee.sections)):
        assert hidden(page, "_section") == employee.sections[index].id
        response = post_section(client, page, section_answers(employee, index, rng))
        assert response.status_code == 303, response.get_data(as_text=True)[-500:]
        page = client.get("/form").get_data(as_text=True)
    return page


# --- the link ------------------------------------------------------------------------------------


def test_link_opens_a_form_session_and_leaves_the_address_bar(
    client: FlaskClient, links: list[Link], db: Database
) -> None:
    response = client.get(f"/f/{links[0].token}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(r'http-equiv="refresh" content="0;url=/form"', body)
    assert links[0].token not in body
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("klik_form=")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/form", "Max-Age="):
        assert flag in cookie
    assert links[0].token not in cookie
    with db.read_sessions() as s:
        assert s.get(Invitation, links[0].invitation_id).opened_at == AT
    form = client.get("/form")
    assert form.status_code == 200
    assert links[0].token not in form.get_data(as_text=True)


def test_every_answer_carries_the_privacy_headers(
    client: FlaskClient, links: list[Link], employee: Instrument
) -> None:
    seen = [
        client.get("/f/" + "A" * 43),
        client.get("/f/short"),
        client.get("/form"),
        client.get(f"/f/{links[0].token}"),
    ]
    page = client.get("/form")
    seen.append(page)
    seen.append(post_section(client, page.get_data(as_text=True), {"all_01": "9"}))
    seen.append(post_section(client, page.get_data(as_text=True), {}))
    seen.append(client.post("/form/submit", data={"_csrf": "wrong"}))
    for response in seen:
        assert response.headers["Referrer-Policy"] == "no-referrer", response.request.path
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("bad", ["A" * 43, "short", "a" * 43 + "/extra", "%00", "ü" * 43])
def test_unknown_and_malformed_links_get_one_404_page(
    client: FlaskClient, links: list[Link], bad: str
) -> None:
    unknown = client.get("/f/" + "A" * 43)
    response = client.get(f"/f/{bad}")
    assert response.status_code == 404
    assert response.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers or "klik_form=;" in response.headers["Set-Cookie"]
    assert "werkt niet" in response.get_data(as_text=True)
    assert "does not work" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "make_gone",
    ["expired", "cancelled", "submitted"],
)
def test_used_expired_and_cancelled_links_get_410_with_the_same_page(
    client: FlaskClient,
    links: list[Link],
    db: Database,
    sim: SimulatedClock,
    employee: Instrument,
    make_gone: str,
) -> None:
    unknown = client.get("/f/" + "B" * 43).get_data(as_text=True)
    if make_gone == "expired":
        sim.set(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    elif make_gone == "cancelled":
        with db.sessions.begin() as s:
            s.get(Invitation, links[0].invitation_id).status = InvitationStatus.CANCELLED
    else:
        page = answer_all_sections(client, employee, open_link(client, links[0].token).text)
        client.post(
            "/form/submit",
            data={"_csrf": hidden(page, "_csrf"), "submission_id": hidden(page, "submission_id")},
        )
    response = client.get(f"/f/{links[0].token}")
    assert response.status_code == 410
    assert response.get_data(as_text=True) == unknown


def test_bad_links_are_throttled_per_address_but_valid_links_are_served(
    client: FlaskClient, links: list[Link], sim: SimulatedClock
) -> None:
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(LINK_ADDRESS.free + 1):
        assert client.get(f"/f/{n:043d}", environ_base=attacker).status_code == 404
    blocked = client.get(f"/f/{99:043d}", environ_base=attacker)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Even wachten" in blocked.get_data(as_text=True)
    assert client.get("/f/short", environ_base=attacker).status_code == 429
    # a participant behind the same address (a NAT, a proxy) still opens their own link
    assert client.get(f"/f/{links[0].token}", environ_base=attacker).status_code == 200
    # another address is not affected
    other = {"REMOTE_ADDR": "198.51.100.1"}
    assert client.get(f"/f/{98:043d}", environ_base=other).status_code == 404
    # once the wait is over the address gets answers again, and waits longer after a new failure
    sim.advance(LINK_ADDRESS.base + dt.timedelta(seconds=1))
    assert client.get(f"/f/{97:043d}", environ_base=attacker).status_code == 404
    again = client.get(f"/f/{96:043d}", environ_base=attacker)
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > LINK_ADDRESS.base.total_seconds()


def test_token_never_reaches_the_log(
    app: Flask, links: list[Link], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    with caplog.at_level(logging.DEBUG):
        client.get(f"/f/{links[1].token}")  # a normal visit logs nothing with the token
        monkeypatch.setattr(responses, "find_invitation_by_token", broken)
        response = client.get(f"/f/{links[0].token}")
    assert response.status_code == 500
    assert "/f/[redacted]" in caplog.text
    for link in links:
        assert link.token not in caplog.text


# --- the pages -----------------------------------------------------------------------------------


def test_form_page_is_dutch_labelled_phone_ready_and_scriptless(
    client: FlaskClient, links: list[Link], employee: Instrument
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    audit = audit_page(page)
    assert audit.html_lang == "nl" and audit.viewport and audit.scripts == 0
    assert employee.sections[0].title["nl"] in page
    assert audit.inputs, "the first part has questions"
    for field in audit.inputs:
        assert field.get("id") in audit.label_for, field
        assert field.get("name")
    assert audit.legends >= len(employee.sections[0].item_ids)  # one per radio group
    assert 'lang="en"' in page and "English" in page
    assert "Deel 1 van 6" in page and "Volgende" in page


def test_english_switch_sticks(
    client: FlaskClient, links: list[Link], employee: Instrument
) -> None:
    open_link(client, links[0].token)
    english = client.get("/form?lang=en").get_data(as_text=True)
    assert audit_page(english).html_lang == "en"
    assert employee.sections[0].title["en"] in english and "Next" in english
    again = client.get("/form").get_data(as_text=True)
    assert audit_page(again).html_lang == "en"
    invalid = post_section(client, again, {"all_01": "0"})
    assert "Please choose one of the answers." in invalid.get_data(as_text=True)
    back = client.get("/form?lang=nl").get_data(as_text=True)
    assert audit_page(back).html_lang == "nl" and "Nederlands" not in back.split("<main>")[1]


def test_valid_part_is_saved_and_the_next_one_shown(
    client: FlaskClient, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    answers = section_answers(employee, 0, random.Random(4))
    response = post_section(client, page, answers)
    assert response.status_code == 303 and response.headers["Location"] == "/form"
    assert {k: str(v) for k, v in draft_answers(db, links[0].invitation_id).items()} == answers
    nxt = client.get("/form").get_data(as_text=True)
    assert hidden(nxt, "_section") == employee.sections[1].id and "Deel 2 van 6" in nxt
    # back goes one part back, and the saved answers are filled in
    back = post_section(client, nxt, {}, action="back")
    assert back.status_code == 303
    first = client.get("/form").get_data(as_text=True)
    assert hidden(first, "_section") == employee.sections[0].id
    checked = re.findall(r'name="(all_\d\d)" value="(\d)" checked', first)
    assert {k: v for k, v in checked} == {k: v for k, v in answers.items() if k.startswith("all_")}


def test_a_stale_second_tab_cannot_overwrite_newer_answers(
    app: Flask, links: list[Link], employee: Instrument, db: Database
) -> None:
    tab_a = app.test_client()
    first = open_link(tab_a, links[0].token).get_data(as_text=True)
    stale = first  # tab B: the same part, shown before tab A saved it
    answers = section_answers(employee, 0, random.Random(4))
    assert post_section(tab_a, first, answers).status_code == 303
    saved = draft_answers(db, links[0].invitation_id)
    assert saved
    # tab B posts the part empty, as it was shown: refused, and the newer answers stay
    refused = post_section(tab_a, stale, {})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "intussen opnieuw opgeslagen" in html
    assert draft_answers(db, links[0].invitation_id) == saved
    checked = re.findall(r'name="(all_\d\d)" value="(\d)" checked', html)
    assert dict(checked) == {k: v for k, v in answers.items() if k.startswith("all_")}
    # the page that came back carries the saved answers' version: changing one there is saved
    changed = {**answers, "all_01": "1" if answers["all_01"] != "1" else "2"}
    assert post_section(tab_a, html, changed).status_code == 303
    assert str(draft_answers(db, links[0].invitation_id)["all_01"]) == changed["all_01"]
    # a part saved twice from one tab (next, then back and next again) is never stale
    page = tab_a.get("/form?section=0").get_data(as_text=True)
    assert post_section(tab_a, page, changed).status_code == 303
    # nor is a double click: the same answers sent twice from the same page
    page = tab_a.get("/form?section=0").get_data(as_text=True)
    assert post_section(tab_a, page, answers).status_code == 303
    assert post_section(tab_a, page, answers).status_code == 303
    assert draft_answers(db, links[0].invitation_id) == saved


def test_the_review_lists_open_questions_and_the_response_records_its_completeness(
    client: FlaskClient, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    rng = random.Random(2)
    skipped = None
    for index in range(len(employee.sections)):
        answers = section_answers(employee, index, rng)
        optional = [i for i in answers if not employee.item(i).required]
        if skipped is None and optional:
            skipped = optional[0]
            answers.pop(skipped)
        assert post_section(client, page, answers).status_code == 303
        page = client.get("/form").get_data(as_text=True)
    assert skipped is not None
    applicable = len(applicable_items(employee))
    assert f"1 van de {applicable} vragen is nog niet beantwoord" in page
    listed = re.search(r'<div class="summary open-questions".*?</div>', page, re.S).group(0)
    part = next(i for i, s in enumerate(employee.sections) if skipped in s.item_ids)
    assert f'href="/form?section={part}"' in listed and f"deel {part + 1}" in listed
    data = {"_csrf": hidden(page, "_csrf"), "submission_id": hidden(page, "submission_id")}
    assert client.post("/form/submit", data=data).status_code == 303
    with db.read_sessions() as s:
        response = s.scalars(select(Response)).one()
    assert (response.answered_items, response.applicable_items) == (applicable - 1, applicable)


def test_invalid_part_comes_back_with_messages_and_typed_values(
    client: FlaskClient, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    work = len(employee.sections) - 1
    page = client.get(f"/form?section={work}").get_data(as_text=True)
    assert hidden(page, "_section") == "work"
    response = post_section(
        client, page, {"ws_hours": "veertig", "ws_sick_days": "3", "ws_changed": "1"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    hours_block = re.search(r'<div class="klik-item klik-has-error">.*?</div>', html, re.S).group(0)
    assert 'value="veertig"' in hours_block and 'id="q-ws_hours-error"' in hours_block
    assert "heel getal" in hours_block
    assert 'id="q-ws_employed-error"' in html  # required
    assert 'name="ws_sick_days" value="3"' in html or 'value="3"' in html
    assert re.search(r'name="ws_changed" value="1" checked', html)
    assert 'href="#q-ws_hours"' in html  # the summary links to the field
    assert draft_answers(db, links[0].invitation_id) == {}


def test_leaving_and_coming_back_resumes(
    app: Flask, links: list[Link], employee: Instrument, db: Database
) -> None:
    first_visit = app.test_client()
    open_link(first_visit, links[0].token)
    page = first_visit.get("/form?lang=en").get_data(as_text=True)
    rng = random.Random(5)
    for index in range(3):
        post_section(first_visit, page, section_answers(employee, index, rng))
        page = first_visit.get("/form").get_data(as_text=True)
    # the phone's browser forgot the cookie; the respondent taps the link again
    later = app.test_client()
    resumed = open_link(later, links[0].token).get_data(as_text=True)
    assert hidden(resumed, "_section") == employee.sections[3].id
    assert "Part 4 of 6" in resumed  # language of the saved answers kept
    assert len(draft_answers(db, links[0].invitation_id)) == sum(
        len(employee.sections[i].item_ids) for i in range(3)
    )


def test_review_submit_twice_one_response_then_locked(
    client: FlaskClient, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = answer_all_sections(client, employee, open_link(client, links[0].token).text)
    assert "Controleren en verzenden" in page and "Verzenden" in page
    sid = hidden(page, "submission_id")
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    data = {"_csrf": hidden(page, "_csrf"), "submission_id": sid}
    first = client.post("/form/submit", data=data)
    second = client.post("/form/submit", data=data)  # double click
    assert first.status_code == second.status_code == 303
    thanks = client.get("/form")
    assert thanks.status_code == 200 and "Bedankt!" in thanks.get_data(as_text=True)
    # a fresh review page from another tab, submitted later, records nothing new
    third = client.post("/form/submit", data={**data, "submission_id": "f" * 32})
    assert third.status_code == 303
    assert count(db, Response) == 1
    with db.read_sessions() as s:
        response = s.scalars(select(Response)).one()
        assert response.status == ResponseStatus.SUBMITTED and response.submission_id == sid
        assert response.submitted_by == "link:employee"
        assert s.scalar(select(func.count()).where(AuditEvent.action == "submit_response")) == 1
        n_values = s.scalar(select(func.count()).select_from(ResponseValue))
    # locked: posting a part changes nothing and shows the thank-you page
    locked = client.post(
        "/form",
        data={
            "_csrf": data["_csrf"],
            "_section": "satisfaction",
            "job_sat": "1",
            "_action": "next",
        },
    )
    assert locked.status_code == 200 and "Bedankt!" in locked.get_data(as_text=True)
    assert count(db, ResponseValue) == n_values
    with db.read_sessions() as s:
        assert s.get(Invitation, links[0].invitation_id).status == InvitationStatus.COMPLETED


def test_submit_with_a_missing_required_answer_shows_that_part(
    client: FlaskClient, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    post_section(client, page, section_answers(employee, 0, random.Random(1)))
    review = client.get(f"/form?section={len(employee.sections)}").get_data(as_text=True)
    assert "niet beantwoord" in review
    response = client.post(
        "/form/submit",
        data={"_csrf": hidden(review, "_csrf"), "submission_id": hidden(review, "submission_id")},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert hidden(html, "_section") == "work" and 'id="q-ws_employed-error"' in html
    assert count(db, Response) == 1  # the draft only
    with db.read_sessions() as s:
        assert s.scalars(select(Response)).one().status == ResponseStatus.DRAFT


def test_posts_need_the_form_sessions_csrf_value(
    client: FlaskClient, app: Flask, links: list[Link], employee: Instrument, db: Database
) -> None:
    page = open_link(client, links[0].token).get_data(as_text=True)
    answers = section_answers(employee, 0, random.Random(1))
    for csrf in (None, "", "forged", hidden(page, "_csrf") + "x"):
        data = {"_section": "alliance", "_action": "next", **answers}
        if csrf is not None:
            data["_csrf"] = csrf
        assert client.post("/form", data=data).status_code == 400
        assert client.post("/form/submit", data={**data, "submission_id": "x"}).status_code == 400
    assert count(db, Response) == 0
    # without a form session at all (another browser): 403 and the "open the link again" page
    stranger = app.test_client()
    refused = stranger.post("/form", data={"_csrf": hidden(page, "_csrf"), **answers})
    assert refused.status_code == 403 and "Open de link opnieuw" in refused.get_data(as_text=True)
    assert count(db, Response) == 0


def test_forged_or_old_form_sessions_are_refused(
    client: FlaskClient, links: list[Link], sim: SimulatedClock
) -> None:
    open_link(client, links[0].token)
    cookie = client.get_cookie("klik_form", path="/form")
    assert cookie is not None
    payload, _, signature = cookie.value.partition(".")
    client.set_cookie("klik_form", payload[:-2] + "AA." + signature, path="/form")
    assert client.get("/form").status_code == 403
    open_link(client, links[0].token)
    sim.advance(dt.timedelta(hours=2, minutes=1))
    assert client.get("/form").status_code == 403


def test_window_closing_while_filling_in(
    client: FlaskClient, links: list[Link], sim: SimulatedClock, employee: Instrument
) -> None:
    sim.set(dt.datetime(2026, 2, 28, 22, 30, tzinfo=dt.UTC))  # 23:30 on the closing day
    page = open_link(client, links[0].token).get_data(as_text=True)
    assert (
        post_section(client, page, section_answers(employee, 0, random.Random(1))).status_code
        == 303
    )
    sim.set(dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC))  # 00:30 the day after
    assert client.get("/form").status_code == 410


def test_revoked_link_ends_open_form_sessions(
    client: FlaskClient, links: list[Link], db: Database
) -> None:
    open_link(client, links[0].token)
    with db.sessions.begin() as s:
        s.get(Invitation, links[0].invitation_id).token_hash = "0" * 64
    assert client.get("/form").status_code == 403


# --- one rendering for all: a jobcoach logged in to the dashboard --------------------------------


def test_jobcoach_form_uses_the_same_pages(
    db: Database, sim: SimulatedClock, instruments: dict[str, Instrument]
) -> None:
    coach_form = instruments["jobcoach_followup"]
    with db.sessions.begin() as s:
        mine, other = invitations_for_cohort(s, AT, [coach_form], n_trajectories=2)
    container = container_for(db, sim)
    # The dashboard mounts this behind its login; here only the blueprint's own rules are tested.
    app = Flask(__name__)

    def authorise(invitation_id: int) -> str:
        if invitation_id != mine.invitation_id:
            raise Forbidden("geen toegang", "no access")
        return "jobcoach:jc01"

    app.register_blueprint(coach_forms_blueprint(container, authorise=authorise))
    client = app.test_client()
    assert client.get(f"/coach/forms/{other.invitation_id}").status_code == 403
    url = f"/coach/forms/{mine.invitation_id}"
    page = client.get(url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert coach_form.sections[0].title["nl"] in html and f'action="{url}"' in html
    rng = random.Random(2)
    for index in range(len(coach_form.sections)):
        data = {
            "_csrf": hidden(html, "_csrf"),
            "_section": hidden(html, "_section"),
            "_action": "next",
        }
        form = MultiDict(list(data.items()))
        for key, value in section_answers(coach_form, index, rng).items():
            for v in value if isinstance(value, list) else [value]:
                form.add(key, v)
        assert client.post(url, data=form).status_code == 303
        html = client.get(url).get_data(as_text=True)
    done = client.post(
        f"{url}/submit",
        data={"_csrf": hidden(html, "_csrf"), "submission_id": hidden(html, "submission_id")},
    )
    assert done.status_code == 303
    assert "Bedankt!" in client.get(url).get_data(as_text=True)
    with db.read_sessions() as s:
        response = s.scalars(select(Response)).one()
        assert response.submitted_by == "jobcoach:jc01"
        assert response.invitation_id == mine.invitation_id
