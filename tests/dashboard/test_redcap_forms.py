"""Forms imported from REDCap, over HTTP against the real app."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from questionnaires.registry import load_instrument
from questionnaires.validation import validate_answers
from study import responses
from study.clock import SimulatedClock
from study.models import Invitation, Response, ResponseScore, ResponseValue
from tests.conftest import Database
from tests.dashboard.forms_http import audit_page, hidden, open_link, post_section
from tests.dashboard.redcap_forms import app_with_instruments, dictionary, import_to_dir
from tests.forms_support import add_invitation, invitations_for_cohort

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)

HOSTILE_ROWS = [
    "record_id,hostile,,text,ID,,,,,,,,,,,,,",
    'intro,hostile,"<b>Werk</b><script>alert(1)</script>",descriptive,'
    '"<p>Lees <a href=""javascript:alert(2)"">dit</a> <i>eerst</i></p><img src=x onerror=alert(3)>",'
    ",,,,,,,,,,,,",
    'mood,hostile,,radio,"Hoe <b>voel</b> je je?<svg onload=alert(4)>",'
    '"1, <i>goed</i> | 2, <script>alert(5)</script>slecht",'
    '"<u>let op</u><iframe src=//evil></iframe>",,,,,,,,,,,',
]


@pytest.fixture
def sim() -> SimulatedClock:
    return SimulatedClock(AT)


def _serve(db: Database, sim: SimulatedClock, tmp_path: Path, rows: list[str], **kw: object):
    instruments = import_to_dir(dictionary(rows), tmp_path / "instruments", **kw)
    app = app_with_instruments(db, sim, tmp_path / "instruments")
    with db.sessions.begin() as s:
        links = invitations_for_cohort(s, AT, instruments[:1], n_trajectories=1)
    return app.test_client(), links, instruments


def test_hostile_labels_render_sanitised_over_http(db: Database, sim: SimulatedClock, tmp_path):
    client, links, _ = _serve(db, sim, tmp_path, HOSTILE_ROWS)
    page = open_link(client, links[0].token)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert audit_page(html).scripts == 0
    assert "alert(" not in html and "javascript:" not in html
    for tag in ("<img", "<svg", "<iframe", "onerror", "onload"):
        assert tag not in html
    assert "&lt;b&gt;" not in html  # rendered as bold, not as raw markup
    assert "<b>voel</b>" in html and "<i>goed</i>" in html and "<b>Werk</b>" in html
    assert "<u>let op</u>" in html and "<i>eerst</i>" in html


CALC_INSTRUMENT = """
id: calc_form
version: "1"
respondent: employee
title: {nl: Berekend, en: Computed}
source: own
licence: own
sections:
  - id: p1
    title: {nl: Gewicht, en: Weight}
    items:
      - {id: weight, type: number, min: 20, max: 300, text: {nl: Gewicht, en: Weight}}
  - id: p2
    title: {nl: Lengte, en: Height}
    items:
      - {id: height, type: number, min: 50, max: 250, text: {nl: Lengte, en: Height}}
      - {id: bmi, type: calc, calc: "round([weight] * 10000 / ([height] ^ 2), 1)",
         text: {nl: BMI, en: BMI}}
scores:
  - {id: bmi_score, label: {nl: BMI, en: BMI}, rule: item, items: [bmi], scale: [0, 100]}
"""


def test_calculated_field_is_computed_stored_and_scored_on_the_server(
    db: Database, sim: SimulatedClock, tmp_path: Path
):
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "calc_form.yaml").write_text(CALC_INSTRUMENT, encoding="utf-8")
    inst = load_instrument(folder / "calc_form.yaml")
    app = app_with_instruments(db, sim, folder)
    with db.sessions.begin() as s:
        links = invitations_for_cohort(s, AT, [inst], n_trajectories=1)
    client = app.test_client()
    page = open_link(client, links[0].token).get_data(as_text=True)
    assert post_section(client, page, {"weight": "80"}).status_code == 303
    page = client.get("/form").get_data(as_text=True)
    assert 'name="bmi"' not in page  # shown as output, never an input
    # a forged value for the calculated field is ignored
    assert post_section(client, page, {"height": "180", "bmi": "5"}).status_code == 303
    review = client.get("/form").get_data(as_text=True)
    assert "24,7" in review or "24.7" in review
    data = {"_csrf": hidden(review, "_csrf"), "submission_id": hidden(review, "submission_id")}
    assert client.post("/form/submit", data=data).status_code == 303
    with db.read_sessions() as s:
        value = s.scalars(select(ResponseValue).where(ResponseValue.item_id == "bmi")).one()
        assert value.value_num == pytest.approx(24.7)
        score = s.scalars(select(ResponseScore).where(ResponseScore.score_id == "bmi_score")).one()
        assert score.value == pytest.approx(24.7)


BRANCH_ROWS = [
    "record_id,branch,,text,ID,,,,,,,,,,,,,",
    "works,branch,,yesno,Werk je?,,,,,,,,y,,,,,",
    "hours,branch,,text,Uren per week,,,integer,0,60,,[works] = '1',y,,,,,",
    'more,branch,,yesno,Meer uren dan bij de start?,,,,,,,"[hours] > [t0][hours]",,,,,,',
    "note,branch,,text,Toelichting op het werk,,,,,,,[works] = '1',,,,,,",
]


def _branch_app(db: Database, sim: SimulatedClock, tmp_path: Path):
    (inst,) = import_to_dir(dictionary(BRANCH_ROWS), tmp_path / "instruments")
    app = app_with_instruments(db, sim, tmp_path / "instruments")
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(s, AT, [inst], n_trajectories=1)
    return app.test_client(), link, inst


def _draft(db: Database, invitation_id: int) -> dict:
    with db.read_sessions() as s:
        return dict(
            s.scalars(select(Response).where(Response.invitation_id == invitation_id)).one().answers
        )


def test_hidden_required_question_is_not_demanded_and_its_value_is_erased(
    db: Database, sim: SimulatedClock, tmp_path: Path
):
    client, link, _ = _branch_app(db, sim, tmp_path)
    page = open_link(client, link.token).get_data(as_text=True)
    assert '<script src="/form/branching.js" defer></script>' in page
    # "hours" is required but hidden (works = no): the page saves without it, and a value
    # posted for it anyway is not kept
    saved = post_section(
        client, page, {"record_id": "1", "works": "0", "hours": "99", "_shown": "record_id,works"}
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[-400:]
    assert _draft(db, link.invitation_id)["hours"] is None
    review = client.get("/form").get_data(as_text=True)
    assert "Controleren en verzenden" in review


def test_without_the_script_a_revealed_question_is_shown_before_moving_on(
    db: Database, sim: SimulatedClock, tmp_path: Path
):
    client, link, _ = _branch_app(db, sim, tmp_path)
    page = open_link(client, link.token).get_data(as_text=True)
    assert re.search(r'data-item="hours"[^>]*hidden', page)
    # no script: "_shown" still says what the server showed, without "hours"
    first = post_section(
        client, page, {"record_id": "1", "works": "1", "_shown": "record_id,works"}
    )
    assert first.status_code == 422  # hours is now asked and required
    again = first.get_data(as_text=True)
    assert not re.search(r'data-item="hours"[^>]*hidden', again)
    assert "Deze vraag is nog niet beantwoord." in again
    # "note" (not required) appeared too: the page comes back once, saved, before moving on
    second = post_section(
        client,
        again,
        {"record_id": "1", "works": "1", "hours": "30", "_shown": "record_id,works,hours"},
    )
    assert second.status_code == 303 and "section=0" in second.headers["Location"]
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert not re.search(r'data-item="note"[^>]*hidden', shown)
    assert re.search(r'data-item="more"[^>]*hidden', shown)  # no earlier wave: stays hidden
    assert 'value="30"' in shown
    third = post_section(
        client,
        shown,
        {"record_id": "1", "works": "1", "hours": "30", "_shown": "record_id,works,hours,note"},
    )
    assert third.status_code == 303 and "section" not in third.headers["Location"]


def test_a_condition_on_an_earlier_wave_reads_the_stored_answers(
    db: Database, sim: SimulatedClock, tmp_path: Path
):
    client, link, inst = _branch_app(db, sim, tmp_path)
    with db.sessions.begin() as s:
        t0 = add_invitation(
            s,
            study_id=link.study_id,
            trajectory_id=link.trajectory_id,
            instrument=inst,
            at=AT,
            wave_code="T0",
        )
        s.get(Invitation, t0.invitation_id).wave_index = 0
        responses.submit(
            s,
            t0.invitation_id,
            {"record_id": "1", "works": "1", "hours": "16"},
            submission_id="t0" * 16,
            instruments={inst.id: inst},
            actor="test",
            at=AT,
        )
    page = open_link(client, link.token).get_data(as_text=True)
    assert '"t0":{' in page and '"hours":16' in page
    more = post_section(
        client,
        page,
        {"record_id": "1", "works": "1", "hours": "20", "_shown": "record_id,works,hours,more"},
    )
    assert more.status_code == 303
    draft = _draft(db, link.invitation_id)
    with db.read_sessions() as s:
        events = responses.earlier_waves(s, s.get(Invitation, link.invitation_id))
    assert events["T0"]["hours"] == 16 and events["T0"]["works"] == 1
    assert "more" not in validate_answers(inst, draft, events=events).hidden
    assert "more" in validate_answers(inst, {**draft, "hours": 10}, events=events).hidden


def test_branching_script_is_served_under_the_policy(db: Database, sim: SimulatedClock, tmp_path):
    client, link, _ = _branch_app(db, sim, tmp_path)
    page = open_link(client, link.token)
    policy = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    script = client.get("/form/branching.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert b"klik-logic" in script.data


def test_today_is_the_studys_date_just_after_midnight(db: Database, tmp_path: Path):
    """At 01:30 in Amsterdam (23:30 UTC the day before) a date field with max ``today`` takes
    today's date: ``today`` and ``now`` are the study's, not UTC's."""
    late = dt.datetime(2026, 6, 14, 23, 30, tzinfo=dt.UTC)
    rows = [
        "record_id,dated,,text,ID,,,,,,,,,,,,,",
        "visit,dated,,text,Datum van het bezoek,,,date_ymd,,today,,,y,,,,,",
    ]
    (inst,) = import_to_dir(dictionary(rows), tmp_path / "instruments")
    app = app_with_instruments(db, SimulatedClock(late), tmp_path / "instruments")
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(
            s, late, [inst], n_trajectories=1,
            opens_on=dt.date(2026, 6, 1), closes_on=dt.date(2026, 6, 30),
        )  # fmt: skip
    client = app.test_client()
    page = open_link(client, link.token).get_data(as_text=True)
    tomorrow = post_section(client, page, {"visit": "2026-06-16"})
    assert tomorrow.status_code == 422  # still refused: after today
    page = client.get("/form").get_data(as_text=True)
    assert post_section(client, page, {"visit": "2026-06-15"}).status_code == 303
    assert _draft(db, link.invitation_id)["visit"] == "2026-06-15"


def test_a_form_in_one_language_says_so_in_the_other(db: Database, tmp_path: Path):
    """A dictionary imported as English: the Dutch form says the questions are in English."""
    rows = [
        "record_id,eng,,text,ID,,,,,,,,,,,,,",
        "mood,eng,,yesno,Did you sleep well?,,,,,,,,,,,,,",
    ]
    (inst,) = import_to_dir(dictionary(rows), tmp_path / "instruments", language="en")
    app = app_with_instruments(db, SimulatedClock(AT), tmp_path / "instruments")
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(s, AT, [inst], n_trajectories=1)
    client = app.test_client()
    dutch = open_link(client, link.token).get_data(as_text=True)
    assert "alleen beschikbaar in het Engels" in dutch and "Did you sleep well?" in dutch
    english = client.get("/form?lang=en").get_data(as_text=True)
    assert 'id="language-note"' not in english
