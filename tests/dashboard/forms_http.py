"""Helpers for driving the forms over HTTP with Flask's test client."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from klik.settings import Settings
from klik.wiring import Container
from study.clock import SimulatedClock
from tests.conftest import Database
from tests.forms_support import SECRET


def container_for(db: Database, clock: SimulatedClock) -> Container:
    """The application's container on a test database and a simulated clock."""
    settings = Settings(database_url=db.url, secret_key=SECRET, base_url="http://klik.test")
    return Container(
        settings=settings,
        engine=db.engine,
        sessions=db.sessions,
        read_sessions=db.read_sessions,
        clock=clock,
    )


def hidden(html: str, name: str) -> str:
    """The value of a hidden input on a page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def open_link(client: FlaskClient, token: str, **kw: Any):
    """Open a personal link and follow the page it answers with to the form."""
    first = client.get(f"/f/{token}", **kw)
    if first.status_code != 200:
        return first
    return client.get("/form", **kw)


def post_section(
    client: FlaskClient, page_html: str, answers: Mapping[str, Any], action: str = "next", **kw: Any
):
    """Post a section page with ``answers`` (lists for several values under one name)."""
    data: list[tuple[str, str]] = [
        ("_csrf", hidden(page_html, "_csrf")),
        ("_section", hidden(page_html, "_section")),
        ("_action", action),
    ]
    if 'name="_version"' in page_html:  # the saved answers the page was shown with
        data.append(("_version", hidden(page_html, "_version")))
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            data.append((key, v))
    return client.post("/form", data=MultiDict(data), **kw)


class FormAudit(HTMLParser):
    """Collects what accessibility checks need: inputs, labels, legends, scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.scripts = 0
        self.fieldset_depth = 0
        self.legends = 0
        self.html_lang: str | None = None
        self.viewport = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "meta" and a.get("name") == "viewport":
            self.viewport = True
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.inputs.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag == "script":
            self.scripts += 1
        if tag == "legend":
            self.legends += 1


def audit_page(html: str) -> FormAudit:
    parser = FormAudit()
    parser.feed(html)
    return parser
