"""The survival release checked against the monitor release, as one linear system.

Both releases are protected on their own (:mod:`dashboard.disclosure`); a viewer sees both, so
a stratum's size or job losses could be a sum of monitor cells the monitor hides. This module
solves what a viewer can: for every stratification of the curves and every characteristic of
the monitor, the unknowns are the numbers of people per combination of the characteristic's
value, the stratum, the monitor's cell (an end reason, or the status of a baseline form) and
what the curves show of the person (a job loss on the curve, censored before the horizon, or
still at risk at the horizon); the equations are every number both releases show. A hidden
monitor number, or a combination of stratum and cell or of value and stratum, is *exposed*
when the equations place it within 1 .. k-1.

Why these unknowns suffice: the monitor shows no number per month, so a viewer who knows one
stratification's counts per interval learns, beyond the totals per stratum used here, nothing
the monitor's numbers constrain (any split of those totals over the intervals fits them).
A stratification and a monitor characteristic are taken two at a time, as the attacker test
does; two stratifications together (e.g. everyone's curve, which stops at a later horizon,
beside a stratified one) are held by the grid rules of :func:`dashboard.disclosure.survival_release`
alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
        self.rows: list[list[int]] = []
        self.rhs: list[float] = []
        self.targets: list[tuple[tuple, list[int]]] = []
        #: per target, the same cells over every stratum: a group the monitor gives away on
        #: its own is not the curves' doing, and merging strata would not hide it
        self.whole: dict[tuple, list[int]] = {}

    def add(self, key: tuple) -> None:
        self.index.setdefault(key, len(self.index))

    def where(self, test: Callable[[tuple], bool]) -> list[int]:
        return [i for key, i in self.index.items() if test(key)]

    def equation(self, unknowns: list[int], value: float) -> None:
        self.rows.append(unknowns)
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
        a = np.zeros((len(self.rows), len(self.index)))
        for r, unknowns in enumerate(self.rows):
            a[r, unknowns] = 1.0
        try:
            bounds = LinearBounds(a, np.array(self.rhs))
        except ValueError:
            # the data break an assumption of the model (e.g. a score without a submitted
            # form): nothing can be vouched for
            return [("inconsistent",)]

        def small(unknowns: list[int]) -> bool:
            # below 0.5 the sum may be 0: nobody to find
            return bounds.lowest(unknowns) >= 0.5 and bounds.highest(unknowns) < k - 0.5

        return [
            name
            for name, unknowns in self.targets
            if small(unknowns) and not (name in self.whole and small(self.whole[name]))
        ]


def _monitor(
    system: _System, table: ProtectedCounts, cell_of: Callable[[object, object], list[int]]
) -> None:
    """The monitor's numbers of one table by one characteristic: cells, row totals, column
    totals and the total, each over the unknowns ``cell_of`` assigns to (value, cell)."""
    values, cells = list(table.cells.index), list(table.cells.columns)
    for v in values:
        for c in cells:
            system.fact(cell_of(v, c), table.cells.loc[v, c], ("monitor", v, c))
        system.fact([i for c in cells for i in cell_of(v, c)], table.row_totals.loc[v], ("n", v))
    for c in cells:
        system.fact(
            [i for v in values for i in cell_of(v, c)], table.col_totals.loc[c], ("total", c)
        )
    system.fact(
        [i for v in values for c in cells for i in cell_of(v, c)], table.grand_total, ("all",)
    )


def _curves(
    system: _System, s: Stratification, unknowns_of: Callable[[str, str], list[int]]
) -> None:
    """The curves' counts per stratum and kind."""
    for stratum, row in s.facts.iterrows():
        for kind in KINDS:
            system.equation(unknowns_of(stratum, kind), row[kind])


def _strata_of(s: Stratification, dimension: str, value: object) -> list[str]:
    """The strata a person of ``value`` can be in: with a stratification by this very
    characteristic, the value's stratum and those no value maps to (people not on the
    curves)."""
    strata = list(s.facts.index)
    if s.mirrors != dimension:
        return strata
    mapped = set(s.stratum_of.values())
    return [st for st in strata if st == s.stratum_of.get(value) or st not in mapped]


def _endings_system(
    endings: ProtectedCounts, dimension: str, s: Stratification, monitor: MonitorTables, k: int
) -> list[tuple]:
    event_cell = monitor.event_cell
    system = _System()
    for v, stratum, cell in itertools.product(
        endings.cells.index, s.facts.index, endings.cells.columns
    ):
        if stratum not in _strata_of(s, dimension, v):
            continue
        for kind in ("event", "rest") if cell == event_cell else ("early", "rest"):
            system.add((v, stratum, cell, kind))
    _monitor(system, endings, lambda v, c: system.where(lambda key: key[0] == v and key[2] == c))
    _curves(system, s, lambda st, kind: system.where(lambda key: key[1] == st and key[3] == kind))
    cells = list(endings.cells.columns)
    groups = {str(c): [c] for c in cells}
    groups["ended"] = [c for c in cells if c != monitor.active_cell]
    _intersections(system, s, dimension, list(endings.cells.index), groups)
    return system.exposed(k)


def _forms_system(
    forms: ProtectedCounts, people: pd.Series, dimension: str, s: Stratification, k: int
) -> list[tuple]:
    """A baseline form's counts: known strata only among submitted forms; people not invited
    (no form) are a cell of their own, ``None``."""
    system = _System()
    cells = [*forms.cells.columns, None]
    for v, stratum, cell in itertools.product(forms.cells.index, s.facts.index, cells):
        if stratum not in _strata_of(s, dimension, v):
            continue
        if stratum in s.scored and cell not in SUBMITTED:
            continue
        system.add((v, stratum, cell))
    _monitor(system, forms, lambda v, c: system.where(lambda key: key[0] == v and key[2] == c))
    for v, n in people.items():
        system.fact(system.where(lambda key, v=v: key[0] == v), n, ("n", v))
    for stratum, row in s.facts.iterrows():
        system.equation(system.where(lambda key, st=stratum: key[1] == st), row.sum())
    groups = {str(c): [c] for c in cells}
    groups["submitted"] = list(SUBMITTED)
    groups["not submitted"] = [c for c in cells if c not in SUBMITTED]
    _intersections(system, s, dimension, list(forms.cells.index), groups)
    return system.exposed(k)


def _intersections(
    system: _System,
    s: Stratification,
    dimension: str,
    values: Sequence[object],
    cell_groups: Mapping[str, Sequence[object]],
) -> None:
    """Groups neither release shows: a stratum with a group of cells, a value with a
    stratum."""
    for stratum in s.facts.index:
        for name, cells in cell_groups.items():
            target = ("stratum", stratum, name)
            system.targets.append(
                (
                    target,
                    system.where(lambda key, st=stratum, cs=cells: key[1] == st and key[2] in cs),
                )
            )
            system.whole[target] = system.where(lambda key, cs=cells: key[2] in cs)
        if s.mirrors != dimension:
            for v in values:
                system.targets.append(
                    (
                        ("value", v, stratum),
                        system.where(lambda key, st=stratum, v=v: key[0] == v and key[1] == st),
                    )
                )


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
    for (name, s), (dimension, table) in itertools.product(
        stratifications.items(), monitor.endings.items()
    ):
        found = _endings_system(table, dimension, s, monitor, min_size)
        forms = monitor.baseline_forms.get(s.submitted or "", {})
        if dimension in forms:
            found += _forms_system(forms[dimension], table.row_totals, dimension, s, min_size)
        if found:
            out.setdefault(name, []).extend((dimension, *f) for f in found)
    return out


__all__: Sequence[str] = [
    "KINDS",
    "MonitorTables",
    "Stratification",
    "curve_facts",
    "exposing_stratifications",
]
