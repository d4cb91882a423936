"""The audit-log page in headless Chromium for every role, at desktop and phone width."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import wait_until
from tests.dashboard.test_browser import ARTIFACTS, _settle, browser, served  # noqa: F401
from tests.dashboard.test_record_browser import _open

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_researcher_sees_the_grid(served, browser, width) -> None:  # noqa: F811
    _env, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _open(browser, base, "researcher", width)
    page.goto(f"{base}/audit")
    _settle(page)
    wait_until(page, "() => document.querySelectorAll('.ag-row').length > 0")
    assert "regels gevonden" in page.inner_text("#audit-count")
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    page.screenshot(path=str(ARTIFACTS / f"audit-researcher-{width}.png"))
    assert not errors, errors


@pytest.mark.parametrize("username", ["coach1", "viewer"])
def test_others_get_no_audit_log(served, browser, username) -> None:  # noqa: F811
    _env, base = served
    page, _ = _open(browser, base, username, 1280)
    assert page.locator("a[href='/audit']").count() == 0
    page.goto(f"{base}/audit")
    _settle(page)
    assert "geen toegang" in page.inner_text("#klik-content")
    assert page.locator(".ag-row").count() == 0
