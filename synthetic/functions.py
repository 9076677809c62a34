"""Constructed (L0,L1)-smooth functions with certified constants (THEOREMS.md section 4).

A `Family` is a 1-D profile p (profiles.py) with its certificate (L0, L1), its f*, and helpers to place a start
point. On the line, f(x) = p(x); in R^d (d >= 2), even profiles are lifted radially, f(x) = p(||x||), which keeps
the constants (the Hessian's eigenvalues are p''(r) and p'(r)/r, and p'(r)/r is a mean of p'' on [0, r]).
Points are arrays: shape (n,) on the line, shape (n, d) in R^d.
"""
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import brentq

from clipcheck.theory.smoothness import L0L1
from clipcheck.theory.steps import zhsj_thm4_critical_step
from clipcheck.theory.validation import as_finite, count, nonnegative, positive

from . import cpu, profiles

# A certificate holds when every sampled ||Hess f|| / (L0 + L1 ||grad f||) is <= 1 + this: the families that are
# tight (f_exp everywhere, x^4 at 2/3) hit ratio 1 exactly, and evaluating both sides costs a few ulps.
CERTIFY_ROUNDING = 1e-9


@dataclass(frozen=True)
class Certificate:
    """Outcome of sampling ||Hess f|| / (L0 + L1 ||grad f||) over a family's domain."""

    family: str
    L0: float
    L1: float
    worst_ratio: float
    worst_point: float
    n_points: int

    @property
    def holds(self):
        return bool(self.worst_ratio <= 1.0 + CERTIFY_ROUNDING)

    def to_dict(self):
        return {**self.__dict__, "holds": self.holds}


def _sample_line(scale, lo, hi, n):
    """Points dense (spacing ~ scale * 1e-4 at n = 2e5) near 0 and geometric far out, covering [lo, hi]."""
    u = np.linspace(np.arcsinh(lo / scale), np.arcsinh(hi / scale), n)
    return np.unique(np.concatenate([scale * np.sinh(u), [0.0]]))


@dataclass(frozen=True)
class Family:
    """A constructed function: profile `kind` with `params`, certified (L0, L1), infimum f_star.

    radial: the profile is even, so the radial lift to R^d is defined and keeps (L0, L1).
    side:   the direction of x along which ||grad f|| grows from the minimiser (+1, or -1 for logistic).
    scale:  the length on which the profile changes shape (sampling density for `certify`).
    extent: the sampled interval, where the profile is finite in float64.
    """

    name: str
    kind: int
    params: tuple
    L0: float
    L1: float
    f_star: float
    radial: bool
    side: float
    scale: float
    extent: tuple
    source: str

    @property
    def constants(self):
        return L0L1(self.L0, self.L1)

    # -- evaluation ---------------------------------------------------------------------------------------
    def _points(self, x):
        x = as_finite("x", x)
        if x.ndim <= 1:
            return np.atleast_1d(x), None
        if x.ndim != 2:
            raise ValueError(f"x must have shape (n,) or (n, d), got {x.shape}")
        if x.shape[1] == 1:
            return x[:, 0], None
        if not self.radial:
            raise ValueError(f"x: family {self.name} has no radial lift to R^d; pass points on the line")
        return np.linalg.norm(x, axis=1), x

    def _profile(self, t):
        return cpu.evaluate(self.kind, np.asarray(self.params, float), np.ascontiguousarray(t, dtype=float))

    def value(self, x):
        t, _ = self._points(x)
        return self._profile(t)[0]

    def grad(self, x):
        """The gradient: shape (n,) on the line, (n, d) for the radial lift."""
        t, X = self._points(x)
        d = self._profile(t)[1]
        if X is None:
            return d
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(t[:, None] > 0, d[:, None] * X / t[:, None], 0.0)

    def grad_norm(self, x):
        t, _ = self._points(x)
        return np.abs(self._profile(t)[1])

    def hess_norm(self, x):
        """Operator 2-norm of the Hessian; for the radial lift max(|p''(r)|, |p'(r)/r|) (p''(0) at r = 0)."""
        t, X = self._points(x)
        _, d, dd = self._profile(t)
        if X is None:
            return np.abs(dd)
        with np.errstate(invalid="ignore", divide="ignore"):
            tangential = np.where(t > 0, np.abs(d) / t, np.abs(dd))
        return np.maximum(np.abs(dd), tangential)

    # -- certificate --------------------------------------------------------------------------------------
    def certify(self, n=200_001):
        """Sample the line densely (and, for radial families, the tangential curvature p'(r)/r of the lift)
        and report the worst ||Hess f|| / (L0 + L1 ||grad f||). The certificate holds when it is <= 1."""
        n = count("n", n, minimum=10)
        x = _sample_line(self.scale, self.extent[0], self.extent[1], n)
        pts = np.stack([x, np.zeros_like(x)], axis=1) if self.radial else x
        with np.errstate(over="ignore", invalid="ignore"):
            ratio = self.constants.ratio(self.hess_norm(pts), self.grad_norm(pts))
            ratio = np.where(np.isfinite(self.value(pts)), ratio, 0.0)  # past float64's range nothing is claimed
        k = int(np.argmax(ratio))
        return Certificate(self.name, self.L0, self.L1, float(ratio[k]), float(x[k]), int(x.size))

    def with_constants(self, L0, L1, source="claimed by the caller"):
        """The same function claiming other constants (check the claim with `certify`)."""
        c = L0L1(L0, L1)
        return replace(self, L0=c.L0, L1=c.L1, source=source)

    def in_class(self, L0, L1):
        """Sufficient: the certificate is no larger than (L0, L1) in both constants."""
        return self.L0 <= L0 and self.L1 <= L1

    # -- start points -------------------------------------------------------------------------------------
    def _on_ray(self, s, dim):
        dim = count("dim", dim)
        if dim > 1 and not self.radial:
            raise ValueError(f"dim: family {self.name} has no radial lift to R^d")
        if dim == 1:
            return float(self.side * s)
        x = np.zeros(dim)
        x[0] = s
        return x

    def _solve_on_ray(self, fun, target, what):
        """Smallest s >= 0 on the ray with fun(s) = target; fun is nondecreasing in s for every family here."""
        hi = self.scale
        while fun(hi) < target:
            hi *= 2.0
            if hi > abs(self.extent[1 if self.side > 0 else 0]):
                raise ValueError(f"{what}={target!r} is beyond what family {self.name} reaches in float64")
        if fun(0.0) >= target:
            return 0.0
        return brentq(lambda s: fun(s) - target, 0.0, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps)

    def start_for_grad(self, M, dim=1):
        """A start point x0 with ||grad f(x0)|| = M, on the ray where the gradient grows."""
        M = float(positive("M", M))
        s = self._solve_on_ray(lambda s: float(self.grad_norm(self.side * s)[0]), M, "M")
        return self._on_ray(s, dim)

    def start_for_gap(self, delta, dim=1):
        """A start point x0 with f(x0) - f* = delta, on the ray where the gradient grows."""
        delta = float(positive("delta", delta))
        s = self._solve_on_ray(lambda s: float(self.value(self.side * s)[0]) - self.f_star, delta, "delta")
        return self._on_ray(s, dim)

    def sublevel_grad_sup(self, x0):
        """M of assumption A4: sup ||grad f|| over {f <= f(x0)}. For every family here ||grad f|| grows with
        f along the ray (monotone profiles), so the sup is attained at x0 itself."""
        return self.grad_norm(x0)


def _family(name, kind, params, L0, L1, f_star, radial, scale, extent, source, side=1.0):
    p = tuple(float(v) for v in params) + (0.0,) * (3 - len(params))
    return Family(name, kind, p, float(L0), float(L1), float(f_star), radial, side, float(scale),
                  (float(extent[0]), float(extent[1])), source)


def f_exp(L0, L1):
    """Section 3.1: f(x) = (L0/L1^2)(e^{L1|x|} - L1|x| - 1), with f'' = L0 + L1|f'| exactly (tight); f* = 0."""
    L0, L1 = float(positive("L0", L0)), float(positive("L1", L1))
    reach = 700.0 / L1
    return _family(f"f_exp(L0={L0:g}, L1={L1:g})", profiles.EXP, (L0, L1), L0, L1, 0.0, True, 1.0 / L1,
                   (-reach, reach), "THEOREMS.md 3.1: f'' = L0 + L1|f'|")


def f_slow(a):
    """Section 3.2: a(3x^2/4 - x^4/8) for |x| <= 1, a(|x| - 3/8) outside; certified (3a/2, 0); f* = 0."""
    a = float(positive("a", a))
    return _family(f"f_slow(a={a:g})", profiles.SLOW, (a,), 1.5 * a, 0.0, 0.0, True, 1.0, (-1e12, 1e12),
                   "THEOREMS.md 3.2: f'' = (3a/2)(1 - x^2)_+")


def cosh2():
    """e^x + e^{-x}: certified (2, 1) since cosh r <= 1 + sinh|r|; f* = 2."""
    return _family("e^x+e^-x", profiles.COSH, (), 2.0, 1.0, 2.0, True, 1.0, (-700.0, 700.0),
                   "THEOREMS.md 4 table")


def x4():
    """x^4: certified (16/9, 3), the smallest L0 at L1 = 3 (equality at |x| = 2/3); f* = 0."""
    return _family("x^4", profiles.POWER, (1.0, 4.0), 16.0 / 9.0, 3.0, 0.0, True, 1.0, (-1e60, 1e60),
                   "THEOREMS.md 4 table")


def even_power(n):
    """||x||^{2n}: certified (2n, 2n - 1); f* = 0."""
    n = count("n", n)
    return _family(f"||x||^{2 * n}", profiles.POWER, (1.0, 2.0 * n), 2.0 * n, 2.0 * n - 1.0, 0.0, True, 1.0,
                   (-min(1e150, 10.0 ** (250 / n)), min(1e150, 10.0 ** (250 / n))), "THEOREMS.md 4 table")


def power_over_p(p, L1=1.0):
    """||x||^p / p, p > 2: certified (((p - 2)/L1)^{p-2}, L1) for any L1 > 0; f* = 0."""
    p = float(as_finite("p", p, minimum=2.0, strict=True))
    L1 = float(positive("L1", L1))
    reach = 10.0 ** (250 / p)
    return _family(f"||x||^{p:g}/{p:g}", profiles.POWER, (1.0 / p, p), ((p - 2.0) / L1) ** (p - 2.0), L1, 0.0,
                   True, 1.0, (-reach, reach), "THEOREMS.md 4 table")


def logistic(a=1.0):
    """log(1 + e^{-a x}): certified (0, |a|) since f'' = a^2 s(1 - s) <= |a| |f'|; f* = 0 (not attained)."""
    a = float(positive("a", a))
    reach = 700.0 / a
    return _family(f"logistic(a={a:g})", profiles.LOGISTIC, (a,), 0.0, a, 0.0, False, 1.0 / a, (-reach, reach),
                   "THEOREMS.md 4 table", side=-1.0)


def exp_linear(a=1.0):
    """e^{a x}: certified (0, |a|) since f'' = a f' ; f* = 0 (not attained)."""
    a = float(positive("a", a))
    reach = 700.0 / a
    return _family(f"exp(a={a:g} x)", profiles.EXPLIN, (a,), 0.0, a, 0.0, False, 1.0 / a, (-reach, reach),
                   "THEOREMS.md 4 table")


def catalogue():
    """One representative of every profile family, for certificates and LEMMA-sharp checks."""
    return [f_exp(1.0, 1.0), f_exp(2.0, 5.0), f_slow(1.0), cosh2(), x4(), even_power(1), even_power(3),
            power_over_p(3.0, 1.0), power_over_p(5.0, 2.0), logistic(1.0), exp_linear(2.0)]


# -- functions given by a matrix (NumPy only: certificates and LEMMA-sharp, not the Numba runner) ----------

@dataclass(frozen=True)
class QuarticForm:
    """f(x) = ||A x||^4 with A square and invertible: certified (16||A||^2/9, 3||A||^2/sigma_min(A)); f* = 0."""

    A: np.ndarray

    def __post_init__(self):
        A = as_finite("A", self.A)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix, got shape {A.shape}")
        s = np.linalg.svd(A, compute_uv=False)
        if s[-1] <= 0:
            raise ValueError("A must be invertible (sigma_min(A) > 0)")
        object.__setattr__(self, "A", A)

    @property
    def name(self):
        return f"||Ax||^4 (d={self.A.shape[0]})"

    @property
    def L0(self):
        return 16.0 * np.linalg.norm(self.A, 2) ** 2 / 9.0

    @property
    def L1(self):
        s = np.linalg.svd(self.A, compute_uv=False)
        return 3.0 * s[0] ** 2 / s[-1]

    f_star = 0.0
    source = "THEOREMS.md 4 table"

    def value(self, X):
        return np.sum((X @ self.A.T) ** 2, axis=1) ** 2

    def grad(self, X):
        B = self.A.T @ self.A
        BX = X @ B
        return 4.0 * np.sum(X * BX, axis=1)[:, None] * BX

    def grad_norm(self, X):
        return np.linalg.norm(self.grad(X), axis=1)

    def hess_norm(self, X):
        B = self.A.T @ self.A
        BX = X @ B
        s = np.sum(X * BX, axis=1)
        H = 4.0 * s[:, None, None] * B + 8.0 * BX[:, :, None] * BX[:, None, :]
        return np.abs(np.linalg.eigvalsh(H)).max(axis=1)

    def certify(self, n=20_000, seed=0):
        return certify_in_space(self, n, seed)


@dataclass(frozen=True)
class LogSumExp:
    """f(x) = log sum_i exp(a_i^T x), claimed (0, max ||a_i||). THEOREMS.md says the claim is false where
    grad f = 0 but Hess f != 0 (e.g. a_1 = -a_2): `certify` must find that (a negative control)."""

    A: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "A", as_finite("A", self.A))

    name = "log-sum-exp (claimed (0, max|a_i|))"
    L0 = 0.0
    f_star = -np.inf
    source = "a plausible but false claim (THEOREMS.md 4)"

    @property
    def L1(self):
        return float(np.linalg.norm(self.A, axis=1).max())

    def _softmax(self, X):
        z = X @ self.A.T
        z = z - z.max(axis=1, keepdims=True)
        w = np.exp(z)
        return w / w.sum(axis=1, keepdims=True)

    def grad(self, X):
        return self._softmax(X) @ self.A

    def grad_norm(self, X):
        return np.linalg.norm(self.grad(X), axis=1)

    def hess_norm(self, X):
        P = self._softmax(X)
        mean = P @ self.A
        H = np.einsum("ni,ij,ik->njk", P, self.A, self.A) - mean[:, :, None] * mean[:, None, :]
        return np.abs(np.linalg.eigvalsh(H)).max(axis=1)

    def certify(self, n=20_000, seed=0):
        return certify_in_space(self, n, seed)


def certify_in_space(fam, n=20_000, seed=0):
    """Worst ||Hess f|| / (L0 + L1 ||grad f||) over random directions at radii from 1e-6 to 1e3 (and 0)."""
    n = count("n", n, minimum=10)
    rng = np.random.default_rng(seed)
    d = fam.A.shape[1]
    u = rng.standard_normal((n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    X = np.vstack([np.zeros((1, d)), u * np.logspace(-6, 3, n)[rng.permutation(n), None]])
    ratio = L0L1(fam.L0, fam.L1).ratio(fam.hess_norm(X), fam.grad_norm(X))
    k = int(np.argmax(ratio))
    return Certificate(fam.name, fam.L0, fam.L1, float(ratio[k]), float(np.linalg.norm(X[k])), int(X.shape[0]))


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
    exp: Family
    x_exp: float
    slow: Family
    x_slow: float


def lower_bound_pair(L0, L1, M, eps, delta=None, slope_factor=1.0 + 1e-9):
    """Build the section 3.3 pair for the class (L0, L1, M). The slow slope is a = eps * slope_factor, which
    must satisfy eps < a <= min{M, 2 L0 / 3}. delta defaults to f_exp's own gap from x_exp, so both members
    share (L0, L1, M, Delta); it must exceed 5a/8."""
    L0, L1, M, eps = (float(positive(n, v)) for n, v in (("L0", L0), ("L1", L1), ("M", M), ("eps", eps)))
    a = eps * float(as_finite("slope_factor", slope_factor, minimum=1.0, strict=True))
    if a > min(M, 2.0 * L0 / 3.0):
        raise ValueError(f"eps: the slow slope a = {a:g} must be <= min(M, 2 L0/3) = {min(M, 2 * L0 / 3):g}")
    fe = f_exp(L0, L1)
    x_exp = fe.start_for_grad(M)
    if delta is None:
        delta = float(fe.value(x_exp)[0])
    delta = float(nonnegative("delta", delta))
    if delta <= 5.0 * a / 8.0:
        raise ValueError(f"delta must exceed 5a/8 = {5 * a / 8:g} for the slow member, got {delta:g}")
    fs = f_slow(a)
    return LowerBoundPair(L0, L1, M, eps, delta, a, zhsj_thm4_critical_step(L0, L1, M), fe, x_exp, fs,
                          fs.start_for_gap(delta))


def quadratic(L):
    """L x^2 / 2: L-smooth with f'' = L exactly, certified (L, 0); f* = 0."""
    L = float(positive("L", L))
    return _family(f"{L:g} x^2/2", profiles.POWER, (L / 2.0, 2.0), L, 0.0, 0.0, True, 1.0 / np.sqrt(L),
                   (-1e150, 1e150), "f'' = L")
