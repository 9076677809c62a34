"""Is a function in the (L0, L1) class on a box? certify() answers certified, refuted (with a witness) or unknown.

- certified: a rigorous bound. Interval branch-and-bound (intervals.py, outward rounding; mpmath's iv as fallback) on
  the SymPy expressions of the gradient and Hessian proves ||Hess f|| - L0 - L1 ||grad f|| <= 0 on every sub-box:
  ||Hess f|| <= min(max_i sum_j |H_ij|, sqrt(sum_ij H_ij^2)) (the Gershgorin and Frobenius bounds on the 2-norm of
  a symmetric matrix) and ||grad f|| >=
  sqrt(sum_i mig(g_i)^2) (mig: the smallest |.| over an interval). Needs a function from Function.from_sympy.
  A certificate that is tight somewhere (f_exp: equality everywhere) cannot be proved this way: unknown.
- refuted: a point where ||Hess f(x)|| > (L0 + L1 ||grad f(x)||)(1 + REFUTE_MARGIN), found by sampling the box
  and maximising the ratio from the best samples (scipy's L-BFGS-B). The witness is re-checked with the exact
  Hessian (SymPy) or, without one, with the function's hess_norm or a finite-difference Hessian.
- unknown: neither within the budget.
A3 asks for the class only on S, the 1-neighbourhood of the sublevel set {f <= f(x0)}, so a certificate on a box
is enough for Thm 3 and Thm 6 once contains_sublevel(function, x0, box) says the box holds S.
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from clipcheck.theory.validation import as_finite, nonnegative, strict_number

from .functions import Function

REFUTE_MARGIN = 1e-6   # a witness must beat the certificate by this much, far above rounding of the ratio
VERDICTS = ("certified", "refuted", "unknown")


@dataclass
class Certificate:
    """certify()'s answer. witness: the point that refutes (None otherwise); ratio: ||Hess f|| / (L0 + L1
    ||grad f||) there (or the worst sampled ratio); boxes: how many sub-boxes the interval search proved."""

    verdict: str
    L0: float
    L1: float
    box: list
    witness: list = None
    ratio: float = math.nan
    worst_sampled: float = math.nan
    boxes: int = 0
    method: str = ""
    notes: list = field(default_factory=list)

    @property
    def certified(self):
        return self.verdict == "certified"

    def to_dict(self):
        return {k: getattr(self, k) for k in ("verdict", "L0", "L1", "box", "witness", "ratio", "worst_sampled",
                                              "boxes", "method", "notes")}


def as_box(box, dim=None):
    """box as a (d, 2) float array of (low, high) pairs, low < high, finite."""
    b = as_finite("box", strict_number("box", box))
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] == 0:
        raise ValueError(f"box must be a sequence of (low, high) pairs, one per coordinate, got shape {b.shape}")
    if np.any(b[:, 0] >= b[:, 1]):
        raise ValueError("box: every pair must have low < high")
    if dim is not None and b.shape[0] != dim:
        raise ValueError(f"box has {b.shape[0]} coordinates, the function has {dim}")
    return b


# -- Hessians at points ----------------------------------------------------------------------------------

def hessian_norms(function, X):
    """||Hess f|| (operator 2-norm) at the rows of X: exact from SymPy when the function has it, else its
    hess_norm, else a central finite difference of the gradient (relative step 1e-5)."""
    X = np.atleast_2d(np.asarray(X, float))
    sym = getattr(function, "sympy", None)
    if sym is not None:
        H = sym.hessian(X)
        return np.abs(np.linalg.eigvalsh(H)).max(axis=1)
    if function.hess_norm is not None:
        return function.hessian_norm(X)
    n, d = X.shape
    H = np.empty((n, d, d))
    for j in range(d):
        step = 1e-5 * np.maximum(1.0, np.abs(X[:, j]))
        E = np.zeros_like(X)
        E[:, j] = step
        H[:, :, j] = (function.evaluate(X + E)[1] - function.evaluate(X - E)[1]) / (2.0 * step[:, None])
    H = 0.5 * (H + np.transpose(H, (0, 2, 1)))
    return np.abs(np.linalg.eigvalsh(H)).max(axis=1)


def ratios(function, L0, L1, X):
    """||Hess f|| / (L0 + L1 ||grad f||) at the rows of X (0/0 counts as 0; non-finite points as 0)."""
    X = np.atleast_2d(np.asarray(X, float))
    with np.errstate(all="ignore"):
        g = function.grad_norm(X)
        h = hessian_norms(function, X)
        cap = L0 + L1 * g
        r = np.where(cap > 0, h / np.where(cap > 0, cap, 1.0), np.where(h > 0, np.inf, 0.0))
    return np.where(np.isfinite(g) & np.isfinite(h), r, 0.0)


def _samples(box, n, rng):
    """Uniform points, points near each face and the centre, and points along each axis through the centre
    (maximisers of quadratic forms sit on eigen-axes), clipped to the box."""
    lo, hi = box[:, 0], box[:, 1]
    d = box.shape[0]
    u = lo + (hi - lo) * rng.random((n, d))
    centre = 0.5 * (lo + hi)
    axes = []
    for j in range(d):
        line = np.tile(centre, (64, 1))
        line[:, j] = np.linspace(lo[j], hi[j], 64)
        axes.append(line)
    # a log-spaced shell around the centre: small scales matter where the gradient vanishes
    dirs = rng.standard_normal((n // 4 + 1, d))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    radii = np.exp(rng.uniform(np.log(1e-6), 0.0, dirs.shape[0]))[:, None] * (hi - lo) / 2
    shell = np.clip(centre + dirs * radii, lo, hi)
    return np.vstack([u, shell, centre[None, :]] + axes)


def _refute(function, L0, L1, box, n, seed, deadline):
    rng = np.random.default_rng(seed)
    X = _samples(box, n, rng)
    r = ratios(function, L0, L1, X)
    order = np.argsort(r)[::-1][:8]
    best_x, best_r = X[order[0]], float(r[order[0]])
    bounds = list(map(tuple, box))
    for k in order:
        if time.monotonic() > deadline:
            break
        res = minimize(lambda x: -float(ratios(function, L0, L1, x[None, :])[0]), X[k], method="L-BFGS-B",
                       bounds=bounds, options={"maxiter": 200})
        if -res.fun > best_r:
            best_x, best_r = np.clip(res.x, box[:, 0], box[:, 1]), float(-res.fun)
    return best_x, best_r, float(r.max())


def certify(function, L0, L1, box, *, budget_s=20.0, n_samples=20000, seed=0, max_boxes=2_000_000):
    """certified / refuted / unknown for ||Hess f|| <= L0 + L1 ||grad f|| on the box (see the module)."""
    if not isinstance(function, Function):
        raise ValueError(f"function must be a clipcheck.synthetic.Function, got {type(function).__name__}")
    L0, L1 = float(nonnegative("L0", L0)), float(nonnegative("L1", L1))
    b = as_box(box, function.dim)
    deadline = time.monotonic() + float(as_finite("budget_s", budget_s, minimum=0.0, strict=True))
    witness, ratio, worst = _refute(function, L0, L1, b, int(n_samples), seed, deadline)
    box_list = b.tolist()
    if ratio > 1.0 + REFUTE_MARGIN:
        return Certificate("refuted", L0, L1, box_list, np.asarray(witness).tolist(), ratio, worst,
                           method="sampling + local maximisation")
    sym = getattr(function, "sympy", None)
    if sym is None:
        return Certificate("unknown", L0, L1, box_list, None, ratio, worst,
                           method="sampling + local maximisation (no SymPy expression for a rigorous bound)",
                           notes=["build the function with Function.from_sympy to certify it"])
    proved, boxes, hard = sym.interval_check(L0, L1, b, deadline, max_boxes)
    if proved:
        return Certificate("certified", L0, L1, box_list, None, ratio, worst, boxes,
                           method="interval branch-and-bound (mpmath iv)")
    return Certificate("unknown", L0, L1, box_list, None, ratio, worst, boxes,
                       method="interval branch-and-bound did not close",
                       notes=[f"{len(hard)} sub-boxes left undecided, e.g. {hard[0] if hard else None}"])


@dataclass
class SmallestL0:
    """smallest_L0's answer: value = the smallest L0 certified (inf if none within the budget); lower = the
    sampled sup of (||Hess f|| - L1 ||grad f||)_+, below which no L0 can be valid."""

    value: float
    lower: float
    certificate: Certificate = None


def smallest_L0(function, L1, box, *, budget_s=30.0, seed=0, rel_tol=1e-3):
    """The tightest L0 for this L1 on the box: bisection between the sampled lower bound and an L0 that
    certify() certifies (rigorous only for functions from SymPy)."""
    L1 = float(nonnegative("L1", L1))
    b = as_box(box, function.dim)
    rng = np.random.default_rng(seed)
    X = _samples(b, 20000, rng)
    with np.errstate(all="ignore"):
        excess = hessian_norms(function, X) - L1 * function.grad_norm(X)
    k = int(np.nanargmax(excess))
    res = minimize(lambda x: -float(hessian_norms(function, x[None, :])[0] - L1 * function.grad_norm(x)[0]),
                   X[k], method="L-BFGS-B", bounds=list(map(tuple, b)))
    lower = max(0.0, float(excess[k]), float(-res.fun))
    deadline = time.monotonic() + budget_s
    hi = max(lower * 2.0, 1e-12)
    cert = None
    while time.monotonic() < deadline:
        cert = certify(function, hi, L1, b, budget_s=max(deadline - time.monotonic(), 0.1), seed=seed)
        if cert.certified:
            break
        hi *= 2.0
    if cert is None or not cert.certified:
        return SmallestL0(math.inf, lower, cert)
    lo = lower
    while hi - lo > rel_tol * hi and time.monotonic() < deadline:
        mid = 0.5 * (lo + hi)
        c = certify(function, mid, L1, b, budget_s=max(deadline - time.monotonic(), 0.1), seed=seed)
        if c.certified:
            hi, cert = mid, c
        else:
            lo = mid
    return SmallestL0(hi, lower, cert)


def contains_sublevel(function, x0, box, *, n_samples=20000, seed=0):
    """Does the box hold S, the 1-neighbourhood of {f <= f(x0)} (A3)? True when f > f(x0) on the boundary of the
    box shrunk by 1 and x0 lies inside it: for a convex f that implies the sublevel set lies in the shrunk box
    (a point outside would join x0 by a segment crossing the boundary, where f > f(x0), against convexity).
    Checked rigorously by intervals for SymPy functions, by sampling otherwise (then only evidence); a function
    not declared convex gets "unknown"."""
    b = as_box(box, function.dim)
    inner = b + np.array([1.0, -1.0])
    if np.any(inner[:, 0] >= inner[:, 1]):
        return "no: the box is narrower than 2 in some coordinate"
    x0 = np.atleast_1d(np.asarray(x0, float))
    if np.any(x0 < inner[:, 0]) or np.any(x0 > inner[:, 1]):
        return "no: x0 lies outside the box shrunk by 1"
    if not getattr(function, "convex", False):
        return "unknown: the boundary test implies containment only for convex functions"
    level = float(function.value(x0[None, :])[0])
    sym = getattr(function, "sympy", None)
    if sym is not None:
        return "yes (interval)" if sym.boundary_above(level, inner) else "unknown: interval test did not close"
    rng = np.random.default_rng(seed)
    d = inner.shape[0]
    pts = inner[:, 0] + (inner[:, 1] - inner[:, 0]) * rng.random((n_samples, d))
    face = rng.integers(0, d, n_samples)
    side = rng.integers(0, 2, n_samples)
    pts[np.arange(n_samples), face] = inner[face, side]
    return "yes (sampled)" if np.all(function.value(pts) > level) else "no: a boundary point is below f(x0)"


# -- sampled evidence for the catalogue's 1-D profiles ----------------------------------------------------

SAMPLE_ROUNDING = 1e-9  # tight profiles (f_exp everywhere, x^4 at 2/3) reach ratio 1 up to a few ulps


@dataclass(frozen=True)
class SampledCertificate:
    """The worst ||Hess f|| / (L0 + L1 ||grad f||) over dense samples of a profile's line: evidence, not proof
    (the certificates themselves are derived in the catalogue's docstrings and machine-checked in proofs_check)."""

    name: str
    L0: float
    L1: float
    worst_ratio: float
    worst_point: float
    n_points: int

    @property
    def holds(self):
        return bool(self.worst_ratio <= 1.0 + SAMPLE_ROUNDING)


def profile_certificate(profile, n=200_001, radial=False):
    """Sample the profile's line, dense near 0 (spacing ~ scale * 1e-4 at n = 2e5) and geometric far out, over
    the interval where it is finite; with radial=True also the tangential curvature |p'(r)|/r of the lift."""
    lo, hi = profile.extent
    lo, hi = max(lo, -1e300), min(hi, 1e300)
    u = np.linspace(np.arcsinh(lo / profile.scale), np.arcsinh(hi / profile.scale), int(n))
    x = np.unique(np.concatenate([profile.scale * np.sinh(u), [0.0]]))
    with np.errstate(all="ignore"):
        f, d, dd = profile.at(x)
        hess = np.abs(dd)
        if radial:
            hess = np.maximum(hess, np.where(x != 0, np.abs(d) / np.abs(np.where(x != 0, x, 1.0)), 0.0))
        cap = profile.L0 + profile.L1 * np.abs(d)
        ratio = np.where(cap > 0, hess / np.where(cap > 0, cap, 1.0), np.where(hess > 0, np.inf, 0.0))
        ratio = np.where(np.isfinite(f) & np.isfinite(d), ratio, 0.0)  # past float64's range nothing is claimed
    k = int(np.argmax(ratio))
    return SampledCertificate(profile.name, profile.L0, profile.L1, float(ratio[k]), float(x[k]), int(x.size))
