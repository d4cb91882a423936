"""An employee form in headless Chromium on a phone-size screen, served by the real server.

Screenshots are kept in ``artifacts/forms/``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.app import create_app
from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study.clock import SimulatedClock
from study.models import AuditEvent, Response
from study.vocab import ResponseStatus
from tests.conftest import Database, skip_or_fail
from tests.dashboard.forms_http import container_for
from tests.forms_support import invitations_for_cohort, section_answers

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "forms"
AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    """The application on waitress, on a free loopback port, in a thread."""
    from waitress.server import create_server

    app = create_app(container_for(db, SimulatedClock(AT)))
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(timeout=5)


def answer(page, instrument: Instrument, answers: dict) -> None:
    for item_id, value in answers.items():
        item = instrument.item(item_id)
        if item.options:
            index = [str(o.code) for o in item.options].index(str(value))
            page.check(f"#q-{item_id}-{index}")
        else:
            page.fill(f"#q-{item_id}", str(value))


def test_employee_form_on_a_phone(server: str, db: Database) -> None:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed", "KLIK_REQUIRE_BROWSER")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        skip_or_fail("playwright is not installed", "KLIK_REQUIRE_BROWSER")
    employee = load_instruments()["employee_followup"]
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(s, AT, [employee], n_trajectories=1)
    url = f"{server}/f/{link.token}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    phone = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # first visit: answer half the parts, then leave
            context = browser.new_context(**phone, locale="nl-NL")
            page = context.new_page()
            page.goto(url)
            page.wait_for_url(f"{server}/form")
            assert link.token not in page.url
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.screenshot(path=str(ARTIFACTS / "01-first-part.png"))
            # keyboard: focus the first option and move with the arrow key
            page.focus("#q-all_01-0")
            page.keyboard.press("ArrowDown")
            assert page.is_checked("#q-all_01-1")
            half = len(employee.sections) // 2
            for index in range(half):
                answer(page, employee, section_answers(employee, index, rng))
                if index == 0:
                    page.screenshot(
                        path=str(ARTIFACTS / "02-first-part-answered.png"), full_page=True
                    )
                page.click("button[value=next]")
                page.wait_for_load_state()
            assert f"Deel {half + 1} van" in page.content()
            context.close()

            # later, on the same phone with a fresh browser: the link resumes where it stopped
            context = browser.new_context(**phone)
            page = context.new_page()
            page.goto(url)
            page.wait_for_url(f"{server}/form")
            assert f"Deel {half + 1} van" in page.content()
            page.screenshot(path=str(ARTIFACTS / "03-resumed.png"))
            for index in range(half, len(employee.sections)):
                answers = section_answers(employee, index, rng)
                if employee.sections[index].id == "work":
                    # a typing error first: the page comes back with the message and the input
                    answers = {**answers, "ws_hours": "veertig"}
                    answer(page, employee, answers)
                    page.click("button[value=next]")
                    page.wait_for_load_state()
                    assert page.is_visible("#q-ws_hours-error")
                    assert page.input_value("#q-ws_hours") == "veertig"
                    page.locator("#q-ws_hours-error").scroll_into_view_if_needed()
                    page.screenshot(path=str(ARTIFACTS / "04-error-beside-field.png"))
                    assert page.evaluate("document.documentElement.scrollWidth") <= 360
                    answers["ws_hours"] = "24"
                answer(page, employee, answers)
                page.click("button[value=next]")
                page.wait_for_load_state()
            assert "Controleren en verzenden" in page.content()
            page.screenshot(path=str(ARTIFACTS / "05-review.png"), full_page=True)

            # double click on send, then the back button and send again (a replay)
            page.dblclick("main form button[type=submit]")
            page.wait_for_load_state()
            page.wait_for_selector("text=Bedankt!")
            page.screenshot(path=str(ARTIFACTS / "06-thanks.png"))
            page.go_back()
            page.wait_for_load_state()
            if page.locator("input[name=submission_id]").count():
                page.click("main form button[type=submit]")
                page.wait_for_load_state()
            assert "Bedankt!" in page.content()
            # and the link itself no longer opens the form
            page.goto(url)
            assert "werkt niet" in page.content()
            page.screenshot(path=str(ARTIFACTS / "07-link-used.png"))
            context.close()
        finally:
            browser.close()

    with db.read_sessions() as s:
        stored = s.scalars(select(Response)).all()
        assert len(stored) == 1 and stored[0].status == ResponseStatus.SUBMITTED
        assert stored[0].answers["ws_hours"] == 24
        assert s.scalar(select(func.count()).where(AuditEvent.action == "submit_response")) == 1
    assert os.path.getsize(ARTIFACTS / "05-review.png") > 0


def test_two_tabs_a_stale_save_keeps_the_newer_answers(server: str, db: Database) -> None:
    """The same form open in two tabs: the second saves the first part as it was shown (empty)
    after the first tab saved it; the saved answers stay and the page says why it came back."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed", "KLIK_REQUIRE_BROWSER")
    from playwright.sync_api import sync_playwright

    employee = load_instruments()["employee_followup"]
    with db.sessions.begin() as s:
        (link,) = invitations_for_cohort(s, AT, [employee], n_trajectories=1)
    url = f"{server}/f/{link.token}"
    answers = section_answers(employee, 0, random.Random(3))
    phone = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(**phone, locale="nl-NL")
            first, second = context.new_page(), context.new_page()
            first.goto(url)
            first.wait_for_url(f"{server}/form")
            second.goto(f"{server}/form")  # the tab duplicated: the same form session
            answer(first, employee, answers)
            first.click("button[value=next]")
            first.wait_for_load_state()
            assert "Deel 2 van" in first.content()
            second.click("button[value=next]")  # the part as it was shown: nothing filled in
            second.wait_for_load_state()
            text = second.inner_text("main")
            assert "intussen opnieuw opgeslagen" in text
            second.screenshot(path=str(ARTIFACTS / "07-stale-tab.png"), full_page=True)
            for item_id, value in answers.items():
                if employee.item(item_id).options:
                    index = [str(o.code) for o in employee.item(item_id).options].index(str(value))
                    assert second.is_checked(f"#q-{item_id}-{index}"), item_id
        finally:
            browser.close()
    with db.read_sessions() as s:
        (saved,) = s.scalars(select(Response.answers)).all()
    assert {k: str(v) for k, v in saved.items()} == {k: str(v) for k, v in answers.items()}
