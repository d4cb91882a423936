"""Disclosure control: no shown or derivable cell of fewer than the minimum number of people."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from dashboard.disclosure import protect_counts, survival_release

K = 10


def _bounds(full: np.ndarray, hidden: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """What an attacker can work out: the range of every hidden number given the shown ones."""
    n_rows, n_cols = full.shape[0] - 1, full.shape[1] - 1
    unknown = [tuple(p) for p in np.argwhere(hidden)]
    index = {p: i for i, p in enumerate(unknown)}
    eqs, rhs = [], []
    lines = [([(i, j) for j in range(n_cols)], (i, n_cols)) for i in range(n_rows + 1)]
    lines += [([(i, j) for i in range(n_rows)], (n_rows, j)) for j in range(n_cols + 1)]
    for cells, total in lines:
        row = np.zeros(len(unknown))
        b = 0.0
        for c in cells:
            if hidden[c]:
                row[index[c]] += 1
            else:
                b -= full[c]
        if hidden[total]:
            row[index[total]] -= 1
        else:
            b += full[total]
        eqs.append(row)
        rhs.append(b)
    out = {}
    for p in unknown:
        c = np.zeros(len(unknown))
        c[index[p]] = 1
        lo = linprog(c, A_eq=np.array(eqs), b_eq=np.array(rhs), bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=np.array(eqs), b_eq=np.array(rhs), bounds=(0, None), method="highs")
        out[p] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)  # 3: unbounded
    return out


def _full(result) -> tuple[np.ndarray, np.ndarray]:
    table = result.with_totals().to_numpy(dtype=float)
    return table, np.isnan(table)


tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 5).flatmap(
        lambda c: st.lists(
            st.lists(st.one_of(st.integers(0, 12), st.integers(0, 60)), min_size=c, max_size=c),
            min_size=r,
            max_size=r,
        )
    )
)


@settings(max_examples=400, deadline=None)
@given(tables)
def test_no_small_number_is_shown_or_derivable(rows: list[list[int]]) -> None:
    counts = pd.DataFrame(rows)
    original = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1))
    original[:-1, :-1] = counts.to_numpy()
    original[:-1, -1] = counts.sum(axis=1)
    original[-1, :-1] = counts.sum(axis=0)
    original[-1, -1] = counts.to_numpy().sum()
    shown, hidden = _full(protect_counts(counts, K))
    # every shown number is the true one, and none is a small group
    assert np.allclose(shown[~hidden], original[~hidden])
    assert not ((shown[~hidden] > 0) & (shown[~hidden] < K)).any()
    # no hidden small group can be pinned down from the shown ones (a hidden zero that can be
    # worked out reveals nobody, so it only matters through the cells it would narrow)
    for (i, j), (lo, hi) in _bounds(original, hidden).items():
        if 0 < original[i, j] < K:
            assert hi - lo > 0.5, f"cell {(i, j)} = {original[i, j]} is derivable"
            assert lo < 1 or hi >= K, f"cell {(i, j)} is known to be a small group"


def test_a_single_small_cell_takes_a_partner_in_its_row_and_column() -> None:
    counts = pd.DataFrame([[3, 20, 30], [25, 40, 50]], columns=["a", "b", "c"])
    result = protect_counts(counts, K)
    assert np.isnan(result.cells.loc[0, "a"])
    assert result.cells.loc[0].isna().sum() >= 2
    assert result.cells["a"].isna().sum() >= 2
    assert result.grand_total == 168


def test_no_suppression_without_a_minimum() -> None:
    counts = pd.DataFrame([[1, 2], [3, 4]])
    result = protect_counts(counts, 0)
    assert result.cells.to_numpy().tolist() == [[1, 2], [3, 4]]
    assert result.grand_total == 10


def test_counts_beside_a_statistic_are_rounded_for_viewers() -> None:
    from dashboard.disclosure import HIDDEN_MARK, viewer_count

    assert viewer_count(138, 10) == "≈ 140"
    assert viewer_count(133, 10) == "≈ 130"
    assert viewer_count(9, 10) == HIDDEN_MARK
    assert viewer_count(9, 0) == "9"


def test_survival_curves_stop_where_what_follows_them_is_a_small_group() -> None:
    # 30 people followed 400 days; 3 lose their job at day 380. The monitor counts every job
    # loss to date, so a curve ending before day 380 would tell that 3 lost it later.
    durations = pd.Series([400.0] * 27 + [380.0] * 3)
    events = pd.Series([0] * 27 + [1] * 3)
    release = survival_release(durations, events, {}, min_size=10)
    curves = release.curves["none"]
    assert curves.horizon == 0.0
    # with 10 late job losses, a curve may stop before them: 0 or >= 10 follow
    durations = pd.Series([400.0] * 20 + [380.0] * 10)
    events = pd.Series([0] * 20 + [1] * 10)
    curves = survival_release(durations, events, {}, min_size=10).curves["none"]
    assert curves.horizon > 0
    after = durations > curves.horizon
    for n in (int((after & (events == 1)).sum()), int((after & (events == 0)).sum())):
        assert n == 0 or n >= 10
