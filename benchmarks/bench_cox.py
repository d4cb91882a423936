"""Cluster-robust Cox at national scale: Klik side by side with lifelines, in one run.

Run ``python -m benchmarks.bench_cox`` (``--trajectories 100000`` by default; ``--synthetic``
for a generated survival frame instead of the benchmark database). On one survival frame (the
study's Cox model of job loss: standardised klik, intensity and match, clustered by jobcoach)
it times, each in this process, best of ``--repeat``:

* ``klik_cluster``: ``analysis.survival.cox(..., cluster="jobcoach_id")`` as the survival page
  calls it: plain lifelines fit, vectorised clustered sandwich, PH check and concordance;
* ``lifelines_plain``: ``CoxPHFitter().fit`` of the same design, no cluster (the floor Klik
  builds on);
* ``lifelines_cluster``: ``CoxPHFitter().fit(..., cluster_col=)`` (once: it takes tens of
  seconds), and ``lifelines_ph``: its ``proportional_hazard_test`` with rank time, which
  Klik's PH check used before.

It prints one JSON line per measurement, then one with the ratios and the largest relative
difference between Klik's and lifelines' robust SEs (not zero with tied times: lifelines
breaks tied times by row order, Klik follows R's ``coxph``; see
``tests/analysis/test_survival_robust.py``). The database is the one ``bench_analysis``
builds (cached in ``--cache``); building its frames is setup and is not timed here.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_S = 0.5


def survival_frame_from_database(database: Path) -> pd.DataFrame:
    """The survival frame the page uses, from a ``bench_analysis`` database."""
    from benchmarks.bench_analysis import AS_OF
    from study.access import trajectory_scope
    from study.db import make_engine, make_read_sessions
    from study.report_data import analysis_frames

    engine = make_engine(f"sqlite:///{database}")
    with make_read_sessions(engine)() as s:
        frames = analysis_frames(s, trajectory_scope(1), as_of=AS_OF, include_items=False)
    engine.dispose()
    return frames["survival"]


def synthetic_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A survival-shaped frame: durations in whole days up to 390, 84 clients per 134 coaches."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    hazard = np.exp(-(x @ np.array([0.3, 0.2, 0.1])))
    loss = np.ceil(rng.exponential(600 * hazard))
    censor = np.ceil(rng.uniform(20, 390, n))
    return pd.DataFrame(
        {
            "duration_days": np.minimum(loss, censor),
            "event": (loss <= censor).astype(int),
            "baseline_klik": x[:, 0],
            "contact_minutes_per_month": x[:, 1],
            "baseline_match_quality": x[:, 2],
            "jobcoach_id": rng.integers(1, max(2, round(n * 84 / 134)), n),
        }
    )


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def run(frame: pd.DataFrame, repeat: int, source: str) -> list[dict[str, object]]:
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    from analysis import study_models as models
    from analysis import survival

    covs = models.usable(frame, list(models.COX_MEASURES))
    data = frame.dropna(subset=["duration_days", "event", "jobcoach_id", *covs])
    data, _ = models.standardised(data, covs)
    fit_frame = data[["duration_days", "event", *covs]].astype(float)
    clustered = fit_frame.assign(jobcoach_id=data["jobcoach_id"].astype(str))
    shape = {
        "source": source,
        "rows": len(data),
        "events": int(data["event"].sum()),
        "distinct_times": int(data["duration_days"].nunique()),
        "clusters": int(data["jobcoach_id"].nunique()),
        "covariates": covs,
    }
    lines: list[dict[str, object]] = [shape]

    def klik():
        return survival.cox(data, "duration_days", "event", covs, cluster="jobcoach_id")

    def plain():
        return CoxPHFitter().fit(fit_frame, "duration_days", "event")

    def cluster_col():
        return CoxPHFitter().fit(clustered, "duration_days", "event", cluster_col="jobcoach_id")

    klik_s, result = _best(klik, repeat)
    plain_s, _ = _best(plain, repeat)
    lines.append({"step": "klik_cluster", "seconds": round(klik_s, 4)})
    lines.append({"step": "lifelines_plain", "seconds": round(plain_s, 4)})
    print(json.dumps(lines[-2]), flush=True)
    print(json.dumps(lines[-1]), flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster_s, theirs = _best(cluster_col, 1)
        lines.append({"step": "lifelines_cluster", "seconds": round(cluster_s, 3)})
        print(json.dumps(lines[-1]), flush=True)
        ph_s, _ = _best(
            lambda: proportional_hazard_test(theirs, clustered, time_transform="rank"), 1
        )
    lines.append({"step": "lifelines_ph", "seconds": round(ph_s, 3)})
    print(json.dumps(lines[-1]), flush=True)
    ours = result.summary["se"].to_numpy()
    se_diff = float(np.max(np.abs(ours / theirs.standard_errors_.to_numpy() - 1)))
    lines.append(
        {
            "klik_over_lifelines_plain": round(klik_s / plain_s, 2),
            "lifelines_cluster_over_klik": round(cluster_s / klik_s, 1),
            "lifelines_cluster_and_ph_over_klik": round((cluster_s + ph_s) / klik_s, 1),
            "goal_s": GOAL_S,
            "met": klik_s < GOAL_S,
            "max_rel_se_difference_to_lifelines_cluster_col": float(f"{se_diff:.3g}"),
            "klik_se": [float(f"{v:.6g}") for v in ours],
            "lifelines_cluster_se": [float(f"{v:.6g}") for v in theirs.standard_errors_],
        }
    )
    print(json.dumps(lines[-1]), flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--synthetic", action="store_true", help="a generated frame, no database")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    args = parser.parse_args(argv)
    if args.synthetic:
        frame, source = synthetic_frame(args.trajectories), "synthetic"
    else:
        from benchmarks.bench_analysis import build_database

        database = args.cache / f"analysis-{args.trajectories}.db"
        if not database.exists():
            args.cache.mkdir(parents=True, exist_ok=True)
            build_database(database, args.trajectories)
        started = time.perf_counter()
        frame = survival_frame_from_database(database)
        source = f"{database} (frames built in {time.perf_counter() - started:.1f} s, untimed)"
    print(json.dumps({"trajectories": args.trajectories}), flush=True)
    shape = run(frame, args.repeat, source)[0]
    print(json.dumps(shape), flush=True)


if __name__ == "__main__":
    main()
