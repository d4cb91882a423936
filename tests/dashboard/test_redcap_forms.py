"""Forms imported from REDCap, over HTTP against the real app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from questionnaires.registry import load_instrument
from study.clock import SimulatedClock
from study.models import ResponseScore, ResponseValue
from tests.conftest import Database
from tests.dashboard.forms_http import audit_page, hidden, open_link, post_section
from tests.dashboard.redcap_forms import app_with_instruments, dictionary, import_to_dir
from tests.forms_support import invitations_for_cohort

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
