"""Are the signals right? Sensitivity, positive predictive value and lead time of each jobcoach
signal for job loss within 90 days, on simulated cohorts whose truth is known.

The simulator (``study.simulator``) decides who loses their job and when, and writes it through
the services like everything else; the signals are computed from what a study would have
recorded (forms, contacts, events) exactly as the workspace computes them.

Run ``python -m benchmarks.bench_signals --cohorts 2 --trajectories 300 --months 18``; prints a
table per cohort and one pooled over the cohorts, and one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd


def one_cohort(
    trajectories: int, coaches: int, months: int, seed: int, folder: Path
) -> dict[str, Any]:
    """Build one simulated study and return its signal quality table and sizes."""
    from analysis.signal_quality import base_rate, signal_quality
    from study.clock import SimulatedClock
    from study.db import make_engine, make_read_sessions, make_sessions
    from study.migrate import upgrade
    from study.signal_data import study_signals
    from study.simulator.build import build, local_moment
    from study.simulator.params import SimulationParams

    database = folder / f"signals-{seed}.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    params = SimulationParams(
        n_trajectories=trajectories, n_coaches=coaches, months=months, seed=seed, send_mail=False
    )
    clock = SimulatedClock(local_moment(params.start_date, 9))
    began = time.perf_counter()
    report = build(make_sessions(engine), params, clock=clock, secret_key="bench-" + "x" * 58)
    built = time.perf_counter() - began
    as_of = clock.now().date()
    began = time.perf_counter()
    with make_read_sessions(engine)() as s:
        history = study_signals(s, report.study_id, as_of=as_of)
    computed = time.perf_counter() - began
    engine.dispose()
    quality = signal_quality(history.signals, history.trajectories, as_of=as_of)
    rate = base_rate(history.trajectories, as_of=as_of)
    quality = quality.assign(lift=quality["ppv"] / rate)
    return {
        "seed": seed,
        "trajectories": len(history.trajectories),
        "build_seconds": round(built, 1),
        "signal_seconds": round(computed, 2),
        "quality": quality,
        "signals": history.signals,
        "trajectory_frame": history.trajectories,
        "as_of": as_of,
        "base_rate": rate,
    }


def pooled(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The quality table over all cohorts together (trajectory ids made unique per cohort),
    with each signal's lift: its PPV over the pooled base rate."""
    from analysis.signal_quality import base_rate, signal_quality

    signals, trajectories = [], []
    for i, r in enumerate(results):
        offset = (i + 1) * 10_000_000
        signals.append(r["signals"].assign(trajectory_id=r["signals"]["trajectory_id"] + offset))
        t = r["trajectory_frame"][["trajectory_id", "start_date", "end_date", "end_reason"]]
        trajectories.append(t.assign(trajectory_id=t["trajectory_id"] + offset))
    as_of = max(r["as_of"] for r in results)
    every = pd.concat(trajectories)
    table = signal_quality(pd.concat(signals), every, as_of=as_of)
    return table.assign(lift=table["ppv"] / base_rate(every, as_of=as_of))


def _show(table: pd.DataFrame) -> str:
    shown = table.copy()
    for col in ("ppv", "sensitivity"):
        shown[col] = (100 * shown[col]).round(1)
    return shown.to_string(index=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=2)
    parser.add_argument("--trajectories", type=int, default=200)
    parser.add_argument("--coaches", type=int, default=60)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.cohorts):
            seed = args.seed + i
            r = one_cohort(args.trajectories, args.coaches, args.months, seed, Path(folder))
            print(f"cohort seed {seed}: {r['trajectories']} trajectories, built in {r['build_seconds']} s, "
                  f"signals in {r['signal_seconds']} s", file=sys.stderr, flush=True)  # fmt: skip
            print(f"-- cohort seed {seed} (ppv and sensitivity in %; base rate "
                  f"{100 * r['base_rate']:.1f}% of moments followed by job loss within 90 days) --")  # fmt: skip
            print(_show(r["quality"]))
            results.append(r)
    table = pooled(results)
    print("-- pooled over the cohorts (ppv and sensitivity in %) --")
    print(_show(table))
    summary = {
        "bench": "signals",
        "cohorts": args.cohorts,
        "trajectories": sum(r["trajectories"] for r in results),
        "months": args.months,
        "signal_seconds": [r["signal_seconds"] for r in results],
        "pooled": {
            row.signal: {
                "ppv": None if pd.isna(row.ppv) else round(float(row.ppv), 3),
                "sensitivity": None
                if pd.isna(row.sensitivity)
                else round(float(row.sensitivity), 3),
                "lead_days_median": None
                if pd.isna(row.lead_days_median)
                else float(row.lead_days_median),
                "lift": None if pd.isna(row.lift) else round(float(row.lift), 2),
                "firings": int(row.firings),
                "job_losses": int(row.job_losses),
            }
            for row in table.itertuples(index=False)
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
