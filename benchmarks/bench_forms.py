"""Form submissions per second through HTTP on SQLite, against the floor of bare INSERTs.

Run with ``python -m benchmarks.bench_forms [--submissions N] [--clients C] [--flows F]``.

1. *Submissions*: ``N`` invitations with a complete saved draft, each opened once through its link
   (the form-session cookie and the review page's CSRF value and submission id are fetched before
   timing). Then ``C`` concurrent clients on loopback post ``/form/submit`` to the real server
   (waitress, in this process) until all are submitted: submissions per second and p50/p99 latency.
2. *Floor*: the same rows one submission writes (the response, its values and scores, an audit event,
   the invitation's status), inserted with the ``sqlite3`` module in one committed transaction per
   submission on the same database file, one writer, no ORM and no HTTP.
3. *Full flows*: ``F`` respondents doing the whole visit (open the link, save six parts, submit) with
   the same ``C`` clients: forms per second and per-request latency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import queue
import re
import sqlite3
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.app import create_app
from klik.settings import Settings
from klik.wiring import build
from questionnaires.model import Instrument
from questionnaires.registry import load_instruments
from study import responses, services
from study.clock import SimulatedClock
from study.migrate import upgrade
from study.models import Invitation, Protocol
from study.tokens import hash_token, new_salt, token_for
from study.vocab import InvitationStatus, Respondent

AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
SECRET = "benchmark-secret"


@dataclass
class Prepared:
    cookie: str
    body: bytes


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _answers(instrument: Instrument, seed: int) -> dict[int, dict[str, str]]:
    """Valid raw answers per section index."""
    out: dict[int, dict[str, str]] = {}
    n = seed
    for index in range(len(instrument.sections)):
        section: dict[str, str] = {}
        for item in instrument.section_items(index):
            if not item.answerable:
                continue
            n = (n * 1103515245 + 12345) % 2**31
            if item.options:
                section[item.id] = str(item.options[n % len(item.options)].code)
            else:
                lo, hi = int(item.min or 0), int(item.max or 40)
                section[item.id] = str(lo + n % (hi - lo + 1))
        out[index] = section
    return out


def _setup(container: Any, instrument: Instrument, n: int) -> tuple[int, list[tuple[int, str]]]:
    """A study with one trajectory and ``n`` open invitations; returns (study id, (id, token))."""
    with container.sessions.begin() as s:
        study = services.create_study(s, code="BENCH", name="Benchmark", actor="bench", at=AT)
        coach = services.add_jobcoach(
            s,
            study.id,
            {"code": "JC1", "name": "Coach", "coach_type": "external", "method": "ips"},
            actor="bench",
            at=AT,
        )
        employer = services.add_employer(s, study.id, {"name": "Werkgever"}, actor="bench", at=AT)
        participant = services.enrol_participant(
            s,
            study.id,
            {
                "study_code": "P1",
                "birth_year": 2000,
                "gender": "female",
                "benefit": "wajong",
                "doelgroepregister": True,
            },
            actor="bench",
            at=AT,
        )
        trajectory = services.start_trajectory(
            s,
            study.id,
            {
                "participant_id": participant.id,
                "jobcoach_id": coach.id,
                "employer_id": employer.id,
                "start_date": dt.date(2025, 10, 1),
                "funder": "uwv",
                "employment_form": "begeleid_werken",
                "contract_hours": 24,
                "loonwaarde": 60,
                "maatje": True,
                "method": "ips",
                "coach_type": "external",
            },
            actor="bench",
            at=AT,
        )
        protocol_id = s.query(Protocol.id).filter(Protocol.study_id == study.id).scalar()
        links = []
        for i in range(n):
            salt = new_salt()
            invitation = Invitation(
                study_id=study.id,
                trajectory_id=trajectory.id,
                protocol_id=protocol_id,
                wave_code=f"B{i}",
                wave_index=i,
                respondent=Respondent(instrument.respondent),
                instrument_id=instrument.id,
                instrument_version=instrument.version,
                due_on=dt.date(2026, 1, 8),
                opens_on=dt.date(2026, 1, 1),
                closes_on=dt.date(2026, 2, 28),
                status=InvitationStatus.OPEN,
                token_salt=salt,
                created_at=AT,
            )
            s.add(invitation)
            s.flush()
            token = token_for(SECRET, invitation.id, salt)
            invitation.token_hash = hash_token(token)
            links.append((invitation.id, token))
    return study.id, links


class Client:
    """One keep-alive HTTP connection that carries a cookie jar of one cookie."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        set_cookie = response.getheader("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return response.status, text


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise RuntimeError(f"no field {name} on the page")
    return match.group(1)


def _run_clients(
    port: int, clients: int, jobs: list[Any], work: Callable[[Client, Any, list], None]
) -> tuple[float, list[tuple[str, float]]]:
    """Run ``work`` for every job on ``clients`` threads; returns (seconds, [(kind, latency)])."""
    todo: queue.Queue[Any] = queue.Queue()
    for job in jobs:
        todo.put(job)
    latencies: list[tuple[str, float]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def worker() -> None:
        client = Client(port)
        mine: list[tuple[str, float]] = []
        start_gate.wait()
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    break
                work(client, job, mine)
        except BaseException as exc:
            errors.append(exc)
        client.conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return elapsed, latencies


def _floor(db_path: Path, template: dict[str, Any], invitation_ids: list[int]) -> float:
    """Committed transactions per second inserting one submission's rows each, via sqlite3."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    now = AT.replace(tzinfo=None).isoformat(sep=" ")
    began = time.perf_counter()
    for invitation_id in invitation_ids:
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO response (invitation_id, instrument_id, instrument_version, status, "
            "submission_id, answers, lang, started_at, updated_at, submitted_at, submitted_by) "
            "VALUES (?, ?, ?, 'submitted', ?, ?, 'nl', ?, ?, ?, 'bench')",
            (
                invitation_id,
                template["instrument_id"],
                template["instrument_version"],
                f"floor-{invitation_id}",
                template["answers"],
                now,
                now,
                now,
            ),
        )
        response_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO response_value (response_id, item_id, value_num, value_text) "
            "VALUES (?, ?, ?, ?)",
            [(response_id, *row) for row in template["values"]],
        )
        conn.executemany(
            "INSERT INTO response_score (response_id, score_id, value) VALUES (?, ?, ?)",
            [(response_id, *row) for row in template["scores"]],
        )
        conn.execute(
            "INSERT INTO audit_event (at, actor, action, entity, entity_id, new_values) "
            "VALUES (?, 'bench', 'submit_response', 'response', ?, ?)",
            (now, response_id, template["audit"]),
        )
        conn.execute(
            "UPDATE invitation SET status = 'completed', completed_at = ? WHERE id = ?",
            (now, invitation_id),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    return len(invitation_ids) / elapsed


def _template(db_path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db_path)
    rid, iid, ver, answers = conn.execute(
        "SELECT id, instrument_id, instrument_version, answers FROM response "
        "WHERE status = 'submitted' ORDER BY id LIMIT 1"
    ).fetchone()
    template = {
        "instrument_id": iid,
        "instrument_version": ver,
        "answers": answers,
        "values": conn.execute(
            "SELECT item_id, value_num, value_text FROM response_value WHERE response_id = ?",
            (rid,),
        ).fetchall(),
        "scores": conn.execute(
            "SELECT score_id, value FROM response_score WHERE response_id = ?", (rid,)
        ).fetchall(),
        "audit": conn.execute(
            "SELECT new_values FROM audit_event WHERE entity = 'response' AND entity_id = ?",
            (rid,),
        ).fetchone()[0],
    }
    conn.close()
    return template


def run(submissions: int = 2000, clients: int = 50, flows: int = 300) -> dict[str, Any]:
    """Run the benchmark in a temporary directory; returns the figures."""
    from waitress.server import create_server

    # 50 clients against 8 threads keep waitress's queue deep on purpose; its warning says only that.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    instrument = load_instruments()["employee_followup"]
    instruments = {instrument.id: instrument}
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        settings = Settings(database_url=f"sqlite:///{db_path}", secret_key=SECRET)
        container = build(settings, SimulatedClock(AT))
        upgrade(container.engine)
        _, links = _setup(container, instrument, submissions + flows + submissions)
        to_submit = links[:submissions]
        to_flow = links[submissions : submissions + flows]
        floor_ids = [i for i, _ in links[submissions + flows :]]
        answers = _answers(instrument, seed=7)
        batch = 200
        for start in range(0, len(to_submit), batch):
            with container.sessions.begin() as s:
                for invitation_id, _ in to_submit[start : start + batch]:
                    for index, section in enumerate(instrument.sections):
                        result = responses.save_section(
                            s,
                            invitation_id,
                            section.id,
                            answers[index],
                            instruments=instruments,
                            at=AT,
                        )
                        assert result.ok, result.errors

        app = create_app(container)
        server = create_server(
            app, host="127.0.0.1", port=0, threads=8, connection_limit=clients * 2, backlog=1024
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        port = server.effective_port
        try:
            prepared: list[Prepared] = []
            setup_client = Client(port)
            for _, token in to_submit:
                setup_client.cookie = ""
                status, _ = setup_client.request("GET", f"/f/{token}")
                assert status == 200, status
                status, review = setup_client.request("GET", "/form")
                body = urllib.parse.urlencode(
                    {
                        "_csrf": _hidden(review, "_csrf"),
                        "submission_id": _hidden(review, "submission_id"),
                    }
                ).encode()
                prepared.append(Prepared(setup_client.cookie, body))

            def submit(client: Client, job: Prepared, out: list) -> None:
                client.cookie = job.cookie
                began = time.perf_counter()
                status, _ = client.request("POST", "/form/submit", job.body)
                out.append(("submit", time.perf_counter() - began))
                if status != 303:
                    raise RuntimeError(f"submit answered {status}")

            submit_seconds, submit_lat = _run_clients(port, clients, prepared, submit)

            def full_flow(client: Client, token: str, out: list) -> None:
                client.cookie = ""
                t0 = time.perf_counter()
                status, _ = client.request("GET", f"/f/{token}")
                status, page = client.request("GET", "/form")
                out.append(("open", time.perf_counter() - t0))
                for index in range(len(instrument.sections)):
                    fields = {
                        "_csrf": _hidden(page, "_csrf"),
                        "_section": _hidden(page, "_section"),
                        "_action": "next",
                        **answers[index],
                    }
                    t0 = time.perf_counter()
                    status, _ = client.request(
                        "POST", "/form", urllib.parse.urlencode(fields).encode()
                    )
                    status, page = client.request("GET", "/form")
                    out.append(("save part", time.perf_counter() - t0))
                fields = {
                    "_csrf": _hidden(page, "_csrf"),
                    "submission_id": _hidden(page, "submission_id"),
                }
                t0 = time.perf_counter()
                status, _ = client.request(
                    "POST", "/form/submit", urllib.parse.urlencode(fields).encode()
                )
                out.append(("submit", time.perf_counter() - t0))
                if status != 303:
                    raise RuntimeError(f"submit answered {status}")

            flow_seconds, flow_lat = _run_clients(port, clients, [t for _, t in to_flow], full_flow)
        finally:
            time.sleep(0.5)  # let the last keep-alive connections finish closing
            server.close()
            thread.join(timeout=5)

        with sqlite3.connect(db_path) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM response WHERE status = 'submitted'"
            ).fetchone()[0]
        assert stored == submissions + flows, stored
        floor_rate = _floor(db_path, _template(db_path), floor_ids)
        container.dispose()

    submit_ms = [x * 1000 for _, x in submit_lat]
    rate = submissions / submit_seconds
    figures: dict[str, Any] = {
        "clients": clients,
        "submissions": submissions,
        "submissions_per_s": round(rate, 1),
        "submit_p50_ms": round(_percentile(submit_ms, 0.50), 1),
        "submit_p99_ms": round(_percentile(submit_ms, 0.99), 1),
        "floor_inserts_per_s": round(floor_rate, 1),
        "ratio_to_floor": round(rate / floor_rate, 3),
        "full_flows": flows,
        "full_forms_per_s": round(flows / flow_seconds, 2),
    }
    for kind in ("open", "save part", "submit"):
        ms = [x * 1000 for k, x in flow_lat if k == kind]
        figures[f"flow_{kind.replace(' ', '_')}_p50_ms"] = round(_percentile(ms, 0.5), 1)
        figures[f"flow_{kind.replace(' ', '_')}_p99_ms"] = round(_percentile(ms, 0.99), 1)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry: print the figures as JSON and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--flows", type=int, default=300)
    args = parser.parse_args(argv)
    figures = run(args.submissions, args.clients, args.flows)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
