"""Closed forms of the control form p'' = u (L0 + L1 |p'|) on one cell (THEOREMS.md 4b), as plain scalar code.

Written under the rules of PROTOCOL.md (arithmetic, comparisons, loops over `range`, no allocation, no
exceptions), so every function here compiles with `numba.njit`, as a CUDA device function, and runs as Python.
`register_jitable` leaves each one a plain Python function that compiled code may also call. expm1 and log1p are
clipcheck's own (synthetic.mathfns): the same bits in the search, the Python replay and the runner's CPU and
CUDA kernels.

On a piece where u is constant and p' keeps the sign s, a = |p'| solves a' = v (L0 + L1 a) with v = s u. With
c = L0 + L1 a0, d = x - anchor (either sign) and z = v L1 d:
    a(d) = a0 + c v d E1(z),                 E1(z) = expm1(z) / z
    p(d) = p0 + s (a0 d + c v d^2 E2(z)),    E2(z) = (expm1(z) - z) / z^2
    p''  = u (L0 + L1 a).
E1 and E2 switch to their Taylor series near 0, so L1 -> 0 gives the quadratic pieces of the L-smooth class
instead of cancellation noise. A piece never contains a zero of p' in its interior: where |p'| reaches 0 inside a
cell (v < 0), the cell is split there and p' changes sign with the same u (`cross_cell`).
"""
import math

from numba.extending import register_jitable

from clipcheck.synthetic import mathfns as mf

E1_SERIES_BELOW = 1e-5  # |z| below this: E1 = 1 + z/2 + z^2/6 (next term z^3/24 < 1e-16 relative)
EXP_OVERFLOW = 709.78    # e^z overflows float64 beyond log(DBL_MAX) = 709.7827: +inf (Python's math would raise)
E2_SERIES_BELOW = 0.5   # |z| below this: E2 by 13 Taylor terms (remainder < 2e-16 relative); above it the
#                         cancellation in expm1(z) - z costs at most a few ulps


@register_jitable
def expm1_over(z):
    """E1(z) = expm1(z) / z, with E1(0) = 1."""
    if abs(z) < E1_SERIES_BELOW:
        return 1.0 + z * (0.5 + z / 6.0)
    if z > EXP_OVERFLOW:
        return math.inf
    return mf.expm1(z) / z


@register_jitable
def expm1_minus_over(z):
    """E2(z) = (expm1(z) - z) / z^2 = sum_k z^k / (k + 2)!, with E2(0) = 1/2."""
    if abs(z) < E2_SERIES_BELOW:
        term = 0.5
        total = 0.5
        for k in range(1, 13):
            term = term * z / (k + 2.0)
            total += term
        return total
    if z > EXP_OVERFLOW:
        return math.inf
    return (mf.expm1(z) - z) / (z * z)


@register_jitable
def log1p_over(y):
    """log1p(y) / y for y >= 0, with the value 1 at y = 0."""
    if y < 1e-5:
        return 1.0 - y * (0.5 - y / 3.0)
    return mf.log1p(y) / y


@register_jitable
def piece_value(d, f0, a0, s, u, L0, L1):
    """(p, p', p'') at distance d (either sign) from a piece's anchor, where p = f0 and |p'| = a0, p' has the sign
    s on the piece and p'' = u (L0 + L1 |p'|). |p'| is clamped at 0: at the end of a piece that closes on a zero
    of p', rounding may otherwise leave -1e-17."""
    v = s * u
    c = L0 + L1 * a0
    z = v * L1 * d
    a = a0 + c * v * d * expm1_over(z)
    if a < 0.0:
        a = 0.0
    f = f0 + s * (a0 * d + c * v * d * d * expm1_minus_over(z))
    return f, s * a, u * (L0 + L1 * a)


@register_jitable
def zero_distance(a0, v, L0, L1):
    """Distance after which |p'| = a0 reaches 0 when |p'| shrinks at the rate |v| (L0 + L1 |p'|), v < 0;
    +inf when v >= 0. Equal to log1p(L1 a0 / L0) / (|v| L1), and a0 / (|v| L0) in the limit L1 -> 0.
    Needs L0 > 0."""
    if v >= 0.0:
        return math.inf
    return (a0 / L0) * log1p_over(L1 * a0 / L0) / (-v)


@register_jitable
def start_sign(g, sigma, u):
    """The sign of p' just beyond a knot with p' = g, moving in direction sigma (+1 right, -1 left) under
    control u. Where g = 0 it is set by the control: locally q(y) = p(x + sigma y) has q'' = u (...), so q' takes
    the sign of u and p' = sigma q' the sign of sigma u (+1 when u = 0: the piece is flat and the sign unused)."""
    if g > 0.0:
        return 1.0
    if g < 0.0:
        return -1.0
    if u == 0.0:
        return 1.0
    return sigma if u > 0.0 else -sigma


@register_jitable
def cross_cell(xa, f, g, sigma, u, x_end, L0, L1):
    """Cross the cell from the knot xa (p = f, p' = g) to x_end, in direction sigma = sign(x_end - xa), with the
    constant control u. Returns (s1, split, xm, fm, s2, f_end, g_end):
      s1      the sign of p' on the first piece, anchored at xa;
      split   1.0 when |p'| reaches 0 inside the cell, at xm, where a second piece anchored at xm (p = fm,
              p' = 0, sign s2 = -s1) starts; 0.0 otherwise (then xm = x_end, fm = f_end, s2 = s1);
      f_end, g_end  p and p' at x_end, from the formula of the last piece (bit for bit what `piece_value` gives
              there, so consecutive pieces join without a rounding gap).
    """
    s1 = start_sign(g, sigma, u)
    a = abs(g)
    dz = zero_distance(a, sigma * s1 * u, L0, L1)
    if dz < abs(x_end - xa):
        xm = xa + sigma * dz
        fm, _, _ = piece_value(xm - xa, f, a, s1, u, L0, L1)
        f_end, g_end, _ = piece_value(x_end - xm, fm, 0.0, -s1, u, L0, L1)
        return s1, 1.0, xm, fm, -s1, f_end, g_end
    f_end, g_end, _ = piece_value(x_end - xa, f, a, s1, u, L0, L1)
    return s1, 0.0, x_end, f_end, s1, f_end, g_end


@register_jitable
def tail(x_end, f, g, sigma, L0, L1):
    """The tail beyond the outermost knot x_end (p = f, p' = g) in direction sigma (THEOREMS.md 4b).

    Falling outward (sigma g < 0): the slowest admissible descent, u = +1 (|p'| shrinks at the full rate
    L0 + L1 |p'|) until p' = 0, then flat. Rising outward: linear (u = 0). Either way p stays in the class and
    bounded below. Returns (kind, length, f_flat): kind 1 descent (length of it, flat value after it),
    0 linear or flat (length 0, f_flat = f)."""
    if sigma * g < 0.0:
        a = abs(g)
        length = zero_distance(a, -1.0, L0, L1)
        s = 1.0 if g > 0.0 else -1.0
        f_flat, _, _ = piece_value(sigma * length, f, a, s, 1.0, L0, L1)
        return 1, length, f_flat
    return 0, 0.0, f
