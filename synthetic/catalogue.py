"""The built-in functions with certified (L0, L1) (THEOREMS.md section 4): each is one scalar definition here.

Profiles (1-D, evaluate(t, p, o) -> (p, p', p'')) come with their certificate derived in the docstring and are
lifted with functions.on_line / radial / ridge / separable. Functions of R^d that are not lifts (quartic
regression, phase retrieval, logistic regression) define value_grad directly. To add a family: write its
evaluate or value_grad and its constructor here, and a test.
"""
import math
from dataclasses import dataclass

import numpy as np

from clipcheck.theory import bounds
from clipcheck.theory.steps import zhsj_thm4_critical_step
from clipcheck.theory.validation import as_finite, count, nonnegative, positive, strict_number

from . import mathfns as mf
from .functions import Function, Profile1D, on_line, radial, ridge, separable  # noqa: F401 (re-exported)

# -- profiles ----------------------------------------------------------------------------------------------


def exp_profile(t, p, o):
    """(L0/L1^2)(e^{L1|t|} - L1|t| - 1); L1 = 0: L0 t^2/2.  p[o] = L0, p[o+1] = L1."""
    L0 = p[o]
    L1 = p[o + 1]
    s = 1.0 if t >= 0.0 else -1.0
    if L1 == 0.0:
        return 0.5 * L0 * t * t, L0 * t, L0
    u = L1 * abs(t)
    em1 = mf.expm1(u)
    return (L0 / (L1 * L1)) * (em1 - u), s * (L0 / L1) * em1, L0 * (em1 + 1.0)


def f_exp(L0, L1):
    """THEOREMS.md 3.1: f(x) = (L0/L1^2)(e^{L1|x|} - L1|x| - 1). f'' = L0 e^{L1|x|} = L0 + L1|f'| exactly, so
    the certificate (L0, L1) is tight everywhere; convex, C^2, f* = 0."""
    L0, L1 = float(positive("L0", L0)), float(positive("L1", L1))
    if L1 * L1 == 0.0 or not math.isfinite(L0 / (L1 * L1)):  # L1^2 underflows: the kernel would divide by 0
        raise ValueError(f"L1 = {L1!r} is too small for f_exp in float64 (L0/L1^2 overflows); use f_slow or the "
                         "quadratic for L1 = 0")
    reach = 700.0 / L1
    return radial(Profile1D(f"f_exp(L0={L0:g}, L1={L1:g})", exp_profile, (L0, L1), L0, L1, 0.0,
                            "THEOREMS.md 3.1: f'' = L0 + L1|f'| exactly", even=True, scale=1.0 / L1,
                            extent=(-reach, reach), convex=True))


def slow_profile(t, p, o):
    """a(3t^2/4 - t^4/8) for |t| <= 1, a(|t| - 3/8) outside.  p[o] = a."""
    a = p[o]
    s = 1.0 if t >= 0.0 else -1.0
    r = abs(t)
    if r <= 1.0:
        return a * (0.75 * r * r - 0.125 * r * r * r * r), s * a * (1.5 * r - 0.5 * r * r * r), 1.5 * a * (1.0 - r * r)
    return a * (r - 0.375), s * a, 0.0


def f_slow(a):
    """THEOREMS.md 3.2: f'' = (3a/2)(1 - x^2)_+ <= 3a/2, so certified (3a/2, 0); f* = 0; a-Lipschitz."""
    a = float(positive("a", a))
    return radial(Profile1D(f"f_slow(a={a:g})", slow_profile, (a,), 1.5 * a, 0.0, 0.0,
                            "THEOREMS.md 3.2: f'' = (3a/2)(1 - x^2)_+", even=True, scale=1.0, extent=(-1e12, 1e12),
                            convex=True))


def cosh_profile(t, p, o):
    """e^t + e^{-t}."""
    ep = mf.exp(t)
    em = mf.exp(-t)
    return ep + em, ep - em, ep + em


def cosh2():
    """e^x + e^{-x}: f'' = 2 cosh x <= 2 + 2 sinh|x| = 2 + |f'|, certified (2, 1); f* = 2."""
    return radial(Profile1D("e^x+e^-x", cosh_profile, (), 2.0, 1.0, 2.0, "THEOREMS.md 4 table", even=True,
                            scale=1.0, extent=(-700.0, 700.0), convex=True))


def power_profile(t, p, o):
    """c |t|^q (q >= 2).  p[o] = c, p[o+1] = q."""
    c = p[o]
    q = p[o + 1]
    s = 1.0 if t >= 0.0 else -1.0
    r = abs(t)
    if r == 0.0:
        return 0.0, 0.0, (2.0 * c if q == 2.0 else 0.0)
    return c * r ** q, s * c * q * r ** (q - 1.0), c * q * (q - 1.0) * r ** (q - 2.0)


def _power(name, c, q, L0, L1, reach, source="THEOREMS.md 4 table"):
    return radial(Profile1D(name, power_profile, (float(c), float(q)), float(L0), float(L1), 0.0, source, even=True,
                            scale=1.0, extent=(-reach, reach), convex=True))


def x4():
    """x^4: |12x^2| - 3|4x^3| = 12x^2(1 - |x|) <= 16/9 (at |x| = 2/3): certified (16/9, 3), the smallest L0 at
    L1 = 3; f* = 0."""
    return _power("x^4", 1.0, 4.0, 16.0 / 9.0, 3.0, 1e60)


def even_power(n):
    """||x||^{2n}: certified (2n, 2n - 1) (THEOREMS.md 4 table); f* = 0."""
    n = count("n", n)
    return _power(f"||x||^{2 * n}", 1.0, 2.0 * n, 2.0 * n, 2.0 * n - 1.0, min(1e150, 10.0 ** (250 / n)))


def power_over_p(p, L1=1.0):
    """||x||^p / p, p > 2: certified (((p - 2)/L1)^{p-2}, L1) for any L1 > 0; f* = 0."""
    p = float(as_finite("p", p, minimum=2.0, strict=True))
    L1 = float(positive("L1", L1))
    return _power(f"||x||^{p:g}/{p:g}", 1.0 / p, p, ((p - 2.0) / L1) ** (p - 2.0), L1, 10.0 ** (250 / p))


def quadratic(L):
    """L x^2/2: f'' = L exactly, certified (L, 0); f* = 0."""
    L = float(positive("L", L))
    return radial(Profile1D(f"{L:g} x^2/2", power_profile, (L / 2.0, 2.0), L, 0.0, 0.0, "f'' = L", even=True,
                            scale=1.0 / math.sqrt(L), extent=(-1e150, 1e150), convex=True))


def logistic_profile(t, p, o):
    """log(1 + e^{-a t}), each part in the form that does not overflow.  p[o] = a."""
    a = p[o]
    u = a * t
    if u >= 0.0:
        e = mf.exp(-u)
        val = mf.log1p(e)
        sig_neg = e / (1.0 + e)
    else:
        e = mf.exp(u)
        val = -u + mf.log1p(e)
        sig_neg = 1.0 / (1.0 + e)
    return val, -a * sig_neg, a * a * sig_neg * (1.0 - sig_neg)


def logistic_profile_1d(a=1.0):
    """log(1 + e^{-a x}): f'' = a^2 s(1 - s) <= |a| |f'| with s = sigma(-a x), certified (0, |a|); f* = 0 (not
    attained). Not even: lift it as a ridge, not radially."""
    a = float(positive("a", a))
    reach = 700.0 / a
    return Profile1D(f"logistic(a={a:g})", logistic_profile, (a,), 0.0, a, 0.0, "THEOREMS.md 4 table", side=-1.0,
                     scale=1.0 / a, extent=(-reach, reach), convex=True)


def logistic(a=1.0):
    return on_line(logistic_profile_1d(a))


def explin_profile(t, p, o):
    """e^{a t}.  p[o] = a."""
    a = p[o]
    e = mf.exp(a * t)
    return e, a * e, a * a * e


def exp_linear_profile(a=1.0):
    """e^{a x}: f'' = a f', certified (0, |a|); f* = 0 (not attained)."""
    a = float(positive("a", a))
    reach = 700.0 / a
    return Profile1D(f"exp(a={a:g} x)", explin_profile, (a,), 0.0, a, 0.0, "THEOREMS.md 4 table", scale=1.0 / a,
                     extent=(-reach, reach), convex=True)


def exp_linear(a=1.0):
    return on_line(exp_linear_profile(a))


def catalogue():
    """One representative of every profile family, for certificates and LEMMA-sharp checks."""
    return [f_exp(1.0, 1.0), f_exp(2.0, 5.0), f_slow(1.0), cosh2(), x4(), even_power(1), even_power(3),
            power_over_p(3.0, 1.0), power_over_p(5.0, 2.0), logistic(1.0), exp_linear(2.0)]


# -- functions of R^d given by data --------------------------------------------------------------------------

def _matrix(name, A, rows=None, cols=None):
    A = as_finite(name, strict_number(name, A))
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"{name} must be a nonempty 2-D array, got shape {A.shape}")
    return np.ascontiguousarray(A, dtype=float)


def _row_dot(x, p, i, d):
    """a_i^T x for the row-major matrix stored at p[1:] (the layout of the data-matrix functions below)."""
    z = 0.0
    for j in range(d):
        z += p[1 + i * d + j] * x[j]
    return z


def quartic_value_grad(x, p, g):
    """||A x - b||^4 with p = [m, A (m x d, row-major), b (m)]."""
    d = x.shape[0]
    m = int(p[0])
    for j in range(d):
        g[j] = 0.0
    s = 0.0
    for i in range(m):
        r = _row_dot(x, p, i, d) - p[1 + m * d + i]
        s += r * r
        for j in range(d):
            g[j] += r * p[1 + i * d + j]
    for j in range(d):
        g[j] *= 4.0 * s
    return s * s


def quartic(A, b=None):
    """f(x) = ||A x - b||^4, A of full column rank (m x d, m >= d).

    Certificate (derived here, extending THEOREMS.md 4's ||Ax||^4 row): with r = Ax - b, s = ||r||^2, rho the
    least-squares residual, u = ||r_range||: grad f = 4 s A^T r with ||A^T r|| >= sigma_min u, and
    ||Hess f|| = ||4 s A^T A + 8 A^T r r^T A|| <= 4||A||^2 (u^2 + rho^2) + 8 ||A||^2 u^2. With L1 = 3||A||^2/sigma_min,
    L0 + 12||A||^2 (u^2 + rho^2) u dominates it once L0 >= ||A||^2 sup_u [12 u^2 (1 - u) + 4 rho^2 (1 - 3u)] =
    ||A||^2 (16/9 + 4 rho^2). So (||A||^2 (16/9 + 4 rho^2), 3 ||A||^2 / sigma_min); rho = 0 gives the table's row.
    f* = rho^4."""
    A = _matrix("A", A)
    m, d = A.shape
    b = np.zeros(m) if b is None else as_finite("b", strict_number("b", b))
    if b.shape != (m,):
        raise ValueError(f"b must have one entry per row of A ({m}), got shape {b.shape}")
    s = np.linalg.svd(A, compute_uv=False)
    if m < d or s[-1] <= 1e-12 * s[0]:
        raise ValueError("A must have full column rank (sigma_min(A) > 0)")
    x_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    rho = float(np.linalg.norm(A @ x_ls - b))
    L0 = s[0] ** 2 * (16.0 / 9.0 + 4.0 * rho ** 2)
    L1 = 3.0 * s[0] ** 2 / s[-1]
    params = np.concatenate([[float(m)], A.ravel(), b])
    return Function(f"||Ax-b||^4 (m={m}, d={d})", quartic_value_grad, params, L0, L1,
                    "derived in synthetic.catalogue.quartic (THEOREMS.md 4 row for ||Ax||^4 when b = 0)",
                    rho ** 4, d)


def phase_retrieval_value_grad(x, p, g):
    """(1/(4m)) sum_i ((a_i^T x)^2 - y_i)^2 with p = [m, A (m x d, row-major), y (m)]."""
    d = x.shape[0]
    m = int(p[0])
    for j in range(d):
        g[j] = 0.0
    f = 0.0
    for i in range(m):
        z = _row_dot(x, p, i, d)
        r = z * z - p[1 + m * d + i]
        f += r * r
        for j in range(d):
            g[j] += r * z * p[1 + i * d + j]
    for j in range(d):
        g[j] /= m
    return f / (4.0 * m)


def phase_retrieval(A, y, radius):
    """f(x) = (1/(4m)) sum_i ((a_i^T x)^2 - y_i)^2, certified on the ball ||x|| <= radius.

    Certificate (derived here): Hess f = (1/m) sum_i (3 z_i^2 - y_i) a_i a_i^T with z_i = a_i^T x, so on the ball
    ||Hess f|| <= (1/m) sum_i (3 radius^2 ||a_i||^2 + |y_i|) ||a_i||^2 =: L0, with L1 = 0. It holds on the ball
    only (`region`): A3 needs the class on S, so check that S lies inside (certify.contains_sublevel)."""
    A = _matrix("A", A)
    m, d = A.shape
    y = as_finite("y", strict_number("y", y))
    if y.shape != (m,):
        raise ValueError(f"y must have one entry per row of A ({m}), got shape {y.shape}")
    radius = float(positive("radius", radius))
    n2 = np.sum(A * A, axis=1)
    L0 = float(np.mean((3.0 * radius ** 2 * n2 + np.abs(y)) * n2))
    half = radius / math.sqrt(d)  # the largest cube inside the ball
    return Function(f"phase retrieval (m={m}, d={d})", phase_retrieval_value_grad,
                    np.concatenate([[float(m)], A.ravel(), y]), L0, 0.0,
                    f"derived in synthetic.catalogue.phase_retrieval, on the ball ||x|| <= {radius:g}", 0.0, d,
                    region=np.array([[-half, half]] * d))


def logistic_regression_value_grad(x, p, g):
    """(1/m) sum_i log(1 + e^{-y_i a_i^T x}) with p = [m, A (m x d, row-major), y (m)], y_i = +-1."""
    d = x.shape[0]
    m = int(p[0])
    for j in range(d):
        g[j] = 0.0
    f = 0.0
    for i in range(m):
        u = p[1 + m * d + i] * _row_dot(x, p, i, d)
        if u >= 0.0:
            e = mf.exp(-u)
            f += mf.log1p(e)
            s = e / (1.0 + e)
        else:
            e = mf.exp(u)
            f += -u + mf.log1p(e)
            s = 1.0 / (1.0 + e)
        for j in range(d):
            g[j] -= s * p[1 + m * d + i] * p[1 + i * d + j]
    for j in range(d):
        g[j] /= m
    return f / m


def logistic_regression(A, y):
    """f(x) = (1/m) sum_i log(1 + exp(-y_i a_i^T x)) for labels y_i in {-1, +1}.

    Certificate (derived here): Hess f = (1/m) A^T D A with D = diag(s_i (1 - s_i)) <= 1/4, so ||Hess f|| <=
    ||A||^2/(4m): certified (||A||^2/(4m), 0). Not (0, max||a_i||) in general: like log-sum-exp, the gradient
    can vanish where the Hessian does not (non-separable data). f* >= 0 (0 only for separable data)."""
    A = _matrix("A", A)
    m, d = A.shape
    y = as_finite("y", strict_number("y", y))
    if y.shape != (m,) or not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y must hold one label +1 or -1 per row of A ({m})")
    L0 = float(np.linalg.norm(A, 2) ** 2 / (4.0 * m))
    return Function(f"logistic regression (m={m}, d={d})", logistic_regression_value_grad,
                    np.concatenate([[float(m)], A.ravel(), y]), L0, 0.0,
                    "derived in synthetic.catalogue.logistic_regression: ||A^T D A||/m <= ||A||^2/(4m)",
                    math.nan, d)


def log_sum_exp_value_grad(x, p, g):
    """log sum_i exp(a_i^T x) with p = [m, A (m x d, row-major)], shifted by the largest exponent."""
    d = x.shape[0]
    m = int(p[0])
    top = -math.inf
    for i in range(m):
        top = max(top, _row_dot(x, p, i, d))
    for j in range(d):
        g[j] = 0.0
    s = 0.0
    for i in range(m):
        w = mf.exp(_row_dot(x, p, i, d) - top)
        s += w
        for j in range(d):
            g[j] += w * p[1 + i * d + j]
    for j in range(d):
        g[j] /= s
    return top + mf.log(s)


def log_sum_exp_claimed(A):
    """log sum_i exp(a_i^T x) CLAIMING (0, max ||a_i||): a plausible but false certificate (THEOREMS.md 4), which
    fails where grad f = 0 but Hess f != 0 (e.g. a_1 = -a_2). A negative control: certify must refute it."""
    A = _matrix("A", A)
    m, d = A.shape
    return Function("log-sum-exp (claimed (0, max|a_i|))", log_sum_exp_value_grad,
                    np.concatenate([[float(m)], A.ravel()]), 0.0, float(np.linalg.norm(A, axis=1).max()),
                    "claimed, and false (THEOREMS.md 4): a negative control", math.nan, d, convex=True)


def separable_sum(profiles):
    """sum_i p_i(x_i) of catalogue profiles sharing one form (e.g. f_exp with several (L0, L1))."""
    return separable([p.profile if isinstance(p, Function) else p for p in profiles])


def ridge_profile(profile, e):
    """p(<e, x>) for a catalogue profile (or lifted function) and a direction e."""
    return ridge(profile.profile if isinstance(profile, Function) else profile, e)


# -- the lower-bound pair of section 3.3 ------------------------------------------------------------------

@dataclass(frozen=True)
class LowerBoundPair:
    """For a step h: GD on f_exp from x_exp (||grad|| = M) if h >= h_star, else on f_slow from x_slow."""

    L0: float
    L1: float
    M: float
    eps: float
    delta: float
    a: float
    h_star: float
    exp: Function
    x_exp: float
    slow: Function
    x_slow: float


def lower_bound_pair(L0, L1, M, eps, delta=None, slope_factor=1.0 + 1e-9):
    """Build the section 3.3 pair for the class (L0, L1, M). The slow slope is a = eps * slope_factor, which
    must satisfy eps < a <= min{M, 2 L0 / 3}. delta defaults to f_exp's own gap from x_exp, Delta_exp, so both
    members share (L0, L1, M, Delta); it must be >= Delta_exp (THEOREMS.md 3.3) and exceed 5a/8."""
    L0, L1, M, eps = (float(positive(n, v)) for n, v in (("L0", L0), ("L1", L1), ("M", M), ("eps", eps)))
    a = eps * float(as_finite("slope_factor", slope_factor, minimum=1.0, strict=True))
    if a > min(M, 2.0 * L0 / 3.0):
        raise ValueError(f"eps: the slow slope a = {a:g} must be <= min(M, 2 L0/3) = {min(M, 2 * L0 / 3):g}")
    fe = f_exp(L0, L1)
    x_exp = fe.start_for_grad(M)
    gap_exp = float(bounds.delta_exp(L0, L1, M))  # the f_exp member's gap, in the form that does not cancel
    delta = gap_exp if delta is None else float(nonnegative("delta", delta))
    if delta < gap_exp:
        raise ValueError(f"delta must be >= Delta_exp = M/L1 - (L0/L1^2) log(1 + L1 M/L0) = {gap_exp:g} (THEOREMS.md "
                         f"3.3: below it the f_exp member is not in the class of gap delta), got {delta:g}")
    if delta <= 5.0 * a / 8.0:
        raise ValueError(f"delta must exceed 5a/8 = {5 * a / 8:g} for the slow member, got {delta:g}")
    fs = f_slow(a)
    return LowerBoundPair(L0, L1, M, eps, delta, a, zhsj_thm4_critical_step(L0, L1, M), fe, x_exp, fs,
                          fs.start_for_gap(delta))
