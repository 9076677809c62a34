"""ZHSJ-Def1: the (L0,L1)-smoothness class, and the growth functions of LEMMA-sharp and LEMMA-ZJFW."""
from dataclasses import dataclass

import numpy as np

from .validation import nonnegative


@dataclass(frozen=True)
class L0L1:
    """The constants of ZHSJ-Def1: ||Hess f(x)|| <= L0 + L1 ||grad f(x)|| for all x, with L0, L1 >= 0.

    L1 = 0 is ordinary L-smoothness with L = L0.
    """

    L0: float
    L1: float

    def __post_init__(self):
        object.__setattr__(self, "L0", float(nonnegative("L0", self.L0)))
        object.__setattr__(self, "L1", float(nonnegative("L1", self.L1)))

    def hessian_cap(self, grad_norm):
        """L0 + L1 * ||grad f||: the largest Hessian norm the class allows at that gradient norm."""
        return self.L0 + self.L1 * np.asarray(grad_norm, dtype=float)

    def ratio(self, hess_norm, grad_norm):
        """||Hess f|| / (L0 + L1 ||grad f||); <= 1 everywhere iff f is in the class. 0/0 counts as 0."""
        cap = self.hessian_cap(grad_norm)
        hess = np.asarray(hess_norm, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cap > 0, hess / np.where(cap > 0, cap, 1.0), np.where(hess > 0, np.inf, 0.0))


def phi(u):
    """phi(u) = e^u - u - 1, computed without cancellation for small u."""
    u = np.asarray(u, dtype=float)
    return np.expm1(u) - u


def kappa(u):
    """kappa(u) = 2 phi(u) / u^2 (-> 1 as u -> 0); increasing, kappa(0.1) = 1.03418, kappa(1/2) = 1.18977.
    +inf where phi(u) overflows (u > 709.78), never NaN for finite u."""
    u = np.asarray(u, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        series = 1.0 + u / 3.0 + u * u / 12.0  # Taylor series where the quotient loses digits
        return np.where(np.abs(u) < 1e-4, series, 2.0 * (phi(u) / u) / u)  # (phi/u)/u: u*u overflows first


def gradient_growth(L0, L1, grad_norm_x, r):
    """LEMMA-sharp, first part: ||grad f(y) - grad f(x)|| <= (L0 + L1 ||grad f(x)||) (e^{L1 r} - 1) / L1.

    Assumes f is (L0,L1)-smooth (ZHSJ-Def1) on the segment [x, y], r = ||y - x||. L1 = 0 gives L0 r.
    """
    L0, L1, g, r = (np.asarray(v, dtype=float) for v in (L0, L1, grad_norm_x, r))
    scale = np.where(L1 > 0, np.expm1(L1 * r) / np.where(L1 > 0, L1, 1.0), r)
    return (L0 + L1 * g) * scale


def value_growth(L0, L1, grad_norm_x, r):
    """LEMMA-sharp, second part: f(y) - f(x) - <grad f(x), y - x> <= (L0 + L1 ||grad f(x)||) phi(L1 r) / L1^2.

    Assumes f is (L0,L1)-smooth on [x, y], r = ||y - x||. L1 = 0 gives the classical L0 r^2 / 2.
    """
    L0, L1, g, r = (np.asarray(v, dtype=float) for v in (L0, L1, grad_norm_x, r))
    return (L0 + L1 * g) * r * r * kappa(L1 * r) / 2.0


def zjfw_coefficients(c):
    """LEMMA-ZJFW (Zhang, Jin, Fang, Wang 2020, Cor. A.4): A(c) = 1 + e^c - (e^c - 1)/c, B(c) = (e^c - 1)/c.

    For ||y - x|| <= c / L1: ||grad f(y) - grad f(x)|| <= (A L0 + B L1 ||grad f(x)||) ||y - x||.
    B(0) = 1 (the limit); both are +inf where e^c overflows (c > 709.78), never NaN.
    """
    c = np.asarray(c, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        B = np.where(c == 0, 1.0, np.expm1(c) / np.where(c == 0, 1.0, c))  # B(0) = 1, the limit
        cs = np.where(c > 1, c, 2.0)
        A = np.where(c > 1, 1.0 + 1.0 / cs + np.exp(cs) * (1.0 - 1.0 / cs), 1.0 + np.exp(c) - B)  # no inf - inf
        return A, B


def local_smoothness(grad, x, step, s_grid=(0.1, 0.25, 0.5, 0.75, 1.0)):
    """The estimator of THEOREMS.md section 6 along a step d = x_{t+1} - x_t:

        L_hat = max_j ||grad(x + s_j d) - grad(x)|| / (s_j ||d||),   s_j in (0, 1].

    grad: a function of one point returning its gradient (same shape). For an (L0,L1)-smooth f LEMMA-sharp
    bounds it by (L0 + L1 ||grad f(x)||)(e^{L1 ||d||} - 1)/(L1 ||d||); on a quadratic it is the curvature along d.
    """
    x = np.asarray(x, dtype=float)
    d = np.asarray(step, dtype=float)
    s = np.asarray(s_grid, dtype=float)
    if s.ndim != 1 or s.size == 0 or np.any(~np.isfinite(s)) or np.any((s <= 0) | (s > 1)):
        raise ValueError(f"s_grid must be a non-empty list of numbers in (0, 1], got {s_grid!r}")
    length = float(np.linalg.norm(d))
    if not np.isfinite(length) or length == 0:
        raise ValueError("step must be finite and nonzero")
    g0 = np.asarray(grad(x), dtype=float)
    return max(float(np.linalg.norm(np.asarray(grad(x + sj * d), dtype=float) - g0)) / (sj * length) for sj in s)
