"""The record page in headless Chromium for every role, at desktop and phone width; screenshots
go to ``artifacts/``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from study.models import Participant, Trajectory
from tests.dashboard.conftest import PASSWORD, wait_until
from tests.dashboard.test_browser import ARTIFACTS, _settle, browser, served  # noqa: F401

pytestmark = pytest.mark.browser


def _open(browser, base: str, username: str, width: int):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".klik-header")
    return page, errors


def _code(env, coach_index: int) -> str:
    with env.container.read_sessions() as s:
        return s.scalar(
            select(Participant.study_code)
            .join(Trajectory, Trajectory.participant_id == Participant.id)
            .where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[coach_index])
            .order_by(Participant.id)
        )


@pytest.mark.parametrize("width", [1280, 390])
def test_record_page_for_researcher_and_jobcoach(served, browser, width) -> None:  # noqa: F811
    env, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    for username, coach in (("researcher", 1), ("coach1", 0)):
        page, errors = _open(browser, base, username, width)
        code = _code(env, coach)
        page.goto(f"{base}/record?code={code}")
        _settle(page)
        wait_until(page, "() => document.querySelector('#record-timeline')")
        assert page.inner_text("#record-code") == code
        assert page.locator("#record-forms").count() == 1
        # at phone width nothing sticks out sideways
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, overflow
        page.screenshot(path=str(ARTIFACTS / f"record-{username}-{width}.png"), full_page=True)
        assert not errors, errors
        page.context.close()


def test_jobcoach_asking_for_another_coachs_client_sees_nothing(served, browser) -> None:  # noqa: F811
    env, base = served
    page, _ = _open(browser, base, "coach1", 1280)
    page.goto(f"{base}/record?code={_code(env, 1)}")
    _settle(page)
    assert page.locator("#record-timeline").count() == 0
    assert _code(env, 1) not in page.inner_text("#klik-content")


def test_viewer_gets_no_record_page(served, browser) -> None:  # noqa: F811
    env, base = served
    page, _ = _open(browser, base, "viewer", 1280)
    assert page.locator("a[href='/record']").count() == 0
    page.goto(f"{base}/record?code={_code(env, 0)}")
    _settle(page)
    assert "geen toegang" in page.inner_text("#klik-content")
    page.screenshot(path=str(ARTIFACTS / "record-viewer.png"))
