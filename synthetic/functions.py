"""Functions for the runner: `Function` (value_grad once, its certificate, f*) and 1-D `Profile1D` with lifts.

A Function is defined once, in scalar code (PROTOCOL.md): value_grad(x, p, g) -> f writes grad f(x) into g for x
in R^d and returns f(x); p is its parameter array. It carries its certificate (L0, L1), a sentence saying how the
certificate was obtained, and f* where known. Evaluating a Function on points (value, grad, hess_norm) runs a
compiled kernel from the same source as the runner's.

A 1-D profile evaluate(t, p, o) -> (p(t), p'(t), p''(t)) (parameters p[o], p[o + 1], ...) becomes a function of
R^d through lifts that keep (L0, L1) (THEOREMS.md 4b): on the line, radial p(||x||) (even profiles with p'(0) = 0
only), ridge p(<e, x>) with unit e, and separable sums of profiles, one per coordinate.
"""
import functools
import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq

from clipcheck.theory.smoothness import L0L1
from clipcheck.theory.validation import as_finite, count, nonnegative, positive, strict_number

from . import kernels
from .source import SourceError, python_function


@dataclass(frozen=True, eq=False)
class Function:
    """A function of R^d for the runner.

    name         label used in results and reports
    value_grad   value_grad(x, p, g) -> f in scalar code (PROTOCOL.md)
    params       the parameter array p (1-D floats)
    L0, L1       the certificate: ||Hess f|| <= L0 + L1 ||grad f|| (nan: none claimed)
    certificate  how the certificate was obtained (a derivation, a proofs_check item, `certify`, or "claimed")
    f_star       inf f (nan when unknown)
    dim          the dimension d, or None when any d >= 1 works (radial lifts)
    hess_norm    optional hess_norm(x, p) -> ||Hess f(x)|| (operator 2-norm), scalar code
    bindings     names the sources read that are resolved here rather than from their module (lifts bind
                 PROFILE to the profile's evaluate)
    profile      the 1-D profile a lift was built from (None otherwise), and `lift` its kind
    region       None when the certificate holds on all of R^d, else the box (d x 2 array of low, high) on
                 which it holds: A3 needs the class only on S (certify.contains_sublevel checks S is inside)
    convex       f is convex (declared; claims on convex functions and contains_sublevel use it)
    sympy        for functions from SymPy: the symbolic form (exact Hessian, interval arithmetic for certify)
    """

    name: str
    value_grad: object
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))
    L0: float = math.nan
    L1: float = math.nan
    certificate: str = "none claimed"
    f_star: float = math.nan
    dim: int = None
    hess_norm: object = None
    bindings: dict = field(default_factory=dict)
    profile: object = None
    lift: str = None
    direction: np.ndarray = None
    region: np.ndarray = None
    convex: bool = False
    sympy: object = None

    def __post_init__(self):
        p = as_finite("params", strict_number("params", self.params if self.params is not None else []))
        if p.ndim > 1:
            raise ValueError(f"params must be a 1-D array, got shape {p.shape}")
        object.__setattr__(self, "params", np.atleast_1d(p).astype(float))
        if self.dim is not None:
            object.__setattr__(self, "dim", count("dim", self.dim))

    # -- constructors for users ------------------------------------------------------------------------
    @classmethod
    def from_numba(cls, value_grad, dim, params=(), L0=None, L1=None, f_star=math.nan, name=None,
                   hess_norm=None, certificate=None):
        """A user's function from scalar code: value_grad(x, p, g) -> f (an njit or plain function defined in
        a file, PROTOCOL.md), its dimension, parameter array and claimed certificate (check it with
        `certify`). Refused at once if it cannot be compiled into a kernel (a closure, unknown globals) or if it
        raises or returns NaN at a test point."""
        try:
            python_function(value_grad)
        except SourceError as err:
            raise ValueError(f"value_grad: {err}") from None
        L0 = math.nan if L0 is None else float(nonnegative("L0", L0))
        L1 = math.nan if L1 is None else float(nonnegative("L1", L1))
        f_star = float(strict_number("f_star", f_star))
        fn = cls(name or getattr(value_grad, "__name__", "user function"), value_grad, params, L0, L1,
                 certificate or ("claimed by the caller" if not math.isnan(L0) else "none claimed"), f_star,
                 count("dim", dim), hess_norm)
        fn.check_callable()
        return fn

    @classmethod
    def from_sympy(cls, expr, symbols, params=None, L0=None, L1=None, f_star=math.nan, name=None,
                   convex=False):
        """A function from a SymPy expression in `symbols` (one per coordinate) and parameters `params`
        ({name or Symbol: value}, in the order of p). SymPy derives the gradient and Hessian; the generated
        value_grad uses clipcheck's exp and log. Check a claimed certificate with certify(fn, L0, L1, box)."""
        import sympy

        from .symbolic import SympyForm, compile_value_grad
        if not isinstance(expr, sympy.Expr):
            raise ValueError(f"expr must be a SymPy expression, got {type(expr).__name__}")
        symbols = list(symbols) if not isinstance(symbols, sympy.Symbol) else [symbols]
        if not symbols or not all(isinstance(s, sympy.Symbol) for s in symbols):
            raise ValueError("symbols must be a nonempty sequence of SymPy symbols, one per coordinate")
        params = dict(params or {})
        psyms = [k if isinstance(k, sympy.Symbol) else sympy.Symbol(str(k)) for k in params]
        values = [float(as_finite(str(k), strict_number(str(k), v))) for k, v in params.items()]
        free = expr.free_symbols - set(symbols) - set(psyms)
        if free:
            raise ValueError(f"expr: the symbol {sorted(map(str, free))[0]} is neither a coordinate nor a parameter")
        for s in symbols + psyms:
            if not s.name.isidentifier() or s.name.startswith("_"):
                raise ValueError(f"symbols: {s.name!r} cannot be a variable name in generated code")
        value_grad, _ = compile_value_grad(expr, symbols, psyms)
        L0 = math.nan if L0 is None else float(nonnegative("L0", L0))
        L1 = math.nan if L1 is None else float(nonnegative("L1", L1))
        fn = cls(name or f"sympy: {sympy.sstr(expr)[:60]}", value_grad, values, L0, L1,
                 "claimed by the caller (check it with certify)" if not math.isnan(L0) else "none claimed",
                 float(strict_number("f_star", f_star)), len(symbols), convex=bool(convex),
                 sympy=SympyForm(expr, symbols, psyms, values))
        fn.check_callable()
        return fn

    def check_callable(self, x=None):
        """Call value_grad once in Python at x (default: the point (0.5, ..., 0.5)); ValueError naming the
        function if it raises, has the wrong signature, or returns a non-finite value."""
        d = self.dim or 1
        x = np.full(d, 0.5) if x is None else np.asarray(x, float)
        try:
            vg, _ = kernels.python_functions(self)
        except SourceError as err:
            raise ValueError(f"value_grad of {self.name}: {err}") from None
        g = np.zeros(d)
        try:
            with np.errstate(all="ignore"):
                f = vg(x, self.params, g)
        except TypeError as err:
            raise ValueError(f"value_grad of {self.name} must take (x, p, g) and return f: {err}") from None
        except Exception as err:  # a user's code can raise anything: report it in one line
            raise ValueError(f"value_grad of {self.name} raised {type(err).__name__}: {err} at x = "
                             f"{x.tolist()}") from None
        try:
            f = float(f)
        except (TypeError, ValueError):
            raise ValueError(f"value_grad of {self.name} must return f(x) as a float, got {f!r}") from None
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            raise ValueError(f"value_grad of {self.name} returned a non-finite value at x = {x.tolist()}: "
                             f"f = {f}, grad = {g.tolist()}")

    # -- evaluation --------------------------------------------------------------------------------------
    def points(self, x):
        """x as an (n, d) float array: shape (n,) means n points of the line (d = 1), (d,) one point when this
        function has a fixed d > 1."""
        x = as_finite("x", x)
        if x.ndim == 0:
            x = x[None]
        if x.ndim == 1:
            x = x[None, :] if (self.dim or 1) > 1 and x.shape[0] == self.dim else x[:, None]
        if x.ndim != 2 or x.shape[1] == 0:
            raise ValueError(f"x must have shape (n,) or (n, d) with d >= 1, got {x.shape}")
        if self.dim is not None and x.shape[1] != self.dim:
            raise ValueError(f"x: {self.name} is a function of R^{self.dim}, got points of R^{x.shape[1]}")
        return np.ascontiguousarray(x, dtype=float)

    def on_dim(self, dim):
        """The same function for points of R^dim: a radial lift on the line is the profile itself (the same
        arithmetic, since p'(|x|) x/|x| = sign(x) p'(|x|) exactly, without the square root and division)."""
        if dim == 1 and self.lift == "radial":
            return self.profile.line
        return self

    def evaluate(self, x):
        """(f, grad f, ||Hess f|| or None) at the points x: arrays of shape (n,), (n, d), (n,)."""
        X = self.points(x)
        n, d = X.shape
        F, G, H = np.empty(n), np.empty((n, d)), np.empty(n)
        kernels.cpu_evaluator(self, d)(X, self.params[None, :] if self.params.size else np.zeros((1, 1)), F, G, H)
        return F, G, (H if self.hess_norm is not None else None)

    def value(self, x):
        return self.evaluate(x)[0]

    def grad(self, x):
        """The gradient: shape (n,) for points of the line, (n, d) otherwise."""
        x_arr = np.asarray(x)
        G = self.evaluate(x)[1]
        return G[:, 0] if x_arr.ndim <= 1 and G.shape[1] == 1 else G

    def grad_norm(self, x):
        return np.linalg.norm(self.evaluate(x)[1], axis=1)

    def hessian_norm(self, x):
        """||Hess f|| at the points x (needs hess_norm)."""
        if self.hess_norm is None:
            raise ValueError(f"{self.name} has no hess_norm")
        return self.evaluate(x)[2]

    # -- certificate ---------------------------------------------------------------------------------------
    @property
    def constants(self):
        return L0L1(self.L0, self.L1)

    def with_constants(self, L0, L1, certificate="claimed by the caller"):
        """The same function claiming other constants (check the claim with `certify`)."""
        c = L0L1(L0, L1)
        return replace(self, L0=c.L0, L1=c.L1, certificate=certificate)

    def in_class(self, L0, L1):
        """Sufficient: the certificate is no larger than (L0, L1) in both constants."""
        return bool(self.L0 <= L0 and self.L1 <= L1)

    @property
    def scale(self):
        """The length on which the function changes shape (sampling density): the profile's, else 1/L1."""
        if self.profile is not None:
            return self.profile.scale
        return 1.0 / self.L1 if self.L1 > 0 else 1.0

    @property
    def extent(self):
        """Where the function is finite in float64 along its profile's line (unbounded otherwise)."""
        return self.profile.extent if self.profile is not None else (-math.inf, math.inf)

    # -- start points of lifted profiles (the claims build their instances with them) -----------------------
    def _along(self, s, dim):
        dim = self.dim or count("dim", dim)
        if self.lift == "line" or dim == 1:
            return float(self.profile.side * s)
        e = self.direction if self.direction is not None else np.eye(dim)[0]
        return self.profile.side * s * e

    def _profile(self):
        if self.profile is None or self.lift not in ("line", "radial", "ridge"):
            raise ValueError(f"{self.name}: start points are defined for lifted profiles only")
        return self.profile

    def start_for_grad(self, M, dim=1):
        """A start point with ||grad f(x0)|| = M, on the ray where the gradient grows."""
        return self._along(self._profile().arg_for_grad(M), dim)

    def start_for_gap(self, delta, dim=1):
        """A start point with f(x0) - f* = delta, on the ray where the gradient grows."""
        return self._along(self._profile().arg_for_gap(delta), dim)

    def sublevel_grad_sup(self, x0):
        """M of assumption A4: sup ||grad f|| over {f <= f(x0)}. For the monotone profiles of the catalogue
        ||grad f|| grows with f along the ray, so the sup is attained at x0 itself (a profile may say
        otherwise through its own sublevel_grad_sup)."""
        return self._profile().sublevel_grad_sup(self, x0)


@dataclass(frozen=True, eq=False)
class Profile1D:
    """A 1-D profile: evaluate(t, p, o) -> (p(t), p'(t), p''(t)) with parameters params, certificate (L0, L1),
    f_star = inf p, and what the lifts and start-point helpers need.

    even    p(-t) = p(t) and p'(0) = 0: the radial lift keeps (L0, L1)
    side    the direction along which |p'| grows from the minimiser (+1, or -1 for the logistic loss)
    scale   the length on which the profile changes shape (sampling density)
    extent  the interval on which the profile is finite in float64
    convex  the profile is convex (claims on convex functions use it)
    """

    name: str
    evaluate: object
    params: tuple
    L0: float
    L1: float
    f_star: float
    certificate: str
    even: bool = False
    side: float = 1.0
    scale: float = 1.0
    extent: tuple = (-math.inf, math.inf)
    convex: bool = False

    @functools.cached_property
    def line(self):
        """The profile as a function on the line (cached: one object, so one compiled kernel per process)."""
        return on_line(self)

    def at(self, t):
        """(p, p', p'') at the points t (1-D array), through the line lift's compiled evaluator."""
        t = np.asarray(t, float)
        F, G, H = self.line.evaluate(t)
        return F, G[:, 0], H

    def _solve(self, fun, target, what):
        """Smallest s >= 0 with fun(s) = target; fun nondecreasing in s for the monotone catalogue profiles."""
        hi = self.scale
        reach = abs(self.extent[1 if self.side > 0 else 0])
        while fun(hi) < target:
            hi *= 2.0
            if hi > reach:
                raise ValueError(f"{what}={target!r} is beyond what {self.name} reaches in float64")
        if fun(0.0) >= target:
            return 0.0
        return brentq(lambda s: fun(s) - target, 0.0, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps)

    def arg_for_grad(self, M):
        M = float(positive("M", M))
        return self._solve(lambda s: abs(float(self.at([self.side * s])[1][0])), M, "M")

    def arg_for_gap(self, delta):
        delta = float(positive("delta", delta))
        return self._solve(lambda s: float(self.at([self.side * s])[0][0]) - self.f_star, delta, "delta")

    def sublevel_grad_sup(self, function, x0):
        return function.grad_norm(x0)


# -- lifts ---------------------------------------------------------------------------------------------------

def line_value_grad(x, p, g):
    f, d, _ = PROFILE(x[0], p, 0)  # noqa: F821 (bound to the profile's evaluate when pasted)
    g[0] = d
    return f


def line_hess_norm(x, p):
    _, _, dd = PROFILE(x[0], p, 0)  # noqa: F821
    return abs(dd)


def radial_value_grad(x, p, g):
    r2 = 0.0
    for j in range(x.shape[0]):
        r2 += x[j] * x[j]
    r = math.sqrt(r2)
    f, d, _ = PROFILE(r, p, 0)  # noqa: F821
    for j in range(x.shape[0]):
        g[j] = d * x[j] / r if r > 0.0 else 0.0  # grad p(||x||) = p'(r) x / r; p'(0) = 0 for even profiles
    return f


def radial_hess_norm(x, p):
    """max(|p''(r)|, |p'(r)/r|): the Hessian's eigenvalues are p''(r) (radially) and p'(r)/r (tangentially)."""
    r2 = 0.0
    for j in range(x.shape[0]):
        r2 += x[j] * x[j]
    r = math.sqrt(r2)
    _, d, dd = PROFILE(r, p, 0)  # noqa: F821
    return max(abs(dd), abs(d) / r) if r > 0.0 else abs(dd)


def ridge_value_grad(x, p, g):
    """p(<e, x>) with the unit e stored after the profile's parameters: p = [e_1 .. e_d, profile params]."""
    d = x.shape[0]
    t = 0.0
    for j in range(d):
        t += p[j] * x[j]
    f, df, _ = PROFILE(t, p, d)  # noqa: F821
    for j in range(d):
        g[j] = df * p[j]
    return f


def ridge_hess_norm(x, p):
    d = x.shape[0]
    t = 0.0
    for j in range(d):
        t += p[j] * x[j]
    _, _, dd = PROFILE(t, p, d)  # noqa: F821
    return abs(dd)


def separable_value_grad(x, p, g):
    """sum_i p_i(x_i); p = [k, params of p_1 (k entries), params of p_2, ...]."""
    k = int(p[0])
    f = 0.0
    for j in range(x.shape[0]):
        fj, dj, _ = PROFILE(x[j], p, 1 + j * k)  # noqa: F821
        f += fj
        g[j] = dj
    return f


def separable_hess_norm(x, p):
    """max_i |p_i''(x_i)|: the Hessian is diagonal."""
    k = int(p[0])
    h = 0.0
    for j in range(x.shape[0]):
        _, _, dd = PROFILE(x[j], p, 1 + j * k)  # noqa: F821
        h = max(h, abs(dd))
    return h


def _lifted(profile, name, lift, value_grad, hess_norm, params, dim, direction=None, certificate=None):
    return Function(name, value_grad, params, profile.L0, profile.L1,
                    certificate or f"{profile.certificate}; the {lift} lift keeps (L0, L1) (THEOREMS.md 4b)",
                    profile.f_star, dim, hess_norm, {"PROFILE": profile.evaluate}, profile, lift, direction,
                    convex=profile.convex)


def on_line(profile):
    """f(x) = p(x) on R (d = 1)."""
    return _lifted(profile, profile.name, "line", line_value_grad, line_hess_norm, profile.params, 1,
                   certificate=profile.certificate)


def radial(profile, dim=None):
    """f(x) = p(||x||) on R^d (any d when dim is None). Only for even profiles with p'(0) = 0: then the
    tangential curvature p'(r)/r is a mean of p'' on [0, r] and (L0, L1) are kept (THEOREMS.md 4b)."""
    if not profile.even:
        raise ValueError(f"profile {profile.name} is not even with p'(0) = 0: its radial lift need not keep "
                         "(L0, L1); use ridge or separable")
    return _lifted(profile, f"{profile.name}(||x||)", "radial", radial_value_grad, radial_hess_norm, profile.params,
                   None if dim is None else count("dim", dim))


def ridge(profile, e):
    """f(x) = p(<e, x>) on R^d, e a unit vector (normalised here): the Hessian p''(<e,x>) e e^T has norm
    |p''| and the gradient norm is |p'|, so (L0, L1) are kept."""
    e = as_finite("e", strict_number("e", e))
    if e.ndim != 1 or e.size == 0 or not np.any(e):
        raise ValueError(f"e must be a nonzero vector, got {e!r}")
    e = e / np.linalg.norm(e)
    return _lifted(profile, f"{profile.name}(<e,x>), d={e.size}", "ridge", ridge_value_grad, ridge_hess_norm,
                   np.concatenate([e, np.asarray(profile.params, float)]), e.size, e)


def separable(profiles):
    """f(x) = sum_i p_i(x_i) on R^d, d = len(profiles), all with the same evaluate (their parameters may
    differ). ||Hess f|| = max |p_i''| <= L0 + L1 max |p_i'| <= L0 + L1 ||grad f|| with the largest constants."""
    profiles = list(profiles)
    if not profiles:
        raise ValueError("profiles must not be empty")
    first = profiles[0]
    if any(p.evaluate is not first.evaluate for p in profiles):
        raise ValueError("profiles: a separable sum needs profiles sharing one evaluate function")
    k = max(len(p.params) for p in profiles)
    blocks = [np.pad(np.asarray(p.params, float), (0, k - len(p.params))) for p in profiles]
    L0, L1 = max(p.L0 for p in profiles), max(p.L1 for p in profiles)
    f_star = sum(p.f_star for p in profiles)
    base = replace(first, L0=L0, L1=L1, f_star=f_star)
    return _lifted(base, f"sum of {len(profiles)} x {first.name.split('(')[0]}", "separable", separable_value_grad,
                   separable_hess_norm, np.concatenate([[float(k)]] + blocks), len(profiles),
                   certificate=f"max over the parts of their certificates; the separable lift keeps (L0, L1) "
                               "(THEOREMS.md 4b)")
