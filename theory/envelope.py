"""Fit an (L0, L1) upper envelope L0 + L1*g to measured (gradient norm, local smoothness) pairs.

ZHSJ-Def1: f is (L0,L1)-smooth if ||Hess f(x)|| <= L0 + L1*||grad f(x)||.  Given samples (g_i, L_i) of gradient
norm and estimated local smoothness along a trajectory, this module finds the smallest line L0 + L1*g, with
L0, L1 >= 0, lying above a chosen fraction of the samples, by linear programming.  Pure numpy/scipy.
"""
import numpy as np
from scipy import sparse
from scipy.optimize import linprog


def _as_sample(name, values):
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional sequence, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values")
    if np.any(array < 0):
        raise ValueError(f"{name} must be nonnegative")
    return array


def fit_envelope(grad_norms, smoothness, quantile=1.0):
    """Smallest (L0, L1) >= 0 with L0 + L1*g above `quantile` of the points (g_i, smoothness_i) (ZHSJ-Def1).

    "Smallest" means: the least mean height sum_i (L0 + L1*g_i)/n over the observed gradient norms.
    - quantile = 1: the line covers every point; the linear programme is
      minimise L0 + L1*mean(g)  subject to  L0 + L1*g_i >= smoothness_i,  L0, L1 >= 0.
    - 0 < quantile < 1: linear quantile regression with L0, L1 >= 0 (minimise the pinball loss
      sum_i quantile*(above_i) + (1 - quantile)*(below_i)); at most a fraction 1 - quantile of the points lies
      strictly above the line.  As quantile -> 1 the pinball loss becomes the covering programme above.
    Returns (L0, L1) as floats, exact up to the LP solver's tolerance (about 1e-9 relative).
    Raises ValueError naming the argument for non-finite or negative data, unequal lengths, fewer than 2 points,
    or quantile outside (0, 1].
    """
    g = _as_sample("grad_norms", grad_norms)
    y = _as_sample("smoothness", smoothness)
    if g.size != y.size:
        raise ValueError(f"grad_norms and smoothness must have the same length, got {g.size} and {y.size}")
    if g.size < 2:
        raise ValueError(f"grad_norms needs at least 2 points, got {g.size}")
    if not (0.0 < quantile <= 1.0):
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")

    # Rescale both axes to [0, 1] so the solver's absolute tolerances mean the same thing at every scale.
    g_scale = g.max() if g.max() > 0 else 1.0
    y_scale = y.max() if y.max() > 0 else 1.0
    a, b = (_covering_lp if quantile == 1.0 else _quantile_lp)(g / g_scale, y / y_scale, quantile)
    return float(a * y_scale), float(b * y_scale / g_scale)


def _covering_lp(g, y, _quantile):
    n = g.size
    result = linprog(
        c=[1.0, g.mean()],
        A_ub=-np.column_stack([np.ones(n), g]),
        b_ub=-y,
        bounds=[(0, None), (0, None)],
        method="highs",
    )
    _check(result)
    return result.x


def _quantile_lp(g, y, quantile):
    # variables [a, b, above_1..n, below_1..n] with a + b*g_i + above_i - below_i = y_i, where above_i >= 0 is
    # how far point i lies above the line (weight quantile) and below_i how far below it (weight 1 - quantile)
    n = g.size
    eye = sparse.identity(n, format="csr")  # sparse: a dense n x 2n matrix would not fit for long runs
    result = linprog(
        c=np.concatenate([[0.0, 0.0], np.full(n, quantile), np.full(n, 1.0 - quantile)]),
        A_eq=sparse.hstack([sparse.csr_matrix(np.column_stack([np.ones(n), g])), eye, -eye], format="csr"),
        b_eq=y,
        bounds=[(0, None)] * (2 + 2 * n),
        method="highs",
    )
    _check(result)
    return result.x[:2]


def _check(result):
    if result.status != 0:  # cannot happen for these feasible, bounded programmes; guard against solver failure
        raise RuntimeError(f"envelope linear programme failed: {result.message}")
