"""The 1-D profiles of the function families, written once as plain scalar Python.

`profile(kind, p0, p1, p2, x)` returns (p(x), p'(x), p''(x)) at a signed scalar x. Only `math` is used and no
other Python function is called, so the same source compiles with `numba.njit` (synthetic/cpu.py) and as a CUDA
device function (synthetic/cuda.py). A radial lift f(x) = p(||x||) uses r = ||x|| >= 0 as the argument.
"""
import math

EXP = 0        # f_exp:   (L0/L1^2)(e^{L1|x|} - L1|x| - 1);  p0 = L0, p1 = L1 (L1 = 0: L0 x^2 / 2)
SLOW = 1       # f_slow:  a(3x^2/4 - x^4/8) for |x| <= 1, a(|x| - 3/8) outside;  p0 = a
COSH = 2       # e^x + e^{-x}
POWER = 3      # c |x|^q;  p0 = c, p1 = q (q >= 2)
LOGISTIC = 4   # log(1 + e^{-a x});  p0 = a
EXPLIN = 5     # e^{a x};  p0 = a

KIND_NAMES = {EXP: "exp", SLOW: "slow", COSH: "cosh", POWER: "power", LOGISTIC: "logistic", EXPLIN: "explin"}


def profile(kind, p0, p1, p2, x):
    s = 1.0 if x >= 0.0 else -1.0
    r = abs(x)
    if kind == EXP:
        if p1 == 0.0:
            return 0.5 * p0 * x * x, p0 * x, p0
        u = p1 * r
        em1 = math.expm1(u) if u < 710.0 else math.inf  # beyond 709.78 exp overflows: report inf, not an error
        return (p0 / (p1 * p1)) * (em1 - u), s * (p0 / p1) * em1, p0 * (em1 + 1.0)
    if kind == SLOW:
        if r <= 1.0:
            return p0 * (0.75 * r * r - 0.125 * r**4), s * p0 * (1.5 * r - 0.5 * r**3), 1.5 * p0 * (1.0 - r * r)
        return p0 * (r - 0.375), s * p0, 0.0
    if kind == COSH:
        if r > 710.0:
            return math.inf, s * math.inf, math.inf
        ep = math.exp(x)
        em = math.exp(-x)
        return ep + em, ep - em, ep + em
    if kind == POWER:
        c = p0
        q = p1
        if r == 0.0:
            return 0.0, 0.0, (2.0 * c if q == 2.0 else 0.0)
        return c * r**q, s * c * q * r ** (q - 1.0), c * q * (q - 1.0) * r ** (q - 2.0)
    if kind == LOGISTIC:
        t = p0 * x
        # log(1 + e^{-t}) and sigma(-t) = 1/(1 + e^t), each in the form that does not overflow
        if t >= 0.0:
            e = math.exp(-t)
            val = math.log1p(e)
            sig_neg = e / (1.0 + e)
        else:
            e = math.exp(t)
            val = -t + math.log1p(e)
            sig_neg = 1.0 / (1.0 + e)
        return val, -p0 * sig_neg, p0 * p0 * sig_neg * (1.0 - sig_neg)
    if kind == EXPLIN:
        t = p0 * x
        e = math.exp(t) if t < 710.0 else math.inf
        return e, p0 * e, p0 * p0 * e
    return math.nan, math.nan, math.nan
