"""Speed of REDCap logic and of validating a REDCap form on the server.

Run ``python -m benchmarks.bench_redcap_forms``. Reports, one JSON line each: parsing a
branching condition (microseconds per parse, uncached), evaluating it (microseconds per
evaluation), and validating one full submission of the shared longitudinal dictionary's
``demographics`` form (milliseconds per submission: conversion, calculated fields, branching
and action tags), and importing every shared REDCap dictionary (milliseconds per dictionary).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

from questionnaires.logic import Context, parse
from questionnaires.redcap import import_redcap
from questionnaires.validation import validate_answers

REDCAP_DIR = Path("/work/shared/data/redcap")
CONDITION = (
    "([works] = '1' and [hours] > [t0][hours]) or (datediff([start], 'today', 'd') > 30 "
    "and sum([a], [b], [c]) >= 6 and contains([note], 'werk'))"
)
NOW = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


def _per_call(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main(argv: list[str] | None = None) -> None:
    """Print the figures as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)
    expr = parse(CONDITION)
    context = Context.of(
        {"works": 1, "hours": 30, "start": dt.date(2025, 11, 1), "a": 1, "b": 2, "c": 3,
         "note": "ander werk"},
        NOW,
        {"t0": {"hours": 20}},
    )  # fmt: skip
    print(
        json.dumps(
            {
                "what": "parse condition",
                "us": _per_call(lambda: parse(CONDITION), args.repeat) * 1e6,
            }
        )
    )
    print(
        json.dumps(
            {
                "what": "evaluate condition",
                "us": _per_call(lambda: expr.evaluate(context), args.repeat) * 1e6,
            }
        )
    )
    path = REDCAP_DIR / "redcapr_longitudinal.csv"
    if not path.exists():
        print(json.dumps({"what": "validate form", "skipped": f"{path} missing"}))
        return
    demo = next(i for i in import_redcap(path).instruments if i.id == "demographics")
    answers = {
        "study_id": "1", "date_enrolled": "2024-01-02", "first_name": "A", "last_name": "B",
        "telephone_1": "(415) 555-1212", "email": "a@example.org", "dob": "1990-03-04",
        "ethnicity": "1", "race": "2", "sex": "0", "given_birth": "1", "num_children": "2",
        "gym": ["1"], "height": "170", "weight": "70",
    }  # fmt: skip
    answers = {k: v for k, v in answers.items() if k in {it.id for it in demo.items}}
    per_form = _per_call(
        lambda: validate_answers(demo, answers, now=NOW), max(1, args.repeat // 10)
    )
    print(
        json.dumps(
            {
                "what": "validate demographics submission",
                "items": len(demo.items),
                "ms": per_form * 1e3,
            }
        )
    )
    files = sorted(REDCAP_DIR.glob("*.csv"))
    dictionaries = [p for p in files if p.read_text(encoding="utf-8-sig").startswith('"Variable')]
    per_import = _per_call(lambda: [import_redcap(p) for p in dictionaries], 5) / len(dictionaries)
    print(
        json.dumps(
            {"what": "import dictionary", "files": len(dictionaries), "ms": per_import * 1e3}
        )
    )


if __name__ == "__main__":
    main()
