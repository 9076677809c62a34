"""The method runs while the profile is built (issue 9, "Search"): the search's inner loop, compiled with Numba.

The run starts at x0 = 0 with p(0) = 0, p'(0) = g0 > 0. The explored region is an interval around x0. Whenever the
next iterate falls outside it, the gap between the region and the iterate is cut into `cells` equal cells that
take the next block of controls (block j mod K for the j-th gap, so long runs reuse K blocks and the search
dimension does not grow with T); the cells are crossed outward from the region with the closed forms, so the
gradient at the new iterate is known exactly. Iterates inside the region read the profile already built. After
`horizon` gaps, or when the run ends, the region is closed by the tails of THEOREMS.md 4b.

The pieces are made by the same scalar functions, in the same order, as `Profile` (profile.py) makes them from the
frozen knots, so the frozen instance is the searched one bit for bit; the replay (replay.py) checks that
independently of this loop.

Compiling: `simulate` is plain scalar code that calls the global STEP. `simulator(step)` pastes it, with STEP bound
to the rule's step function and everything both call, into one generated module (clipcheck.synthetic.source, as
the runner's kernel factory does), written into the runner's kernel cache folder under a digest of its text, and
compiled there with Numba's on-disk cache: any step function the runner accepts works here too, an edit anywhere
in the pasted code is a new module, and a later process loads the compiled search instead of compiling it again.
"""
import functools
import math

import numpy as np

from clipcheck.synthetic.kernels import _load
from clipcheck.synthetic.source import Imported, Paste, Unit, python_function

from .closed_form import cross_cell, piece_value, tail

CONVERGED, BUDGET, DIVERGED = 0, 1, 2  # the runner's status codes


def _push(P, k, start, anchor, f, a, s, u):
    P[k, 0] = start
    P[k, 1] = anchor
    P[k, 2] = f
    P[k, 3] = a
    P[k, 4] = s
    P[k, 5] = u


def _sign(g):
    return -1.0 if g < 0.0 else 1.0


def _lookup(P, pl, pr, t, L0, L1):
    """(p, p') at t from the pieces P[pl:pr], chosen as `profile.evaluate` chooses them."""
    lo = pl
    hi = pr - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if P[mid, 0] <= t:
            lo = mid
        else:
            hi = mid - 1
    f, g, _ = piece_value(t - P[lo, 1], P[lo, 2], P[lo, 3], P[lo, 4], P[lo, 5], L0, L1)
    return f, g


def _extend(P, pl, pr, KX, KU, kl, kr, sigma, xa, f, g, x_new, u_block, L0, L1):
    """Cut [boundary, x_new] into len(u_block) equal cells and cross them outward. Returns the new piece and knot
    bounds and (p, p') at x_new. Cells narrower than one ulp are dropped (the knots must increase strictly)."""
    n = u_block.shape[0]
    x_start = xa
    width = (x_new - x_start) / n
    for j in range(n):
        xb = x_new if j == n - 1 else x_start + (j + 1) * width
        if xb == xa:
            continue
        u = u_block[j]
        s1, split, xm, fm, s2, fe, ge = cross_cell(xa, f, g, sigma, u, xb, L0, L1)
        if sigma > 0.0:
            _push(P, pr, xa, xa, f, abs(g), s1, u)
            pr += 1
            if split > 0.0:
                _push(P, pr, xm, xm, fm, 0.0, s2, u)
                pr += 1
            KU[kr] = u
            kr += 1
            KX[kr] = xb
        else:
            pl -= 1
            _push(P, pl, xm, xa, f, abs(g), s1, u)
            if split > 0.0:
                pl -= 1
                _push(P, pl, xb, xm, fm, 0.0, s2, u)
            kl -= 1
            KX[kl] = xb
            KU[kl] = u
        xa, f, g = xb, fe, ge
    return pl, pr, kl, kr, f, g


def _close(P, pl, pr, xl, fl, gl, xr, fr, gr, L0, L1):
    """Add the tails on both sides (as profile._tail_pieces does). Returns the new piece bounds."""
    kind, length, f_flat = tail(xl, fl, gl, -1.0, L0, L1)
    if kind == 1:
        pl -= 1
        _push(P, pl, xl - length, xl, fl, abs(gl), _sign(gl), 1.0)
        pl -= 1
        _push(P, pl, -math.inf, xl - length, f_flat, 0.0, 1.0, 0.0)
    else:
        pl -= 1
        _push(P, pl, -math.inf, xl, fl, abs(gl), _sign(gl), 0.0)
    kind, length, f_flat = tail(xr, fr, gr, 1.0, L0, L1)
    _push(P, pr, xr, xr, fr, abs(gr), _sign(gr), 1.0 if kind == 1 else 0.0)
    pr += 1
    if kind == 1:
        _push(P, pr, xr + length, xr + length, f_flat, 0.0, 1.0, 0.0)
        pr += 1
    return pl, pr


def _grad_bound(P, pl, pr, level, L0, L1):
    """An upper estimate of sup |p'| over {p <= level}: every piece that meets the sublevel set contributes the
    larger |p'| of its two ends (|p'| is monotone on a piece). Exact when no piece is cut by the level;
    Profile.sup_grad computes the exact value for the frozen instance."""
    best = 0.0
    for k in range(pl, pr):
        lo = P[k, 0]
        hi = P[k + 1, 0] if k + 1 < pr else math.inf
        if not (math.isfinite(lo) and math.isfinite(hi)):
            if P[k, 2] <= level and P[k, 3] > best:
                best = P[k, 3]
            continue
        f_lo, g_lo, _ = piece_value(lo - P[k, 1], P[k, 2], P[k, 3], P[k, 4], P[k, 5], L0, L1)
        f_hi, g_hi, _ = piece_value(hi - P[k, 1], P[k, 2], P[k, 3], P[k, 4], P[k, 5], L0, L1)
        if min(f_lo, f_hi) <= level:
            best = max(best, abs(g_lo), abs(g_hi))
    return best


def simulate(controls, cells, g0, L0, L1, q, state_size, n_steps, eps, horizon, max_iter, want_grad_bound):
    """Run the rule from x0 = 0 while building the profile. controls: K blocks of `cells` controls, flat.
    n_steps >= 0 measures min_{t <= n_steps} p'(x_t)^2 (eps ignored); n_steps < 0 runs to |p'| <= eps.
    Returns (status, t_end, min_g2, f_star, grad_bound, knots, cell_controls, anchor)."""
    blocks = controls.shape[0] // cells
    kcap = horizon * cells + 1
    pcap = 2 * horizon * cells + 2
    KX = np.empty(2 * kcap + 1)
    KU = np.empty(2 * kcap + 1)
    P = np.empty((2 * pcap + 1, 6))
    ck = kcap
    kl = ck
    kr = ck
    KX[ck] = 0.0
    pl = pcap
    pr = pcap
    xl, fl, gl = 0.0, 0.0, g0
    xr, fr, gr = 0.0, 0.0, g0
    state = np.zeros(max(state_size, 1))
    x, g = 0.0, g0
    gaps = 0
    closed = False
    min_g2 = math.inf
    status = BUDGET
    t_end = max_iter
    for t in range(max_iter + 1):
        gn = abs(g)
        if not gn < math.inf:
            status, t_end = DIVERGED, t
            break
        if n_steps < 0:
            if gn <= eps:
                status, t_end = CONVERGED, t
                break
        else:
            min_g2 = min(min_g2, g * g)
            if t == n_steps:
                status, t_end = CONVERGED, t
                break
        if t == max_iter:
            break
        xn = x - STEP(gn, state, q, t) * g  # noqa: F821 (bound when pasted)
        outside = xn > xr or xn < xl
        if outside and not closed and gaps < horizon:
            b = gaps % blocks
            u_block = controls[b * cells:(b + 1) * cells]
            if xn > xr:
                pl, pr, kl, kr, fr, gr = _extend(P, pl, pr, KX, KU, kl, kr, 1.0, xr, fr, gr, xn, u_block, L0, L1)
                xr = xn
                g = gr
            else:
                pl, pr, kl, kr, fl, gl = _extend(P, pl, pr, KX, KU, kl, kr, -1.0, xl, fl, gl, xn, u_block,
                                                 L0, L1)
                xl = xn
                g = gl
            gaps += 1
        else:
            if outside and not closed:
                pl, pr = _close(P, pl, pr, xl, fl, gl, xr, fr, gr, L0, L1)
                closed = True
            _, g = _lookup(P, pl, pr, xn, L0, L1)
        x = xn
    if not closed:
        pl, pr = _close(P, pl, pr, xl, fl, gl, xr, fr, gr, L0, L1)
    f_star = math.inf
    for k in range(pl, pr):  # every piece end is the anchor of a piece, and p is monotone on each piece
        f_star = min(f_star, P[k, 2])
    bound = _grad_bound(P, pl, pr, 0.0, L0, L1) if want_grad_bound else math.nan
    return status, t_end, min_g2, f_star, bound, KX[kl:kr + 1].copy(), KU[kl:kr].copy(), ck - kl


HELPERS = ("_extend", "_close", "_lookup", "_grad_bound")  # what `simulate` calls: compiled once, for every rule


@functools.lru_cache(maxsize=None)
def simulator(step):
    """The compiled online run for one scalar step rule (PROTOCOL.md: step(gnorm, state, q, t) -> h), loaded from
    the kernel cache when an earlier process compiled it. The helpers live in one module shared by every rule, so
    a new rule compiles only its step and the loop."""
    unit = Unit()
    entry = unit.add(simulate, {"STEP": Paste(python_function(step)), **_helpers()})
    return getattr(_compiled(unit), entry)


@functools.lru_cache(maxsize=None)
def _helpers():
    unit = Unit()
    names = {h: unit.add(globals()[h]) for h in HELPERS}
    module = _compiled(unit)
    return {h: Imported(module.__name__, name) for h, name in names.items()}


def _compiled(unit):
    """The module of `unit`, each function compiled with Numba, loaded as the runner loads its kernels
    (kernels._load: named by a digest of its text, written atomically into the kernel cache folder and imported
    from there, or compiled in memory when there is none)."""
    lines = ["_CACHE_ = None", unit.source(), "import numba as _numba_"]
    lines += [f"{name} = _numba_.njit(error_model='numpy', cache=_CACHE_)({name})" for name in unit.functions]
    text = "\n".join(lines) + "\n"
    return _load((text, lambda: text), "adversary")
