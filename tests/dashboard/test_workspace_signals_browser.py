"""The jobcoach's signals in headless Chromium on a 390-pixel phone: the red client comes
first, its card fits the screen, and "Markeer als gezien" stores the acknowledgement."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from study import services
from study.models import SignalAcknowledgement
from tests.conftest import skip_or_fail
from tests.dashboard.conftest import PASSWORD, Env, wait_until

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "workspace-signals-390.png"
pytestmark = pytest.mark.browser


@pytest.fixture
def served(env: Env) -> Iterator[tuple[Env, str]]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing", "KLIK_REQUIRE_BROWSER")
    from waitress.server import create_server

    first = env.cohort.trajectory_ids[0]
    with env.container.sessions.begin() as s:
        services.record_employment_event(
            s, env.cohort.study_id, first,
            {"event_date": dt.date(2025, 12, 10), "kind": "sick_leave_start"},
            actor="test", at=env.clock.now(),
        )  # fmt: skip
    server = create_server(env.app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield env, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def test_a_jobcoach_opens_the_red_client_on_a_phone_and_marks_a_signal_seen(served) -> None:
    from playwright.sync_api import sync_playwright

    env, base = served
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/login")
            page.fill("#username", "coach1")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector(".klik-header")
            page.goto(f"{base}/workspace")
            page.wait_for_selector("#workspace-caseload", timeout=60_000)
            first = page.locator(".klik-caseload-item").first
            assert first.get_attribute("data-light") == "red"
            assert first.get_attribute("data-trajectory") == str(env.cohort.trajectory_ids[0])
            first.locator("button").click()
            page.wait_for_selector("#workspace-signal-card", timeout=60_000)
            page.wait_for_selector("#workspace-checklist")
            for selector in ("#workspace-caseload", "#workspace-signal-card"):
                box = page.locator(selector).bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
                overflow = page.evaluate(
                    f"() => {{ const e = document.querySelector('{selector}');"
                    " return e.scrollWidth - e.clientWidth; }"
                )
                assert overflow <= 1, selector
            page.locator(
                "#workspace-client-signals button", has_text="Markeer als gezien"
            ).first.click()
            wait_until(
                page, "() => document.querySelector('#workspace-ack-msg .klik-info') !== null"
            )
            assert "Gemarkeerd als gezien" in page.inner_text("#workspace-ack-msg")
            assert "Gezien op" in page.inner_text("#workspace-client-signals")
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    with env.container.read_sessions() as s:
        rows = s.scalars(select(SignalAcknowledgement)).all()
    assert len(rows) == 1 and rows[0].seen_by == "coach1"
    assert rows[0].trajectory_id == env.cohort.trajectory_ids[0]
