"""The dashboard in headless Chromium: every page for every role, filters, downloads, refusals.

Screenshots go to ``artifacts/`` (kept by CI as test artifacts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.dashboard.conftest import PASSWORD, Env, wait_until

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ANALYSES = ["/survival", "/trajectories", "/quality", "/mkba", "/signals"]
PAGES = {
    "researcher": ["/", "/monitor", *ANALYSES, "/workspace", "/record", "/exports", "/outbox",
                   "/audit", "/users"],
    "coach1": ["/", "/workspace", "/record", "/exports"],
    "viewer": ["/", "/monitor", *ANALYSES, "/exports"],
}  # fmt: skip

pytestmark = pytest.mark.browser


@pytest.fixture
def served(forms_env: Env) -> Iterator[tuple[Env, str]]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing", "KLIK_REQUIRE_BROWSER")
    from waitress.server import create_server

    server = create_server(forms_env.app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield forms_env, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing", "KLIK_REQUIRE_BROWSER")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        yield b
        b.close()


def _login(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".klik-header")
    return page, errors


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")
    wait_until(page, "() => !document.querySelector('[data-dash-is-loading=\"true\"]')")


@pytest.mark.parametrize("username", list(PAGES))
def test_every_page_renders_without_console_errors(served, browser, username: str) -> None:
    _env, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _login(browser, base, username)
    for path in PAGES[username]:
        page.goto(f"{base}{path}")
        _settle(page)
        page.wait_for_selector(".klik-page h1")
        assert "geen toegang" not in page.inner_text(".klik-main")
        name = path.strip("/") or "home"
        page.screenshot(path=str(ARTIFACTS / f"{username}-{name}.png"), full_page=True)
        # the same page on a 390-pixel phone: nothing scrolls sideways
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(ARTIFACTS / f"{username}-{name}-phone.png"), full_page=True)
        assert width <= 390, (path, width)
        page.set_viewport_size({"width": 1280, "height": 900})
    assert errors == [], errors


def test_monitor_filter_and_download(served, browser) -> None:
    _env, base = served
    page, errors = _login(browser, base, "researcher")
    page.goto(f"{base}/monitor")
    _settle(page)
    page.wait_for_selector("#monitor-completion")
    page.click("#monitor-method")
    page.keyboard.type("EIM")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Nog geen gegevens")
    page.goto(f"{base}/exports")
    _settle(page)
    # the export is prepared first; its download link appears when the file is ready
    page.get_by_role("button", name="Maken: CSV, lang").click()
    page.wait_for_selector("#export-csv_long")
    with page.expect_download() as info:
        page.click("#export-csv_long")
    download = info.value
    assert download.suggested_filename == "klik_long.csv"
    assert "study_code" in Path(download.path()).read_text().splitlines()[0]
    assert errors == [], errors


def test_jobcoach_cannot_reach_another_coachs_client(served, browser) -> None:
    env, base = served
    from sqlalchemy import select

    from study.models import Invitation, Trajectory
    from study.vocab import Respondent

    with env.container.read_sessions() as s:
        other_invitation = s.scalar(
            select(Invitation.id)
            .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
            .where(
                Trajectory.jobcoach_id == env.cohort.jobcoach_ids[1],
                Invitation.respondent == Respondent.JOBCOACH,
            )
        )
        other_trajectory = s.scalar(
            select(Trajectory.id).where(Trajectory.jobcoach_id == env.cohort.jobcoach_ids[1])
        )
    page, _errors = _login(browser, base, "coach1")
    # by URL: another coach's form, the outbox, the monitor
    resp = page.goto(f"{base}/coach/forms/{other_invitation}")
    assert resp is not None and resp.status in (403, 404)
    for path in ("/outbox", "/monitor"):
        page.goto(f"{base}{path}")
        _settle(page)
        page.wait_for_selector("text=geen toegang")
    # by a crafted callback request from inside the logged-in page (cookies, Origin and token)
    page.goto(f"{base}/workspace")
    _settle(page)
    result = page.evaluate(
        """async (tid) => {
            const token = document.cookie.split('; ').find(c => c.startsWith('_csrf_token='));
            const r = await fetch('/_dash-update-component', {
                method: 'POST',
                headers: {'Content-Type': 'application/json',
                          'X-CSRFToken': token ? token.split('=')[1] : ''},
                body: JSON.stringify({
                    output: 'workspace-detail.children',
                    outputs: {id: 'workspace-detail', property: 'children'},
                    inputs: [{id: 'workspace-client', property: 'value', value: tid},
                             {id: 'workspace-ended', property: 'data', value: null},
                             {id: 'workspace-withdrawn', property: 'data', value: null}],
                    changedPropIds: ['workspace-client.value'], state: []})
            });
            return [r.status, await r.text()];
        }""",
        other_trajectory,
    )
    status, text = result
    assert status == 200
    assert "niet bij uw cli" in text and "P0002" not in text
    page.screenshot(path=str(ARTIFACTS / "coach1-refused.png"))
