"""numba-cuda batch runner: the same profiles and rules as the CPU runner, one GPU thread per instance.

Without a GPU it runs under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set before numba is imported): pure
Python speed, for checking correctness on tiny batches. fastmath stays off, as on the CPU.
"""
import math

import numpy as np
from numba import cuda

from . import profiles, rules
from .result import BUDGET, CONVERGED, DIVERGED

profile = cuda.jit(device=True)(profiles.profile)
step_size = cuda.jit(device=True)(rules.step_size)


@cuda.jit
def _kernel(kinds, fparams, x, rule_ids, rparams, eps, max_iter, iters, status, f_final, g_final):
    i = cuda.grid(1)
    if i >= x.shape[0]:
        return
    dim = x.shape[1]
    kind, rule = kinds[i], rule_ids[i]
    p0, p1, p2 = fparams[i, 0], fparams[i, 1], fparams[i, 2]
    q0, q1, q2 = rparams[i, 0], rparams[i, 1], rparams[i, 2]
    for t in range(max_iter[i] + 1):
        if dim == 1:
            arg = x[i, 0]
        else:
            r2 = 0.0
            for j in range(dim):
                r2 += x[i, j] * x[i, j]
            arg = math.sqrt(r2)
        f, d, dd = profile(kind, p0, p1, p2, arg)
        g = abs(d)
        st = -1
        if not math.isfinite(g):  # the same stopping tests, in the same order, as synthetic/cpu.py
            st = DIVERGED
        elif g <= eps[i]:
            st = CONVERGED
        elif t == max_iter[i]:
            st = BUDGET
        if st >= 0:
            iters[i], status[i], f_final[i], g_final[i] = t, st, f, g
            return
        h = step_size(rule, q0, q1, q2, g)
        if dim == 1:
            x[i, 0] = x[i, 0] - h * d
        else:
            scale = 1.0 - h * d / arg
            for j in range(dim):
                x[i, j] *= scale


def available():
    """True when a CUDA device (or the simulator) can run kernels."""
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install should read as "no device", not crash the caller
        return False


def run_batch(kinds, fparams, x0, rule_ids, rparams, eps, max_iter, order=None, chunks=None):
    """Same inputs and outputs as synthetic.cpu.run_batch (order and chunks do not matter on a GPU)."""
    if not available():
        raise ValueError("backend: no CUDA device found (set NUMBA_ENABLE_CUDASIM=1 for the simulator)")
    n = x0.shape[0]
    x = np.array(x0, dtype=float, copy=True)
    iters = np.zeros(n, np.int64)
    status = np.zeros(n, np.int8)
    f_final = np.zeros(n)
    g_final = np.zeros(n)
    threads = 64
    _kernel[(n + threads - 1) // threads, threads](kinds, fparams, x, rule_ids, rparams, eps, max_iter, iters,
                                                   status, f_final, g_final)
    return iters, status, f_final, g_final
