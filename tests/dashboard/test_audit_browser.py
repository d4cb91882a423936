"""The researcher's grid pages (audit log, users, outbox messages) in headless Chromium for every
role, at desktop and phone width; screenshots go to ``artifacts/``."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import wait_until
from tests.dashboard.test_browser import ARTIFACTS, _settle, browser, served  # noqa: F401
from tests.dashboard.test_record_browser import _open

pytestmark = pytest.mark.browser

PAGES = ("/audit", "/users", "/outbox")


@pytest.mark.parametrize("width", [1280, 390])
def test_researcher_sees_the_grids(served, browser, width) -> None:  # noqa: F811
    _env, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _open(browser, base, "researcher", width)
    for path in PAGES:
        page.goto(f"{base}{path}")
        _settle(page)
        wait_until(page, "() => document.querySelectorAll('.ag-row').length > 0")
        assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
        page.screenshot(path=str(ARTIFACTS / f"{path.strip('/')}-researcher-{width}.png"))
    assert not errors, errors


@pytest.mark.parametrize("username", ["coach1", "viewer"])
def test_others_get_none_of_them(served, browser, username) -> None:  # noqa: F811
    _env, base = served
    page, _ = _open(browser, base, username, 1280)
    for path in PAGES:
        assert page.locator(f"a[href='{path}']").count() == 0
        page.goto(f"{base}{path}")
        _settle(page)
        assert "geen toegang" in page.inner_text("#klik-content")
        assert page.locator(".ag-row").count() == 0
