"""The survival release checked against the monitor release, as one linear system.

Both releases are protected on their own (:mod:`dashboard.disclosure`); a viewer sees both, so
a stratum's size or job losses could be a sum of monitor cells the monitor hides. This module
solves what a viewer can: for every stratification of the curves, the unknowns are the numbers
of people per combination of the characteristics' values, the stratum, the monitor's cells (an
end reason and the status of a baseline form) and what the curves show of the person (a job
loss on the curve, censored before the horizon, or still at risk at the horizon); the equations are every number both releases show. A hidden
monitor number, or a combination of stratum and cell or of value and stratum, is *exposed*
when the equations place it within 1 .. k-1.

Why these unknowns suffice: the monitor shows no number per month, so a viewer who knows one
stratification's counts per interval learns, beyond the totals per stratum used here, nothing
the monitor's numbers constrain (any split of those totals over the intervals fits them).
A stratification is solved with every characteristic of the monitor at once, end reasons and
first forms together (:func:`_joint_system` says why a system per characteristic, tied by
shared counts, has the bounds of the full table of combinations); two stratifications
together (e.g. everyone's curve, which stops at a later horizon, beside a stratified one) are
held by the grid rules of :func:`dashboard.disclosure.survival_release` alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from dashboard.disclosure import ProtectedCounts, ReleasedCurves
from dashboard.linear_bounds import LinearBounds

#: what the curves show of a person: a job loss on the curve, censored before the horizon,
#: or still at risk at the horizon (where censorings of the last interval also sit)
KINDS = ("event", "early", "rest")


def curve_facts(curves: ReleasedCurves) -> pd.DataFrame:
    """What a viewer can count on one stratification's released curves.

    Returns
    -------
    DataFrame
        Index: stratum; columns ``event``, ``early``, ``rest`` (people per :data:`KINDS`).
    """
    times = curves.durations.to_numpy(dtype=float)
    happened = curves.events.to_numpy().astype(bool)
    kind = np.where(happened, "event", np.where(times < curves.horizon - 1e-9, "early", "rest"))
    table = pd.crosstab(curves.strata.to_numpy(), kind)
    return table.reindex(columns=list(KINDS), fill_value=0).astype(float)


@dataclass(frozen=True)
class Stratification:
    """One stratification of the viewers' curves, as the audit sees it.

    Attributes
    ----------
    facts : DataFrame
        :func:`curve_facts`.
    mirrors : str or None
        When the strata are values of a monitor characteristic: that characteristic.
    stratum_of : dict
        With ``mirrors``: the characteristic's value -> its stratum.
    submitted : str or None
        When a score means that a baseline form was submitted: the role of that form (a key
        of :attr:`MonitorTables.baseline_forms`).
    scored : frozenset
        With ``submitted``: the strata in which everyone has the score (so submitted that
        form); people of other strata may have any status.
    """

    facts: pd.DataFrame
    mirrors: str | None = None
    stratum_of: Mapping[object, str] = field(default_factory=dict)
    submitted: str | None = None
    scored: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MonitorTables:
    """The monitor release's tables the curves can meet.

    Attributes
    ----------
    endings : dict
        Characteristic -> its table of people per end reason (a cell for those still in a
        trajectory); its row totals are the people per value.
    baseline_forms : dict
        Role -> characteristic -> its table of the first wave's forms of that role per status.
    event_cell : str
        The end reason the curves count as events.
    active_cell : str
        The cell of the people still in a trajectory.
    """

    endings: Mapping[str, ProtectedCounts]
    baseline_forms: Mapping[str, Mapping[str, ProtectedCounts]]
    event_cell: str
    active_cell: str

    def hidden_values(self, dimension: str) -> set[object]:
        """The values of a characteristic whose number of people the monitor hides."""
        people = self.endings[dimension].row_totals
        return set(people.index[people.isna()])


#: the statuses of a submitted form, as the monitor names them
SUBMITTED = ("on_time", "late")


class _System:
    """Unknowns by name, equations and the sums to bound."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.rows: list[list[tuple[int, float]]] = []
        self.rhs: list[float] = []
        self.targets: list[tuple[tuple, list[int]]] = []
        #: per target, the same cells over every stratum: a group the monitor gives away on
        #: its own is not the curves' doing, and merging strata would not hide it
        self.whole: dict[tuple, list[int]] = {}
        self._by_position: dict[tuple[int, object], set[int]] | None = None

    def add(self, key: tuple) -> None:
        self.index.setdefault(key, len(self.index))

    def where(self, test: Callable[[tuple], bool]) -> list[int]:
        return [i for key, i in self.index.items() if test(key)]

    def having(self, **at: object) -> list[int]:
        """The unknowns whose key holds each value at its position (``p0=``, ``p3=``, ...),
        from an index of every (position, value) built once all unknowns are added."""
        if self._by_position is None:
            self._by_position = {}
            for key, i in self.index.items():
                for position, value in enumerate(key):
                    self._by_position.setdefault((position, value), set()).add(i)
        found = [self._by_position.get((int(p[1:]), v), set()) for p, v in at.items()]
        return sorted(set.intersection(*found))

    def equation(self, unknowns: list[int], value: float, minus: Sequence[int] = ()) -> None:
        """sum(unknowns) - sum(minus) == value."""
        self.rows.append([(i, 1.0) for i in unknowns] + [(i, -1.0) for i in minus])
        self.rhs.append(float(value))

    def fact(self, unknowns: list[int], value: float, name: tuple) -> None:
        """An equation when the number is shown, a sum to bound when it is hidden."""
        if value == value:
            self.equation(unknowns, value)
        elif unknowns:
            self.targets.append((name, unknowns))

    def exposed(self, k: int) -> list[tuple]:
        """The sums the equations place within 1 .. k-1 (pinned to such a value included; a
        large hidden number pinned exposes nobody by itself, and the small numbers of its
        lines are sums of their own)."""
        if not self.targets or not self.rows:
            return []
        a = sp.lil_matrix((len(self.rows), len(self.index)))
        for r, terms in enumerate(self.rows):
            for i, coefficient in terms:
                a[r, i] = coefficient
        try:
            bounds = LinearBounds(a.tocsc(), np.array(self.rhs))
        except ValueError:
            # the data break an assumption of the model (e.g. a score without a submitted
            # form): nothing can be vouched for
            return [("inconsistent",)]

        def small(unknowns: list[int]) -> bool:
            # below 0.5 the sum may be 0: nobody to find
            return bounds.within(unknowns, 0.5, k - 0.5)

        return [
            name
            for name, unknowns in self.targets
            if small(unknowns) and not (name in self.whole and small(self.whole[name]))
        ]


def _monitor(
    system: _System, table: ProtectedCounts, cell_of: Callable[[object, object], list[int]],
    name: str,
) -> None:  # fmt: skip
    """The monitor's numbers of one table by one characteristic: cells, row totals, column
    totals and the total, each over the unknowns ``cell_of`` assigns to (value, cell)."""
    values, cells = list(table.cells.index), list(table.cells.columns)
    for v in values:
        for c in cells:
            system.fact(cell_of(v, c), table.cells.loc[v, c], (name, "monitor", v, c))
        system.fact([i for c in cells for i in cell_of(v, c)], table.row_totals.loc[v],
                    (name, "n", v))  # fmt: skip
    for c in cells:
        system.fact([i for v in values for i in cell_of(v, c)], table.col_totals.loc[c],
                    (name, "total", c))  # fmt: skip
    system.fact(
        [i for v in values for c in cells for i in cell_of(v, c)], table.grand_total,
        (name, "all"),
    )  # fmt: skip


def _strata_of(s: Stratification, dimension: str, value: object) -> list[str]:
    """The strata a person of ``value`` can be in: with a stratification by this very
    characteristic, the value's stratum and those no value maps to (people not on the
    curves)."""
    strata = list(s.facts.index)
    if s.mirrors != dimension:
        return strata
    mapped = set(s.stratum_of.values())
    return [st for st in strata if st == s.stratum_of.get(value) or st not in mapped]


#: the form status of people whose first form is not counted (no stratification by a score
#: of it), and of people not sent it
UNCOUNTED = "__uncounted__"


def _joint_system(s: Stratification, monitor: MonitorTables, k: int) -> list[tuple]:
    """One stratification against every characteristic of the monitor at once.

    The unknowns of all characteristics together would be the people per combination of every
    characteristic's value: too many at national scale. The same system is solved with, per
    characteristic, the people per (value, stratum, end reason, curve kind, first-form
    status), tied by one equation per (stratum, end reason, kind, status) to a shared
    count: every number either release shows, and every sum bounded here, is a sum of one
    characteristic's unknowns or of the shared counts, and any set of per-characteristic
    counts that agree on the shared ones is the margin of some table of combinations (spread
    each shared count over the combinations in proportion), so the bounds are those of the
    full table.
    """
    event_cell = monitor.event_cell
    endings = monitor.endings
    forms = monitor.baseline_forms.get(s.submitted or "", {})
    first_cells = list(next(iter(forms.values())).cells.columns) if forms else []
    statuses: list[object] = [*first_cells, None] if forms else [UNCOUNTED]
    cells = list(next(iter(endings.values())).cells.columns)

    def possible(stratum: str, cell: object, kind: str, status: object) -> bool:
        if kind not in (("event", "rest") if cell == event_cell else ("early", "rest")):
            return False
        return not (forms and stratum in s.scored and status not in SUBMITTED)

    shared = [
        key for key in itertools.product(s.facts.index, cells, KINDS, statuses) if possible(*key)
    ]
    system = _System()
    for key in shared:
        system.add(("shared", *key))
    for dimension, table in endings.items():
        for v in table.cells.index:
            for stratum, cell, kind, status in shared:
                if stratum in _strata_of(s, dimension, v):
                    system.add((dimension, v, stratum, cell, kind, status))
    by_dimension: dict[str, dict[tuple, list[int]]] = {}
    for key, i in system.index.items():
        if key[0] != "shared":
            by_dimension.setdefault(key[0], {}).setdefault(key[2:], []).append(i)
    for per_shared in by_dimension.values():
        for key in shared:
            system.equation(per_shared.get(key, []), 0.0, minus=[system.index[("shared", *key)]])
    for dimension, table in endings.items():
        _monitor(
            system, table,
            lambda v, c, d=dimension: system.having(p0=d, p1=v, p3=c),
            f"endings:{dimension}",
        )  # fmt: skip
        if dimension in forms:
            _monitor(
                system, forms[dimension],
                lambda v, c, d=dimension: system.having(p0=d, p1=v, p5=c),
                f"first form:{dimension}",
            )  # fmt: skip
    for stratum, row in s.facts.iterrows():
        for kind in KINDS:
            system.equation(system.having(p0="shared", p1=stratum, p3=kind), row[kind])
    # tests on a shared key: ("shared", stratum, end reason, kind, first-form status)
    groups: dict[str, Callable[[tuple], bool]] = {
        **{f"end {c}": (lambda key, c=c: key[2] == c) for c in cells},
        "ended": lambda key: key[2] != monitor.active_cell,
    }
    if forms:
        groups |= {f"form {c}": (lambda key, c=c: key[4] == c) for c in statuses}
        groups["submitted"] = lambda key: key[4] in SUBMITTED
        groups["not submitted"] = lambda key: key[4] not in SUBMITTED
    for stratum in s.facts.index:
        for name, test in groups.items():
            target = ("stratum", stratum, name)
            system.targets.append(
                (target, system.where(lambda key, st=stratum, t=test: key[0] == "shared"
                                      and key[1] == st and t(key)))
            )  # fmt: skip
            system.whole[target] = system.where(lambda key, t=test: key[0] == "shared" and t(key))
        for dimension, table in endings.items():
            if s.mirrors == dimension:
                continue
            for v in table.cells.index:
                system.targets.append(
                    (
                        ("value", dimension, v, stratum),
                        system.having(p0=dimension, p1=v, p2=stratum),
                    )
                )
    return system.exposed(k)


def exposing_stratifications(
    stratifications: Mapping[str, Stratification], monitor: MonitorTables, *, min_size: int
) -> dict[str, list[tuple]]:
    """The stratifications whose curves, with the monitor, expose a group of 1 .. k-1.

    Parameters
    ----------
    stratifications : mapping
        Name -> :class:`Stratification` (``"none"`` for everyone together, with one stratum).
    monitor : MonitorTables
        The monitor release's tables.
    min_size : int
        The minimum group size k.

    Returns
    -------
    dict
        Stratification -> what it exposes (characteristic and a description of each exposed
        sum); stratifications that expose nothing are absent.
    """
    out: dict[str, list[tuple]] = {}
    for name, s in stratifications.items():
        found = _joint_system(s, monitor, min_size)
        if found:
            out[name] = found
    return out


__all__: Sequence[str] = [
    "KINDS",
    "MonitorTables",
    "Stratification",
    "curve_facts",
    "exposing_stratifications",
]
