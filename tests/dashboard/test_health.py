"""Liveness and readiness over HTTP: a load balancer sends requests only where the database and
the shared queue answer."""

from __future__ import annotations

from pathlib import Path

from dashboard.app import create_app
from study.clock import SimulatedClock
from tests.conftest import Database
from tests.dashboard.conftest import make_container


def test_ready_when_database_and_queue_answer(db: Database, clock: SimulatedClock, tmp_path: Path):
    queue = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    client = create_app(make_container(db, clock, queue_url=queue)).test_client()
    assert client.get("/health").get_json() == {"status": "ok"}
    resp = client.get("/health/ready")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"status": "ready", "database": "ok", "queue_pending": 0}
    # without a shared queue the same queue runs embedded, on a file in the data folder
    alone = create_app(make_container(db, clock)).test_client().get("/health/ready")
    assert (alone.status_code, alone.get_json()) == (
        200,
        {"status": "ready", "database": "ok", "queue_pending": 0},
    )


def test_not_ready_when_the_queue_is_gone(db: Database, clock: SimulatedClock) -> None:
    # nothing listens on port 1 of the loopback
    app = create_app(make_container(db, clock, queue_url="redis://127.0.0.1:1/0"))
    resp = app.test_client().get("/health/ready")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "not ready" and body["database"] == "ok" and "queue" in body


def test_not_ready_when_the_database_is_gone(db: Database, clock: SimulatedClock) -> None:
    client = create_app(make_container(db, clock)).test_client()
    path = Path(db.url.removeprefix("sqlite:///"))
    db.engine.dispose()
    path.unlink()
    path.mkdir()  # where the database was, a folder: SQLite cannot open it
    resp = client.get("/health/ready")
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "not ready"
    assert resp.get_json()["database"] != "ok"
    # alive all the same: the process answers
    assert client.get("/health").status_code == 200
