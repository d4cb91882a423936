"""Fixtures for the dashboard: an app on a fresh database with a small cohort and four logins."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard.app import create_app
from klik.settings import Settings
from klik.wiring import Container
from study.clock import SimulatedClock
from study.services.users import add_user
from tests.conftest import Database
from tests.factory import Cohort, build_cohort

PASSWORD = "correct horse battery"
ORIGIN = {"Origin": "http://localhost"}


@dataclass
class Env:
    """An app, its container, the cohort and the usernames of four logins."""

    app: Flask
    container: Container
    cohort: Cohort
    clock: SimulatedClock

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def login(self, username: str, client: FlaskClient | None = None) -> FlaskClient:
        c = client or self.client()
        resp = c.post("/login", data={"username": username, "password": PASSWORD}, headers=ORIGIN)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return c


def make_container(db: Database, clock: SimulatedClock, **settings: object) -> Container:
    # viewers see the live study here, as researchers do: these tests enter their cohort at
    # the clock's moment (test_viewer_release checks the release day itself)
    settings = {"viewer_release": "day", **settings}
    return Container(
        settings=Settings(database_url=db.url, secret_key="k" * 64, **settings),
        engine=db.engine,
        sessions=db.sessions,
        read_sessions=db.read_sessions,
        clock=clock,
    )


def add_logins(container: Container, cohort: Cohort, at: dt.datetime) -> None:
    """researcher, coach1 (first jobcoach), coach2 (second jobcoach), viewer."""
    with container.sessions.begin() as s:
        sid = cohort.study_id
        add_user(s, sid, "researcher", PASSWORD, "researcher", display_name="Rita Onderzoek",
                 actor="test", at=at)  # fmt: skip
        add_user(s, sid, "coach1", PASSWORD, "jobcoach", cohort.jobcoach_ids[0],
                 display_name="Coach Een", actor="test", at=at)  # fmt: skip
        add_user(s, sid, "coach2", PASSWORD, "jobcoach", cohort.jobcoach_ids[1],
                 display_name="Coach Twee", actor="test", at=at)  # fmt: skip
        add_user(s, sid, "viewer", PASSWORD, "viewer", display_name="Vera Kijker",
                 actor="test", at=at)  # fmt: skip


@pytest.fixture
def env(db: Database, clock: SimulatedClock) -> Iterator[Env]:
    container = make_container(db, clock)
    at = clock.now()
    with container.sessions.begin() as s:
        cohort = build_cohort(s, at, n_trajectories=6, n_coaches=2, first_start=dt.date(2025, 6, 2))
    add_logins(container, cohort, at)
    yield Env(create_app(container), container, cohort, clock)


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """The headers the Dash renderer sends with a callback: same Origin and the CSRF token."""
    cookie = client.get_cookie("_csrf_token")
    return {**ORIGIN, "X-CSRFToken": cookie.value if cookie else ""}


def dash_post(
    client: FlaskClient,
    outputs: list[tuple[str, str]],
    inputs: list[tuple[str, str, object]],
    state: list[tuple[str, str, object]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
):
    """POST a callback request to ``/_dash-update-component`` as the browser would (or crafted)."""
    output = "...".join(f"{i}.{p}" for i, p in outputs)
    body = {
        "output": f"..{output}.." if len(outputs) > 1 else output,
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"] if inputs else [],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    resp = client.post(
        "/_dash-update-component",
        json=body,
        headers=csrf_headers(client) if headers is None else headers,
    )
    # the same JSON, with non-ASCII characters written as themselves (easier to assert on)
    resp.set_data(body_text(resp).encode())
    return resp


def route_to(client: FlaskClient, path: str, search: str = "", headers: dict | None = None):
    """Ask Dash's page router for the layout of ``path`` (what a client-side navigation does)."""
    return dash_post(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
        headers=headers,
    )


TICK_DAYS = (
    dt.date(2025, 6, 9),
    dt.date(2025, 7, 14),
    dt.date(2025, 9, 1),
    dt.date(2025, 10, 6),
    dt.date(2025, 12, 1),
    dt.date(2026, 1, 5),
)


def populate_forms(container: Container, *, answer_share: float = 0.7, seed: int = 3) -> None:
    """Run the scheduler on a few days and answer a share of the open forms in between."""
    import random

    from sqlalchemy import select

    from questionnaires.registry import load_registry
    from study import responses
    from study.models import Invitation
    from study.scheduling.tick import tick
    from study.vocab import InvitationStatus
    from tests.forms_support import full_answers

    registry = load_registry(())
    rng = random.Random(seed)
    for day in TICK_DAYS:
        at = dt.datetime(day.year, day.month, day.day, 8, tzinfo=dt.UTC)
        with container.sessions.begin() as s:
            tick(s, as_of=at, secret_key=container.settings.secret_key)
        with container.sessions.begin() as s:
            open_ids = s.execute(
                select(Invitation.id, Invitation.instrument_id, Invitation.instrument_version)
                .where(Invitation.status == InvitationStatus.OPEN)
                .order_by(Invitation.id)
            ).all()
        for inv_id, instrument_id, version in open_ids:
            if rng.random() > answer_share:
                continue
            instrument = responses.instrument_for(registry, instrument_id, version)
            with container.sessions.begin() as s:
                responses.submit(
                    s, inv_id, full_answers(instrument, seed=inv_id),
                    submission_id=f"sub-{inv_id:08d}-0000000000000000", instruments=registry,
                    actor="test", at=at + dt.timedelta(hours=1),
                )  # fmt: skip


@pytest.fixture
def forms_env(env: Env) -> Env:
    """``env`` with invitations from the scheduler and a share of them answered."""
    populate_forms(env.container)
    return env


def body_text(resp) -> str:
    """A response body as text, with JSON's \\u escapes turned back into characters."""
    import json

    if resp.is_json:
        return json.dumps(resp.get_json(), ensure_ascii=False)
    return resp.get_data(as_text=True)


def wait_until(page, function: str, timeout: float = 30.0) -> None:
    """Poll ``function`` (JavaScript, e.g. ``"() => ..."``) in the page until it is truthy.

    ``page.evaluate`` runs through the browser's debugging protocol, which the pages' Content
    Security Policy does not restrict; Playwright's ``wait_for_function`` compiles its predicate
    with ``eval`` inside the page, which that policy (rightly) refuses.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(function):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {function}")
        page.wait_for_timeout(100)


@dataclass
class HeldJobs:
    """Wraps a job factory so that its jobs report a first step, then wait for :attr:`release`.

    For tests of what pages do while a long computation runs. ``started`` counts the jobs that
    began.
    """

    make_job: Callable[..., Callable]
    fraction: float = 0.05
    release: threading.Event = field(default_factory=threading.Event)
    started: list[int] = field(default_factory=list)

    def __call__(self, *args: object, **kwargs: object) -> Callable:
        run = self.make_job(*args, **kwargs)

        def held(progress: Callable) -> object:
            self.started.append(1)
            progress(self.fraction, "trajectories")
            assert self.release.wait(30)
            return run(progress)

        return held
