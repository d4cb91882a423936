"""The disclosure gate: every number a viewer (aggregates only) receives passes through here.

Guarantee, per release day (:func:`release_day`): *no number a viewer can receive, alone or
combined with everything else a viewer can receive of the same release day by any selection,
pins down the size of a group of 1 to k-1 people (k = the study's minimum cell size) or places
it within 1..k-1.*

Method, and why: query-set-size control on a closed set of queries, with complementary cell
suppression (the rules below, as statistical offices apply them to published tables).
Query-set-size control alone is defeated by trackers (Denning 1979: two overlapping
selections whose difference is the target), so a viewer's queries are restricted to those that
can be protected together:

* a viewer's computations are always of the whole study (``dashboard.analysis_page`` ignores a
  viewer's filters), and a selection is one value of one characteristic, answered as a row of
  one *release* per data snapshot in which the rows of every value of every characteristic and
  the whole-study table are protected together (:func:`protect_release`);
* survival curves come on grids of whole months, each step resting on at least k at risk, and
  0 or at least k events and 0 or at least k censorings (:func:`survival_release`), and are
  checked against the monitor release (:mod:`dashboard.disclosure_audit`);
* counts beside a statistic are rounded to a multiple of k (:func:`viewer_count`), and what
  the signal statistics and the cost-benefit page show a viewer is decided here
  (:func:`viewer_follow_up`, :func:`viewer_cost_benefit`);
* hidden numbers are one mark (:data:`HIDDEN_MARK`), never 0 and never left out.

Rules, for a table of counts with row, column and grand totals:

1. *Primary*: a cell or total with 1 .. ``min_size - 1`` people is suppressed (0 is shown: it
   tells nothing about a person).
2. *Complementary*: in every line (row, column, the row of row totals, the column of column
   totals) whose total is shown, the suppressed cells together hold either nobody or at least
   ``min_size`` people, and never exactly one cell is suppressed, so no suppressed cell can be
   found by subtraction. When the line has nothing left to suppress, its total is suppressed.
3. *No exact disclosure*: a final check solves, for every suppressed cell, the smallest and largest
   value the shown numbers allow (a linear programme); a cell pinned to one value gets a
   neighbour suppressed, until none is.

Researchers and jobcoaches see their numbers as they are.
``tests/dashboard/test_viewer_attack.py`` is the check: a viewer over HTTP collects every answer
and subtracts and solves. The survival release is solved together with the monitor release
by :mod:`dashboard.disclosure_audit`, each stratification with every characteristic at once. The
people of a selection minus its forms of one wave (those not yet sent that form) are a cell of
their own (a breakdown's ``totals_of``). A viewer's snapshot is that of a release day
(:func:`release_day`), so the change one new answer makes cannot be watched; not covered: the
differences between two release days, data entered late for days before a release day, and
two survival stratifications held against each other (they rest on the grid's rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard.linear_bounds import LinearBounds

#: how a hidden number is shown to a viewer: one mark for every hidden cell, whether it is small
#: itself or hidden because it would reveal a small one (so the mark tells neither)
HIDDEN_MARK = "×"


@dataclass(frozen=True)
class ProtectedCounts:
    """A count table after suppression: suppressed numbers are NaN.

    Attributes
    ----------
    cells : DataFrame
        The inner cells (float; NaN where suppressed).
    row_totals, col_totals : Series
        Totals of the original table (NaN where suppressed).
    grand_total : float
        Total of the original table (NaN when suppressed).
    """

    cells: pd.DataFrame
    row_totals: pd.Series
    col_totals: pd.Series
    grand_total: float

    def with_totals(self, row_label: str = "Totaal", col_label: str = "Totaal") -> pd.DataFrame:
        """The table with a total column and a total row, for display."""
        out = self.cells.copy()
        out[col_label] = self.row_totals
        bottom = pd.DataFrame(
            [[*self.col_totals.tolist(), self.grand_total]], columns=out.columns, index=[row_label]
        )
        return pd.concat([out, bottom])


def _is_small(value: float, k: int) -> bool:
    return 0 < value < k


def protect_counts(counts: pd.DataFrame, min_size: int) -> ProtectedCounts:
    """Suppress small cells of a count table and whatever would reveal them.

    Parameters
    ----------
    counts : DataFrame
        Non-negative counts of people; rows and columns are the two classifications.
    min_size : int
        The smallest number of people a shown cell may hold; 0 or 1 switches suppression off.
    """
    full = _with_margins(counts)
    if min_size <= 1:
        return _shown(counts, full, np.zeros(full.shape, dtype=bool))
    hidden = _small(full, min_size)
    _suppress(full, hidden, min_size)
    return _shown(counts, full, hidden)


def _with_margins(counts: pd.DataFrame) -> np.ndarray:
    """One matrix with margins: the last column holds row totals, the last row column totals."""
    values = counts.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    full = np.zeros((n_rows + 1, n_cols + 1))
    full[:n_rows, :n_cols] = values
    full[:n_rows, n_cols] = values.sum(axis=1)
    full[n_rows, :n_cols] = values.sum(axis=0)
    full[n_rows, n_cols] = values.sum()
    return full


def _small(full: np.ndarray, k: int) -> np.ndarray:
    return (full > 0) & (full < k)


def _suppress(full: np.ndarray, hidden: np.ndarray, k: int) -> None:
    """Rules 2 and 3 on ``hidden`` (in place) until nothing changes."""
    while True:
        changed = _complete_lines(full, hidden, k)
        changed |= _break_exposed(full, hidden, k)
        if not changed:
            return


def _shown(counts: pd.DataFrame, full: np.ndarray, hidden: np.ndarray) -> ProtectedCounts:
    n_rows, n_cols = counts.shape
    shown = np.where(hidden, np.nan, full)
    return ProtectedCounts(
        pd.DataFrame(shown[:n_rows, :n_cols], index=counts.index, columns=counts.columns),
        pd.Series(shown[:n_rows, n_cols], index=counts.index),
        pd.Series(shown[n_rows, :n_cols], index=counts.columns),
        float(shown[n_rows, n_cols]),
    )


def _lines(n_rows: int, n_cols: int) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Every line as (its cells, its total's position), margins included."""
    lines = []
    for i in range(n_rows + 1):
        lines.append(([(i, j) for j in range(n_cols)], (i, n_cols)))
    for j in range(n_cols + 1):
        lines.append(([(i, j) for i in range(n_rows)], (n_rows, j)))
    return lines


def _complete_lines(full: np.ndarray, hidden: np.ndarray, k: int) -> bool:
    """Rule 2 on every line until nothing changes; True if anything was suppressed."""
    n_rows, n_cols = full.shape[0] - 1, full.shape[1] - 1
    changed_any = False
    changed = True
    while changed:
        changed = False
        for cells, total in _lines(n_rows, n_cols):
            if hidden[total]:
                continue
            gone = [c for c in cells if hidden[c]]
            if not gone:
                continue
            held = sum(full[c] for c in gone)
            if len(gone) >= 2 and (held == 0 or held >= k):
                continue
            candidates = sorted(
                (c for c in cells if not hidden[c] and full[c] > 0), key=lambda c: full[c]
            )
            if not candidates and len(gone) == 1:
                # only zeros left: hiding one of them still leaves two unknowns
                candidates = [c for c in cells if not hidden[c]]
            if candidates:
                hidden[candidates[0]] = True
            else:
                hidden[total] = True
            changed = changed_any = True
    return changed_any


def _bounds(full: np.ndarray, hidden: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """The lowest and highest value each hidden cell can take, given the shown numbers."""
    n_rows, n_cols = full.shape[0] - 1, full.shape[1] - 1
    unknown = [(int(i), int(j)) for i, j in np.argwhere(hidden)]
    if not unknown:
        return {}
    index = {p: i for i, p in enumerate(unknown)}
    a_eq, b_eq = [], []
    for cells, total in _lines(n_rows, n_cols):
        if not any(hidden[c] for c in [*cells, total]):
            continue
        row = np.zeros(len(unknown))
        rhs = 0.0
        for c in cells:
            if hidden[c]:
                row[index[c]] += 1
            else:
                rhs -= full[c]
        if hidden[total]:
            row[index[total]] -= 1
        else:
            rhs += full[total]
        a_eq.append(row)
        b_eq.append(rhs)
    system = LinearBounds(np.array(a_eq), np.array(b_eq))
    bounds: dict[tuple[int, int], tuple[float, float]] = {}
    for p in unknown:
        lo = system.lowest([index[p]])
        # with no positive lower bound a cell may be empty: nothing to learn from its maximum
        bounds[p] = (lo, system.highest([index[p]]) if lo > 1e-9 else np.inf)
    return bounds


def _exposed(value: float, lo: float, hi: float, k: int) -> bool:
    """Whether a hidden cell gives away a person: pinned to its value, or known to be a small
    group (counts are whole numbers, so any positive lower bound means at least one person)."""
    if value > 0 and hi - lo < 0.5:
        return True
    return _is_small(value, k) and lo > 1e-9 and hi < k - 1e-9


def _break_exposed(full: np.ndarray, hidden: np.ndarray, k: int) -> bool:
    """Rule 3: for every exposed hidden cell, hide its smallest shown neighbour, else the totals
    of its lines, else everything but a safe grand total. True if anything was suppressed.

    One pass of bounds serves every exposed cell (the next pass checks again), so a table with
    many hidden cells needs few rounds of linear programmes.
    """
    n_rows, n_cols = full.shape[0] - 1, full.shape[1] - 1
    changed = False
    for p, (lo, hi) in _bounds(full, hidden).items():
        if not _exposed(full[p], lo, hi, k):
            continue
        i, j = p
        line = [(i, jj) for jj in range(n_cols)] if i < n_rows else []
        line += [(ii, j) for ii in range(n_rows)] if j < n_cols else []
        candidates = sorted(
            (q for q in line if not hidden[q] and full[q] > 0), key=lambda q: full[q]
        )
        if candidates:
            hidden[candidates[0]] = True
            changed = True
            continue
        totals = [q for q in ((i, n_cols), (n_rows, j)) if not hidden[q]]
        if totals:
            for q in totals:
                hidden[q] = True
            changed = True
            continue
        # nothing beside it left to hide: show at most the grand total, then nothing
        grand = (n_rows, n_cols)
        others = hidden.copy()
        others[grand] = True
        if not others.all():
            hidden[:, :] = True
            hidden[grand] = _is_small(full[grand], k)
            return True
        if not hidden[grand]:
            hidden[grand] = True
            return True
    return changed


def release_day(today: dt.date, cadence: str) -> dt.date:
    """The day whose end a viewer's figures show: the end of the last whole month (``month``),
    the last Sunday before today (``week``), or today (``day``).

    Why: a dashboard that is live shows the change one new answer makes; a viewer who knows
    who just answered would learn that answer from two views a minute apart. Between two
    release days the figures stay as they are, whatever is entered.
    """
    if cadence == "day":
        return today
    if cadence == "week":
        return today - dt.timedelta(days=today.isoweekday())
    if cadence == "month":
        return today.replace(day=1) - dt.timedelta(days=1)
    raise ValueError(f"viewer release must be day, week or month, not {cadence!r}")


# --------------------------------------------------------------------------------------------
# Releases: every table a viewer can ask for, protected together


@dataclass(frozen=True)
class Breakdown:
    """One count table of a release, broken down by one characteristic.

    Attributes
    ----------
    table : str
        Which table (e.g. ``"enrolment"``). Every breakdown of one table has the same columns,
        and their column sums are that table for the whole scope, shared by every breakdown.
    unit : str
        What a row total counts (``"people"``, ``"forms"``): the same number in every table of
        that unit, so it is hidden in all of them or in none.
    dimension : str
        The characteristic (e.g. ``"benefit"``).
    counts : DataFrame
        Rows: every value of the characteristic in the scope (unknown included), columns: the
        table's cells.
    totals_of : dict
        Cell -> a unit: that column is, row by row, the row totals of the tables of that unit
        (e.g. the forms sent at a wave, beside the people not yet sent it), so it is the same
        number there and is hidden in both or in neither.
    """

    table: str
    unit: str
    dimension: str
    counts: pd.DataFrame
    totals_of: Mapping[object, str] = field(default_factory=dict)


def _keys(b: Breakdown) -> np.ndarray:
    """What each position of a breakdown's matrix means across the release (see
    :func:`protect_release`)."""
    rows, cols = list(b.counts.index), list(b.counts.columns)
    keys = np.empty((len(rows) + 1, len(cols) + 1), dtype=object)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if c in b.totals_of:
                keys[i, j] = ("n", b.totals_of[c], b.dimension, r)
            else:
                keys[i, j] = ("cell", b.table, b.dimension, r, c)
        keys[i, len(cols)] = ("n", b.unit, b.dimension, r)
    for j, c in enumerate(cols):
        keys[len(rows), j] = ("n", b.totals_of[c]) if c in b.totals_of else ("total", b.table, c)
    keys[len(rows), len(cols)] = ("n", b.unit)
    return keys


def protect_release(
    breakdowns: Sequence[Breakdown], min_size: int
) -> dict[tuple[str, str], ProtectedCounts]:
    """Protect every breakdown of a release together, so that no view can be subtracted from
    another.

    The viewer's selections are the rows of these tables: a selection of one value of one
    characteristic is answered by that row, and the whole scope by the column totals. Each
    breakdown gets the rules of :func:`protect_counts` (so the row of a selection and the rows
    of all other values, its complement, are protected together, cell by cell); a number that
    appears in several breakdowns (the whole-scope table in every breakdown of that table, a
    group's size in every table of its unit) is hidden in all of them once it is hidden in one,
    and the rules run again until no breakdown changes.

    Returns
    -------
    dict
        ``(table, dimension)`` -> :class:`ProtectedCounts`; NaN is hidden.
    """
    fulls = [_with_margins(b.counts) for b in breakdowns]
    keys = [_keys(b) for b in breakdowns]
    if min_size <= 1:
        hiddens = [np.zeros(f.shape, dtype=bool) for f in fulls]
    else:
        hiddens = [_small(f, min_size) for f in fulls]
        gone: set[tuple] = set()
        while True:
            before = len(gone)
            for full, key, hidden in zip(fulls, keys, hiddens, strict=True):
                hidden |= np.vectorize(lambda k_: k_ in gone, otypes=[bool])(key)
                _suppress(full, hidden, min_size)
                gone.update(key[hidden].tolist())
            if len(gone) == before:
                break
    return {
        (b.table, b.dimension): _shown(b.counts, f, h)
        for b, f, h in zip(breakdowns, fulls, hiddens, strict=True)
    }


def breakdown(
    frame: pd.DataFrame, dimension: str, cell: str, *, table: str, unit: str,
    cells: Sequence[object], values: Sequence[object],
    totals_of: Mapping[object, str] | None = None,
) -> Breakdown:  # fmt: skip
    """A :class:`Breakdown` from one row per counted unit: count of ``cell`` per ``dimension``.

    ``values`` and ``cells`` list every row and column (absent ones count 0), so breakdowns of
    one release line up.
    """
    rows = pd.Index(list(values), tupleize_cols=False)
    columns = pd.Index(list(cells), tupleize_cols=False)
    matrix = np.zeros((len(rows), len(columns)))
    pairs = pd.Series(list(zip(frame[dimension], frame[cell], strict=True)), dtype=object)
    for (row, col), n in pairs.value_counts().items():
        # a value or cell outside the lists raises KeyError: the release would not add up
        matrix[rows.get_loc(row), columns.get_loc(col)] = float(n)
    counts = pd.DataFrame(matrix, index=rows, columns=columns)
    return Breakdown(table, unit, dimension, counts, dict(totals_of or {}))


# --------------------------------------------------------------------------------------------
# Survival curves for viewers: a coarse common time grid

#: days in a month on the viewers' time grid
GRID_DAYS = 365.25 / 12
OTHER_STRATUM = {"nl": "Overige", "en": "Other"}
UNKNOWN_STRATUM = {"nl": "Onbekend", "en": "Unknown"}
EVERYONE_STRATUM = {"nl": "Iedereen", "en": "Everyone"}


@dataclass(frozen=True)
class ReleasedCurves:
    """One stratification's survival data as a viewer may receive it.

    Attributes
    ----------
    durations : Series
        Each person's time moved up to the end of its grid interval (days); people still at
        risk at ``horizon`` are censored there.
    events : Series
        1 for an event within the horizon, else 0.
    strata : Series
        Each person's stratum.
    grid : list of float
        The interval ends (days) up to the horizon.
    horizon : float
        Where every curve of this stratification stops (days; 0: no curve can be shown).
    """

    durations: pd.Series
    events: pd.Series
    strata: pd.Series
    grid: list[float]
    horizon: float


@dataclass(frozen=True)
class SurvivalRelease:
    """Every stratification's curves for viewers (see :func:`survival_release`).

    Attributes
    ----------
    curves : dict
        Stratification (``"none"`` for everyone together) -> :class:`ReleasedCurves`.
    min_size : int
        The minimum group size the grids were made for.
    """

    curves: dict[str, ReleasedCurves]
    min_size: int


def merge_small_strata(labels: pd.Series, min_size: int, language: str) -> pd.Series:
    """Strata with fewer than ``min_size`` people merged into one "Overige" stratum (with the
    smallest other stratum as long as that is still too small); missing values are "Onbekend"."""
    out = labels.astype(object).where(labels.notna(), UNKNOWN_STRATUM[language])
    other = OTHER_STRATUM[language]
    while True:
        sizes = out.value_counts()
        small = [s for s, n in sizes.items() if n < min_size and s != other]
        if other in sizes and sizes[other] < min_size:
            rest = sizes.drop(other)
            small = small or ([rest.idxmin()] if len(rest) else [])
        if not small or (len(small) == 1 and small[0] == other):
            return out
        out = out.where(~out.isin(small), other)
        if out.nunique() == 1:
            return out


def _groups(labels: pd.Series) -> list[np.ndarray]:
    return [(labels == s).to_numpy() for s in labels.unique()]


def _grid(
    values: np.ndarray,
    events: np.ndarray,
    groups: list[np.ndarray],
    k: int,
    candidates: Sequence[float],
    horizon: float | None = None,
) -> tuple[list[float], float]:
    """The ends among ``candidates`` on which every group has, per interval, 0 or >= k events
    and 0 or >= k censorings, and the last end at which every group still has >= k at risk and
    0 or >= k events and 0 or >= k others after it (0 when there is none). Both kinds count
    apart: a step's size and the number at risk give the events, and the drop in the number at
    risk gives the rest. After the horizon too: the monitor shows every job loss to date, and
    its count minus the events on the curve are the job losses after the horizon.

    With ``horizon`` given, that end must be on the grid and meet the rule (else 0)."""
    grid: list[float] = []
    last = 0.0
    for end in candidates:
        if horizon is not None and end > horizon:
            break
        inside = (values > last) & (values <= end)
        counts = [int((inside & events)[g].sum()) for g in groups] + [
            int((inside & ~events)[g].sum()) for g in groups
        ]
        if any(0 < n < k for n in counts):
            continue
        grid.append(end)
        last = end
    ends = grid if horizon is None else [horizon] if horizon in grid else []
    found = 0.0
    for end in ends:
        after = values > end
        if all(
            int(after[g].sum()) >= k and _safe_count(int((after & events)[g].sum()), k)
            and _safe_count(int((after & ~events)[g].sum()), k)
            for g in groups
        ):  # fmt: skip
            found = end
    return [b for b in grid if b <= found], found


def _safe_count(n: int, k: int) -> bool:
    return n == 0 or n >= k


def pooled_horizons(durations: pd.Series, events: pd.Series, *, min_size: int) -> list[float]:
    """The ends (days) at which the curve of everyone together may stop for viewers, latest
    first: the ends of its grid that meet the horizon rule of :func:`survival_release`."""
    values, happened = _times(durations, events)
    pooled = _pooled_grid(values, happened, min_size)
    everyone = [np.ones(len(values), dtype=bool)]
    return [
        h for h in reversed(pooled) if _grid(values, happened, everyone, min_size, pooled, h)[1]
    ]


def _times(durations: pd.Series, events: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # a time of 0 leaves in the first interval
    return durations.astype(float).clip(lower=0.5).to_numpy(), events.to_numpy().astype(bool)


def _pooled_grid(values: np.ndarray, happened: np.ndarray, k: int) -> list[float]:
    months = int(np.ceil(values.max() / GRID_DAYS)) if len(values) else 0
    months_ends = [m * GRID_DAYS for m in range(1, months + 1)]
    return _grid(values, happened, [np.ones(len(values), dtype=bool)], k, months_ends)[0] or []


def survival_release(
    durations: pd.Series,
    events: pd.Series,
    strata: dict[str, pd.Series],
    *,
    min_size: int,
    language: str = "nl",
    horizon: float | None = None,
) -> SurvivalRelease:
    """Coarsen survival data so that every curve a viewer can draw rests on groups of at least
    ``min_size``.

    First a grid for everyone together: ends of whole months, joined until each interval holds
    no one or at least ``min_size`` events, and no one or at least ``min_size`` censorings.
    Each stratification then takes the ends of that grid at which every one of its strata
    also loses no one or at least ``min_size`` (strata under twice the minimum, or that leave
    no step at all, are merged into "Overige"). Every grid is part of the first, so even all
    of them together divide everyone only into intervals of no one or at least ``min_size``
    people. Each stratification's curves stop at one horizon: the last end where each of them
    still has ``min_size`` at risk (for everyone together ``horizon`` when given, an end of
    :func:`pooled_horizons`).
    """
    values, happened = _times(durations, events)
    everyone = np.ones(len(values), dtype=bool)
    pooled = _pooled_grid(values, happened, min_size)
    if horizon is None:
        allowed = pooled_horizons(durations, events, min_size=min_size)
        horizon = allowed[0] if allowed else 0.0
    all_label = pd.Series("__all__", index=durations.index, dtype=object)
    curves: dict[str, ReleasedCurves] = {}
    for by, raw in {"none": all_label, **strata}.items():
        # a stratum needs twice the minimum to show one step and still have enough at risk
        labels = merge_small_strata(raw, 2 * min_size, language) if by != "none" else raw
        groups = [everyone, *_groups(labels)]
        stop = horizon if by == "none" else None
        grid, found = _grid(values, happened, groups, min_size, pooled, stop)
        while labels.nunique() > 1 and found == 0:
            sizes = labels.value_counts()
            labels = labels.where(~labels.isin(sizes.index[-2:]), OTHER_STRATUM[language])
            groups = [everyone, *_groups(labels)]
            grid, found = _grid(values, happened, groups, min_size, pooled, stop)
        if by != "none" and labels.nunique() == 1:
            # one stratum is everyone together: the same curve, not a second one to compare
            everyone_label = pd.Series(EVERYONE_STRATUM[language], index=labels.index, dtype=object)
            curves[by] = replace(curves["none"], strata=everyone_label)
            continue
        ends = np.array([0.0, *grid])
        within = values <= found
        position = np.minimum(np.searchsorted(ends, values, side="left"), len(ends) - 1)
        curves[by] = ReleasedCurves(
            durations=pd.Series(np.where(within, ends[position], found), index=durations.index),
            events=pd.Series(np.where(within, events.to_numpy(), 0), index=events.index),
            strata=labels,
            grid=[float(b) for b in grid],
            horizon=float(found),
        )
    return SurvivalRelease(curves, min_size)


# --------------------------------------------------------------------------------------------
# Data-quality tables for viewers


def protect_timeliness(table: pd.DataFrame, completion: pd.DataFrame) -> pd.DataFrame:
    """The timeliness table (wave, respondent, responded, on_time, late, late_share,
    median_days_after_due, missing) with the counts of the viewer's monitor release.

    The same forms are counted on the monitor; protected twice, with different hidden cells,
    the two tables together would show what each hides. So the counts here are the release's
    (``completion``: wave, respondent, on_time, late, missing; NaN hidden), ``responded`` and
    ``late_share`` are shown only where on_time and late both are, the median delay only where
    late is.
    """
    if table.empty:
        return table
    counts = ["on_time", "late", "missing"]
    released = completion.set_index(["wave", "respondent"])[counts]
    out = table.reset_index(drop=True).copy()
    keys = list(zip(out["wave"], out["respondent"], strict=True))
    cells = released.reindex(pd.MultiIndex.from_tuples(keys)).reset_index(drop=True)
    out[counts] = cells.to_numpy(dtype=float)
    both = cells["on_time"].notna() & cells["late"].notna()
    out["responded"] = out["responded"].astype(float).where(both)
    out["late_share"] = out["late_share"].astype(float).where(both)
    out["median_days_after_due"] = out["median_days_after_due"].astype(float).where(both)
    return out


def protect_missingness(table: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """The missing-per-item table for viewers: only ``missing_share``, and only where the
    unanswered and the answered group each hold nobody or at least ``min_size`` people (then
    multiplying the share by a response count shown elsewhere gives no small group either).

    Returns
    -------
    DataFrame
        instrument_id, wave, item_id, missing_share (NaN: hidden).
    """
    if table.empty:
        return table[["instrument_id", "wave", "item_id", "missing_share"]]
    missing, answered = table["missing"], table["answered"]

    def safe(n: pd.Series) -> pd.Series:
        return (n == 0) | (n >= min_size)

    keep = safe(missing) & safe(answered) & (table["responses"] >= min_size)
    out = table[["instrument_id", "wave", "item_id"]].copy()
    out["missing_share"] = table["missing_share"].astype(float).where(keep)
    return out


def protect_alpha(table: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """The reliability table for viewers: alpha (to two decimals) where at least ``min_size``
    people answered the scale, hidden elsewhere. The exact n and the interval are left out:
    Feldt's interval gives n back, and n beside a response count gives the people who
    skipped items.

    Returns
    -------
    DataFrame
        ``table`` with ``n``, ``lower`` and ``upper`` hidden (NaN); alpha NaN where hidden.
    """
    out = table.copy()
    small = table["n"] < min_size
    out["alpha"] = out["alpha"].astype(float).round(2).where(~small)
    for col in ("n", "lower", "upper"):
        if col in out:
            out[col] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# Counts beside a model or in a footnote


def viewer_count(n: int, min_size: int) -> str:
    """A count beside a statistic as a viewer sees it: rounded to a multiple of ``min_size``
    ("≈ 140"), so that two such counts, or one and an exact table total, never differ by a
    known small group; hidden below ``min_size``."""
    if min_size <= 1:
        return str(n)
    if n < min_size:
        return HIDDEN_MARK
    return f"≈ {int(min_size * round(n / min_size))}"


def viewer_follow_up(marked: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """Per signal, what a viewer may know of how often it fired and was seen.

    ``marked`` holds one row per firing: signal, trajectory_id, fired_on and seen_day (NaT when
    not seen). The clients a signal fired for, and those of whom one firing was seen, are
    rounded to a multiple of ``min_size`` and hidden under it (:func:`viewer_count`); the share
    seen (to the nearest 10%, so that it gives no exact count back beside a rounded one) and
    the median days to seen only when both the seen and the unseen clients number ``min_size``
    or more, so that neither group can be a small one.

    Returns
    -------
    DataFrame
        signal, clients (text), seen (text), share (float or NaN), days (float or NaN).
    """
    rows = []
    for name, g in marked.groupby("signal", sort=False):
        per_client = g.groupby("trajectory_id")["seen_day"].apply(lambda d: d.notna().any())
        n, n_seen = len(per_client), int(per_client.sum())
        safe = n_seen >= min_size and n - n_seen >= min_size
        days = (g["seen_day"] - g["fired_on"]).dt.days.median() if safe else float("nan")
        rows.append((
            name, viewer_count(n, min_size),
            viewer_count(n_seen, min_size) if safe else HIDDEN_MARK,
            round(n_seen / n, 1) if safe else float("nan"), float(days),
        ))  # fmt: skip
    return pd.DataFrame(rows, columns=["signal", "clients", "seen", "share", "days"])


def viewer_cost_benefit(
    summary: pd.DataFrame, *, n: int, arm_n: int, comparison: str | None, min_size: int
) -> tuple[pd.DataFrame | None, bool]:
    """What a viewer may see of the cost-benefit analysis: the summary with its number of
    trajectories rounded, and whether the balance may be shown; (None, False) when nothing may
    be shown.

    Nothing is shown for fewer than ``min_size`` trajectories, nor against a comparison arm of
    fewer than ``min_size`` (``comparison`` is the kind asked for), whether that arm is empty or
    small, so that the answer never tells the two apart: the arm's means would be those of a
    small group, and the summary without the arm minus the summary with it (no comparison)
    would be too. The means, intervals and balance shown are of groups of ``min_size`` or more.
    """
    if n < min_size or (comparison == "arm" and arm_n < min_size):
        return None, False
    shown = summary.astype(object)
    shown.loc[shown["measure"] == "n", "value"] = viewer_count(n, min_size)
    return shown, True


VIEWER_REFUSAL = {
    "nl": "{analysis}: niet te schatten, te weinig gegevens voor de regel van deze analyse.",
    "en": "{analysis}: not estimated, too little data for this analysis's rule.",
}


def viewer_refusal(analysis: str, language: str) -> str:
    """Why there is no estimate, for a viewer: the rule's counts would be exact counts."""
    text = VIEWER_REFUSAL.get(language, VIEWER_REFUSAL["nl"]).format(analysis=analysis)
    return text[:1].upper() + text[1:]


def coarse_means(values: Sequence[float] | np.ndarray) -> list[float]:
    """Means and interval half-widths as a viewer receives them: two decimals, so that no
    exact fraction (a sum over a count) gives the count back."""
    return [round(float(v), 2) if v == v else float("nan") for v in values]
