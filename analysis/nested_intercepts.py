"""Profiled (RE)ML for linear models whose random part is nested random intercepts.

lme4's ``y ~ x + (1 | coach/employee)`` (and ``(1 | coach)``): every level adds one variance.
For this structure the marginal covariance of the observations in one top-level unit is a
nest of compound-symmetric blocks, so its inverse and determinant follow from Woodbury's
identity applied level by level, innermost first. Every quantity the profiled likelihood needs
(``X'V⁻¹X``, ``X'V⁻¹y``, ``y'V⁻¹y``, ``log|V|``) is then a handful of grouped sums, linear in the
number of observations and independent of how many units there are. statsmodels' general
MixedLM loops over top-level groups in Python, which takes minutes to hours with tens of
thousands of jobcoaches; this takes well under a second per likelihood evaluation at a
million rows.

The parametrisation is lme4's: ``theta`` holds each level's standard deviation relative to the
residual one; the residual variance and the fixed effects are profiled out. The objective is
minimised over ``theta`` with several optimizers and the best converged fit is kept; Newton
steps on the profiled objective then polish it (:func:`polish`), so that the variances agree
with lme4's to many digits and the likelihood is never below its.

The optimizer loop (:func:`fit_problem`), the convergence check and the polish take any problem
with a ``forms(theta)`` method returning ``A'H⁻¹A`` and ``log|H|``; crossed random intercepts
(:mod:`analysis.crossed_intercepts`) use them too.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

__all__ = ["NestedFit", "Structure", "fit_nested", "fit_problem", "polish", "problem", "structure"]

# scipy names for the optimizer names mixed.fit speaks
SCIPY_METHODS = {
    "lbfgs": "L-BFGS-B",
    "bfgs": "BFGS",
    "cg": "CG",
    "powell": "Powell",
    "nm": "Nelder-Mead",
}
OPTIONS: dict[str, dict[str, object]] = {
    "L-BFGS-B": {"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    "BFGS": {"maxiter": 2000, "gtol": 1e-7},
    "CG": {"maxiter": 2000, "gtol": 1e-7},
    "Powell": {"maxiter": 20000, "xtol": 1e-10, "ftol": 1e-14},
    "Nelder-Mead": {"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-12},
}
_LOG_2PI = float(np.log(2 * np.pi))
POLISH_STEPS = 30
"""Newton steps at most in :func:`polish` (0 switches the polish off)."""


@dataclass(frozen=True)
class Structure:
    """The nesting of observations in units, outermost level first.

    ``members[l]`` is the sparse 0/1 matrix that sums the units of level ``l + 1`` (the
    observations, for the innermost level) into the units of level ``l``.
    """

    n_units: tuple[int, ...]
    members: tuple[sparse.csr_matrix, ...]


@dataclass(frozen=True)
class NestedFit:
    """One optimizer's fit: estimates, their covariance and the likelihood."""

    method: str
    converged: bool
    message: str
    theta: np.ndarray
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float
    loglik: float


def structure(codes: Sequence[np.ndarray]) -> Structure:
    """Build the nesting from integer unit codes (0..n-1) per observation, outermost first.

    Each inner level's code must identify the unit together with the levels above it (the
    code of the (coach, employee) pair, not of the employee alone), so every unit has exactly
    one parent.
    """
    if not codes:
        raise ValueError("at least one grouping level is needed")
    arrays = [np.asarray(code, dtype=np.int64) for code in codes]
    n_units = tuple(int(code.max()) + 1 if len(code) else 0 for code in arrays)
    members: list[sparse.csr_matrix] = []
    for level, code in enumerate(arrays):
        if level == len(arrays) - 1:
            rows, n_below = code, len(code)
        else:
            # the parent of every unit one level down, read off any of its observations
            rows = np.zeros(n_units[level + 1], dtype=np.int64)
            rows[arrays[level + 1]] = code
            n_below = n_units[level + 1]
        members.append(
            sparse.csr_matrix(
                (np.ones(n_below), (rows, np.arange(n_below))), shape=(n_units[level], n_below)
            )
        )
    return Structure(n_units=n_units, members=tuple(members))


@dataclass(frozen=True)
class _Problem:
    """What the likelihood needs that does not depend on theta, computed once per fit."""

    nest: Structure
    gram: np.ndarray  # A'A for A = [X y]
    inner_sums: np.ndarray  # A summed per innermost unit
    inner_sizes: np.ndarray  # observations per innermost unit
    n_obs: int
    n_fixed: int

    @property
    def n_theta(self) -> int:
        """Relative standard deviations to estimate: one per level."""
        return len(self.nest.members)

    def forms(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """``A'H⁻¹A`` and ``log|H|`` at ``theta``."""
        return _quadratic_forms(theta, self)


def problem(design: np.ndarray, response: np.ndarray, nest: Structure) -> _Problem:
    """The theta-free sums of a nested random-intercept model, for :func:`fit_problem`."""
    return _problem(design, response, nest)


def _problem(design: np.ndarray, response: np.ndarray, nest: Structure) -> _Problem:
    data = np.column_stack([np.asarray(design, dtype=float), np.asarray(response, dtype=float)])
    inner = nest.members[-1]
    return _Problem(
        nest=nest,
        gram=data.T @ data,
        inner_sums=np.asarray(inner @ data),
        inner_sizes=np.asarray(inner @ np.ones(data.shape[0])),
        n_obs=data.shape[0],
        n_fixed=data.shape[1] - 1,
    )


def _quadratic_forms(theta: np.ndarray, problem: _Problem) -> tuple[np.ndarray, float]:
    """``A'H⁻¹A`` and ``log|H|`` for ``A = [X y]`` and ``H = V / sigma²``.

    Woodbury per unit ``u`` with variance ratio ``g`` and children summed into ``S = Σ 1'H_c⁻¹A``
    and ``M = Σ 1'H_c⁻¹1``: ``A'H_u⁻¹A = Σ A'H_c⁻¹A - g S'S / (1 + gM)``, ``1'H_u⁻¹A = S / (1 + gM)``,
    ``1'H_u⁻¹1 = M / (1 + gM)``, ``log|H_u| = Σ log|H_c| + log(1 + gM)``.
    """
    gram = problem.gram
    logdet = 0.0
    innermost = len(problem.nest.members) - 1
    sums, sizes = problem.inner_sums, problem.inner_sizes
    for level in range(innermost, -1, -1):
        if level < innermost:  # the innermost sums do not depend on theta: done once
            members = problem.nest.members[level]
            sums, sizes = members @ sums, members @ sizes
        g = float(theta[level]) ** 2
        denom = 1.0 + g * sizes
        weighted = sums * np.sqrt(g / denom)[:, None]
        gram = gram - weighted.T @ weighted
        logdet += float(np.log(denom).sum())
        sums, sizes = sums / denom[:, None], sizes / denom
    return gram, logdet


def _profile(
    theta: np.ndarray, problem: _Problem, reml: bool
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """-2 (RE)ML log-likelihood at ``theta``, with the profiled beta, (X'H⁻¹X)⁻¹ and sigma²."""
    gram, logdet = problem.forms(theta)
    p = problem.n_fixed
    xtx = gram[:p, :p]
    xty = gram[:p, p]
    chol = np.linalg.cholesky(xtx)
    beta = np.linalg.solve(xtx, xty)
    rss = float(gram[p, p] - xty @ beta)
    dof = problem.n_obs - p if reml else problem.n_obs
    sigma2 = rss / dof
    deviance = dof * (_LOG_2PI + np.log(sigma2) + 1.0) + logdet
    if reml:
        deviance += 2.0 * float(np.log(np.diag(chol)).sum())
    return float(deviance), beta, np.linalg.inv(xtx), sigma2


def _objective(theta: np.ndarray, problem: _Problem, reml: bool) -> float:
    try:
        value = _profile(np.abs(theta), problem, reml)[0]
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return np.inf
    return value if np.isfinite(value) else np.inf


def _converged(theta: np.ndarray, problem: _Problem, reml: bool, tol: float = 2e-3) -> bool:
    """lme4's gradient check: the gradient scaled by the Hessian's Cholesky factor is small.

    Parameters at zero (a variance on the boundary) only need the objective to rise away
    from zero and are left out of the scaled check.
    """

    def f(x: np.ndarray) -> float:
        return _objective(x, problem, reml)

    k = len(theta)
    step = 1e-4 * np.maximum(1.0, np.abs(theta))
    base = f(theta)
    if not np.isfinite(base):
        return False
    unit = np.eye(k)
    grad = np.empty(k)
    hess = np.empty((k, k))
    for i in range(k):
        up, down = f(theta + step[i] * unit[i]), f(np.abs(theta - step[i] * unit[i]))
        grad[i] = (up - down) / (2 * step[i])
        hess[i, i] = (up - 2 * base + down) / step[i] ** 2
        for j in range(i):
            pp = f(theta + step[i] * unit[i] + step[j] * unit[j])
            pm = f(np.abs(theta + step[i] * unit[i] - step[j] * unit[j]))
            mp = f(np.abs(theta - step[i] * unit[i] + step[j] * unit[j]))
            mm = f(np.abs(theta - step[i] * unit[i] - step[j] * unit[j]))
            hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * step[i] * step[j])
    inside = theta > step
    for i in np.flatnonzero(~inside):
        # the objective is flat in theta at zero (it depends on theta²): step in the variance
        h = 1e-4
        if (f(theta + np.sqrt(h) * unit[i]) - base) / h < -tol:
            return False
    if not inside.any():
        return True
    g, h = grad[inside], hess[np.ix_(inside, inside)]
    try:
        scaled = np.linalg.solve(np.linalg.cholesky(h).T, g)
    except np.linalg.LinAlgError:
        return False
    return bool(np.max(np.abs(scaled)) < tol)


def _failed(method: str, message: str, theta: np.ndarray) -> NestedFit:
    """An optimizer that ended without estimates (e.g. collinear fixed effects)."""
    return NestedFit(method, False, message, theta, np.array([]), np.empty((0, 0)), np.nan, np.nan)


def fit_nested(
    design: np.ndarray,
    response: np.ndarray,
    nest: Structure,
    *,
    reml: bool = True,
    methods: Sequence[str] = ("lbfgs", "bfgs", "cg"),
) -> list[NestedFit]:
    """Fit the model with each optimizer in ``methods`` from lme4's start (every theta = 1).

    Returns one :class:`NestedFit` per optimizer, in the order given; ``loglik`` is the
    (RE)ML log-likelihood (``-deviance / 2``), ``cov_beta`` the fixed effects' covariance
    ``sigma² (X'V⁻¹X)⁻¹`` as lme4 reports it. A fit without estimates has an empty ``beta``.
    """
    return fit_problem(_problem(design, response, nest), reml=reml, methods=methods)


def _estimate(name: str, converged: bool, message: str, theta: np.ndarray, problem, reml):
    try:
        deviance, beta, xtx_inv, sigma2 = _profile(theta, problem, reml)
    except np.linalg.LinAlgError as exc:
        return _failed(name, str(exc), theta)
    # scipy's own verdict is often "precision loss" at a flat optimum; lme4's check decides
    converged = converged and bool(np.isfinite(deviance)) and _converged(theta, problem, reml)
    return NestedFit(
        method=name,
        converged=converged,
        message=message,
        theta=theta,
        beta=beta,
        cov_beta=sigma2 * xtx_inv,
        sigma2=sigma2,
        loglik=-deviance / 2.0,
    )


def fit_problem(
    problem: object, *, reml: bool = True, methods: Sequence[str] = ("lbfgs", "bfgs", "cg")
) -> list[NestedFit]:
    """Minimise the profiled deviance of ``problem`` with each optimizer, from every theta = 1.

    ``problem`` has ``n_obs``, ``n_fixed``, ``n_theta`` and ``forms(theta)`` (``A'H⁻¹A`` for
    ``A = [X y]`` and ``log|H|``). Returns one :class:`NestedFit` per optimizer, in order.
    """
    k = problem.n_theta
    start = np.ones(k)
    fits: list[NestedFit] = []
    unknown = [name for name in methods if name not in SCIPY_METHODS]
    if unknown:
        raise ValueError(
            f"unknown optimizer {unknown[0]!r}; random-intercept models are fitted with "
            + ", ".join(SCIPY_METHODS)
        )
    for name in methods:
        method = SCIPY_METHODS[name]
        options: dict[str, object] = dict(OPTIONS.get(method, {}))
        # central differences: the objective is O(100..1e6) and forward steps lose the gradient
        jac = "3-point" if method in ("L-BFGS-B", "BFGS", "CG") else None
        bounds = [(0.0, None)] * k if method in ("L-BFGS-B", "Powell", "Nelder-Mead") else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                found = optimize.minimize(
                    _objective,
                    start,
                    args=(problem, reml),
                    method=method,
                    jac=jac,
                    bounds=bounds,
                    options=options,
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                fits.append(_failed(name, str(exc), start))
                continue
        theta = np.abs(np.asarray(found.x, dtype=float))
        fits.append(_estimate(name, True, str(found.message), theta, problem, reml))
    return fits


def _derivatives(f: object, theta: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian of ``f`` in the free coordinates."""
    index = np.flatnonzero(free)
    step = 1e-4 * np.maximum(1.0, np.abs(theta[index]))
    k = len(index)
    base = f(theta)
    grad, hess = np.empty(k), np.empty((k, k))

    def at(*moves: tuple[int, float]) -> float:
        x = theta.copy()
        for i, h in moves:
            x[index[i]] += h
        return f(np.abs(x))

    for i in range(k):
        up, down = at((i, step[i])), at((i, -step[i]))
        grad[i] = (up - down) / (2 * step[i])
        hess[i, i] = (up - 2 * base + down) / step[i] ** 2
        for j in range(i):
            hi, hj = step[i], step[j]
            value = at((i, hi), (j, hj)) - at((i, hi), (j, -hj))
            value += at((i, -hi), (j, -hj)) - at((i, -hi), (j, hj))
            hess[i, j] = hess[j, i] = value / (4 * hi * hj)
    return grad, hess


def polish(fit: NestedFit, problem: object, *, reml: bool = True) -> NestedFit:
    """Newton steps on the profiled deviance from ``fit.theta``, with a halving line search.

    Parameters at zero (a variance on the boundary) stay there; the others move while the
    deviance falls. Returns a fit named ``newton`` (its ``message`` names the start), or
    ``fit`` itself when it has no estimates or :data:`POLISH_STEPS` is 0.
    """
    if POLISH_STEPS <= 0 or fit.beta.size == 0 or not np.isfinite(fit.loglik):
        return fit

    def f(x: np.ndarray) -> float:
        return _objective(x, problem, reml)

    theta = np.asarray(fit.theta, dtype=float).copy()
    best = f(theta)
    if not np.isfinite(best):
        return fit
    for _ in range(POLISH_STEPS):
        free = theta > 1e-7
        if not free.any():
            break
        grad, hess = _derivatives(f, theta, free)
        try:
            np.linalg.cholesky(hess)
            move = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            # not convex here: a gradient step scaled by the curvature's size
            move = -grad / max(float(np.max(np.abs(np.diag(hess)))), 1.0)
        size, improved = 1.0, False
        while size > 1e-6:
            candidate = theta.copy()
            candidate[free] = np.maximum(theta[free] + size * move, 0.0)
            value = f(candidate)
            if value < best:
                improved = True
                break
            size /= 2
        if not improved:
            break
        shift = float(np.max(np.abs(candidate - theta) / np.maximum(1.0, np.abs(theta))))
        theta, best = candidate, value
        if shift < 1e-12:
            break
    return _estimate("newton", True, f"Newton polish from {fit.method}", theta, problem, reml)
