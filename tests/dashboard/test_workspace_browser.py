"""The workspace in a real browser: a jobcoach presses "Stuur de link opnieuw" and sees the result,
and the page never holds another person's link; ending a trajectory asks first, and a long
note reaches the server whole (refused with its limit, never cut by the browser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from study.models import Invitation, Outbox, Trajectory
from study.tokens import token_for
from study.vocab import Respondent
from tests.conftest import skip_or_fail
from tests.dashboard.conftest import PASSWORD, Env, populate_forms, wait_until

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "workspace.png"
pytestmark = pytest.mark.browser


@pytest.fixture
def served(env: Env) -> Iterator[tuple[Env, str]]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing", "KLIK_REQUIRE_BROWSER")
    from waitress.server import create_server

    populate_forms(env.container, answer_share=0.0)
    server = create_server(env.app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield env, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def test_a_jobcoach_resends_a_link_from_the_workspace(served: tuple[Env, str]) -> None:
    from playwright.sync_api import sync_playwright

    env, base = served
    with env.container.read_sessions() as s:
        rows = s.execute(
            select(Invitation.id, Invitation.token_salt).where(
                Invitation.respondent != Respondent.JOBCOACH, Invitation.token_salt.is_not(None)
            )
        ).all()
        resends_before = s.scalar(select(func.count()).select_from(Outbox))
    tokens = [token_for(env.container.settings.secret_key, i, salt) for i, salt in rows]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            _login_to_workspace(page, base)
            buttons = page.locator("button", has_text="Stuur de link opnieuw")
            assert buttons.count() >= 1
            assert page.locator("#workspace-forms a", has_text="Zelf invullen").count() >= 1
            buttons.first.click()
            wait_until(
                page, "() => document.querySelector('#workspace-resend-msg .klik-info') !== null"
            )
            assert "opnieuw per e-mail" in page.inner_text("#workspace-resend-msg")
            html = page.content()
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert "/f/" not in html
    assert not any(token in html for token in tokens)
    with env.container.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == resends_before + 1


def _login_to_workspace(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", "coach1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".klik-header")
    page.goto(f"{base}/workspace")
    page.wait_for_selector("#workspace-forms", timeout=30_000)


def test_ending_a_trajectory_asks_first_and_a_long_note_is_not_cut(
    served: tuple[Env, str],
) -> None:
    from playwright.sync_api import sync_playwright

    env, base = served

    def ended() -> int:
        with env.container.read_sessions() as s:
            return s.scalar(select(func.count()).where(Trajectory.end_date.is_not(None)))

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            _login_to_workspace(page, base)
            before = ended()
            dialogs: list[str] = []

            def dismiss(dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.wait_for_selector("#workspace-caseload", timeout=60_000)
            page.locator(".klik-caseload-item").first.locator("button").click()
            page.wait_for_selector("#workspace-client-signals", timeout=60_000)
            page.once("dialog", dismiss)
            page.click("#end-reason")
            page.keyboard.type("Baanverlies")
            page.keyboard.press("Enter")
            page.click("#end-save")
            page.wait_for_timeout(1000)
            assert dialogs and "Weet u zeker" in dialogs[0]
            assert ended() == before  # cancelled: nothing ended

            page.once("dialog", lambda dialog: dialog.accept())
            page.click("#end-save")
            wait_until(page, "() => document.querySelector('#end-msg p') !== null")
            assert "beëindigd" in page.inner_text("#end-msg")
            assert ended() == before + 1

            # a note over the limit is refused with the limit, not cut to it by the browser
            page.fill("#contact-note", "x" * 2500)
            assert len(page.input_value("#contact-note")) == 2500
        finally:
            browser.close()
