"""The survival, trajectory and data-quality pages in headless Chromium, for each role.

Served by the real server (waitress) on a cohort with answers, contacts and ends. Every page
must render without console errors, stratifying must redraw the curves, and each role sees what
it may. Screenshots are kept in ``artifacts/analysis/``.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.app import create_app
from study.clock import SimulatedClock
from tests.analysis_support import random_plans, run_plans
from tests.conftest import Database, skip_or_fail
from tests.dashboard.conftest import PASSWORD, add_logins, make_container, wait_until

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "analysis"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    """30 trajectories on waitress, on a free loopback port, in a thread."""
    from waitress.server import create_server

    as_of = dt.date(2026, 9, 30)
    cohort = run_plans(db.sessions, random_plans(30, seed=5), as_of=as_of, n_coaches=3,
                       spacing_days=3)  # fmt: skip
    clock = SimulatedClock(dt.datetime(2026, 9, 30, 9, tzinfo=dt.UTC))
    container = make_container(db, clock)
    add_logins(container, cohort, clock.now())
    srv = create_server(create_app(container), host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(timeout=5)


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def wait_done(page, status_id: str) -> str:
    """Wait until the page's status line shows the footnote (n = ...), return it."""
    wait_until(
        page,
        f"() => document.querySelector('#{status_id}') && "
        f"document.querySelector('#{status_id}').innerText.includes('n = ')",
        timeout=60,
    )
    return page.inner_text(f"#{status_id}")


def n_of(text: str) -> int:
    """The n of a footnote: exact, or for a viewer rounded ("n = ≈ 30")."""
    return int(re.search(r"n = (?:≈ )?(\d+)", text).group(1))


def legend(page) -> list[str]:
    return page.eval_on_selector_all(
        "#survival-km .legendtext", "els => els.map(e => e.textContent)"
    )


def choose(page, dropdown_id: str, label: str) -> None:
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=label, exact=True).click()


def test_analysis_pages_for_each_role(server: str) -> None:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed", "KLIK_REQUIRE_BROWSER")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        skip_or_fail("playwright is not installed", "KLIK_REQUIRE_BROWSER")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "researcher": ("survival", "trajectories", "quality"),
        "coach1": ("survival", "trajectories"),
        "viewer": ("survival", "trajectories", "quality"),
    }
    seen_n: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for user, paths in pages.items():
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                page = context.new_page()
                errors: list[str] = []
                page.on(
                    "console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
                login(page, server, user)

                page.goto(f"{server}/survival")
                seen_n[user] = n_of(wait_done(page, "survival-status"))
                page.wait_for_selector("#survival-km .main-svg")
                before = legend(page)
                page.screenshot(path=str(ARTIFACTS / f"{user}-survival-klik.png"), full_page=True)
                # stratify by internal/external jobcoach: the legend changes
                choose(page, "survival-stratify", "Interne/externe jobcoach")
                wait_until(
                    page,
                    "() => document.querySelector('#survival-km') && [...document.querySelectorAll("
                    "'#survival-km .legendtext')].some(e => e.textContent.includes('jobcoach')"
                    " || e.textContent === 'Iedereen')"
                    " || document.querySelectorAll('#survival-km .legendtext').length === 0",
                )
                after = legend(page)
                # a viewer's strata under twice the minimum are merged, here into one curve
                merged = user == "viewer" and set(after) <= {"Iedereen", "Overige"}
                assert after != before or not before or merged, (user, before, after)
                page.screenshot(
                    path=str(ARTIFACTS / f"{user}-survival-coach-type.png"), full_page=True
                )
                text = page.inner_text("body")
                if user == "viewer":
                    assert "alleen totalen" in text
                    at_risk = page.eval_on_selector_all(
                        "#survival-km .textpoint text", "els => els.map(e => e.textContent)"
                    )
                    assert not [v for v in at_risk if v.isdigit() and int(v) < 10], at_risk

                if "trajectories" in paths:
                    page.goto(f"{server}/trajectories")
                    wait_done(page, "trajectories-status")
                    page.wait_for_selector("#trajectories-means .main-svg")
                    if user == "researcher":
                        page.wait_for_selector("#trajectories-fixed-table", timeout=60_000)
                    elif user != "viewer":
                        # ten clients with three waves are too few for five fixed effects
                        page.wait_for_selector(".klik-too-little", timeout=60_000)
                        note = page.inner_text("#trajectories-model")
                        assert "Te weinig gegevens voor een mixed model" in note, note
                    page.screenshot(
                        path=str(ARTIFACTS / f"{user}-trajectories.png"), full_page=True
                    )

                if "quality" in paths:
                    page.goto(f"{server}/quality")
                    wait_done(page, "quality-status")
                    page.screenshot(path=str(ARTIFACTS / f"{user}-quality.png"), full_page=True)
                else:
                    page.goto(f"{server}/quality")
                    page.wait_for_load_state("networkidle")
                    assert "geen toegang" in page.inner_text("body")

                assert not errors, (user, errors)
                context.close()
        finally:
            browser.close()
    assert seen_n["researcher"] == 30
    assert seen_n["coach1"] == 10
    assert seen_n["viewer"] == 30
