"""Stochastic runs: every rule of stochastic_rules.py (and gd / clipped / normalized) with a noisy oracle.

Per instance i the oracle at iteration t is grad f(x_t) + xi, xi drawn from the key (seed_i, stream_i, t)
(rng.py), so results are bit-identical whatever the thread count, chunking or order. On the line (d = 1) x is a
signed scalar; in R^d (d >= 2) f(x) = p(||x||) is the radial lift and the noise is d-dimensional, so the
iterate leaves the ray. Stopping uses the true gradient (or gap), which the constructed functions know.
fastmath stays off: it assumes no NaN/inf (divergence detection) and may reorder arithmetic (iteration counts).
"""
import math
from dataclasses import dataclass

import numba
import numpy as np

from clipcheck.theory.validation import as_finite, choice, nonnegative

from . import noise as N
from . import rng
from . import profiles
from . import stochastic_rules as R
from .batch import _compact, _per_instance, as_points, balanced_order, budgets_of
from .functions import Family
from .result import BUDGET, CONVERGED, DIVERGED, RunResult

STOCHASTIC_RULES = R.STOCHASTIC_RULES
NOISES = tuple(N.NOISES)
STOPS = {"grad": 0, "gap": 1, "never": 2}  # ||grad f|| <= eps; f - f* <= eps; run all max_iter steps

profile = numba.njit(cache=True)(profiles.profile)


@numba.njit(cache=True)
def _gradient(kind, fp, x, g):
    """f(x) into the return value and grad f(x) into g; returns (f, ||grad f||)."""
    dim = x.shape[0]
    if dim == 1:
        f, d, _ = profile(kind, fp[0], fp[1], fp[2], x[0])
        g[0] = d
        return f, abs(d)
    r = 0.0
    for j in range(dim):
        r += x[j] * x[j]
    r = math.sqrt(r)
    f, d, _ = profile(kind, fp[0], fp[1], fp[2], r)
    for j in range(dim):
        g[j] = d * x[j] / r if r > 0.0 else 0.0  # grad p(||x||) = p'(r) x / r; p'(0) = 0 for radial profiles
    return f, abs(d)


@numba.njit(cache=True)
def run_one(kind, fp, f_star, x, rule, q, noise, tau, a, seed, stream, eps, stop, max_iter, checkpoints, trace):
    """One instance; x is a private copy, updated in place. trace[j] gets ||grad f|| at iteration
    checkpoints[j] (left as is if the run ends before). Returns (iterations, status, f, ||grad f||): with
    stop "never", iterations is the first t that met eps (status CONVERGED) and f, ||grad f|| are at the end."""
    dim = x.shape[0]
    g = np.empty(dim)
    gh = np.empty(dim)
    m = np.zeros(dim)
    with_momentum = rule == R.MOMENTUM_CLIP or rule == R.MIXED_CLIP or rule == R.NSGD_M
    hit = -1
    j = 0
    for t in range(max_iter + 1):
        f, gn = _gradient(kind, fp, x, g)
        if not (math.isfinite(f) and math.isfinite(gn)):
            return t, DIVERGED, f, gn
        while j < checkpoints.shape[0] and checkpoints[j] == t:
            trace[j] = gn
            j += 1
        if hit < 0 and ((gn <= eps) if stop != 1 else (f - f_star <= eps)):
            hit = t
            if stop != 2:
                return t, CONVERGED, f, gn
        if t == max_iter:
            return (hit, CONVERGED, f, gn) if hit >= 0 else (t, BUDGET, f, gn)
        key = rng.counter_key(seed, stream, t)
        ghn = N.perturb(noise, tau, a, key, g, gn, gh)
        mn = 0.0
        if with_momentum:
            beta = R.momentum(rule, q, t)
            if t == 0 and rule != R.NSGD_M:
                beta = 0.0  # momentum clipping starts from m_0 = g_hat_0 (NSGD-M has beta_1 = 0 already)
            for c in range(dim):
                m[c] = beta * m[c] + (1.0 - beta) * gh[c]
                mn += m[c] * m[c]
            mn = math.sqrt(mn)
        hm, hg = R.scales(rule, q, mn, ghn, t, tau)
        for c in range(dim):
            x[c] -= hm * m[c] + hg * gh[c]
    return max_iter, BUDGET, math.nan, math.nan  # not reached


@numba.njit(parallel=True, cache=True)
def run_batch(kinds, fparams, f_star, x0, rule_ids, rparams, noise_ids, tau, nparam, seeds, streams, eps, stop,
              max_iter, checkpoints, order):
    """Run instance i = order[k] for every k; per-instance arrays as in run_one. Returns (iterations, status,
    f_final, g_final, trace) with trace[i, j] = ||grad f|| at checkpoints[j] (NaN after an early stop)."""
    n = x0.shape[0]
    iters = np.empty(n, np.int64)
    status = np.empty(n, np.int8)
    f_final = np.empty(n)
    g_final = np.empty(n)
    trace = np.full((n, checkpoints.shape[0]), np.nan)
    for k in numba.prange(n):
        i = order[k]
        iters[i], status[i], f_final[i], g_final[i] = run_one(
            kinds[i], fparams[i], f_star[i], x0[i].copy(), rule_ids[i], rparams[i], noise_ids[i], tau[i],
            nparam[i], seeds[i], streams[i], eps[i], stop, max_iter[i], checkpoints, trace[i])
    return iters, status, f_final, g_final, trace


@dataclass
class StochasticResult(RunResult):
    """RunResult plus, when checkpoints were asked for, trace[i, j] = ||grad f(x_t)|| at t = checkpoints[j]
    (NaN where instance i stopped earlier). With stop="never", `iterations` is the first t with the target met
    (the run went on to max_iter) and f_final, grad_norm_final are at x_{max_iter}."""

    trace: np.ndarray = None
    checkpoints: np.ndarray = None

    def to_dict(self):
        d = super().to_dict()
        if self.checkpoints is not None and self.checkpoints.size:
            d["checkpoints"] = self.checkpoints.tolist()
            d["trace"] = [[None if not np.isfinite(v) else float(v) for v in row] for row in self.trace]
        return d


def run(family, rule, x0, eps, max_iter, noise="none", tau=0.0, seed=0, **rule_params):
    """Run `rule` on `family` from every row of x0 with a noisy oracle (see run_many for all keywords)."""
    if not isinstance(family, Family):
        raise ValueError(f"family must be a synthetic.functions.Family, got {type(family).__name__}")
    x0 = as_finite("x0", x0)
    n = x0.shape[0] if x0.ndim else 1
    return run_many([family] * n, rule, x0, eps, max_iter, noise=noise, tau=tau, seed=seed, **rule_params)


def run_many(families, rule, x0, eps, max_iter, noise="none", tau=0.0, seed=0, stop="grad", checkpoints=(),
             streams=None, **params):
    """Run `rule` with oracle g_hat = grad f + xi on one family per row of x0.

    rule        a name of STOCHASTIC_RULES or "gd", "clipped", "normalized"; its parameters as keywords (scalar
                or one value per instance; DEFAULTS fill beta, nu, eta0 when omitted).
    noise       "none", "bounded", "bounded-adversarial" (keyword p_plus, default 1/2), "gaussian",
                "student-t" (keyword df, the tail index); tau >= 0 its size (noise.ASSUMPTION says what each
                model satisfies). clipped-sgd also reads tau as the oracle bound in its step.
    seed        integer >= 0, scalar or per instance; streams (default 0..n-1) name the instances inside a seed:
                the oracle of instance i at iteration t depends only on (seed_i, streams_i, t).
    stop        "grad" (||grad f|| <= eps), "gap" (f - f* <= eps) or "never" (run all max_iter steps).
    checkpoints iterations at which to record ||grad f|| into the result's trace.
    x0, eps, max_iter as in synthetic.run. Returns a StochasticResult.
    """
    families = list(families)
    for f in families:
        if not isinstance(f, Family):
            raise ValueError(f"family must be a synthetic.functions.Family, got {type(f).__name__}")
    choice("rule", rule, tuple(R.RULE_IDS))
    choice("noise", noise, NOISES)
    choice("stop", stop, tuple(STOPS))
    noise_keys = set(N.NOISE_PARAMS[noise])
    a = N.validate_params(noise, {k: v for k, v in params.items() if k in noise_keys})
    for k in set().union(*N.NOISE_PARAMS.values()) - noise_keys:
        if k in params:
            raise ValueError(f"{k} is not a parameter of noise {noise!r}")
    params = {k: v for k, v in params.items() if k not in noise_keys}
    x0 = as_points(x0, families)
    n, dim = x0.shape
    if len(families) != n:
        raise ValueError(f"families must have one entry per row of x0 ({n}), got {len(families)}")
    budgets = budgets_of(max_iter, n)
    eps_arr = _per_instance("eps", eps, n)
    tau_arr = _per_instance("tau", nonnegative("tau", tau), n, positive_only=False)
    seeds = _integers("seed", seed, n)
    streams = np.arange(n, dtype=np.int64) if streams is None else _integers("streams", streams, n)
    ck = np.asarray(checkpoints if checkpoints is not None else (), dtype=float).ravel()
    if ck.size and (np.any(ck != np.floor(ck)) or np.any(ck < 0) or np.any(np.diff(ck) <= 0)
                    or ck[-1] > budgets.max()):
        raise ValueError("checkpoints must be increasing integers in [0, max_iter]")
    f_star = np.array([f.f_star for f in families], float)
    if stop == "gap" and not np.all(np.isfinite(f_star)):
        raise ValueError("stop='gap' needs a finite f_star for every family")
    names = R.ALL_PARAMS[rule]
    rparams = np.zeros((n, 4))
    for j, v in enumerate(R.check_params(rule, params)):
        rparams[:, j] = _per_instance(names[j], v, n, positive_only=False)
    res = run_batch(np.array([f.kind for f in families], np.int64), np.array([f.params for f in families], float),
                    f_star, x0, np.full(n, R.RULE_IDS[rule], np.int64),
                    rparams, np.full(n, N.NOISES[noise], np.int64), tau_arr, np.full(n, a), seeds, streams,
                    eps_arr, STOPS[stop], budgets, ck.astype(np.int64), balanced_order(n))
    meta = {"families": _compact([f.name for f in families]), "rule": rule, "noise": noise,
            "noise_assumption": N.ASSUMPTION[noise], "tau": _compact(tau_arr), "seed": _compact(seeds),
            "eps": _compact(eps_arr), "max_iter": _compact(budgets), "stop": stop, "n": n, "dim": dim,
            "rule_params": {p: _compact(v) for p, v in zip(names, rparams.T)}, "backend": "cpu"}
    if N.NOISE_PARAMS[noise]:
        meta[N.NOISE_PARAMS[noise][0]] = a
    return StochasticResult(res[0], res[1], res[2], res[3], meta, trace=res[4], checkpoints=ck.astype(np.int64))


def _integers(name, value, n):
    arr = np.asarray(value)
    if arr.dtype == bool or not np.all(np.isfinite(as_finite(name, arr))) or np.any(arr != np.floor(arr)) \
            or np.any(arr < 0) or np.any(arr >= 2**63):
        raise ValueError(f"{name} must be integers in [0, 2^63), got {value!r}")
    arr = arr.astype(np.int64)
    if arr.ndim == 0:
        return np.full(n, int(arr), np.int64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one entry per row of x0 ({n}), got shape {arr.shape}")
    return arr
