"""The analysis frames at national scale: the frame store against reading the database each time.

Run ``python -m benchmarks.bench_frames`` (``--trajectories 100000`` by default; the database is
the one ``bench_analysis`` builds, cached in ``--cache``). In one process, side by side, best of
``--repeat``:

* ``read_sql_person_wave``: ``pandas.read_sql`` of the person-wave SELECT alone (what a user
  would otherwise write: the largest of the frame queries, rows only, no reshaping);
* ``read_models``: all analysis frames read from the database by the read models (Klik without
  the store: what every page paid on a data version it had not seen);
* ``store_first``: the first ask of the day with an empty store (everything read and saved);
* ``store_after_write``: the ask after one submission's worth of change (the scores of one
  response edited), which reads one trajectory again and splices it in;
* ``store_unchanged``: the ask when nothing changed since;
* ``store_jobcoach``: a jobcoach's part (one coach's trajectories) from the store.

Then one line with the goal (all frames under 2 s at 100,000 trajectories), the ratios and
whether the store frames equal the read models' frames. Peak memory is the process's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

GOAL_S = 2.0


def run(database: Path, repeat: int) -> list[dict[str, object]]:
    import pandas as pd
    from sqlalchemy import func, select, update

    from benchmarks.bench_analysis import AS_OF, _rss_mb
    from benchmarks.bench_cox import _best
    from study import read_models
    from study.access import trajectory_scope
    from study.db import make_engine, make_read_sessions, make_sessions
    from study.frame_store import FRAMES, frame_store_options
    from study.migrate import upgrade
    from study.models import ResponseScore, Trajectory
    from study.report_data import analysis_frames, read_frames

    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    plain = make_read_sessions(engine)
    scope = trajectory_scope(1)
    rows: list[dict[str, object]] = []

    def note(step: str, seconds: float, **extra: object) -> None:
        rows.append({"step": step, "seconds": round(seconds, 3), **extra})
        print(json.dumps(rows[-1]), flush=True)

    captured: list = []
    original = read_models.rows_frame

    def capture(session, stmt):
        captured.append(stmt)
        return original(session, stmt)

    read_models.rows_frame = capture
    with plain() as s:
        read_models.person_wave_frame(s, scope, as_of=AS_OF)
    read_models.rows_frame = original
    sql = str(captured[0].compile(engine, compile_kwargs={"literal_binds": True}))
    seconds, _ = _best(lambda: pd.read_sql(sql, engine), repeat)
    note("read_sql_person_wave", seconds)

    def from_database() -> dict[str, pd.DataFrame]:
        with plain() as s:
            return read_frames(s, scope, AS_OF)

    seconds, reference = _best(from_database, repeat)
    note("read_models", seconds)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stored = make_read_sessions(engine.execution_options(**frame_store_options(folder)))

        def ask(which=scope):
            with stored() as s:
                return analysis_frames(s, which, as_of=AS_OF, include_items=False)

        started = time.perf_counter()
        first = ask()
        note("store_first", time.perf_counter() - started)
        same = all(first[name].equals(reference[name]) for name in FRAMES)

        writer = make_sessions(engine)
        best = float("inf")
        for i in range(repeat):
            with writer.begin() as w:
                response = w.scalar(select(ResponseScore.response_id).offset(1000 * i).limit(1))
                w.execute(
                    update(ResponseScore)
                    .where(ResponseScore.response_id == response)
                    .values(value=ResponseScore.value + 0.5)
                )
            started = time.perf_counter()
            after = ask()
            best = min(best, time.perf_counter() - started)
        note("store_after_write", best)
        with plain() as s:
            fresh = read_frames(s, scope, AS_OF)
        same = same and all(after[name].equals(fresh[name]) for name in FRAMES)

        seconds, _ = _best(ask, repeat)
        note("store_unchanged", seconds)
        with plain() as s:
            busiest = s.scalar(
                select(Trajectory.jobcoach_id)
                .group_by(Trajectory.jobcoach_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        seconds, mine = _best(lambda: ask(trajectory_scope(1, jobcoach_id=busiest)), repeat)
        note("store_jobcoach", seconds, trajectories=len(mine["trajectories"]))
    engine.dispose()
    by = {r["step"]: float(r["seconds"]) for r in rows}  # type: ignore[arg-type]
    summary = {
        "goal_s": GOAL_S,
        "after_write_vs_read_models": round(by["store_after_write"] / by["read_models"], 3),
        "after_write_vs_read_sql_person_wave": round(
            by["store_after_write"] / by["read_sql_person_wave"], 3
        ),
        "goal_met": by["store_after_write"] < GOAL_S,
        "frames_equal": same,
        "rss_peak_mb": round(_rss_mb(), 1),
    }
    print(json.dumps(summary), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    from benchmarks.bench_analysis import build_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    database = args.cache / f"analysis-{args.trajectories}.db"
    if not database.exists():
        build_database(database, args.trajectories)
    print(json.dumps({"trajectories": args.trajectories}), flush=True)
    run(database, args.repeat)


if __name__ == "__main__":
    main()
