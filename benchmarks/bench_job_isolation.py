"""Why jobs run in child processes: the longest wait of another user's request while a job
holds Python's interpreter lock, for a job in a child process and for the same job on a thread
of the web process, side by side in one run.

Run ``python -m benchmarks.bench_job_isolation``. A job sorts 4 million shuffled Python ints
(C code that never releases the interpreter lock); meanwhile ``/health`` is asked in a loop
through the real Flask app. Prints one JSON line: the sort's seconds, the longest gap between
two answers for each isolation, and their ratio.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any


def _lock_holding_job(progress: Any) -> float:
    numbers = list(range(4_000_000))
    random.Random(1).shuffle(numbers)
    progress(0.5, "sorting")
    started = time.perf_counter()
    numbers.sort()
    return time.perf_counter() - started


def slowest_gap(isolation: str) -> tuple[float, float]:
    """The longest gap between two ``/health`` answers while the job runs, and its sort time."""
    import tempfile
    from pathlib import Path

    from dashboard.app import create_app
    from dashboard.jobs import DONE, JobKey, JobRunner
    from klik.settings import Settings
    from klik.wiring import build
    from study.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="klik-isolation-"))
    container = build(Settings(database_url=f"sqlite:///{folder / 'klik.db'}", secret_key="i" * 64))
    upgrade(container.engine)
    app = create_app(container)
    runner = JobRunner(isolation=isolation)
    app.extensions["klik_jobs"] = runner
    client = app.test_client()
    key = JobKey.make("v", "scope", "sort")
    runner.submit(key, _lock_holding_job)
    slowest, last = 0.0, time.perf_counter()
    while not runner.status(key).done:
        client.get("/health")
        now = time.perf_counter()
        slowest, last = max(slowest, now - last), now
        time.sleep(0.02)
    status = runner.status(key)
    if status.state != DONE:
        raise RuntimeError(status.error)
    runner.shutdown()
    return slowest, float(status.result)


def main(argv: list[str] | None = None) -> None:
    del argv  # no options
    from dashboard.jobs import PROCESS, THREAD

    child, sort_child = slowest_gap(PROCESS)
    thread, sort_thread = slowest_gap(THREAD)
    print(json.dumps({
        "sort_s": round(max(sort_child, sort_thread), 2),
        "slowest_gap_child_process_s": round(child, 3),
        "slowest_gap_thread_s": round(thread, 3),
        "thread_over_child": round(thread / child, 1) if child else None,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
