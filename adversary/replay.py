"""Replay a frozen instance from scratch: plain Python, independent of the search's compiled loop.

The replay reads only the frozen `Profile` (its protocol function `evaluate` on its parameter vector) and the
rule's scalar step run as Python; it shares no state, buffer or trajectory with online.py.
"""
import math
from dataclasses import dataclass

import numpy as np

from .online import BUDGET, CONVERGED, DIVERGED
from .profile import evaluate


@dataclass(frozen=True)
class Replay:
    """The run of a rule on a frozen profile: iterates x_t with p(x_t), p'(x_t) for t = 0..t_end."""

    status: int
    t_end: int
    x: np.ndarray
    f: np.ndarray
    g: np.ndarray

    @property
    def min_grad2(self):
        return float(np.min(self.g**2))


def replay(profile, step, q, state_size=0, n_steps=None, eps=None, max_iter=None):
    """Run `step` on `profile` from profile.x0: n_steps steps (then t_end = n_steps), or until |p'| <= eps
    (CONVERGED, t_end = T_eps) or max_iter steps (BUDGET). Exactly one of n_steps, eps."""
    step = getattr(step, "py_func", step)  # a compiled rule runs as the Python it was written in
    params = [float(v) for v in profile.params]
    q = np.asarray(q, dtype=float)
    state = np.zeros(max(state_size, 1))
    last = n_steps if n_steps is not None else max_iter
    x = profile.x0
    xs, fs, gs = [], [], []
    status, t_end = BUDGET, last
    for t in range(last + 1):
        f, g, _ = evaluate(x, params, 0)
        xs.append(x)
        fs.append(f)
        gs.append(g)
        gn = abs(g)
        if not gn < math.inf:
            status, t_end = DIVERGED, t
            break
        if eps is not None and gn <= eps:
            status, t_end = CONVERGED, t
            break
        if t == last:
            status = CONVERGED if n_steps is not None else BUDGET
            break
        x = x - step(gn, state, q, t) * g
    return Replay(status, t_end, np.array(xs), np.array(fs), np.array(gs))
