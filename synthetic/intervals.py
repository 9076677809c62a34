"""Interval arithmetic on NumPy arrays: the enclosure of a SymPy expression over many boxes at once.

Every interval is a pair of arrays (lo, hi). Each arithmetic result is rounded outwards by one ulp (np.nextafter),
which contains the exact result because IEEE +, -, *, / and sqrt are correctly rounded (error <= 1/2 ulp). exp and
log come from NumPy, which is not correctly rounded: their results are widened by 4 ulps (NumPy's documented error
for float64 exp/log is below 1 ulp on the platforms it supports; 4 leaves a margin). An operation whose result is
undefined over the box (0 * inf, a division by an interval holding 0, log of a negative) gives (-inf, inf), which
proves nothing, so the enclosure is never wrong, only sometimes useless.
"""
import numpy as np
import sympy

_WIDEN_LIBM = 4  # ulps of widening for NumPy's exp and log


def _down(a, k=1):
    for _ in range(k):
        a = np.nextafter(a, -np.inf)
    return a


def _up(a, k=1):
    for _ in range(k):
        a = np.nextafter(a, np.inf)
    return a


def _clean(lo, hi):
    """NaN anywhere (0 * inf and the like) means nothing is known: (-inf, inf)."""
    bad = np.isnan(lo) | np.isnan(hi)
    return np.where(bad, -np.inf, lo), np.where(bad, np.inf, hi)


def add(a, b):
    with np.errstate(all="ignore"):
        return _clean(_down(a[0] + b[0]), _up(a[1] + b[1]))


def mul(a, b):
    with np.errstate(all="ignore"):
        p = np.stack([a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]])
        lo, hi = _clean(_down(np.nanmin(p, axis=0)), _up(np.nanmax(p, axis=0)))
        any_nan = np.isnan(p).any(axis=0)
        return np.where(any_nan, -np.inf, lo), np.where(any_nan, np.inf, hi)


def reciprocal(a):
    with np.errstate(all="ignore"):
        holds_zero = (a[0] <= 0) & (a[1] >= 0)
        lo, hi = _down(1.0 / a[1]), _up(1.0 / a[0])
        return np.where(holds_zero, -np.inf, lo), np.where(holds_zero, np.inf, hi)


def power(a, n):
    """a**n for an integer n (repeated multiplication; even powers are >= 0 and use |a|)."""
    if n == 0:
        return np.ones_like(a[0]), np.ones_like(a[0])
    if n < 0:
        return reciprocal(power(a, -n))
    if n % 2 == 0:
        a = absolute(a)
    out = a
    for _ in range(n - 1):
        out = mul(out, a)
    if n % 2 == 0:
        out = (np.maximum(out[0], 0.0), out[1])
    return out


def absolute(a):
    lo = np.where(a[0] >= 0, a[0], np.where(a[1] <= 0, -a[1], 0.0))
    hi = np.maximum(np.abs(a[0]), np.abs(a[1]))
    return lo, hi


def exp(a):
    with np.errstate(all="ignore"):
        return np.maximum(_down(np.exp(a[0]), _WIDEN_LIBM), 0.0), _up(np.exp(a[1]), _WIDEN_LIBM)


def log(a):
    with np.errstate(all="ignore"):
        lo = np.where(a[0] > 0, _down(np.log(a[0]), _WIDEN_LIBM), -np.inf)
        hi = np.where(a[1] > 0, _up(np.log(a[1]), _WIDEN_LIBM), np.nan)
        return _clean(lo, hi)


def sqrt(a):
    with np.errstate(all="ignore"):
        lo = _down(np.sqrt(np.maximum(a[0], 0.0)))
        hi = np.where(a[1] >= 0, _up(np.sqrt(a[1])), np.nan)
        return _clean(np.maximum(lo, 0.0), hi)


def constant(value, shape):
    """The tightest float interval around a SymPy number (one float when it is exactly representable)."""
    exact = value if value.is_Rational else sympy.Float(value.evalf(40), 40)
    f = float(exact)
    r = sympy.Rational(f)  # the double's exact value
    lo = f if r <= exact else float(np.nextafter(f, -np.inf))
    hi = f if r >= exact else float(np.nextafter(f, np.inf))
    return np.full(shape, lo), np.full(shape, hi)


_U = 2.0**-53  # unit roundoff of float64


def _gamma(m):
    """Higham's gamma_m = m u/(1 - m u): |fl(sum of m products) - exact| <= gamma_m sum |products|."""
    return m * _U / (1.0 - m * _U)


def _frobenius_upper(X):
    return np.sqrt(np.sum(X * X, axis=(-2, -1))) * (1.0 + _gamma(X.shape[-1] ** 2 + 2))


def symmetric_norm_upper(lo, hi):
    """An upper bound of ||H||_2 for every symmetric H with lo <= H <= hi elementwise ((n, d, d) arrays), the
    smallest of three rigorous bounds per box: Gershgorin (largest absolute row sum), Frobenius, and the
    midpoint-radius bound ||H_c||_2 + ||R||_F with ||H_c||_2 from a floating eigendecomposition H_c ~ Q L Q^T
    whose residuals E1 = H_c - Q L Q^T and E2 = Q^T Q - I are bounded with Higham's gamma:
    ||H_c||_2 <= max|L| (1 + ||E2||) + ||E1||. Non-finite entries give inf."""
    mag = np.maximum(np.abs(lo), np.abs(hi))
    d = lo.shape[-1]
    gersh = np.max(np.sum(mag, axis=-1) * (1.0 + _gamma(d)), axis=-1)
    frob = _frobenius_upper(mag)
    best = np.minimum(gersh, frob)
    finite = np.all(np.isfinite(mag), axis=(-2, -1))
    if not finite.any():
        return np.where(finite, best, np.inf)
    c = 0.5 * (lo[finite] + hi[finite])
    radius = _up(np.maximum(hi[finite] - c, c - lo[finite]))
    lam, Q = np.linalg.eigh(c)
    QL = Q * lam[:, None, :]
    E1 = np.abs(c - QL @ np.swapaxes(Q, -1, -2)) + _gamma(d + 2) * (
        np.abs(c) + (np.abs(Q) * np.abs(lam)[:, None, :]) @ np.swapaxes(np.abs(Q), -1, -2))
    E2 = np.abs(np.swapaxes(Q, -1, -2) @ Q - np.eye(d)) + _gamma(d + 1) * (
        np.swapaxes(np.abs(Q), -1, -2) @ np.abs(Q) + np.eye(d))
    mid = (np.max(np.abs(lam), axis=-1) * (1.0 + _frobenius_upper(E2)) + _frobenius_upper(E1)
           + _frobenius_upper(radius)) * (1.0 + 8 * _U)
    best[finite] = np.minimum(best[finite], mid)
    return np.where(finite, best, np.inf)


class Unsupported(Exception):
    """The expression uses a function this module has no interval form for."""


def evaluate(expr, env, shape):
    """The interval of expr when each symbol s ranges over env[s] = (lo, hi) arrays of `shape`."""
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        return constant(expr, shape)
    args = [evaluate(a, env, shape) for a in expr.args] if not expr.is_Pow else None
    if expr.is_Add:
        out = args[0]
        for a in args[1:]:
            out = add(out, a)
        return out
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = mul(out, a)
        return out
    if expr.is_Pow:
        base, e = expr.args
        b = evaluate(base, env, shape)
        if e.is_Integer:
            return power(b, int(e))
        if e == sympy.Rational(1, 2):
            return sqrt(b)
        if e == sympy.Rational(-1, 2):
            return reciprocal(sqrt(b))
        return exp(mul(evaluate(e, env, shape), log(b)))
    if isinstance(expr, sympy.exp):
        return exp(args[0])
    if isinstance(expr, sympy.log):
        return log(args[0])
    if isinstance(expr, sympy.Abs):
        return absolute(args[0])
    raise Unsupported(type(expr).__name__)
