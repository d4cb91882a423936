"""Disclosure control for viewers: no cell of fewer than ``min_size`` people, shown or derivable.

Pure functions on DataFrames. Viewers (aggregates only) get every table through these; researchers
and jobcoaches see the numbers as they are (``min_size_for`` returns 0 for them).

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

Groups tables (one row per group with a count and statistics) use :func:`protect_groups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from study.vocab import Role

SUPPRESSED_LABEL = {"nl": "< {k}", "en": "< {k}"}


def min_size_for(role: str | Role, study_min_cell_size: int) -> int:
    """The smallest cell ``role`` may see: the study's minimum for viewers, 0 (no limit) otherwise."""
    return int(study_min_cell_size) if str(role) == Role.VIEWER.value else 0


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
    values = counts.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    rows, cols = values.sum(axis=1), values.sum(axis=0)
    grand = float(values.sum())
    if min_size <= 1:
        return ProtectedCounts(
            counts.astype(float),
            pd.Series(rows, index=counts.index),
            pd.Series(cols, index=counts.columns),
            grand,
        )
    k = min_size
    # One matrix with margins: the last column holds row totals, the last row column totals.
    full = np.zeros((n_rows + 1, n_cols + 1))
    full[:n_rows, :n_cols] = values
    full[:n_rows, n_cols] = rows
    full[n_rows, :n_cols] = cols
    full[n_rows, n_cols] = grand
    hidden = np.vectorize(lambda v: _is_small(v, k))(full).astype(bool)

    while True:
        changed = _complete_lines(full, hidden, k)
        changed |= _break_exposed(full, hidden, k)
        if not changed:
            break

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
    a, b = np.array(a_eq), np.array(b_eq)
    bounds: dict[tuple[int, int], tuple[float, float]] = {}
    for p in unknown:
        c = np.zeros(len(unknown))
        c[index[p]] = 1
        low = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        hi = -high.fun if high.status == 0 else np.inf  # unbounded above: nothing to learn
        bounds[p] = (low.fun if low.status == 0 else 0.0, hi)
    return bounds


def _exposed(value: float, lo: float, hi: float, k: int) -> bool:
    """Whether a hidden cell gives away a person: pinned to its value, or known to be a small
    group (counts are whole numbers, so any positive lower bound means at least one person)."""
    if value > 0 and hi - lo < 0.5:
        return True
    return _is_small(value, k) and lo > 1e-9 and hi < k - 1e-9


def _break_exposed(full: np.ndarray, hidden: np.ndarray, k: int) -> bool:
    """Rule 3: while a hidden cell is exposed, hide its smallest shown neighbour, else the totals
    of its lines, else everything but a safe grand total. True if anything was suppressed."""
    n_rows, n_cols = full.shape[0] - 1, full.shape[1] - 1
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
            return True
        totals = [q for q in ((i, n_cols), (n_rows, j)) if not hidden[q]]
        if totals:
            for q in totals:
                hidden[q] = True
            return True
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
        return False
    return False


def protect_groups(
    table: pd.DataFrame,
    *,
    n_col: str,
    min_size: int,
    value_cols: Sequence[str] | None = None,
    total_shown: bool = True,
) -> pd.DataFrame:
    """Blank every statistic of a group with fewer than ``min_size`` people.

    With ``total_shown`` (a total or overall statistic is displayed next to the groups), the
    suppressed groups together must hold at least ``min_size`` people, or one more group (the
    smallest shown) is suppressed, so a hidden group cannot be found by subtraction.

    Returns
    -------
    DataFrame
        ``table`` with ``n_col`` and ``value_cols`` (default: every other numeric column) set to
        NaN in suppressed rows, and a boolean column ``suppressed``.
    """
    out = table.copy()
    if value_cols is None:
        value_cols = [
            c for c in out.columns if c != n_col and pd.api.types.is_numeric_dtype(out[c])
        ]
    n = out[n_col].astype(float)
    hide = (n > 0) & (n < min_size) if min_size > 1 else pd.Series(False, index=out.index)
    if total_shown and min_size > 1:
        while hide.any() and (hide.sum() == 1 or n[hide].sum() < min_size):
            rest = n[~hide & (n > 0)]
            if rest.empty:
                break
            hide[rest.idxmin()] = True
    cols = [n_col, *value_cols]
    out[cols] = out[cols].astype(float)
    out.loc[hide, cols] = np.nan
    out["suppressed"] = hide.to_numpy()
    return out


def too_small(n_people: int, min_size: int) -> bool:
    """Whether a whole selection is too small to show anything about it."""
    return min_size > 1 and n_people < min_size
