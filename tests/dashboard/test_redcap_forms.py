"""Forms imported from REDCap, over HTTP against the real app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from study.clock import SimulatedClock
from tests.conftest import Database
from tests.dashboard.forms_http import audit_page, open_link
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
