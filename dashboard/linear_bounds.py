"""The smallest and largest value a sum of unknowns can take under equations, as a viewer
who solves everything shown would find them.

One HiGHS model per system of equations, solved again for each sum with a new objective
(HiGHS starts from the previous basis), which is several times faster than a fresh
``scipy.optimize.linprog`` per bound; the disclosure checks solve thousands of them.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

#: how many solutions :meth:`LinearBounds.within` keeps to answer from
MAX_WITNESSES = 256


class LinearBounds:
    """Bounds of sums of non-negative unknowns ``x`` with ``a @ x == b``.

    Raises
    ------
    ValueError
        When the equations have no non-negative solution (the shown numbers do not add up).
    """

    def __init__(self, a: np.ndarray | sp.spmatrix, b: np.ndarray) -> None:
        matrix = sp.csc_matrix(a, dtype=float)
        self.n = matrix.shape[1]
        self._highs = highspy.Highs()
        self._highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, matrix.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n)
        lp.col_upper_ = np.full(self.n, highspy.kHighsInf)
        rhs = np.asarray(b, dtype=float)
        lp.row_lower_, lp.row_upper_ = rhs, rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self._highs.passModel(lp)
        self._columns = np.arange(self.n, dtype=np.int32)
        #: solutions found so far: each is a witness that a sum can take its value there
        self._seen: list[np.ndarray] = []
        if self._solve(np.zeros(self.n), highspy.ObjSense.kMinimize) is None:
            raise ValueError("the shown numbers do not add up")

    def _solve(self, cost: np.ndarray, sense: highspy.ObjSense) -> float | None:
        self._highs.changeColsCost(self.n, self._columns, cost)
        self._highs.changeObjectiveSense(sense)
        self._highs.run()
        if self._highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            if len(self._seen) < MAX_WITNESSES:
                self._seen.append(np.asarray(self._highs.getSolution().col_value))
            return float(self._highs.getInfo().objective_function_value)
        return None  # infeasible, or unbounded (only a maximum can be)

    def _cost(self, unknowns: np.ndarray | list[int]) -> np.ndarray:
        cost = np.zeros(self.n)
        cost[np.asarray(unknowns, dtype=int)] = 1.0
        return cost

    def lowest(self, unknowns: np.ndarray | list[int]) -> float:
        """The smallest value of the sum of ``unknowns``."""
        found = self._solve(self._cost(unknowns), highspy.ObjSense.kMinimize)
        return 0.0 if found is None else found

    def within(self, unknowns: np.ndarray | list[int], low: float, high: float) -> bool:
        """Whether the sum of ``unknowns`` is at least ``low`` and below ``high`` in every
        solution. A solution found for an earlier sum that already falls outside answers
        without solving, which spares most of the solves when many sums are checked."""
        columns = np.asarray(unknowns, dtype=int)
        if self._seen:
            sums = np.stack(self._seen)[:, columns].sum(axis=1)
            if (sums < low).any() or (sums >= high).any():
                return False
        return self.lowest(columns) >= low and self.highest(columns) < high

    def highest(self, unknowns: np.ndarray | list[int]) -> float:
        """The largest value of the sum of ``unknowns`` (``inf`` when unbounded)."""
        found = self._solve(self._cost(unknowns), highspy.ObjSense.kMaximize)
        return np.inf if found is None else found
