"""Noise models of the stochastic oracle g_hat = grad f(x) + xi, as plain scalar functions (see rng.py).

`perturb(noise, tau, a, key, g, gnorm, out)` writes g + xi into `out` (same length d as g) and returns ||out||.
xi is drawn from the counter-based key of the iteration, so it depends only on (seed, instance, iteration).
tau is the size of the noise; `a` is the model's shape parameter (NOISE_PARAMS). In d dimensions the noise is
d-dimensional and isotropic unless said otherwise.
"""
import math

import numpy as np
from numba.extending import register_jitable

from . import rng

NONE = 0         # xi = 0
BOUNDED = 1      # xi uniform in the ball of radius tau
ADVERSARIAL = 2  # xi = +tau u with probability p, -tau p/(1 - p) u otherwise; u = grad f/||grad f||
GAUSSIAN = 3     # xi = tau z / sqrt(d), z standard normal in R^d
STUDENT_T = 4    # xi = tau z / sqrt(d) / sqrt(W/df), W ~ chi^2_df (multivariate t, tail index df)

NOISES = {"none": NONE, "bounded": BOUNDED, "bounded-adversarial": ADVERSARIAL, "gaussian": GAUSSIAN,
          "student-t": STUDENT_T}
NOISE_PARAMS = {"none": (), "bounded": (), "bounded-adversarial": ("p_plus",), "gaussian": (),
                "student-t": ("df",)}
NOISE_DEFAULTS = {"p_plus": 0.5}

# Which assumption each model satisfies (reported with results; THEOREMS.md A5 = unbiased, ||xi|| <= tau a.s.).
ASSUMPTION = {
    "none": "exact gradient",
    "bounded": "A5: unbiased (isotropic) and ||xi|| <= tau almost surely",
    "bounded-adversarial": "A5 when p_plus <= 1/2: unbiased (p tau - (1 - p) tau p/(1 - p) = 0), ||xi|| <= tau; "
                           "skewed for p_plus < 1/2, which biases clipping (Koloskova et al. 2023)",
    "gaussian": "not A5 (unbounded); unbiased with E||xi||^2 = tau^2 (bounded variance)",
    "student-t": "not A5 and, for df <= 2, not even bounded variance: E||xi||^q < inf only for q < df; "
                 "E||xi||^2 = tau^2 df/(df - 2) when df > 2",
}

_EXTRA = 0xFFFFFFFF  # lane of the key for draws other than the d normals (kept away from small lane numbers)


@register_jitable
def gamma_draw(shape, key):
    """Gamma(shape, 1) by Marsaglia and Tsang's squeeze-free rejection (shape < 1 boosted by U^(1/shape)).
    Attempt j uses normal lane j and uniform lane 2^31 + j of `key`, so the draw is a pure function of key."""
    boost = 1.0
    if shape < 1.0:
        boost = rng.uniform(key, 0) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for j in range(1, 100000):  # acceptance probability is above 0.95 per attempt for shape >= 1
        z = rng.normal(key, j)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(rng.uniform(key, 2147483648 + j)) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost
    return d * boost  # not reached in practice (rejection 100000 times in a row)


@register_jitable
def perturb(noise, tau, a, key, g, gnorm, out):
    dim = g.shape[0]
    if noise == NONE or tau == 0.0:
        for j in range(dim):
            out[j] = g[j]
        return gnorm
    extra = rng.absorb(key, _EXTRA)
    if noise == ADVERSARIAL:
        size = tau if rng.uniform(extra, 0) < a else -tau * a / (1.0 - a)
        for j in range(dim):
            out[j] = g[j] + (size * g[j] / gnorm if gnorm > 0.0 else (size if j == 0 else 0.0))
    else:
        zz = 0.0
        for j in range(dim):
            out[j] = rng.normal(key, j)
            zz += out[j] * out[j]
        if noise == BOUNDED:  # direction z/||z||, radius tau U^(1/d): uniform in the ball
            scale = tau * rng.uniform(extra, 0) ** (1.0 / dim) / math.sqrt(zz)
        elif noise == GAUSSIAN:
            scale = tau / math.sqrt(dim)
        else:  # STUDENT_T: chi^2_df = 2 Gamma(df/2)
            scale = tau / math.sqrt(dim) / math.sqrt(2.0 * gamma_draw(0.5 * a, extra) / a)
        for j in range(dim):
            out[j] = g[j] + scale * out[j]
    s = 0.0
    for j in range(dim):
        s += out[j] * out[j]
    return math.sqrt(s)


def validate_params(noise, params):
    """The noise model's shape parameter `a` from keyword params (ValueError naming a bad one)."""
    names = NOISE_PARAMS[noise]
    if not names:
        return 0.0
    name = names[0]
    value = params.get(name, NOISE_DEFAULTS.get(name))
    if value is None:
        raise ValueError(f"{name} is required by noise {noise!r}")
    value = float(np.asarray(value, dtype=float))
    if name == "df" and not (math.isfinite(value) and value > 0):
        raise ValueError(f"df must be a finite number > 0, got {value!r}")
    if name == "p_plus" and not (0.0 < value <= 0.5):
        raise ValueError(f"p_plus must be in (0, 1/2] so that ||xi|| <= tau (A5), got {value!r}")
    return value
