"""Benchmark: how well the note rules (``study.text_rules``) tell personal data from ordinary
coaching notes, and how long a check takes.

Generated notes, from a fixed seed: ordinary ones built from what jobcoaches write (dates, times,
hours, minutes, percentages, contract periods, case and invoice numbers that fail the eleven
test) and the same notes with a BSN (valid under the eleven test, with or without dots), a Dutch
phone number (mobile, landline, +31) or an e-mail address planted in them.

Measured: the share of planted notes refused per kind (recall), the share of ordinary notes
refused (false alarms), and the time per note.

Run: ``python -m benchmarks.bench_text_rules [--notes N] [--seed S]``
"""

from __future__ import annotations

import argparse
import random
import time

from study.text_rules import is_bsn, personal_data

ORDINARY = (
    "gesprek op {d} om {t} met leidinggevende, {m} minuten",
    "contract verlengd tot {d}, {h} uur per week",
    "loonwaarde {p}%, evaluatie {d}",
    "werktijden {t}-{t2}, pauze {m} min",
    "factuur {n9} verstuurd, dossier {n8}",
    "verzuim sinds {d}, terugkeer gepland {d2}",
    "proefplaatsing {m} dagen, daarna {h} uur",
)


def _bsn(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(10**8, 10**9):09d}"
        if is_bsn(digits):
            return digits if rng.random() < 0.6 else f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"


def _phone(rng: random.Random) -> str:
    n = "".join(str(rng.randrange(10)) for _ in range(8))
    return rng.choice([f"06-{n}", f"06 {n[:4]} {n[4:]}", f"+31 6 {n}", f"020-{n[:7]}", f"0{rng.randrange(10, 99)}-{n[:7]}"])  # fmt: skip


def _not_bsn(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(10**8, 10**9):09d}"
        if not is_bsn(digits):
            return digits


def ordinary(rng: random.Random) -> str:
    """One ordinary note."""
    day = f"{rng.randrange(1, 29):02d}-{rng.randrange(1, 13):02d}-202{rng.randrange(4, 8)}"
    day2 = f"{rng.randrange(1, 29):02d}-{rng.randrange(1, 13):02d}-202{rng.randrange(4, 8)}"
    return rng.choice(ORDINARY).format(
        d=day, d2=day2, t=f"{rng.randrange(7, 18):02d}:{rng.choice(['00', '15', '30'])}",
        t2=f"{rng.randrange(12, 20):02d}:00", m=rng.randrange(5, 240), h=rng.randrange(4, 40),
        p=rng.randrange(20, 100), n9=_not_bsn(rng), n8=rng.randrange(10**7, 10**8),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    plain = [ordinary(rng) for _ in range(args.notes)]
    planted = {
        "bsn": [f"{n}; BSN {_bsn(rng)}" for n in plain],
        "phone": [f"{n}; bel {_phone(rng)}" for n in plain],
        "email": [
            f"{n}; mail {rng.choice(['jan', 'a.b', 'piet_k'])}@{rng.choice(['example.nl', 'werk.com'])}"
            for n in plain
        ],
    }
    start = time.perf_counter()
    false_alarms = sum(bool(personal_data(n)) for n in plain)
    seconds = time.perf_counter() - start
    print(f"ordinary notes refused (false alarms): {false_alarms} of {len(plain)} "
          f"({100 * false_alarms / len(plain):.2f}%)")  # fmt: skip
    for kind, notes in planted.items():
        found = sum(any(f.kind == kind for f in personal_data(n)) for n in notes)
        print(f"{kind}: found in {found} of {len(notes)} notes ({100 * found / len(notes):.1f}%)")
    print(f"time per note: {1e6 * seconds / len(plain):.0f} µs")


if __name__ == "__main__":
    main()
