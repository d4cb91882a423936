"""The survival curves a viewer receives, solved together with the monitor's release.

A viewer who knows that a klik score comes from the employee's first form can hold the
"Onbekend" stratum against the monitor's counts of that form: the people who submitted it
without the klik items are then a difference of two shown numbers. The attacker here solves
that with scipy's ``linprog`` (not the release's own solver), for the release as it would be
without the joint check and as it is.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis.frames import SURVIVAL
from dashboard import analysis_views as views
from dashboard.disclosure import breakdown, protect_release
from dashboard.disclosure_audit import (
    KINDS,
    MonitorTables,
    Stratification,
    curve_facts,
    exposing_stratifications,
)

K = 10
UNSCORED = {"Onbekend", "Overige", "Iedereen"}
STATUSES = ["on_time", "late", "missing", "open"]


def cohort(n: int = 3000, submitted_without_klik: int = 4, seed: int = 3) -> pd.DataFrame:
    """Survival data where 300 people have no klik score: most never sent the first form,
    ``submitted_without_klik`` sent it without the klik items."""
    rng = np.random.default_rng(seed)
    klik = rng.normal(3.5, 0.8, n)
    time_ = rng.exponential(1 / (np.exp(-0.8 * (klik - 3.5)) / 150))
    censor = rng.uniform(60, 400, n)
    frame = SURVIVAL.empty().reindex(range(n))
    frame = frame.assign(
        trajectory_id=np.arange(1, n + 1),
        jobcoach_id=rng.integers(1, 30, n),
        duration_days=np.ceil(np.minimum(time_, censor)),
        event=(time_ <= censor).astype(int),
        baseline_klik=np.where(np.arange(n) < 300, np.nan, klik),
        baseline_alliance=klik,
        # the match score comes from the same form
        baseline_match_quality=np.where(
            np.arange(n) < 300 - submitted_without_klik, np.nan, rng.normal(3.5, 0.8, n)
        ),
        baseline_capability_count=rng.integers(0, 8, n).astype(float),
        contact_minutes_per_month=rng.gamma(4, 10, n),
        n_contacts=rng.integers(0, 20, n),
        coach_type=rng.choice(["internal", "external"], n),
        method=rng.choice(["ips", "place_train"], n),
    )
    frame["end_type"] = np.where(frame["event"] == 1, "job_loss", "censored")
    status = np.where(rng.random(n) < 0.6, "on_time", "late").astype(object)
    status[: 300 - submitted_without_klik] = "missing"
    frame["status"] = status
    frame["ending"] = np.where(frame["event"] == 1, "job_loss", "__active__")
    return frame


def monitor_of(frame: pd.DataFrame) -> MonitorTables:
    """The monitor's protected tables by method: endings and the employee's first form."""
    values = sorted(frame["method"].unique())
    parts = [
        breakdown(frame, "method", "ending", table="endings", unit="people",
                  cells=["__active__", "job_loss"], values=values),
        breakdown(frame, "method", "status", table="t0", unit="invited:0",
                  cells=STATUSES, values=values),
    ]  # fmt: skip
    release = protect_release(parts, K)
    return MonitorTables(
        endings={"method": release[("endings", "method")]},
        baseline_forms={"employee": {"method": release[("t0", "method")]}},
        event_cell="job_loss",
        active_cell="__active__",
    )


def submitted_unscored(curves, monitor: MonitorTables) -> list[tuple[str, float, float]]:
    """The attacker: bounds on the submitted forms in each stratum without a score, from the
    strata's sizes on the curves and the form counts of the whole study."""
    sizes = curve_facts(curves).sum(axis=1)
    forms = next(iter(monitor.baseline_forms["employee"].values()))
    strata = list(sizes.index)
    index = {(s, st): i for i, (s, st) in enumerate((s, st) for s in strata for st in STATUSES)}
    a, b = [], []
    for s in strata:
        a.append([1.0 if key[0] == s else 0.0 for key in index])
        b.append(sizes[s])
        if s not in UNSCORED:  # a tertile: everyone in it submitted the form
            a.append([1.0 if key[0] == s and key[1] not in ("on_time", "late") else 0.0
                      for key in index])  # fmt: skip
            b.append(0.0)
    for st in STATUSES:
        if forms.col_totals[st] == forms.col_totals[st]:
            a.append([1.0 if key[1] == st else 0.0 for key in index])
            b.append(forms.col_totals[st])
    out = []
    for s in strata:
        if s in UNSCORED:
            c = np.array([1.0 if key[0] == s and key[1] in ("on_time", "late") else 0.0
                          for key in index])  # fmt: skip
            lo = linprog(c, A_eq=np.array(a), b_eq=np.array(b), method="highs")
            hi = linprog(-c, A_eq=np.array(a), b_eq=np.array(b), method="highs")
            assert lo.status == 0 and hi.status == 0
            out.append((s, lo.fun, -hi.fun))
    return out


def small(bounds: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    return [(s, lo, hi) for s, lo, hi in bounds if lo > 0.5 and hi < K - 0.5]


def test_without_the_joint_check_the_unknown_stratum_gives_away_a_small_group() -> None:
    frame = cohort()
    monitor = monitor_of(frame)
    alone = views.viewer_survival_release(frame, language="nl", min_cell=K).curves["klik"]
    assert "Onbekend" in set(alone.strata)
    assert small(submitted_unscored(alone, monitor)) == [("Onbekend", 4.0, 4.0)]


def test_the_joint_check_merges_until_nothing_small_can_be_solved() -> None:
    frame = cohort()
    monitor = monitor_of(frame)
    release = views.viewer_survival_release(frame, language="nl", min_cell=K, monitor=monitor)
    klik = release.curves["klik"]
    assert small(submitted_unscored(klik, monitor)) == []
    # merged, not dropped: still more than one curve, and everyone on them
    assert klik.strata.nunique() > 1 and len(klik.strata) == len(frame)


def test_a_large_group_without_a_score_is_shown_as_its_own_stratum() -> None:
    frame = cohort(submitted_without_klik=40)
    monitor = monitor_of(frame)
    release = views.viewer_survival_release(frame, language="nl", min_cell=K, monitor=monitor)
    assert "Onbekend" in set(release.curves["klik"].strata)


def test_people_the_monitor_counts_but_the_curves_do_not_fit_the_system() -> None:
    # trajectories that start after today are on the monitor, not on the curves
    frame = cohort(submitted_without_klik=40)
    later = frame.tail(25).assign(ending="__active__", status="open")
    monitor = monitor_of(pd.concat([frame, later], ignore_index=True))
    release = views.viewer_survival_release(
        frame, language="nl", min_cell=K, monitor=monitor, absent=len(later)
    )
    assert release.curves["none"].horizon > 0
    assert release.curves["method"].strata.nunique() == 2
    # without them the equations do not add up, and nothing is vouched for
    careless = views.viewer_survival_release(frame, language="nl", min_cell=K, monitor=monitor)
    assert careless.curves["none"].horizon == 0


def test_a_release_renamed_for_another_language_is_the_release_made_in_it() -> None:
    frame = cohort(submitted_without_klik=40)
    monitor = monitor_of(frame)
    dutch = views.viewer_survival_release(frame, language="nl", min_cell=K, monitor=monitor)
    english = views.viewer_survival_release(frame, language="en", min_cell=K, monitor=monitor)
    renamed = views.translated_release(dutch, frame, source="nl", language="en")
    assert renamed.curves.keys() == english.curves.keys()
    for by, curves in english.curves.items():
        assert renamed.curves[by].strata.tolist() == curves.strata.tolist(), by
        assert renamed.curves[by].durations.equals(curves.durations)
        assert renamed.curves[by].horizon == curves.horizon


# -- every characteristic at once -------------------------------------------------------------

CELLS = ["__active__", "job_loss", "moved"]
CHARACTERISTICS = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2"], "c": ["c1", "c2", "c3", "c4"]}


def three_characteristics(seed: int) -> tuple[Stratification, MonitorTables, pd.DataFrame]:
    """A small cohort with three characteristics, one stratification in three strata and the
    monitor's protected endings by each characteristic."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 160))
    frame = pd.DataFrame({d: rng.choice(v, n, p=None if d != "c" else [0.5, 0.3, 0.15, 0.05])
                          for d, v in CHARACTERISTICS.items()})  # fmt: skip
    # the rare value c4 mostly in the small stratum S3: the curves say something about it
    frame["stratum"] = np.where(
        (frame["c"] == "c4") & (rng.random(n) < 0.9),
        "S3",
        rng.choice(["S1", "S2", "S3"], n, p=[0.5, 0.4, 0.1]),
    )
    loss = rng.random(n) < 0.3
    frame["ending"] = np.where(loss, "job_loss", np.where(rng.random(n) < 0.2, "moved", CELLS[0]))
    frame["kind"] = np.where(loss, "event", np.where(rng.random(n) < 0.5, "early", "rest"))
    release = protect_release(
        [breakdown(frame, d, "ending", table="endings", unit="people", cells=CELLS,
                   values=sorted(frame[d].unique())) for d in CHARACTERISTICS],
        K,
    )  # fmt: skip
    monitor = MonitorTables(
        {d: release[("endings", d)] for d in CHARACTERISTICS}, {}, "job_loss", "__active__"
    )
    facts = pd.crosstab(frame["stratum"], frame["kind"]).reindex(columns=list(KINDS), fill_value=0)
    return Stratification(facts.astype(float)), monitor, frame


def full_table_attack(s: Stratification, monitor: MonitorTables) -> set[tuple]:
    """The attacker with one unknown per combination of all three characteristics' values,
    stratum, end reason and curve kind (scipy, not the release's solver): the strata with an
    end reason, and the values with a stratum, placed within 1..k-1."""
    dims = list(monitor.endings)
    values = [list(monitor.endings[d].cells.index) for d in dims]
    keys = [
        (*combo, st, c, kind)
        for combo in itertools.product(*values)
        for st in s.facts.index
        for c in CELLS
        for kind in (("event", "rest") if c == "job_loss" else ("early", "rest"))
    ]

    def row(test) -> np.ndarray:
        return np.array([1.0 if test(key) else 0.0 for key in keys])

    a, b = [], []
    for at, d in enumerate(dims):
        table = monitor.endings[d]
        for v in table.cells.index:
            for c in CELLS:
                if table.cells.loc[v, c] == table.cells.loc[v, c]:
                    a.append(row(lambda key, at=at, v=v, c=c: key[at] == v and key[-2] == c))
                    b.append(table.cells.loc[v, c])
            if table.row_totals[v] == table.row_totals[v]:
                a.append(row(lambda key, at=at, v=v: key[at] == v))
                b.append(table.row_totals[v])
        for c in CELLS:
            if table.col_totals[c] == table.col_totals[c]:
                a.append(row(lambda key, c=c: key[-2] == c))
                b.append(table.col_totals[c])
    for st, counts in s.facts.iterrows():
        for kind in KINDS:
            a.append(row(lambda key, st=st, kind=kind: key[-3] == st and key[-1] == kind))
            b.append(counts[kind])
    a_eq = np.array(a)

    def small(test) -> bool:
        c = row(test)
        lo = linprog(c, A_eq=a_eq, b_eq=b, method="highs")
        assert lo.status == 0
        if lo.fun < 0.5:
            return False
        hi = linprog(-c, A_eq=a_eq, b_eq=b, method="highs")
        return hi.status == 0 and -hi.fun < K - 0.5

    found = set()
    for st in s.facts.index:
        for c in CELLS:
            if small(lambda key, st=st, c=c: key[-3] == st and key[-2] == c) and not small(
                lambda key, c=c: key[-2] == c
            ):
                found.add(("stratum", st, f"end {c}"))
        for at, d in enumerate(dims):
            for v in values[at]:
                if small(lambda key, at=at, v=v, st=st: key[at] == v and key[-3] == st):
                    found.add(("value", d, v, st))
    return found


@pytest.mark.parametrize("seed", [0, 1, 6, 9])
def test_all_characteristics_at_once_are_solved_as_the_full_table_would_be(seed: int) -> None:
    s, monitor, _ = three_characteristics(seed)
    audit = exposing_stratifications({"x": s}, monitor, min_size=K).get("x", [])
    kinds = {f for f in audit if f[0] == "value" or (f[0] == "stratum" and f[2].startswith("end"))}
    assert kinds == full_table_attack(s, monitor)
