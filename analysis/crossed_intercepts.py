"""Profiled (RE)ML for random intercepts of crossed (and nested) grouping factors.

lme4's ``y ~ x + (1 | jobcoach) + (1 | employer)``: employees share employers across jobcoaches,
so neither factor is nested in the other and the marginal covariance is no longer block
diagonal. lme4's penalised least squares formulation is used: with ``Z = [Z_1 ... Z_k]`` the
indicator matrices of the factors and ``Λ = diag(θ_l)`` (each factor's standard deviation
relative to the residual one, repeated over its levels), the profiled deviance needs
``log|Λ'Z'ZΛ + I|`` and ``A'H⁻¹A = A'A - A'ZΛ (Λ'Z'ZΛ + I)⁻¹ Λ'Z'A`` for ``A = [X y]``.

Each ``Z_l'Z_l`` is diagonal, so the factor with the most levels (employees, say) is eliminated
in closed form and only the Schur complement over the other factors' levels (jobcoaches plus
employers) is factorised: densely (Cholesky) up to :data:`DENSE_LIMIT` levels, sparsely (SuperLU)
above. Everything that does not depend on ``θ`` (``A'A``, ``Z'A``, the cross-counts ``Z_l'Z_m``)
is computed once. The optimizers, the convergence check and the Newton polish are those of
:mod:`analysis.nested_intercepts`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg, sparse
from scipy.sparse import linalg as sparse_linalg

from analysis import nested_intercepts
from analysis.nested_intercepts import NestedFit

__all__ = ["DENSE_LIMIT", "CrossedProblem", "fit_crossed", "problem"]

DENSE_LIMIT = 2500
"""Levels of the factors besides the largest up to which the Schur complement is dense."""


def _indicator(code: np.ndarray, levels: int) -> sparse.csr_matrix:
    n = len(code)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), code)), shape=(n, levels))


class CrossedProblem:
    """The theta-free sums of a random-intercept model with any grouping factors.

    Parameters
    ----------
    design : ndarray
        Fixed-effects design ``X`` (n x p).
    response : ndarray
        ``y`` (n).
    codes : sequence of ndarray
        Per factor, each observation's level as an integer 0..levels-1.
    """

    def __init__(
        self, design: np.ndarray, response: np.ndarray, codes: Sequence[np.ndarray]
    ) -> None:
        if not codes:
            raise ValueError("at least one grouping factor is needed")
        data = np.column_stack([np.asarray(design, dtype=float), np.asarray(response, dtype=float)])
        arrays = [np.asarray(code, dtype=np.int64) for code in codes]
        self.n_obs, self.n_fixed = data.shape[0], data.shape[1] - 1
        self.n_units = tuple(int(code.max()) + 1 if len(code) else 0 for code in arrays)
        self.gram = data.T @ data
        # the factor with most levels is eliminated in closed form
        self.order = np.argsort([-n for n in self.n_units], kind="stable")
        first = int(self.order[0])
        z0 = _indicator(arrays[first], self.n_units[first])
        self.counts0 = np.asarray(z0.sum(axis=0)).ravel()
        self.sums0 = np.asarray(z0.T @ data)
        rest = [int(i) for i in self.order[1:]]
        self.rest = rest
        if rest:
            zr = sparse.hstack([_indicator(arrays[i], self.n_units[i]) for i in rest], format="csr")
            self.cross = (zr.T @ z0).tocsr()  # rest levels x first levels
            self.rest_gram = (zr.T @ zr).tocsr()
            self.rest_sums = np.asarray(zr.T @ data)
            self.rest_sizes = [self.n_units[i] for i in rest]

    @property
    def n_theta(self) -> int:
        """Relative standard deviations to estimate: one per factor."""
        return len(self.n_units)

    def forms(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """``A'H⁻¹A`` and ``log|H|`` at ``theta`` (one value per factor, in the given order)."""
        theta = np.asarray(theta, dtype=float)
        t0 = float(theta[self.order[0]])
        d0 = 1.0 + t0**2 * self.counts0
        scaled0 = self.sums0 * (t0 / np.sqrt(d0))[:, None]
        reduced = self.gram - scaled0.T @ scaled0
        logdet = float(np.log(d0).sum())
        if not self.rest:
            return reduced, logdet
        t_rest = np.repeat(theta[self.rest], self.rest_sizes)
        weighted = self.cross @ sparse.diags(1.0 / d0)  # N_r0 D0⁻¹
        inner = self.rest_gram - t0**2 * (weighted @ self.cross.T)
        rhs = t_rest[:, None] * (self.rest_sums - t0**2 * (weighted @ self.sums0))
        size = len(t_rest)
        if size <= DENSE_LIMIT:
            schur = t_rest[:, None] * inner.toarray() * t_rest[None, :] + np.eye(size)
            chol = linalg.cho_factor(schur, lower=True, check_finite=False)
            solved = linalg.cho_solve(chol, rhs, check_finite=False)
            logdet += 2.0 * float(np.log(np.diag(chol[0])).sum())
        else:
            scale = sparse.diags(t_rest)
            schur = (scale @ inner @ scale + sparse.identity(size)).tocsc()
            lu = sparse_linalg.splu(
                schur, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )  # fmt: skip
            solved = lu.solve(rhs)
            # the matrix is positive definite: |det| is the product of U's diagonal
            logdet += float(np.log(np.abs(lu.U.diagonal())).sum())
        return reduced - rhs.T @ solved, logdet


def problem(
    design: np.ndarray, response: np.ndarray, codes: Sequence[np.ndarray]
) -> CrossedProblem:
    """The theta-free sums for :func:`analysis.nested_intercepts.fit_problem` and ``polish``."""
    return CrossedProblem(design, response, codes)


def fit_crossed(
    design: np.ndarray,
    response: np.ndarray,
    codes: Sequence[np.ndarray],
    *,
    reml: bool = True,
    methods: Sequence[str] = ("lbfgs", "bfgs", "cg"),
) -> list[NestedFit]:
    """Fit random intercepts for every factor in ``codes`` with each optimizer in ``methods``.

    Returns one :class:`~analysis.nested_intercepts.NestedFit` per optimizer, in order;
    ``theta`` follows the order of ``codes``.
    """
    return nested_intercepts.fit_problem(
        CrossedProblem(design, response, codes), reml=reml, methods=methods
    )
