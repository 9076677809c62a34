"""Noise models of the stochastic oracle g_hat = grad f(x) + xi: one record and one scalar function each.

`perturb(key, tau, a, g, gnorm, out) -> ||out||` writes g + xi into `out` (same length d as g). xi is drawn from
the counter-based key of the iteration (rng.py), so it depends only on (seed, instance, iteration): runs are
bit-identical whatever the thread count, chunking or backend. tau is the size of the noise, `a` the model's
shape parameter (Noise.param). In d dimensions the noise is d-dimensional and isotropic unless said otherwise.
Plain scalar Python (PROTOCOL.md), compiled by the kernel factory. To add a model, add its function and record.
"""
import math
from dataclasses import dataclass

from clipcheck.theory.validation import as_finite, strict_number

from . import mathfns as mf
from . import rng

_EXTRA = 0xFFFFFFFF  # lane of the key for draws other than the d normals (kept away from small lane numbers)


def gamma_draw(shape, key):
    """Gamma(shape, 1) by Marsaglia and Tsang's rejection (shape < 1 boosted by U^(1/shape)). Attempt j uses
    normal lane j and uniform lane 2^31 + j of `key`, so the draw is a pure function of key."""
    boost = 1.0
    if shape < 1.0:
        boost = rng.uniform(key, 0) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for j in range(1, 100000):  # acceptance probability is above 0.95 per attempt for shape >= 1
        z = rng.normal(key, j)
        v = 1.0 + c * z
        if v > 0.0:
            v = v * v * v
            if mf.log(rng.uniform(key, 2147483648 + j)) < 0.5 * z * z + d - d * v + d * mf.log(v):
                return d * v * boost
    return d * boost  # not reached in practice (rejection 100000 times in a row)


def _norm(out):
    s = 0.0
    for j in range(out.shape[0]):
        s += out[j] * out[j]
    return math.sqrt(s)


def bounded(key, tau, a, g, gnorm, out):
    """xi uniform in the ball of radius tau: direction z/||z||, radius tau U^(1/d)."""
    dim = g.shape[0]
    zz = 0.0
    for j in range(dim):
        out[j] = rng.normal(key, j)
        zz += out[j] * out[j]
    scale = tau * rng.uniform(rng.absorb(key, _EXTRA), 0) ** (1.0 / dim) / math.sqrt(zz)
    for j in range(dim):
        out[j] = g[j] + scale * out[j]
    return _norm(out)


def adversarial(key, tau, a, g, gnorm, out):
    """xi = +tau u with probability a, -tau a/(1 - a) u otherwise; u = grad f/||grad f|| (e_1 at grad f = 0)."""
    size = tau if rng.uniform(rng.absorb(key, _EXTRA), 0) < a else -tau * a / (1.0 - a)
    for j in range(g.shape[0]):
        if gnorm > 0.0:
            out[j] = g[j] + size * g[j] / gnorm
        else:
            out[j] = g[j] + (size if j == 0 else 0.0)
    return _norm(out)


def gaussian(key, tau, a, g, gnorm, out):
    """xi = tau z / sqrt(d), z standard normal in R^d."""
    dim = g.shape[0]
    scale = tau / math.sqrt(dim)
    for j in range(dim):
        out[j] = g[j] + scale * rng.normal(key, j)
    return _norm(out)


def student_t(key, tau, a, g, gnorm, out):
    """xi = tau z / sqrt(d) / sqrt(W / a), W ~ chi^2_a = 2 Gamma(a/2): multivariate t with tail index a = df."""
    dim = g.shape[0]
    scale = tau / math.sqrt(dim) / math.sqrt(2.0 * gamma_draw(0.5 * a, rng.absorb(key, _EXTRA)) / a)
    for j in range(dim):
        out[j] = g[j] + scale * rng.normal(key, j)
    return _norm(out)


@dataclass(frozen=True)
class Noise:
    """A noise model: name, perturb function, its shape parameter (name, default, valid range) and the
    assumption it satisfies (reported with results; THEOREMS.md A5 = unbiased and ||xi|| <= tau a.s.)."""

    name: str
    perturb: object
    assumption: str
    param: str = None
    default: float = None
    low: float = 0.0           # the shape parameter must be > low ...
    high: float = math.inf     # ... and <= high

    def shape(self, given):
        """The shape parameter `a` from the keyword dict `given` (ValueError naming a bad or stray one)."""
        stray = set(given) - ({self.param} if self.param else set())
        if stray:
            raise ValueError(f"{sorted(stray)[0]} is not a parameter of noise {self.name!r}"
                             + (f" (it takes {self.param})" if self.param else " (it takes none)"))
        if not self.param:
            return 0.0
        value = given.get(self.param, self.default)
        if value is None:
            raise ValueError(f"{self.param} is required by noise {self.name!r}")
        value = float(as_finite(self.param, strict_number(self.param, value)))
        if not (self.low < value <= self.high):
            raise ValueError(f"{self.param} must be in ({self.low:g}, {self.high:g}] for noise {self.name!r}, "
                             f"got {value!r}")
        return value


NOISES = {n.name: n for n in (
    Noise("bounded", bounded, "A5: unbiased (isotropic) and ||xi|| <= tau almost surely"),
    Noise("bounded-adversarial", adversarial,
          "A5 when p_plus <= 1/2: unbiased (p tau - (1 - p) tau p/(1 - p) = 0) and ||xi|| <= tau; skewed for "
          "p_plus < 1/2, which biases clipping (Koloskova et al. 2023)", "p_plus", 0.5, 0.0, 0.5),
    Noise("gaussian", gaussian, "not A5 (unbounded); unbiased with E||xi||^2 = tau^2 (bounded variance)"),
    # for df < 0.05 the Gamma(df/2) draw underflows to 0 once in ~1e8 draws or more often (an infinite xi, which
    # the run reports as divergence): such tails are refused at the boundary instead
    Noise("student-t", student_t, "not A5 and, for df <= 2, not even bounded variance: E||xi||^q < inf only "
          "for q < df; E||xi||^2 = tau^2 df/(df - 2) when df > 2", "df", None, 0.05, 1e6),
)}
NONE_ASSUMPTION = "exact gradient"
CODES = {name: i for i, name in enumerate(NOISES)}  # the kernels' runtime index of a model (see perturb)


def perturb(code, key, tau, a, g, gnorm, out):
    """The model with index `code` in NOISES, for the CUDA and Python kernels, which serve every model with one
    compilation. A CPU kernel is specialised to one model instead (kernels.cpu_run_kernel pastes its function into
    the lane loop): the branch on the model kept that loop from vectorising."""
    if code == 0:
        return bounded(key, tau, a, g, gnorm, out)
    if code == 1:
        return adversarial(key, tau, a, g, gnorm, out)
    if code == 2:
        return gaussian(key, tau, a, g, gnorm, out)
    return student_t(key, tau, a, g, gnorm, out)


def get(noise):
    """The Noise record of a name, or None for no noise (None or "none")."""
    if noise is None or noise == "none":
        return None
    if isinstance(noise, Noise):
        return noise
    if isinstance(noise, str) and noise in NOISES:
        return NOISES[noise]
    raise ValueError(f"noise must be None or one of {', '.join(map(repr, NOISES))}; got {noise!r}")
