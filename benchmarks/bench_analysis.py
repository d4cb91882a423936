"""Time and peak memory of each analysis at 134, 10,000 and 100,000 trajectories.

Run ``python -m benchmarks.bench_analysis`` (or ``--trajectories 134 10000``). For every size
and analysis it reports, in one JSON line each: the seconds spent building the frames from the
database (the read models), the seconds spent fitting, and the peak resident memory of a fresh
process that did only that (``rss_base_mb`` is the same process after the imports, before any
work).

Benchmark setup, not the application: the databases are written with bulk SQL (``executemany``
straight into SQLite) from a simple generative model (klik, intensity and match lower the hazard
of job loss; alliance raises the capability count), because the day-by-day simulator through the
services takes about 0.1 s per simulated day and would need hours for 100,000 trajectories. The
shapes match what the services write: four waves (T0, 3, 6 and 12 months) for employee, jobcoach
and employer, about 80% employee response, contacts in the first year, ends with reasons.
Databases are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ANALYSES = ("kaplan_meier", "cox", "cox_time_varying", "mixed", "quality")
AS_OF = dt.date(2026, 1, 31)
START = dt.date(2025, 1, 6)
WAVES = (("T0", 0, 0), ("T1", 3, 1), ("T2", 6, 2), ("T3", 12, 3))
ALLIANCE_ITEMS = [f"all_{i:02d}" for i in range(1, 13)]
FIT_ITEMS = ["fit_01", "fit_02", "fit_03"]
TS = "%Y-%m-%d %H:%M:%S.%f"


def _add_months(day: dt.date, months: int) -> dt.date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


# -- benchmark setup: bulk SQL ------------------------------------------------------------------


def build_database(path: Path, n: int, seed: int = 1) -> None:
    """Write a migrated SQLite database with ``n`` trajectories (benchmark setup)."""
    from study.db import make_engine
    from study.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = np.random.default_rng(seed)
    n_coaches = max(2, round(n * 84 / 134))
    created = dt.datetime(2025, 1, 1, 9).strftime(TS)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    cur = con.cursor()
    cur.execute(
        "INSERT INTO study (id, code, name, timezone, min_cell_size, consent_version, created_at)"
        " VALUES (1, 'BENCH', 'Benchmark', 'Europe/Amsterdam', 10, '1.0', ?)",
        (created,),
    )
    cur.execute(
        "INSERT INTO protocol (id, study_id, version, is_current, repeat_every_months, max_months,"
        " followup_after_end_months, created_at) VALUES (1, 1, 1, 1, 6, 24, NULL, ?)",
        (created,),
    )
    for i, (code, months, _) in enumerate(WAVES, start=1):
        cur.execute(
            "INSERT INTO wave (id, protocol_id, code, label, anchor, offset_months,"
            " opens_days_before, reminder_days, closes_days_after, requires_active)"
            " VALUES (?, 1, ?, ?, 'start', ?, 7, '[7, 14]', 28, ?)",
            (i, code, code, months, int(months >= 12)),
        )
    coach_klik = rng.normal(0, 0.4, n_coaches)
    coach_type = np.where(rng.random(n_coaches) < 0.6, "external", "internal")
    methods = np.array(["supported_employment", "ips", "ivb", "itb", "eim", "other", "none"])
    coach_method = rng.choice(methods, n_coaches, p=[0.25, 0.2, 0.1, 0.05, 0.05, 0.15, 0.2])
    cur.executemany(
        "INSERT INTO jobcoach (id, study_id, code, name, coach_type, method, registered)"
        " VALUES (?, 1, ?, ?, ?, ?, 0)",
        [
            (i + 1, f"JC{i + 1:06d}", f"Coach {i + 1}", coach_type[i], coach_method[i])
            for i in range(n_coaches)
        ],
    )
    cur.executemany(
        "INSERT INTO employer (id, study_id, name) VALUES (?, 1, ?)",
        [(i + 1, f"Werkgever {i + 1}") for i in range(n)],
    )
    benefits = rng.choice(["wajong", "bijstand", "wia_wga", "ww", "wsw", "none"], n)
    cur.executemany(
        "INSERT INTO participant (id, study_id, study_code, birth_year, gender, benefit,"
        " doelgroepregister, enrolled_at) VALUES (?, 1, ?, ?, ?, ?, 1, ?)",
        [
            (i + 1, f"P{i + 1:07d}", int(rng.integers(1990, 2007)), "female", benefits[i], created)
            for i in range(n)
        ],
    )
    coach = rng.integers(0, n_coaches, n)
    klik = coach_klik[coach] + rng.normal(0, 0.9, n)
    intensity = rng.normal(0, 1, n)
    match = rng.normal(0, 1, n)
    starts = [START + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    lp = np.log(0.6) * klik + np.log(0.75) * intensity + np.log(0.65) * match
    loss_day = rng.exponential(1 / (np.exp(lp) / 1500))
    other_day = rng.exponential(1 / (1 / 2500), n)
    ends, reasons = [], []
    for i in range(n):
        first = min(loss_day[i], other_day[i])
        end = starts[i] + dt.timedelta(days=int(first) + 1)
        if end <= AS_OF:
            ends.append(end.isoformat())
            reasons.append(
                "job_loss"
                if loss_day[i] < other_day[i]
                else rng.choice(["working_independently", "dropout", "moved"])
            )
        else:
            ends.append(None)
            reasons.append(None)
    cur.executemany(
        "INSERT INTO trajectory (id, study_id, participant_id, jobcoach_id, employer_id,"
        " start_date, funder, employment_form, contract_hours, loonwaarde, maatje, method,"
        " coach_type, end_date, end_reason, created_at)"
        " VALUES (?, 1, ?, ?, ?, ?, 'uwv', 'regulier', 24, 60, 1, ?, ?, ?, ?, ?)",
        [
            (
                i + 1,
                i + 1,
                int(coach[i]) + 1,
                i + 1,
                starts[i].isoformat(),
                coach_method[coach[i]],
                coach_type[coach[i]],
                ends[i],
                reasons[i],
                created,
            )
            for i in range(n)
        ],
    )
    # contacts: weekly-ish at first, fewer later; more for intensive coaching
    contacts = []
    rate = np.clip(10 + 4 * intensity, 1, None)  # contacts in the first year
    for i in range(n):
        k = int(rng.poisson(rate[i]))
        days = np.sort(rng.exponential(120, k).astype(int))
        limit = (dt.date.fromisoformat(ends[i]) if ends[i] else AS_OF) - starts[i]
        for d in days[days <= min(limit.days, 365)]:
            contacts.append(
                (
                    i + 1,
                    (starts[i] + dt.timedelta(days=int(d))).isoformat(),
                    int(rng.choice([30, 45, 60, 90])),
                    created,
                )
            )
    cur.executemany(
        "INSERT INTO coaching_contact (trajectory_id, contact_date, minutes, mode, with_whom,"
        " activity, created_at) VALUES (?, ?, ?, 'on_site', 'employee', 'on_the_job_guidance', ?)",
        contacts,
    )
    invitations, responses, scores, values = [], [], [], []
    inv_id = resp_id = 0
    roles = (
        ("employee", "employee_followup", 0.8),
        ("jobcoach", "jobcoach_followup", 0.9),
        ("employer", "employer_followup", 0.6),
    )
    for i in range(n):
        end = dt.date.fromisoformat(ends[i]) if ends[i] else None
        person = 0.6 * klik[i]
        for code, months, index in WAVES:
            due = _add_months(starts[i], months)
            opens = due - dt.timedelta(days=0 if index == 0 else 7)
            closes = due + dt.timedelta(days=28)
            if opens > AS_OF or (end is not None and months >= 12 and due > end):
                continue
            for role, instrument, p_answer in roles:
                inv_id += 1
                answered = rng.random() < p_answer and (end is None or due <= end)
                submit = due + dt.timedelta(days=int(rng.choice([0, 2, 5, 12, 20])))
                answered = answered and submit <= AS_OF
                status = "completed" if answered else ("missed" if closes < AS_OF else "open")
                at = dt.datetime.combine(submit, dt.time(10)).strftime(TS)
                invitations.append(
                    (
                        inv_id,
                        i + 1,
                        code,
                        index,
                        role,
                        instrument,
                        due.isoformat(),
                        opens.isoformat(),
                        closes.isoformat(),
                        status,
                        at if answered else None,
                        created,
                    )
                )
                if not answered:
                    continue
                resp_id += 1
                responses.append((resp_id, inv_id, instrument, f"b{resp_id}", at, at, at, at))
                if role == "employee":
                    alliance = float(np.clip(3.6 + person + rng.normal(0, 0.4), 1, 5))
                    fit = float(np.clip(3.5 + 0.7 * match[i] + rng.normal(0, 0.4), 1, 5))
                    count = float(
                        np.clip(
                            round(
                                3.5
                                + 0.6 * (alliance - 3.6)
                                + 0.3 * match[i]
                                + 0.02 * months
                                + rng.normal(0, 1)
                            ),
                            0,
                            7,
                        )
                    )
                    klik_item = float(np.clip(round(3.6 + person + rng.normal(0, 0.7)), 1, 5))
                    scores += [
                        (resp_id, "alliance", alliance),
                        (resp_id, "klik", klik_item),
                        (resp_id, "person_job_fit", fit),
                        (resp_id, "capability_count", count),
                    ]
                    item_values = np.clip(np.round(alliance + rng.normal(0, 0.6, 12)), 1, 5)
                    values += [
                        (resp_id, it, float(v))
                        for it, v in zip(ALLIANCE_ITEMS, item_values, strict=True)
                    ]
                    fit_values = np.clip(np.round(fit + rng.normal(0, 0.6, 3)), 1, 5)
                    values += [
                        (resp_id, it, float(v)) for it, v in zip(FIT_ITEMS, fit_values, strict=True)
                    ]
                elif role == "jobcoach":
                    scores += [
                        (resp_id, "match_quality", float(np.clip(3.5 + 0.7 * match[i], 1, 5))),
                        (resp_id, "coach_klik", float(np.clip(round(3.6 + person), 1, 5))),
                    ]
    cur.executemany(
        "INSERT INTO invitation (id, study_id, trajectory_id, protocol_id, wave_code, wave_index,"
        " respondent, instrument_id, instrument_version, due_on, opens_on, closes_on, status,"
        " reminders_sent, completed_at, created_at)"
        " VALUES (?, 1, ?, 1, ?, ?, ?, ?, '1.0', ?, ?, ?, ?, 0, ?, ?)",
        invitations,
    )
    cur.executemany(
        "INSERT INTO response (id, invitation_id, instrument_id, instrument_version, status,"
        " submission_id, answers, lang, started_at, updated_at, submitted_at, submitted_by)"
        " VALUES (?, ?, ?, '1.0', 'submitted', ?, '{}', 'nl', ?, ?, ?, 'bench')",
        [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in responses],
    )
    cur.executemany(
        "INSERT INTO response_score (response_id, score_id, value) VALUES (?, ?, ?)", scores
    )
    cur.executemany(
        "INSERT INTO response_value (response_id, item_id, value_num) VALUES (?, ?, ?)", values
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


# -- one measurement in a fresh process ---------------------------------------------------------


def _rss_mb() -> float:
    """Peak resident memory of this process in MB.

    ``/proc/self/status`` VmHWM starts afresh at exec; ``ru_maxrss`` would also count the
    memory of the parent this process was forked from.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(database: Path, analysis: str) -> dict[str, object]:
    """Build the frames ``analysis`` needs from ``database`` and fit it; times and memory."""
    import pandas as pd  # noqa: F401  (imported before the baseline is taken)

    from analysis import study_models as models
    from dashboard import analysis_views as views
    from study.access import trajectory_scope
    from study.db import make_engine, make_read_sessions
    from study.report_data import analysis_frames

    engine = make_engine(f"sqlite:///{database}")
    sessions = make_read_sessions(engine)
    base = _rss_mb()
    started = time.perf_counter()
    with sessions() as s:
        frames = analysis_frames(
            s, trajectory_scope(1), as_of=AS_OF, include_items=analysis == "quality"
        )
    built = time.perf_counter()
    detail: dict[str, object] = {}
    if analysis == "kaplan_meier":
        view = views.survival_view(frames["survival"], "klik", language="en")
        detail = {"groups": int(view.curves["group"].nunique()), "n": view.n}
    elif analysis == "cox":
        result = models.job_loss_cox(frames["survival"]).result
        detail = {
            "n": result.n,
            "events": result.events,
            "hr": dict(zip(result.summary["term"], result.summary["hr"].round(3), strict=True)),
        }
    elif analysis == "cox_time_varying":
        result = models.time_varying_cox(frames["counting_process"]).result
        detail = {"n": result.n, "intervals": result.n_intervals, "events": result.events}
    elif analysis == "mixed":
        data = models.employability_frame(frames["person_wave"], frames["trajectories"])
        result = models.employability_model(data).result
        detail = {
            "n_obs": result.n_obs,
            "levels": result.n_levels,
            "converged": result.converged,
            "method": result.method,
        }
    elif analysis == "quality":
        from questionnaires.registry import load_instruments, scales_of

        instruments = load_instruments()
        items = frames["response_items"]
        alpha = views.alpha_table(items, scales_of(instruments))
        expected = {i: [it.id for it in x.answerable_items] for i, x in instruments.items()}
        views.missingness_table(items, expected)
        views.timeliness_table(frames["person_wave"])
        detail = {"alpha_rows": len(alpha), "item_rows": len(items)}
    else:
        raise ValueError(analysis)
    fitted = time.perf_counter()
    engine.dispose()
    return {
        "analysis": analysis,
        "build_s": round(built - started, 3),
        "fit_s": round(fitted - built, 3),
        "total_s": round(fitted - started, 3),
        "rss_base_mb": round(base, 1),
        "rss_peak_mb": round(_rss_mb(), 1),
        "rows": {k: len(v) for k, v in frames.items()},
        **detail,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, nargs="+", default=[134, 10_000, 100_000])
    parser.add_argument("--analyses", nargs="+", default=list(ANALYSES), choices=ANALYSES)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument("--one", nargs=2, metavar=("DATABASE", "ANALYSIS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(Path(args.one[0]), args.one[1]), default=str))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    for n in args.trajectories:
        database = args.cache / f"analysis-{n}.db"
        if not database.exists():
            started = time.perf_counter()
            build_database(database, n)
            print(
                json.dumps(
                    {
                        "trajectories": n,
                        "setup_s": round(time.perf_counter() - started, 1),
                        "database_mb": round(database.stat().st_size / 2**20, 1),
                    }
                ),
                flush=True,
            )
        for analysis in args.analyses:
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.bench_analysis",
                "--one",
                str(database),
                analysis,
            ]
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(
                    json.dumps(
                        {
                            "trajectories": n,
                            "analysis": analysis,
                            "error": f"timeout after {args.timeout:.0f} s",
                        }
                    ),
                    flush=True,
                )
                continue
            if out.returncode != 0:
                tail = out.stderr.strip().splitlines()[-1:] or ["?"]
                print(
                    json.dumps({"trajectories": n, "analysis": analysis, "error": tail[0]}),
                    flush=True,
                )
                continue
            print(
                json.dumps({"trajectories": n, **json.loads(out.stdout.strip().splitlines()[-1])}),
                flush=True,
            )


if __name__ == "__main__":
    main()
