"""National scale in one table: each step, Klik's time, the reference's in the same run, the goal.

Run ``python -m benchmarks.scale`` (what ``make bench`` prints; ``--trajectories 100000`` by
default, ``--quick`` for 10,000 trajectories and fewer submissions). Every step runs Klik and a
reference side by side in this run, on the same data:

* frames after a write: the frame store's answer after one response's scores changed, against
  ``pandas.read_sql`` of the person-wave rows alone (the largest frame query);
* frames, nothing changed: the store against the read models reading the database (Klik
  without the store);
* Cox, cluster-robust by jobcoach with the PH check: Klik against lifelines' ``cluster_col``;
* the three-level mixed model (jobcoach / employee / wave): Klik against mixedlm-rs fitting the
  two-level model (employee / wave) of the same frame, when installed (``pip install
  mixedlm-rs``), else statsmodels;
* form submissions, 50 clients on loopback: Klik's submissions per second against bare
  committed INSERTs of the same rows (the ratio is reference over Klik here, so that higher is
  worse in every row), and the p99 latency;
* the PostgreSQL daily tick against its hand-written due-set query.

The demo at national scale (``klik demo --trajectories 100000``) takes minutes: it runs with
``--demo``. Shared machines are noisy: the ratios are the figures to compare across runs.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One line of the table."""

    step: str
    klik_s: float | None
    reference: str
    reference_s: float | None
    goal: str
    met: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.klik_s or not self.reference_s:
            return None
        return self.klik_s / self.reference_s


def _database(cache: Path, n: int) -> Path:
    from benchmarks.bench_analysis import build_database

    cache.mkdir(parents=True, exist_ok=True)
    database = cache / f"analysis-{n}.db"
    if not database.exists():
        build_database(database, n)
    return database


def frames_rows(database: Path) -> list[Row]:
    from benchmarks import bench_frames

    by = {r["step"]: r["seconds"] for r in bench_frames.run(database, repeat=2)}
    after = float(by["store_after_write"])
    unchanged = float(by["store_unchanged"])
    return [
        Row("frames after a write", after, "pandas.read_sql, person-wave rows only",
            float(by["read_sql_person_wave"]), "< 2 s", after < 2.0),
        Row("frames, nothing changed", unchanged, "read models from the database",
            float(by["read_models"]), "< 0.3 s", unchanged < 0.3),
    ]  # fmt: skip


def cox_rows(database: Path) -> list[Row]:
    from benchmarks import bench_cox

    frame = bench_cox.survival_frame_from_database(database)
    by = {r["step"]: r for r in bench_cox.run(frame, 2, str(database)) if "step" in r}
    klik = float(by["klik_cluster"]["seconds"])
    return [
        Row("Cox, cluster-robust + PH check", klik, "lifelines cluster_col",
            float(by["lifelines_cluster"]["seconds"]), "< 0.5 s", klik < 0.5),
    ]  # fmt: skip


def mixed_rows(database: Path) -> list[Row]:
    import warnings

    from analysis import study_models as models
    from benchmarks.bench_analysis import AS_OF
    from study.access import trajectory_scope
    from study.db import make_engine, make_read_sessions
    from study.report_data import analysis_frames

    engine = make_engine(f"sqlite:///{database}")
    with make_read_sessions(engine)() as s:
        frames = analysis_frames(s, trajectory_scope(1), as_of=AS_OF, include_items=False)
    engine.dispose()
    data = models.employability_frame(frames["person_wave"], frames["trajectories"])
    started = time.perf_counter()
    fitted = models.employability_model(data)
    klik = time.perf_counter() - started
    try:
        import mixedlm_rs as reference_lib

        name = "mixedlm-rs, two-level"
    except ImportError:
        import statsmodels.api as reference_lib  # type: ignore[no-redef]

        name = "statsmodels MixedLM, two-level"
    clean = data.dropna(subset=["capability_count", *models.EMPLOYABILITY_TERMS])
    formula = fitted.formula
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference_lib.MixedLM.from_formula(formula, clean, groups=clean["trajectory_id"]).fit()
    reference = time.perf_counter() - started
    return [
        Row(f"three-level mixed model ({len(data):,} rows)", klik, name, reference,
            "<= 2 x reference", klik <= 2 * reference),
    ]  # fmt: skip


def forms_rows(submissions: int, flows: int) -> list[Row]:
    from benchmarks import bench_forms

    figures = bench_forms.run(submissions, 50, flows)
    rate, floor = float(figures["submissions_per_s"]), float(figures["floor_inserts_per_s"])
    p99 = float(figures["submit_p99_ms"])
    return [
        Row("form submission (s each, 50 clients)", 1 / rate, "bare committed INSERTs",
            1 / floor, ">= 0.3 x the INSERT rate, p99 < 100 ms",
            rate / floor >= 0.3 and p99 < 100, f"{rate:.0f}/s, p99 {p99:.0f} ms"),
    ]  # fmt: skip


def tick_rows(n: int) -> list[Row]:
    from benchmarks import bench_tick

    try:
        result = bench_tick.run("postgresql", n)
    except Exception as exc:  # PostgreSQL not reachable: the row says so
        return [Row("PostgreSQL daily tick", None, "due-set query", None, "<= 3 x", None,
                    f"not run: {type(exc).__name__}")]  # fmt: skip
    daily, floor = float(result["daily_tick_s"]), float(result["floor_s"])  # type: ignore[arg-type]
    return [
        Row("PostgreSQL daily tick", daily, "hand-written due-set query", floor, "<= 3 x",
            daily <= 3 * floor),
    ]  # fmt: skip


def demo_rows(n: int, cache: Path) -> list[Row]:
    from benchmarks import bench_demo

    figures = bench_demo.run(n, max(84, n // 12), 12, cache / f"scale-demo-{n}.db")
    seconds, memory = float(figures["seconds"]), float(figures["peak_memory_mib"])
    return [
        Row(f"simulated study of {n:,} (the demo's build)", seconds, "-", None,
            "< 10 min, < 2 GB", seconds < 600 and memory < 2048, f"peak {memory:.0f} MiB"),
    ]  # fmt: skip


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""

    def s(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    lines = [
        "| step | Klik (s) | reference | reference (s) | ratio | goal | met | note |",
        "|---|---:|---|---:|---:|---|---|---|",
    ]
    for r in rows:
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        met = {True: "yes", False: "no", None: "–"}[r.met]
        lines.append(
            f"| {r.step} | {s(r.klik_s)} | {r.reference} | {s(r.reference_s)} | {ratio} |"
            f" {r.goal} | {met} | {r.note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 trajectories, fewer forms")
    parser.add_argument("--demo", type=int, default=0, help="also time the demo at this size")
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--steps", nargs="+", default=["frames", "cox", "mixed", "forms", "tick"])
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else args.trajectories
    database = _database(args.cache, n)
    steps: dict[str, Callable[[], list[Row]]] = {
        "frames": lambda: frames_rows(database),
        "cox": lambda: cox_rows(database),
        "mixed": lambda: mixed_rows(database),
        "forms": lambda: forms_rows(400 if args.quick else 2000, 60 if args.quick else 300),
        "tick": lambda: tick_rows(n),
    }
    rows: list[Row] = []
    for name in args.steps:
        print(f"== {name} ({n:,} trajectories) ==", flush=True)
        try:
            rows.extend(steps[name]())
        except Exception as exc:  # one broken step must not hide the others
            rows.append(Row(name, None, "-", None, "-", None, f"failed: {exc!s:.80}"))
    if args.demo:
        rows.extend(demo_rows(args.demo, args.cache))
    print(f"\nNational scale, {n:,} trajectories:\n")
    print(table(rows), flush=True)
    summary: list[dict[str, Any]] = [{**r.__dict__, "ratio": r.ratio} for r in rows]
    print(json.dumps(summary, default=str))
    return rows


if __name__ == "__main__":
    main()
