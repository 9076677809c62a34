"""Numba CPU batch runner: GD variants over many instances, each stopping on its own.

The mathematics comes from profiles.py and rules.py, compiled here with njit. fastmath stays off everywhere:
it assumes no NaN/inf (which breaks divergence detection) and may reorder arithmetic, changing iteration counts.
"""
import math

import numba
import numpy as np

from . import profiles, rules
from .result import BUDGET, CONVERGED, DIVERGED

profile = numba.njit(cache=True)(profiles.profile)
step_size = numba.njit(cache=True)(rules.step_size)


@numba.njit(cache=True)
def _run_one_1d(kind, fp, x, rule, rp, eps, max_iter):
    """One instance on the line (signed x). Returns (iterations, status, f, |f'|)."""
    for t in range(max_iter + 1):
        f, d, _ = profile(kind, fp[0], fp[1], fp[2], x)
        g = abs(d)
        if not (math.isfinite(f) and math.isfinite(g)):
            return t, DIVERGED, f, g
        if g <= eps:
            return t, CONVERGED, f, g
        if t == max_iter:
            return t, BUDGET, f, g
        x = x - step_size(rule, rp[0], rp[1], rp[2], g) * d
    return max_iter, BUDGET, math.nan, math.nan  # not reached: the loop returns at t == max_iter


@numba.njit(cache=True)
def _run_one_radial(kind, fp, x, rule, rp, eps, max_iter):
    """One instance of the radial lift f(x) = p(||x||) in R^d; x is a private copy, updated in place."""
    dim = x.shape[0]
    for t in range(max_iter + 1):
        r = 0.0
        for j in range(dim):
            r += x[j] * x[j]
        r = math.sqrt(r)
        f, d, _ = profile(kind, fp[0], fp[1], fp[2], r)
        g = abs(d)
        if not (math.isfinite(f) and math.isfinite(g)):
            return t, DIVERGED, f, g
        if g <= eps:
            return t, CONVERGED, f, g
        if t == max_iter:
            return t, BUDGET, f, g
        # grad f(x) = p'(r) x / r; r > 0 here because g > eps > 0 and every radial profile has p'(0) = 0
        scale = 1.0 - step_size(rule, rp[0], rp[1], rp[2], g) * d / r
        for j in range(dim):
            x[j] *= scale
    return max_iter, BUDGET, math.nan, math.nan  # not reached


@numba.njit(parallel=True, cache=True)
def run_batch(kinds, fparams, x0, rule_ids, rparams, eps, max_iter, order):
    """Run instance i = order[k] for every k. Per instance: family kind and (3,) params, start x0[i] (d = 1:
    signed scalar; d >= 2: radial lift), rule id and (3,) params, eps and budget. `order` interleaves costly
    and cheap instances, since prange splits the index range statically across threads."""
    n, dim = x0.shape
    iters = np.empty(n, np.int64)
    status = np.empty(n, np.int8)
    f_final = np.empty(n)
    g_final = np.empty(n)
    for k in numba.prange(n):
        i = order[k]
        if dim == 1:
            res = _run_one_1d(kinds[i], fparams[i], x0[i, 0], rule_ids[i], rparams[i], eps[i], max_iter[i])
        else:
            res = _run_one_radial(kinds[i], fparams[i], x0[i].copy(), rule_ids[i], rparams[i], eps[i],
                                  max_iter[i])
        iters[i], status[i], f_final[i], g_final[i] = res
    return iters, status, f_final, g_final


@numba.njit(cache=True)
def evaluate(kind, fp, xs):
    """(p, p', p'') of one family at every point of the 1-D array xs."""
    n = xs.shape[0]
    f = np.empty(n)
    d = np.empty(n)
    dd = np.empty(n)
    for i in range(n):
        f[i], d[i], dd[i] = profile(kind, fp[0], fp[1], fp[2], xs[i])
    return f, d, dd
