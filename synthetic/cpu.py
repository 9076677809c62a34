"""Numba CPU batch runner: GD variants over many instances, each stopping on its own.

The mathematics comes from profiles.py and rules.py, compiled here with njit. fastmath stays off everywhere:
it assumes no NaN/inf (which breaks divergence detection) and may reorder arithmetic, changing iteration counts.
"""
import math

import numba
import numpy as np

from . import profiles, rules
from .result import BUDGET, CONVERGED, DIVERGED

# inline="always" lets LLVM see the whole step: the hot loop uses only p', so the work for p and p'' is dropped
profile = numba.njit(cache=True, inline="always")(profiles.profile)
step_size = numba.njit(cache=True, inline="always")(rules.step_size)


LANES = 16  # instances stepped side by side per thread: independent chains hide the latency of exp


@numba.njit(cache=True)
def _outcome(g, eps, t, max_iter):
    """The status after evaluating the gradient norm g at the iterate of step t, or -1 to keep going.
    Divergence is an overflow of the gradient (inf or NaN), which an overflowing iterate also causes."""
    if not math.isfinite(g):
        return DIVERGED
    if g <= eps:
        return CONVERGED
    if t == max_iter:
        return BUDGET
    return -1


@numba.njit(cache=True)
def _run_lanes_1d(first, stride, order, kinds, fparams, x0, rule_ids, rparams, eps, max_iter,
                  iters, status, f_final, g_final):
    """Instances order[first], order[first + stride], ... on the line, LANES at a time: a lane whose instance
    finishes takes the next one. Each instance sees exactly the arithmetic of a one-at-a-time loop."""
    n = order.shape[0]
    ids = np.full(LANES, -1, np.int64)
    xs = np.zeros(LANES)
    ts = np.zeros(LANES, np.int64)
    # each lane keeps its instance's constants next to its iterate: the hot loop reads nothing else
    kd = np.zeros(LANES, np.int64)
    rl = np.zeros(LANES, np.int64)
    fp = np.zeros((LANES, 3))
    rp = np.zeros((LANES, 3))
    ep = np.zeros(LANES)
    mi = np.zeros(LANES, np.int64)
    k = np.int64(first)  # an int64 cursor, whatever integer type the prange index has
    active = 0
    for lane in range(LANES):
        if k < n:
            _load(lane, order[k], ids, xs, ts, kd, rl, fp, rp, ep, mi, kinds, fparams, x0, rule_ids, rparams,
                  eps, max_iter)
            k += np.int64(stride)
            active += 1
    while active > 0:
        for lane in range(LANES):
            if ids[lane] < 0:
                continue
            _, d, _ = profile(kd[lane], fp[lane, 0], fp[lane, 1], fp[lane, 2], xs[lane])
            g = abs(d)
            st = _outcome(g, ep[lane], ts[lane], mi[lane])
            if st < 0:
                xs[lane] = xs[lane] - step_size(rl[lane], rp[lane, 0], rp[lane, 1], rp[lane, 2], g) * d
                ts[lane] += 1
                continue
            i = ids[lane]
            f, _, _ = profile(kd[lane], fp[lane, 0], fp[lane, 1], fp[lane, 2], xs[lane])
            iters[i], status[i], f_final[i], g_final[i] = ts[lane], st, f, g
            if k < n:
                _load(lane, order[k], ids, xs, ts, kd, rl, fp, rp, ep, mi, kinds, fparams, x0, rule_ids, rparams,
                      eps, max_iter)
                k += np.int64(stride)
            else:
                ids[lane] = -1
                active -= 1


@numba.njit(cache=True, inline="always")
def _load(lane, i, ids, xs, ts, kd, rl, fp, rp, ep, mi, kinds, fparams, x0, rule_ids, rparams, eps, max_iter):
    """Put instance i in a lane, from its start."""
    ids[lane] = i
    xs[lane] = x0[i, 0]
    ts[lane] = 0
    kd[lane] = kinds[i]
    rl[lane] = rule_ids[i]
    ep[lane] = eps[i]
    mi[lane] = max_iter[i]
    for j in range(3):
        fp[lane, j] = fparams[i, j]
        rp[lane, j] = rparams[i, j]


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
        st = _outcome(g, eps, t, max_iter)
        if st >= 0:
            return t, st, f, g
        # grad f(x) = p'(r) x / r; r > 0 here because g > eps > 0 and every radial profile has p'(0) = 0
        scale = 1.0 - step_size(rule, rp[0], rp[1], rp[2], g) * d / r
        for j in range(dim):
            x[j] *= scale
    return max_iter, BUDGET, math.nan, math.nan  # not reached


@numba.njit(parallel=True, cache=True)
def run_batch(kinds, fparams, x0, rule_ids, rparams, eps, max_iter, order, chunks):
    """Run every instance: family kind and (3,) params, start x0[i] (d = 1: signed scalar; d >= 2: radial
    lift), rule id and (3,) params, eps and budget. `order` is a shuffle: prange splits its range statically,
    so chunk c takes the interleaved instances order[c], order[c + chunks], ... and costly instances that sit
    together in a grid end up spread over all threads. `chunks` (<= n) is a few per thread."""
    n, dim = x0.shape
    iters = np.empty(n, np.int64)
    status = np.empty(n, np.int8)
    f_final = np.empty(n)
    g_final = np.empty(n)
    if dim == 1:
        for c in numba.prange(chunks):
            _run_lanes_1d(c, chunks, order, kinds, fparams, x0, rule_ids, rparams, eps, max_iter,
                          iters, status, f_final, g_final)
    else:
        for k in numba.prange(n):
            i = order[k]
            iters[i], status[i], f_final[i], g_final[i] = _run_one_radial(
                kinds[i], fparams[i], x0[i].copy(), rule_ids[i], rparams[i], eps[i], max_iter[i])
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
