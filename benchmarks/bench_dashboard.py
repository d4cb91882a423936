"""Server time of the dashboard's callbacks (monitor, workspace, outbox, exports) by cohort size.

Run ``python -m benchmarks.bench_dashboard --trajectories 134 10000 100000``. Each cohort is built
once with the simulator into ``--cache`` (SQLite) and reused. The callbacks are called through the
real Flask app in-process (login, cookies, CSRF header), so the times are server times without a
network. Prints one JSON line per cohort size.

The monitor, the analysis pages and the exports run as background jobs: for those the line holds
the seconds until the result is there (``*_s``, polling as the page does), the slowest single
request meanwhile (``*_request_max_s``: what holds a server thread), the slowest answer another
user got meanwhile (``*_other_user_max_s``, ``/health`` ten times a second) and the answer once
the job for that selection has finished (``*_cached_s``), and the seconds until the result
once more after one trajectory was ended through the services (``*_after_write_s``: a data
version the page has not seen, which the frame store answers by reading that trajectory again).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

PASSWORD = "benchmark password"


def _ensure_cohort(trajectories: int, database: Path) -> None:
    if database.exists():
        return
    from benchmarks.bench_demo import run

    coaches = max(84, trajectories // 12)
    # build under another name, so an interrupted build is never taken for a finished cohort
    building = database.with_suffix(".building")
    run(trajectories, coaches, 12, building)
    building.rename(database)


def _ensure_users(container: Any) -> None:
    from sqlalchemy import select

    from study.models import Jobcoach, Study, User
    from study.services.users import add_user

    with container.sessions.begin() as s:
        if s.scalar(select(User.id).where(User.username == "bench-researcher")):
            return
        study_id = s.scalar(select(Study.id))
        coach_id = s.scalar(
            select(Jobcoach.id).where(Jobcoach.study_id == study_id).order_by(Jobcoach.id)
        )
        at = container.clock.now()
        for name, role, coach in (
            ("bench-researcher", "researcher", None),
            ("bench-viewer", "viewer", None),
            ("bench-coach", "jobcoach", coach_id),
        ):
            add_user(
                s, study_id, name, PASSWORD, role, coach, display_name=name, actor="bench", at=at
            )


def _end_one_trajectory(container: Any) -> None:
    """End the oldest open trajectory through the service, as a jobcoach would."""
    from sqlalchemy import select

    from study.clock import local_date
    from study.models import Trajectory
    from study.services.trajectories import end_trajectory

    now = container.clock.now()
    with container.sessions.begin() as s:
        row = s.execute(
            select(Trajectory.id, Trajectory.study_id)
            .where(Trajectory.end_date.is_(None), Trajectory.start_date <= local_date(now))
            .order_by(Trajectory.id)
            .limit(1)
        ).one()
        end_trajectory(s, row.study_id, row.id, {"end_date": local_date(now),
                       "end_reason": "job_loss"}, actor="bench", at=now)  # fmt: skip


def _post(client: Any, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]]) -> Any:
    output = "...".join(f"{i}.{p}" for i, p in outputs)
    body = {
        "output": f"..{output}.." if len(outputs) > 1 else output,
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [],
    }
    token = client.get_cookie("_csrf_token").value
    resp = client.post(
        "/_dash-update-component",
        json=body,
        headers={"Origin": "http://localhost", "X-CSRFToken": token},
    )
    if resp.status_code != 200:
        raise RuntimeError(f"{resp.status_code}: {resp.get_data(as_text=True)[:200]}")
    return resp


class _OtherUser:
    """Another user's requests (``/health``, ten a second) while jobs run: the slowest answer.

    Jobs run on threads of the web process, so this shows how much a computation slows
    everybody else's requests.
    """

    def __init__(self, client: Any) -> None:
        self.client, self.slowest, self.requests = client, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            # from the moment the request is due: waiting for the interpreter lock before the
            # request can even start counts too
            due = time.perf_counter()
            self.client.get("/health")
            self.slowest = max(self.slowest, time.perf_counter() - due)
            self.requests += 1
            due = time.perf_counter() + 0.1
            self._stop.wait(0.1)
            self.slowest = max(self.slowest, time.perf_counter() - due)

    def __enter__(self) -> _OtherUser:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _until_done(client: Any, outputs: list, inputs: list, poll: str) -> dict[str, float]:
    """Post a job-backed callback as its page does until the poll stops; times."""
    began = time.perf_counter()
    slowest = 0.0
    for tick in range(100_000):
        sent = time.perf_counter()
        resp = _post(client, outputs, [*inputs, (poll, "n_intervals", tick)])
        slowest = max(slowest, time.perf_counter() - sent)
        if resp.get_json()["response"][poll]["disabled"]:
            break
        time.sleep(0.2)
    return {"s": round(time.perf_counter() - began, 3), "request_max_s": round(slowest, 3)}


def _download(client: Any, kind: str) -> dict[str, float]:
    """GET an export until it is no longer being prepared (202); times."""
    began = time.perf_counter()
    slowest = 0.0
    while True:
        sent = time.perf_counter()
        resp = client.get(f"/export/{kind}")
        slowest = max(slowest, time.perf_counter() - sent)
        if resp.status_code != 202:
            if resp.status_code != 200:
                raise RuntimeError(f"export {kind}: {resp.status_code}")
            break
        time.sleep(0.5)
    return {"s": round(time.perf_counter() - began, 3), "request_max_s": round(slowest, 3)}


def _time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times), 3)


def measure(database: Path, repeat: int = 3, isolation: str = "process") -> dict[str, Any]:
    """Median server seconds of each callback on the cohort in ``database``."""
    import datetime as dt

    from sqlalchemy import func, select

    from dashboard.app import create_app
    from klik.settings import Settings
    from klik.wiring import build
    from study.clock import SimulatedClock
    from study.models import Trajectory

    settings = Settings(database_url=f"sqlite:///{database}", secret_key="b" * 64)
    container = build(settings, clock=SimulatedClock(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)))
    _ensure_users(container)
    with container.read_sessions() as s:
        n = s.scalar(select(func.count()).select_from(Trajectory))
        coach = s.scalar(select(Trajectory.jobcoach_id).order_by(Trajectory.id))
    app = create_app(container)
    from dashboard.jobs import EXTENSION, JobRunner

    app.extensions[EXTENSION] = JobRunner(isolation=isolation, engines=[container.engine])
    clients = {}
    for name in ("bench-researcher", "bench-viewer", "bench-coach"):
        c = app.test_client()
        c.post(
            "/login",
            data={"username": name, "password": PASSWORD},
            headers={"Origin": "http://localhost"},
        )
        clients[name] = c
    monitor_inputs = [
        (i, "value", None)
        for i in ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")
    ]
    filtered = [("monitor-organisation", "value", None), ("monitor-coach-type", "value", ["external"]),
                ("monitor-method", "value", ["ips"]), ("monitor-benefit", "value", None)]  # fmt: skip
    overview = [("workspace-overview", "children"), ("workspace-client", "options")]
    r, v, j = clients["bench-researcher"], clients["bench-viewer"], clients["bench-coach"]
    result: dict[str, Any] = {"trajectories": n}
    monitor = [("monitor-content", "children"), ("monitor-status", "children"),
               ("monitor-poll", "disabled")]  # fmt: skip
    for name, client, inputs in (
        ("monitor_researcher", r, monitor_inputs),
        ("monitor_filtered", r, filtered),
    ):
        with _OtherUser(app.test_client()) as other:
            timed = _until_done(client, monitor, inputs, "monitor-poll")
        result[f"{name}_other_user_max_s"] = round(other.slowest, 3)
        result[f"{name}_s"] = timed["s"]
        result[f"{name}_request_max_s"] = timed["request_max_s"]
        result[f"{name}_cached_s"] = _time(
            lambda c=client, i=inputs: _until_done(c, monitor, i, "monitor-poll"), repeat
        )
    # the analysis pages: their jobs (frames and models) until the result, then the cached answer
    pages = {
        "survival": (
            [("survival-km", "figure"), ("survival-logrank", "children"),
             ("survival-cox", "children"), ("survival-tv", "children"),
             ("survival-status", "children"), ("survival-poll", "disabled")],
            [("survival-stratify", "value", "klik"), ("survival-coach-types", "value", None),
             ("survival-methods", "value", None)],
        ),
        "trajectories": (
            [("trajectories-means", "figure"), ("trajectories-model", "children"),
             ("trajectories-status", "children"), ("trajectories-poll", "disabled")],
            [("trajectories-individual", "value", []), ("trajectories-coach-types", "value", None),
             ("trajectories-methods", "value", None)],
        ),
        "quality": (
            [("quality-alpha", "children"), ("quality-missing", "children"),
             ("quality-late", "children"), ("quality-status", "children"),
             ("quality-poll", "disabled")],
            [("quality-coach-types", "value", None), ("quality-methods", "value", None)],
        ),
    }  # fmt: skip
    for page, (outputs, inputs) in pages.items():
        with _OtherUser(app.test_client()) as other:
            timed = _until_done(r, outputs, inputs, f"{page}-poll")
        result[f"{page}_other_user_max_s"] = round(other.slowest, 3)
        result[f"{page}_s"] = timed["s"]
        result[f"{page}_request_max_s"] = timed["request_max_s"]
        result[f"{page}_cached_s"] = _time(
            lambda o=outputs, i=inputs, p=page: _until_done(r, o, i, f"{p}-poll"), repeat
        )
    # a new data version, as after a jobcoach ended a trajectory: each page once more (with
    # the frame store, only that trajectory's rows are read again)
    _end_one_trajectory(container)
    result["monitor_after_write_s"] = _until_done(r, monitor, monitor_inputs, "monitor-poll")["s"]
    for page, (outputs, inputs) in pages.items():
        result[f"{page}_after_write_s"] = _until_done(r, outputs, inputs, f"{page}-poll")["s"]
    # the viewer's selection is the whole study, as the researcher's: the job is shared
    result["monitor_viewer_cached_s"] = _time(
        lambda: _until_done(v, monitor, monitor_inputs, "monitor-poll"), repeat
    )
    # the overview also listens to the stores that enrolment, ending and withdrawal refresh
    stores = ("workspace-enrolled", "workspace-ended", "workspace-withdrawn")
    refreshed = [(store, "data", None) for store in stores]
    result["workspace_coach_s"] = _time(
        lambda: _post(j, overview, [("workspace-coach", "value", None), *refreshed]), repeat
    )
    result["workspace_researcher_s"] = _time(
        lambda: _post(r, overview, [("workspace-coach", "value", coach), *refreshed]), repeat
    )
    result["outbox_s"] = _time(
        lambda: _post(r, [("outbox-content", "children")], [("outbox-refresh", "n_intervals", 1)]),
        repeat,
    )
    with _OtherUser(app.test_client()) as other:
        timed = _download(r, "csv_wide")
    result["export_csv_wide_other_user_max_s"] = round(other.slowest, 3)
    result["export_csv_wide_s"] = timed["s"]
    result["export_csv_wide_request_max_s"] = timed["request_max_s"]
    container.dispose()
    return result  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, nargs="+", default=[134])
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--isolation",
        nargs="+",
        default=["process"],
        choices=["process", "thread"],
        help="where jobs run; give both to compare them side by side",
    )
    parser.add_argument(
        "--database",
        type=Path,
        help="measure this SQLite study instead (e.g. a bench_analysis database of 100,000)",
    )
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.database:
        for isolation in args.isolation:
            result = {"isolation": isolation, **measure(args.database, args.repeat, isolation)}
            print(json.dumps(result), flush=True)
        return
    for n in args.trajectories:
        database = args.cache / f"dashboard_{n}.db"
        _ensure_cohort(n, database)
        for isolation in args.isolation:
            result = {"isolation": isolation, **measure(database, args.repeat, isolation)}
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
