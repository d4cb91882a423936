"""REDCap branching in headless Chromium on a phone: with the script and without JavaScript.

Screenshots are kept in ``artifacts/forms/``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from study.clock import SimulatedClock
from study.models import Response
from tests.conftest import Database, skip_or_fail
from tests.dashboard.redcap_forms import app_with_instruments, dictionary, import_to_dir
from tests.dashboard.test_forms_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.forms_support import Link, invitations_for_cohort

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
ROWS = [
    "record_id,werk,,text,Deelnemer,,,,,,,,,,,,,",
    "works,werk,Werk,yesno,Heb je op dit moment betaald werk?,,,,,,,,y,,,,,",
    "hours,werk,,text,Hoeveel uur per week?,,,integer,0,60,,[works] = '1',y,,,,,",
    "extra,werk,,yesno,Werk je meer dan 32 uur?,,,,,,,\"[hours] > 32 and [works] = '1'\",,,,,,",
    "why_not,werk,,notes,Wat is de reden dat je niet werkt?,,,,,,,\"[works] = '0'\",,,,,,",
    'days,werk,,calc,Uren per maand (ongeveer),"round([hours] * 52 / 12, 1)",,,,,,,,,,,,',
    'many,werk,,yesno,Is dat veel?,,,,,,,"[days] > 150",,,,,,',
    "looking,werk,Werk zoeken,yesno,Zoek je werk?,,,,,,,\"[works] = '0'\",,,,,,",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[tuple[str, Link]]:
    from waitress.server import create_server

    instruments = import_to_dir(dictionary(ROWS), tmp_path / "instruments")
    app = app_with_instruments(db, SimulatedClock(AT), tmp_path / "instruments")
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(s, AT, instruments, n_trajectories=1)
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", link
    srv.close()
    thread.join(timeout=5)


def _browser(p):
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed", "KLIK_REQUIRE_BROWSER")
    return p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        skip_or_fail("playwright is not installed", "KLIK_REQUIRE_BROWSER")
    return sync_playwright()


def _answers(db: Database, invitation_id: int) -> dict:
    with db.read_sessions() as s:
        response = s.scalars(select(Response).where(Response.invitation_id == invitation_id)).one()
        return dict(response.answers)


def test_questions_follow_the_answers_with_the_script(served, db: Database) -> None:
    server, link = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_context(**PHONE, locale="nl-NL").new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server}/f/{link.token}")
            page.wait_for_url(f"{server}/form")
            assert not page.is_visible("#q-hours") and not page.is_visible("#q-why_not")
            header = page.locator(".klik-header", has_text="Werk zoeken")
            assert not header.is_visible()  # it heads only a question not asked yet
            page.check("#q-works-0")  # ja
            page.wait_for_selector("#q-hours", state="visible")
            assert not page.is_visible("#q-why_not")
            page.fill("#q-hours", "36")
            page.wait_for_selector("#q-extra", state="visible")
            # the calculated field follows the answer, and a condition on it too
            assert page.text_content("#q-days output") == "156"
            page.wait_for_selector("#q-many", state="visible")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "branching-01-script.png"), full_page=True)
            page.fill("#q-hours", "20")
            page.wait_for_selector("#q-extra", state="hidden")
            assert page.text_content("#q-days output") == "86.7"
            page.wait_for_selector("#q-many", state="hidden")
            page.check("#q-works-1")  # nee: hours hides, and with it its value
            page.wait_for_selector("#q-why_not", state="visible")
            assert not page.is_visible("#q-hours")
            assert header.is_visible() and page.is_visible("#q-looking")
            page.fill("#q-why_not", "Ik zoek nog")
            page.fill("#q-record_id", "P1")
            page.click("button[value=next]")
            page.wait_for_selector("text=Controleren en verzenden")
            assert errors == []
        finally:
            browser.close()
    saved = _answers(db, link.invitation_id)
    assert saved["works"] == 0 and saved["hours"] is None and saved["why_not"] == "Ik zoek nog"
    assert saved["days"] is None  # computed on the server from the (erased) hours


def test_the_form_works_without_javascript(served, db: Database) -> None:
    server, link = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _playwright() as p:
        browser = _browser(p)
        try:
            context = browser.new_context(**PHONE, java_script_enabled=False, locale="nl-NL")
            page = context.new_page()
            page.goto(f"{server}/f/{link.token}")
            page.wait_for_url(f"{server}/form*")
            assert not page.is_visible("#q-hours")
            page.fill("#q-record_id", "P2")
            page.check("#q-works-0")
            assert not page.is_visible("#q-hours")  # nothing changes without the script
            page.click("button[value=next]")
            page.wait_for_load_state()
            # the server shows the question the answer made relevant, with the message
            assert page.is_visible("#q-hours") and page.is_visible("#q-hours-error")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "branching-02-no-script.png"), full_page=True)
            page.fill("#q-hours", "36")
            page.click("button[value=next]")
            page.wait_for_load_state()
            # "extra" became relevant: the page comes back once instead of skipping it
            assert page.is_visible("#q-extra") and "Controleren" not in page.content()
            page.check("#q-extra-0")
            page.check("#q-many-1")
            page.click("button[value=next]")
            page.wait_for_selector("text=Controleren en verzenden")
        finally:
            browser.close()
    saved = _answers(db, link.invitation_id)
    assert saved["hours"] == 36 and saved["extra"] == 1 and saved["why_not"] is None
    assert saved["days"] == 156.0 and saved["many"] == 0
