"""`synthetic.run`: validate a batch at the boundary, pack it into arrays, and hand it to a backend."""
import numba
import numpy as np

from clipcheck.theory.validation import as_finite, choice, keywords, positive

from . import rules
from .functions import Family
from .result import RunResult

BACKENDS = ("cpu", "cuda")


def balanced_order(n, seed=0):
    """A fixed shuffle of the instances: prange splits index ranges statically, and grids put the costly
    instances side by side, so an unshuffled batch can leave one core idle."""
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


def _per_instance(name, value, n, positive_only=True):
    arr = positive(name, value) if positive_only else as_finite(name, value)
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one entry per row of x0 ({n}), got shape {arr.shape}")
    return arr


def budgets_of(max_iter, n):
    """max_iter as n integer budgets >= 1 (a scalar or one per instance)."""
    budgets = _per_instance("max_iter", max_iter, n)
    if np.any(budgets != np.floor(budgets)) or np.any(budgets < 1):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    return budgets.astype(np.int64)


def run(family, rule, x0, eps, max_iter, noise="none", tau=0.0, seed=0, backend="cpu", **rule_params):
    """Run `rule` on `family` from every row of x0 until ||grad f|| <= eps or max_iter steps.

    family      a synthetic.functions.Family.
    rule        "gd" (h), "clipped" (eta_c, gamma), "normalized" (eta_n, beta); parameters as keywords,
                each a positive scalar or one value per instance. Stochastic and later rules, and any rule
                with noise != "none" (oracle noise of size tau, reproducible from seed), run in
                synthetic.stochastic.
    x0          shape (n,) for points on the line, or (n, d) for the radial lift to R^d.
    eps         target gradient norm (> 0), scalar or per instance.
    max_iter    budget of steps (>= 1), scalar or per instance.
    Returns a RunResult with arrays iterations, status, f_final, grad_norm_final (one entry per row of x0).
    """
    if not isinstance(family, Family):
        raise ValueError(f"family must be a synthetic.functions.Family, got {type(family).__name__}")
    if rule not in rules.RULES or noise != "none":
        from . import stochastic  # imported here: stochastic imports this module
        if backend != "cpu":
            raise ValueError(f"backend={backend!r}: stochastic and later rules run on the CPU only")
        return stochastic.run(family, rule, x0, eps, max_iter, noise=noise, tau=tau, seed=seed, **rule_params)
    return _run([family], None, rule, x0, eps, max_iter, backend, rule_params)


def as_points(x0, families=None):
    """x0 as a float array of shape (n, d): (n,) is n points on the line. With families (one per row), a
    point in R^d (d >= 2) needs a family with a radial lift."""
    x0 = as_finite("x0", x0)
    if x0.ndim == 0:
        x0 = x0[None]
    if x0.ndim == 1:
        x0 = x0[:, None]
    if x0.ndim != 2 or x0.shape[0] == 0:
        raise ValueError(f"x0 must have shape (n,) or (n, d) with n >= 1, got {x0.shape}")
    if families is not None and x0.shape[1] > 1:
        for f in families:
            if not f.radial:
                raise ValueError(f"x0: family {f.name} has no radial lift; pass points on the line")
    return np.ascontiguousarray(x0, dtype=float)


def rule_parameters(rule, names, given, n):
    """The (n, 3) parameter array of a rule that takes the parameters `names` (in order), from keywords."""
    keywords(f"rule {rule!r}", names, given)
    params = np.zeros((n, 3))
    for j, p in enumerate(names):
        params[:, j] = _per_instance(p, given[p], n)
    return params


def run_many(families, rule, x0, eps, max_iter, backend="cpu", **rule_params):
    """Like `run`, with one family per instance (a mixed batch keeps both cores busy)."""
    slot, distinct, index = {}, [], []
    for f in families:
        if id(f) not in slot:
            slot[id(f)] = len(distinct)
            distinct.append(f)
        index.append(slot[id(f)])
    return _run(distinct, np.array(index, np.int64), rule, x0, eps, max_iter, backend, rule_params)


def _run(distinct, index, rule, x0, eps, max_iter, backend, rule_params):
    """Rows use family distinct[index[row]] (index None: all use distinct[0])."""
    for f in distinct:
        if not isinstance(f, Family):
            raise ValueError(f"family must be a synthetic.functions.Family, got {type(f).__name__}")
    choice("rule", rule, tuple(rules.RULES))
    choice("backend", backend, BACKENDS)
    x0 = as_points(x0, distinct)
    n = x0.shape[0]
    if index is not None and index.shape[0] != n:
        raise ValueError(f"families must have one entry per row of x0 ({n}), got {index.shape[0]}")
    budgets = budgets_of(max_iter, n)
    eps_arr = _per_instance("eps", eps, n)
    names = rules.RULE_PARAMS[rule]
    rparams = rule_parameters(rule, names, rule_params, n)
    rows = np.zeros(n, np.int64) if index is None else index
    kinds = np.array([f.kind for f in distinct], np.int64)[rows]
    fparams = np.array([f.params for f in distinct], float)[rows]
    rule_ids = np.full(n, rules.RULES[rule], np.int64)
    if backend == "cpu":
        from .cpu import run_batch
    else:
        from .cuda import run_batch
    it, st, ff, gf = run_batch(kinds, fparams, x0, rule_ids, rparams, eps_arr, budgets,
                               balanced_order(n), min(n, 4 * numba.get_num_threads()))
    meta = {"families": distinct[0].name if len(distinct) == 1 else [distinct[j].name for j in rows], "rule": rule,
            "eps": _compact(eps_arr), "max_iter": _compact(budgets), "backend": backend, "n": n,
            "dim": int(x0.shape[1]), "rule_params": {p: _compact(v) for p, v in zip(names, rparams.T)}}
    return RunResult(it, st, ff, gf, meta)


def _compact(values):
    """One value when all agree, else the list (for the result's metadata)."""
    values = np.asarray(values)
    return values[0].item() if np.all(values == values[0]) else values.tolist()
