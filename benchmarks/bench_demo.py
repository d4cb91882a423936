"""Benchmark of building a simulated study: wall time, peak memory and rows written.

Run ``python -m benchmarks.bench_demo --trajectories 10000``; prints one JSON line at the end and
a progress line every ``--every`` simulated days on stderr.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run(
    trajectories: int, coaches: int, months: int, database: Path, seed: int = 1, every: int = 30
) -> dict[str, Any]:
    """Build one simulated study into ``database`` (SQLite) and measure it."""
    from study.clock import SimulatedClock
    from study.db import make_engine, make_sessions
    from study.migrate import upgrade
    from study.simulator.build import build, local_moment
    from study.simulator.params import SimulationParams

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    params = SimulationParams(
        n_trajectories=trajectories, n_coaches=coaches, months=months, seed=seed, send_mail=False
    )
    began = time.perf_counter()

    def progress(day: int, days: int) -> None:
        if day % every == 0 or day == days:
            elapsed = time.perf_counter() - began
            print(
                f"day {day}/{days}  {elapsed:.0f} s  peak {peak_memory_mb():.0f} MiB",
                file=sys.stderr,
                flush=True,
            )

    report = build(
        make_sessions(engine),
        params,
        clock=SimulatedClock(local_moment(params.start_date, 9)),
        secret_key="benchmark-secret-key-" + "x" * 40,
        progress=progress,
    )
    engine.dispose()
    return {
        "trajectories": trajectories,
        "coaches": coaches,
        "months": months,
        "tick_every_days": params.tick_days,
        "seconds": round(time.perf_counter() - began, 1),
        "peak_memory_mib": round(peak_memory_mb(), 1),
        "database_mib": round(database.stat().st_size / 2**20, 1),
        "days_per_transaction": params.transaction_days,
        "mail_delivered": params.deliver_mail,
        "rows": report.counts,
        "split_seconds": report.timings,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the options, run the benchmark, print and return the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trajectories", type=int, default=134)
    parser.add_argument("--coaches", type=int, default=None, help="default: 84 per 134")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", type=Path, default=None)
    parser.add_argument("--every", type=int, default=30, help="progress every N days")
    args = parser.parse_args(argv)
    coaches = args.coaches or max(1, round(args.trajectories * 84 / 134))
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or Path(tmp) / "bench-demo.db"
        result = run(args.trajectories, coaches, args.months, database, args.seed, args.every)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
