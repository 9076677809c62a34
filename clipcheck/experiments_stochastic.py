"""Claims on stochastic theorems (ZHSJ Thm 7, Thm 8) and on the step rules that followed the paper (THEOREMS.md
section 5). Same contract as experiments.py: upper bounds are records (records.UpperBound, decided by upper.check),
the others compute(settings) -> (rows, JSON-able data). The bounds are in theory/bounds.py and theory/steps.py, one
function per claim id. This module imports only the layers below it (records, upper, and the packages).
"""
import math

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm as _normal

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic.result import CONVERGED
from clipcheck.synthetic.rules import RULES as RUNNER_RULES
from clipcheck.synthetic.sweep import sweep
from clipcheck.theory import bounds, steps

from . import upper
from .records import (DEMONSTRATED, HOLDS, MEASURED, NOT_DEMONSTRATED, SHAPE_ONLY, VIOLATED, BoundRow, Constant,
                      Row, UpperBound)
from .upper import class_instances, describe as _describe, gap as _gap
Z95 = float(_normal.ppf(0.975))  # two-sided 95% normal quantile for every confidence interval here

# -- settings ------------------------------------------------------------------------------------------------
# Thm 7 in two readings: as printed (eta inside the first denominator: the clipping threshold on ||g|| + tau is
# 1/(16 eta^2 L1) >= T/(16 L1), which no instance reaches, so this reading runs plain SGD) and without the inner eta
# (clipcheck's reading, threshold 1/(16 eta L1)). f_exp from a large ||grad|| (clipping_M) makes the second clip.
# 400 seeds: a success probability of 0.45 has a 95% Wilson upper limit below 1/2, so it is rejected.
THM7 = {
    "quick": {"classes": [[1.0, 1.0]], "eps": [0.5], "tau": [0.1], "noise": ["bounded"], "seeds": 400,
              "seed": 0, "n_checkpoints": 400, "clipping_M": [30.0]},
    "full": {"classes": [[1.0, 1.0], [2.0, 3.0], [1.0, 10.0]], "eps": [0.5, 0.3], "tau": [0.1, 0.3],
             "noise": ["bounded", "bounded-adversarial"], "seeds": 1000, "seed": 0, "n_checkpoints": 1000,
             "clipping_M": [30.0, 100.0]},
}
# Thm 8: the horizon needed is bisected (not doubled), so the eps grid need not land 1/eps^4 on powers of 2.
THM8 = {
    "quick": {"L0": 1.0, "L1": 1.0, "tau": 0.1, "noise": "bounded", "eps": [0.5, 0.42, 0.35, 0.3], "seeds": 50,
              "seed": 0, "max_horizon": 2**17},
    "full": {"L0": 1.0, "L1": 1.0, "tau": 0.1, "noise": "bounded", "eps": [0.5, 0.42, 0.35, 0.3, 0.25, 0.2, 0.15],
             "seeds": 200, "seed": 0, "max_horizon": 2**22},
}
# The adversary's classes (L0, L1, eps[, declared M]) as in experiments.py: one search per class, rule and seed,
# stopped by its count of evaluations (upper.SEARCH).
_SEARCH = {**upper.SEARCH, "horizon": 300}
_SEARCH_FULL = {**upper.SEARCH_FULL, "horizon": 300}
QUICK_FAMILIES = ["slope", "steep slope", "f_exp"]  # the sources the other claims compile anyway
VANKOV = {
    "quick": {"classes": [[1.0, 1.0], [1.0, 10.0], [10.0, 0.05], [2.0, 3.0]], "eps": [0.05, 0.01],
              "families": QUICK_FAMILIES, "adversary": {**_SEARCH, "classes": [[1.0, 0.05, 0.01]]}},
    "full": {"classes": [[1.0, 1.0], [1.0, 10.0], [10.0, 0.05], [2.0, 3.0], [0.1, 1.0], [100.0, 100.0]],
             "eps": [0.1, 0.01, 0.003], "families": list(upper.FAMILIES),
             "adversary": {**_SEARCH_FULL, "classes": [[1.0, 0.05, 0.01], [1.0, 1.0, 0.05], [1.0, 0.0, 0.01]]}},
}
CONVEX = {
    "quick": {"classes": [[1.0, 1.0], [1.0, 10.0], [2.0, 3.0]], "eps": [0.05, 0.01], "families": QUICK_FAMILIES},
    # (100, 100) with eps = 1e-3 is left out: f_slow(1.01 eps) from gap 10 is R = 1e4 away at 5e-6 per step
    "full": {"classes": [[1.0, 1.0], [1.0, 10.0], [2.0, 3.0], [0.1, 1.0]], "eps": [0.1, 0.01, 0.003],
             "families": list(upper.FAMILIES)},
}
# For each threshold c, the two-point noise of "bounded-adversarial" with tau = 2c and p_plus = sigma^2/(4c^2 +
# sigma^2): variance sigma^2 for every c, and a clipping bias of sigma^2/(4c) (mean field), the order
# min{sigma, sigma^2/c} of Koloskova et al. for c >= sigma/sqrt(2) (below, this family clips both atoms and has no
# bias). c is given in units of sigma.
KOLOSKOVA = {
    "quick": {"L": 1.0, "sigma": 0.5, "lr": 0.001, "steps": 100000, "seeds": 20, "seed": 0,
              "c_over_sigma": [0.75, 1.0, 1.5, 2.0, 3.0, 5.0]},
    "full": {"L": 1.0, "sigma": 0.5, "lr": 0.0003, "steps": 400000, "seeds": 100, "seed": 0,
             "c_over_sigma": [0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0]},
}
LI = {"quick": {"classes": [[1.0, 1.0], [10.0, 0.05], [2.0, 3.0]], "eps": [0.05], "families": QUICK_FAMILIES,
                "adversary": {**_SEARCH, "classes": [[1.0, 0.05, 0.01, 0.0101]]}},
      "full": {"classes": [[1.0, 1.0], [1.0, 10.0], [10.0, 0.05], [2.0, 3.0]], "eps": [0.05, 0.01],
               "families": list(upper.FAMILIES),
               "adversary": {**_SEARCH_FULL, "classes": [[1.0, 0.05, 0.01, 0.0101], [1.0, 1.0, 0.05, 0.0505]]}}}
HEAD = {
    "quick": {"L0": 1.0, "L1": 1.0, "eps": 0.5, "M": [10.0, 100.0, 1000.0], "budget": 200000, "tau": 0.0,
              "seeds": 1, "seed": 0},
    "full": {"L0": 1.0, "L1": 1.0, "eps": 0.5, "M": np.logspace(1, 4, 7).tolist(), "budget": 1000000,
             "tau": 0.25, "seeds": 10, "seed": 0},
}


# -- bounds of the claims (THEOREMS.md 3 and 5) --------------------------------------------------------------

# The bounds live in theory/ (one function per claim id); short names for this module.
thm7_delta_prime = bounds.zhsj_thm7_delta_prime
thm7_horizon = bounds.zhsj_thm7_horizon
thm8_shape = bounds.zhsj_thm8_shape
vankov_nonconvex = bounds.vankov_nonconvex
vankov_convex = bounds.vankov_convex
gorbunov_shape = bounds.gorbunov_convex_shape
li_constant_step = steps.li_constant_step
# The constant of each Vankov et al. row: 1/a (a = 1 for eta* and eta_si, 1/2 for eta_cl), by which the bound
# scales. Read when a row is checked, like theory.bounds' constants (a mutation test may move one).
VANKOV_INV_A = {"vankov-star": 1.0, "vankov-si": 1.0, "vankov-cl": 2.0}


# -- statistics ---------------------------------------------------------------------------------------------

def wilson(successes, n):
    """95% Wilson score interval of a binomial proportion."""
    p = successes / n
    den = 1.0 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / den
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _checkpoints(T, n):
    """Every iteration up to min(T, 200), then n evenly spaced ones up to T."""
    return np.unique(np.concatenate([np.arange(min(T, 200) + 1), np.linspace(0, T, n).round()])).astype(np.int64)


def _seed_stats(trace):
    """Per checkpoint over seeds (rows): mean, its 95% half-width, median and quartiles."""
    mean = trace.mean(axis=0)
    half = Z95 * trace.std(axis=0, ddof=1) / math.sqrt(trace.shape[0])
    q25, q50, q75 = np.percentile(trace, [25, 50, 75], axis=0)
    return mean, half, q25, q50, q75


# -- ZHSJ-Thm7 ----------------------------------------------------------------------------------------------

def _thm7_instances(L0, L1, eps):
    """Class members (THEOREMS.md 4): f_exp from ||grad|| = M (also lifted to R^3, where the noise is 3-D), a
    slope just above eps (SGD with step eta ~ 1/sqrt(T) crosses gap D in about D sqrt(T)/eps^2 steps, half of
    T = 4 D'^2/eps^4 when D dominates D'), and the logistic ridge."""
    out = []
    fe = F.f_exp(L0, L1)
    for M, dim in ((3.0, 1), (10.0, 1), (10.0, 3)):
        out.append((fe, fe.start_for_grad(M, dim), {"role": f"f_exp from ||grad|| = {M:g}, d = {dim}"}))
    if 1.01 * eps <= 2.0 * L0 / 3.0:
        slow = F.f_slow(1.01 * eps)
        for gap in (1.0, 10.0):  # the larger gap dominates Delta', which makes the horizon nearly tight
            out.append((slow, slow.start_for_gap(gap), {"role": f"slope just above eps, gap {gap:g}"}))
    lg = F.logistic(L1)
    out.append((lg, lg.start_for_gap(1.0), {"role": "logistic ridge"}))
    return [(f, x, info) for f, x, info in out if f.in_class(L0, L1)]


# the two readings of the Thm 7 step: rule, the constant status, and the clipping threshold on ||g_hat|| + tau
THM7_READINGS = {
    "printed": ("clipped-sgd", "paper-shape", lambda eta, L1: 1.0 / (16.0 * eta * eta * L1)),
    "outer": ("clipped-sgd-outer", "clipcheck", lambda eta, L1: 1.0 / (16.0 * eta * L1)),
}


def success_verdict(hits, n):
    """ZHSJ-Thm7 in probability: VIOLATED only when the 95% Wilson upper limit of P(success) is below 1/2."""
    return VIOLATED if wilson(hits, n)[1] < 0.5 else HOLDS


def clipped_fraction(checkpoints, grad_norm, T, tau, threshold):
    """Bounds [lo, hi] on the fraction of the T steps that clip, from the true gradient norm at the checkpoints
    (rows: seeds). A step clips when ||g_hat|| + tau > threshold and ||g_hat - grad f|| <= tau (A5), so it surely
    clips when ||grad f|| > threshold and may clip when ||grad f|| + 2 tau > threshold. Each checkpoint t < T
    stands for the steps up to the next one."""
    ck = np.asarray(checkpoints)
    keep = ck < T
    weights = np.diff(np.append(ck[keep], T)).astype(float)
    g = grad_norm[:, keep]
    with np.errstate(invalid="ignore"):
        sure = np.nan_to_num(g > threshold)
        maybe = np.nan_to_num(g + 2.0 * tau > threshold)
    total = weights.sum() * g.shape[0]
    return float((sure * weights).sum() / total), float((maybe * weights).sum() / total)


def _thm7_point(reading, L0, L1, eps, tau, noise, instance, T, eta, seeds, seed, n_checkpoints, clipping_M):
    """One instance (number `instance` of the class's list) under one reading, a grid point of the claim: success
    probability, min_t of the mean gradient norm, clipped steps. T and eta come from the caller (theory's formulas,
    whose constants a test may move), so they are part of the point's key."""
    fam, x0, info = _thm7_instances_all(L0, L1, eps, clipping_M)[instance]
    n_s = seeds
    rule, _, threshold_of = THM7_READINGS[reading]
    delta = _gap(fam, x0)
    threshold = threshold_of(eta, L1)
    ck = _checkpoints(T, n_checkpoints)
    x = np.repeat(np.atleast_2d(x0), n_s, axis=0) if np.ndim(x0) else np.full(n_s, x0)
    r = synthetic.run(fam, rule, x, eps, T, noise=noise, tau=tau, seed=seed, stop="never", record=ck, eta=eta, L1=L1)
    hits = int(np.sum(r.status == CONVERGED))
    lo, hi = wilson(hits, n_s)
    first = np.where(r.status == CONVERGED, r.iterations, np.inf)
    mean, half, q25, q50, q75 = _seed_stats(r.trace["grad_norm"])
    k = int(np.argmin(mean))
    clip = clipped_fraction(ck, r.trace["grad_norm"], T, tau, threshold)
    return {"label": f"{reading}: {fam.name}, {info['role']}, eps={eps:g}, tau={tau:g}, {noise}", "reading": reading,
            "L0": L0, "L1": L1, "eps": eps, "tau": tau, "noise": noise, "delta": delta, "T": T, "eta": eta,
            "hits": hits, "p_hat": hits / n_s, "p_ci": [lo, hi], "median_first_hit": float(np.median(first)),
            "min_mean": float(mean[k]), "min_mean_half_width": float(half[k]), "at": int(ck[k]),
            "mean_lower_all_above_eps": bool(np.all(mean - half > eps)), "clip_threshold": threshold,
            "clipped_fraction": list(clip), "checkpoints": ck.tolist(), "mean": mean.tolist(),
            "q25": q25.tolist(), "q50": q50.tolist(), "q75": q75.tolist(),
            "instance": _describe(fam, x0, **info, T=T, eta=eta)}


def _thm7_step(fam, x0, L0, L1, eps, tau):
    """The horizon T and the step's eta of Thm 7 on the instance (fam, x0)."""
    T = int(math.ceil(thm7_horizon(L0, L1, _gap(fam, x0), tau, eps)))
    return T, steps.zhsj_thm7_eta(L0, L1, tau, T)


def _may_clip(fam, x0, L1, eta, tau):
    """Whether clipcheck's reading can clip on this instance: ||grad f(x0)|| + 2 tau above its threshold
    1/(16 eta L1) (the gradient norm falls along the runs of these convex profiles). Where it cannot, both readings
    are plain SGD with the same step, so the outer reading runs only where it can differ (and each function
    source is a kernel to compile)."""
    return float(fam.grad_norm(x0)[0]) + 2 * tau > THM7_READINGS["outer"][2](eta, L1) and np.ndim(x0) == 0


def _thm7_instances_all(L0, L1, eps, clipping_M):
    fe = F.f_exp(L0, L1)
    active = [(fe, fe.start_for_grad(M), {"role": f"f_exp from ||grad|| = {M:g} (clipping active, outer reading)"})
              for M in clipping_M]
    return _thm7_instances(L0, L1, eps) + [a for a in active if fe.in_class(L0, L1)]


def _thm7_grid(settings):
    """The claim's grid points: every (reading, class, eps, tau, noise, instance) that runs, with its T and eta."""
    grid = []
    for reading in THM7_READINGS:
        for L0, L1 in settings["classes"]:
            for eps in settings["eps"]:
                for tau in settings["tau"]:
                    for noise in settings["noise"]:
                        for k, (fam, x0, _) in enumerate(_thm7_instances_all(L0, L1, eps, settings["clipping_M"])):
                            T, eta = _thm7_step(fam, x0, L0, L1, eps, tau)
                            if reading == "printed" or _may_clip(fam, x0, L1, eta, tau):
                                grid.append({"reading": reading, "L0": L0, "L1": L1, "eps": eps, "tau": tau,
                                             "noise": noise, "instance": k, "T": T, "eta": eta,
                                             "seeds": settings["seeds"], "seed": settings["seed"],
                                             "n_checkpoints": settings["n_checkpoints"],
                                             "clipping_M": settings["clipping_M"]})
    return grid


def thm7(settings):
    """Both readings of the step on every instance (one grid point each, stored as it finishes); for each reading,
    the instance least likely to succeed decides the probability row and the one with the largest
    min_t E||grad f|| / eps the expectation row."""
    n_s = settings["seeds"]
    results = sweep(_thm7_point, _thm7_grid(settings), "ZHSJ-Thm7")
    rows = []
    for reading, (rule, status, _) in THM7_READINGS.items():
        mine = [r for r in results if r["reading"] == reading]
        prefix = "ZHSJ-Thm7:" if reading == "printed" else "ZHSJ-Thm7:outer-"
        step = ("min{1/(16 eta L1 (||g_k|| + tau)), eta} (eta inside the first denominator, as printed)"
                if reading == "printed" else "min{1/(16 L1 (||g_k|| + tau)), eta} (without the inner eta: "
                                              "clipcheck's reading)")
        params = {**settings, "rule": rule, "step": f"h_k = {step}, eta = min{{1/(20 L0), 1/(128 L1 tau), "
                                                    f"1/sqrt(T)}}"}
        clipping = [r for r in mine if r["clipped_fraction"][0] > 0]
        most = max(mine, key=lambda r: r["clipped_fraction"][1])
        clip_note = (f"clipping active (surely) on {len(clipping)} of {len(mine)} instances; fraction of clipped "
                     f"steps at most {most['clipped_fraction'][1]:.3g} (bounds from ||grad f|| at the checkpoints, "
                     f"||g_hat - grad f|| <= tau)")
        if not clipping:
            clip_note += ("; this reading never clips here: its threshold 1/(16 eta^2 L1) on ||g|| + tau is at least "
                          "T/(16 L1), so the row tests plain SGD")
        w = min(mine, key=lambda r: (r["p_ci"][1], -r["median_first_hit"] / r["T"]))  # least likely, slowest
        rows.append(Row(f"{prefix}probability", status,
                        f"clipped SGD, h_k = {step}, T = D' max{{128 L1/eps, 4 D'/eps^4, (80 L0 + 512 L1 tau)/eps^2}}: "
                        "P(min_{t<=T} ||grad f(x_t)|| <= eps) >= 1/2", params, w["median_first_hit"], float(w["T"]),
                        w["median_first_hit"] / w["T"], success_verdict(w["hits"], n_s),
                        {**w["instance"], "p_hat": w["p_hat"], "p_ci95": w["p_ci"], "seeds": n_s,
                         "clipped_fraction": w["clipped_fraction"]},
                        note=f"{len(mine)} instances x {n_s} seeds; the instance least likely to succeed decides: "
                             f"P = {w['p_hat']:.3f} (95% Wilson [{w['p_ci'][0]:.3f}, {w['p_ci'][1]:.3f}]); VIOLATED "
                             f"only if the upper limit < 1/2; {clip_note}",
                        columns={"measured": "median over seeds of the first t with ||grad f(x_t)|| <= eps (inf when "
                                             "fewer than half reach it)", "bound": "the horizon T"}))
        w = max(mine, key=lambda r: r["min_mean"] / r["eps"])
        rows.append(Row(f"{prefix}expectation", status, "clipped SGD, same step and T: min_{t<=T} E||grad f(x_t)|| <= "
                        "eps", params, w["min_mean"], w["eps"], w["min_mean"] / w["eps"],
                        VIOLATED if w["mean_lower_all_above_eps"] else HOLDS,
                        {**w["instance"], "at_iteration": w["at"], "ci95_half_width": w["min_mean_half_width"],
                         "seeds": n_s, "clipped_fraction": w["clipped_fraction"]},
                        note="measured = min over checkpoints (every t <= 200, then evenly spaced) of the mean over "
                             "seeds of ||grad f(x_t)||, which can only overstate the min over all t; VIOLATED only if "
                             "the lower 95% confidence limit of the mean exceeds eps at every checkpoint; "
                             + clip_note))
    return rows, {"instances": results}


# -- ZHSJ-Thm8 ----------------------------------------------------------------------------------------------

def _thm8_instances(L0, L1, eps):
    """A slope just above eps (where SGD's 1/sqrt(T) step costs eps^-4) and the logistic ridge (its gradient
    decays towards f* at infinity, so reaching eps is a question of distance, ~ log(1/eps)/eps)."""
    slow = F.f_slow(1.01 * eps)
    lg = F.logistic(L1)
    return [(slow, slow.start_for_gap(1.0), "slope just above eps (the eps^-4 regime)"),
            (lg, lg.start_for_gap(1.0), "logistic ridge from gap 1")]


def _thm8_success(fam, x0, eps, T, M, settings):
    """P(T_eps <= T) over the seeds for SGD with the Thm 8 step for horizon T."""
    n_s, tau = settings["seeds"], settings["tau"]
    h = steps.zhsj_thm8_step(settings["L1"], M, tau, T)
    r = synthetic.run(fam, "sgd", np.full(n_s, x0), eps, T, noise=settings["noise"], tau=tau, seed=settings["seed"],
                      h=h)
    return float(np.mean(r.status == CONVERGED))


def thm8_horizon(fam, x0, eps, M, settings):
    """The smallest horizon T whose run reaches eps with P >= 1/2 over the seeds: doubling until one does, then
    bisection between the last failure and it (assuming success is monotone in T). None beyond max_horizon.
    Returns (T, P at T, P at T - 1)."""
    lo, hi = 0, 1
    while _thm8_success(fam, x0, eps, hi, M, settings) < 0.5:
        lo, hi = hi, 2 * hi
        if hi > settings["max_horizon"]:
            return None, math.nan, math.nan
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _thm8_success(fam, x0, eps, mid, M, settings) >= 0.5:
            hi = mid
        else:
            lo = mid
    p_below = _thm8_success(fam, x0, eps, hi - 1, M, settings) if hi > 1 else 0.0
    return hi, _thm8_success(fam, x0, eps, hi, M, settings), p_below


def thm8(settings):
    L0, L1, tau, n_s = settings["L0"], settings["L1"], settings["tau"], settings["seeds"]
    curves = {}
    for eps in settings["eps"]:
        for fam, x0, role in _thm8_instances(L0, L1, eps):
            delta, M = _gap(fam, x0), float(fam.sublevel_grad_sup(x0)[0])
            needed, p_at, p_below = thm8_horizon(fam, x0, eps, M, settings)
            c = curves.setdefault(role, {"eps": [], "needed": [], "shape": [], "M": [], "delta": [], "p_at": [],
                                         "p_below": []})
            for k, v in (("eps", eps), ("needed", needed), ("shape", float(thm8_shape(L0, L1, M, delta, tau, eps))),
                         ("M", M), ("delta", delta), ("p_at", p_at), ("p_below", p_below)):
                c[k].append(v)
    rows = []
    for role, c in curves.items():
        ok = [i for i, v in enumerate(c["needed"]) if v is not None]
        implied = [c["needed"][i] / c["shape"][i] for i in ok]
        slope = (float(np.polyfit(np.log(1 / np.array(c["eps"])[ok]), np.log(np.array(c["needed"], float)[ok]),
                                  1)[0]) if len(ok) >= 2 else math.nan)
        i = ok[int(np.argmax(implied))] if implied else 0
        rows.append(Row(f"ZHSJ-Thm8:{role.split(' ')[0]}", "shape",
                        "SGD, h = min{1/sqrt(T), 1/(L1 (M + tau))}: T = O(max{(D + c (L0 + L1 M)(M + tau)^2)^2/eps^4,"
                        " L1^2 (M + tau)^2}) (the paper gives no constant)", dict(settings),
                        float(c["needed"][i]) if ok else math.inf, float(c["shape"][i]),
                        max(implied) if implied else math.inf, SHAPE_ONLY,
                        {"role": role, "eps": c["eps"][i], "M": c["M"][i], "delta": c["delta"][i],
                         "fitted_slope": slope},
                        note=f"measured = smallest horizon T whose run reaches eps with P >= 1/2 over {n_s} seeds "
                             f"(doubling, then bisection); ratio = implied constant (largest over eps); fitted slope "
                             f"of log T against log(1/eps) = {slope:.2f} (the shape allows up to 4)"
                             + ("" if len(ok) == len(c["eps"]) else "; some eps not reached within max_horizon"),
                        columns={"bound": "the shape with c = 1", "ratio": "the implied constant"}))
    return rows, {"curves": curves, "settings": settings}


# -- deterministic later rules on the class instances -------------------------------------------------------

def _vankov_row(rule, bound_fn, text, M=None):
    """A Vankov et al. row: the constant checked is 1/a (a = 1 for eta*, eta_si, 1/2 for eta_cl: the bound scales
    with 1/a), and the bound is computed from that same constant."""
    const = Constant(rule, VANKOV_INV_A)
    return BoundRow(rule, "later", const, text, rule, lambda ctx: {"L0": ctx.L0, "L1": ctx.L1},
                    lambda ctx: float(bound_fn(ctx, 1.0 / const())), M=M, fields=lambda: {"rule": rule})


VANKOV_NONCONVEX = UpperBound("VANKOV-nonconvex", "Vankov et al. steps eta*, eta_si, eta_cl: gradient norm bound",
                              tuple(_vankov_row(rule, lambda ctx, a: vankov_nonconvex(ctx.L0, ctx.L1, ctx.delta,
                                                                                       ctx.eps, a),
                                                "{rule}: T_eps <= ceil({c:g} (2 L0 D/eps^2 + 3 L1 D/eps)) - 1 "
                                                "(constant 1/a)") for rule in VANKOV_INV_A))


def _convex_instances(settings):
    """The class instances with a minimiser at 0 (convex radial profiles); R = |x0|."""
    return [(f, x, i, L0, L1, eps) for L0, L1 in settings["classes"] for eps in settings["eps"]
            for f, x, i in class_instances(L0, L1, eps, settings.get("families", upper.FAMILIES))
            if f.convex and f.lift == "radial"]


def _radius(L0, L1, eps, fn, x0):
    """R = ||x0 - x*|| of a convex radial instance (its minimiser is 0), carried in the context's M slot."""
    return float(np.linalg.norm(x0))


VANKOV_CONVEX = UpperBound(
    "VANKOV-convex", "Vankov et al. steps on convex instances: function gap bound",
    tuple(_vankov_row(rule, lambda ctx, a: vankov_convex(ctx.L0, ctx.L1, ctx.M, ctx.delta, ctx.eps, a),
                      "{rule}: f(x_K) - f* <= eps once K >= {c:g} (2 L0 R^2/eps + 3 L1 R ln(D/eps)) (constant 1/a)",
                      M=_radius) for rule in VANKOV_INV_A), catalogue=_convex_instances, stop="gap", M_name="R")

GORBUNOV = UpperBound(
    "GORBUNOV-convex", "(L0,L1)-GD on convex instances against the O(L0 R^2/eps + L1^2 R^2) shape",
    (BoundRow("", "later", Constant("c", {"c": 1.0}),
              "x+ = x - eta grad f/(L0 + L1 ||grad f||), eta = 1/2: f - f* <= eps within O(L0 R^2/eps + L1^2 R^2) "
              "(shape only, c = {c:g}; eta = 1/2 is our choice: it keeps the step below Vankov's eta_si = 1/(L0 + "
              "1.5 L1 g), so every step decreases f; the paper's own range of eta is not transcribed here)",
              "l0l1-gd", lambda ctx: {"eta": 0.5, "L0": ctx.L0, "L1": ctx.L1},
              lambda ctx: float(gorbunov_shape(ctx.L0, ctx.L1, ctx.M, ctx.eps)), M=_radius),),
    catalogue=_convex_instances, stop="gap", shape_only=True, M_name="R")


def _fact_m(L0, L1, eps, fn, x0):
    """G of LI-constant-step for a catalogue instance: the FACT-M bound 3 L1 D + sqrt(2 L0 D) >= sup ||grad f|| on
    the sublevel set."""
    return float(bounds.fact_m(L0, L1, _gap(fn, x0)))


def _li_L(ctx):
    return ctx.L0 + steps.LI_STEP_L1 * ctx.L1 * ctx.M


LI_RECORD = UpperBound("LI-constant-step", "constant-step GD with a gradient bound G on the sublevel set", (
    BoundRow("", "later", Constant("LI_DERIVED"),
             "GD, h = 1/(L0 + 1.5 L1 G), G >= sup ||grad f|| on {{f <= f(x0)}} (catalogue: G = 3 L1 D + sqrt(2 L0 D), "
             "FACT-M; adversary: a declared G, checked exactly): T_eps <= {c:g} (L0 + 1.5 L1 G) D/eps^2, i.e. "
             "O((L0 + L1^2 D) D/eps^2) as Li et al. (NeurIPS 2023); constant derived here and machine-checked "
             "(proofs_check LI-constant-step)", "gd", lambda ctx: {"h": 1.0 / _li_L(ctx)},
             lambda ctx: float(bounds.li_constant_step_gd(_li_L(ctx), ctx.delta, ctx.eps)), M=_fact_m),))


# -- KOLOSKOVA-bias ------------------------------------------------------------------------------------------

def koloskova_mean_field_floor(tau, p, c, L=1.0):
    """Stationary ||grad f|| of clipped SGD's mean field on L x^2/2 under the skewed two-point noise of
    "bounded-adversarial" (+tau w.p. p, -tau p/(1-p) otherwise, along the gradient): the g > 0 solving
    E clip_c(g + xi) = 0, where clip_c(v) = v min{1, c/|v|}; 0 when clipping never biases (c >= g + tau)."""
    def drift(g):
        lo = g - tau * p / (1 - p)
        return p * min(g + tau, c) + (1 - p) * math.copysign(min(abs(lo), c), lo)
    if drift(1e-15) >= 0:
        return 0.0
    return brentq(drift, 1e-15, tau + c, xtol=1e-14)


def koloskova_noise(sigma, c):
    """(tau, p_plus) of the two-point noise (+tau w.p. p, -tau p/(1-p) otherwise) with variance sigma^2 that makes
    clipping at c biased by sigma^2/(4c) (mean field, for c >= sigma/sqrt(2)): tau = 2c, p = sigma^2/(4c^2 +
    sigma^2). The variance tau^2 p/(1 - p) is sigma^2 for every c."""
    tau = 2.0 * c
    return tau, sigma**2 / (tau * tau + sigma**2)


def koloskova(settings):
    """For each threshold c the noise of koloskova_noise (variance sigma^2 fixed), clipped and unclipped SGD on
    L x^2/2 from x0 = 1/L; the floor (median over seeds of the mean ||grad f(x_t)|| over the second half of the run)
    is fitted as K min{sigma, sigma^2/c}^b. Demonstrated: b within 0.2 of 1, floor / min{sigma, sigma^2/c} within a
    factor 2 over the grid, and every floor at least twice unclipped SGD's under the same noise (bias, not the
    noise's own floor, about sqrt(lr/2) sigma: the grid of c stops where the bias sigma^2/(4c) nears it)."""
    sigma, lr, n, L, n_s = (settings[k] for k in ("sigma", "lr", "steps", "L", "seeds"))
    cs = [r * sigma for r in settings["c_over_sigma"]]
    fam = F.quadratic(L)
    ck = np.unique(np.concatenate([np.geomspace(1, n // 2, 200).round(), np.arange(n // 2, n + 1, max(1, n // 2000))]))
    late = ck >= n // 2  # the floor is read off the second half of the run
    x0 = np.full(n_s, 1.0 / L)  # ||grad f(x0)|| = 1, above every floor of the grid
    floors, sgd_floors, preds, bands = [], [], [], []
    for c in cs:
        tau, p = koloskova_noise(sigma, c)
        for kw, out in (({"rule": "torch-clip", "lr": lr, "max_norm": c}, floors), ({"rule": "sgd", "h": lr},
                                                                                     sgd_floors)):
            r = synthetic.run(fam, x0=x0, eps=1e-12, max_iter=n, noise="bounded-adversarial", tau=tau,
                              seed=settings["seed"], noise_params={"p_plus": p}, stop="never", record=ck, **kw)
            trace = r.trace["grad_norm"]
            out.append(float(np.median(trace[:, late].mean(axis=1))))  # per seed: mean ||grad|| in the 2nd half
            if kw["rule"] == "torch-clip":
                bands.append(np.percentile(trace, [25, 50, 75], axis=0).tolist())
        preds.append(koloskova_mean_field_floor(tau, p, c, L))
    order = np.minimum(sigma, sigma**2 / np.array(cs))
    floors_a = np.array(floors)
    b, logK = np.polyfit(np.log(order), np.log(floors_a), 1)
    ratios = floors_a / order
    spread = float(ratios.max() / ratios.min())
    above_noise = bool(np.all(floors_a >= 2.0 * np.array(sgd_floors)))
    ok = abs(b - 1.0) <= 0.2 and spread <= 2.0 and above_noise
    row = Row("KOLOSKOVA-bias", "later",
              "clipped SGD with a fixed threshold c under noise of variance sigma^2 stalls at a floor of order "
              "min{sigma, sigma^2/c} (Koloskova, Hendrikx, Stich, ICML 2023)", dict(settings), float(b), 1.0, float(b),
              DEMONSTRATED if ok else NOT_DEMONSTRATED,
              {"sigma": sigma, "K": float(math.exp(logK)), "floor_over_order": ratios.tolist(),
               "spread": spread, "floors_above_twice_unclipped": above_noise},
              note=f"f = {L:g} x^2/2; for each c the two-point noise with tau = 2c, p_plus = sigma^2/(4c^2 + sigma^2) "
                   f"(variance sigma^2 = {sigma:g}^2, A5 with tau = 2c), torch-style clipping with lr = {lr:g}; fit "
                   f"floor = K min{{sigma, sigma^2/c}}^b: b = {b:.3f}, K = {math.exp(logK):.3g}; floor / order from "
                   f"{ratios.min():.3g} to {ratios.max():.3g} over c/sigma = "
                   f"{', '.join(f'{v:g}' for v in settings['c_over_sigma'])}; mean field sigma^2/(4c) for "
                   f"c >= sigma/sqrt(2)",
              columns={"measured": "fitted exponent b of floor = K min{sigma, sigma^2/c}^b", "bound": "1, the "
                       "exponent of the order", "ratio": "b"})
    return [row], {"c": cs, "floor": floors, "sgd_floor": sgd_floors, "mean_field": preds, "order": order.tolist(),
                   "K": float(math.exp(logK)), "b": float(b), "sigma": sigma, "settings": settings,
                   "checkpoints": ck.astype(int).tolist(), "bands": bands}


# -- HEAD-TO-HEAD on the Remark 5 instances ----------------------------------------------------------------

def head_rules(L0, L1, M, tau, budget):
    """Every rule with the parameters its source prescribes for the class (L0, L1) and sublevel bound M."""
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    eta_n, beta = steps.ngd_params(L0, L1)
    lr, c = eta_c, gamma  # torch: clip_grad_norm_(gamma) then SGD(eta_c) is the Thm 3 clipped step
    return {
        "gd (Thm 6 step)": ("gd", {"h": steps.zhsj_thm6_step(L0, L1, M)}),
        "clipped (Thm 3)": ("clipped", {"eta_c": eta_c, "gamma": gamma}),
        "normalized (NGD)": ("normalized", {"eta_n": eta_n, "beta": beta}),
        "torch-clip (= Thm 3)": ("torch-clip", {"lr": lr, "max_norm": c}),
        "sgd (Thm 8, T = budget)": ("sgd", {"h": steps.zhsj_thm8_step(L1, M, tau, budget)}),
        "clipped-sgd (Thm 7, T = budget)": ("clipped-sgd", {"eta": steps.zhsj_thm7_eta(L0, L1, tau, budget),
                                                            "L1": L1}),
        "l0l1-gd (eta 1/2)": ("l0l1-gd", {"eta": 0.5, "L0": L0, "L1": L1}),
        "vankov-star": ("vankov-star", {"L0": L0, "L1": L1}),
        "vankov-si": ("vankov-si", {"L0": L0, "L1": L1}),
        "vankov-cl": ("vankov-cl", {"L0": L0, "L1": L1}),
        "momentum-clip (ZJFW)": ("momentum-clip", {"eta": eta_c, "gamma": gamma * eta_c}),
        "mixed-clip (ZJFW, nu 0.7)": ("mixed-clip", {"eta": eta_c, "gamma": gamma * eta_c}),
        "nsgd-m (Hubler)": ("nsgd-m", {}),
    }


def _count(t, budget):
    """A count in words: "> budget" when censored, "diverged" when infinite."""
    return "diverged" if not math.isfinite(t) else f"> {budget}" if t > budget else f"{t:.0f}"


def head_to_head(settings):
    """Every rule on both members of the Remark 5 pair for each M: f_exp (curved: f'' = L0 + L1 |f'| > 0, where a
    momentum m differs from the gradient) and the slope f_slow (where, on its linear part, m = g and the momentum
    rules reduce to normalized steps). Counts are medians over seeds; a run that does not finish within the budget
    is censored (> budget), one that overflows diverged (inf)."""
    L0, L1, eps, tau, n_s, budget = (settings[k] for k in ("L0", "L1", "eps", "tau", "seeds", "budget"))
    noise = "bounded" if tau > 0 else "none"
    members = {"f_exp": {}, "f_slow": {}}
    for M in settings["M"]:
        pair = F.lower_bound_pair(L0, L1, M, eps)
        for name, (rule, params) in head_rules(L0, L1, M, tau, budget).items():
            x0 = np.array([pair.x_exp] * n_s + [pair.x_slow] * n_s)
            r = synthetic.run([pair.exp] * n_s + [pair.slow] * n_s, rule, x0, eps, budget, noise=noise, tau=tau,
                              seed=settings["seed"], **params)
            t = r.t_eps()  # budget + 1 when censored, inf when diverged
            members["f_exp"].setdefault(name, []).append(float(np.median(t[:n_s])))
            members["f_slow"].setdefault(name, []).append(float(np.median(t[n_s:])))
    table = {name: np.maximum(members["f_exp"][name], members["f_slow"][name]).tolist() for name in members["f_exp"]}
    ref = table["clipped (Thm 3)"][-1]
    rows = []
    for name, ts in table.items():
        t = np.array(ts)
        done = t <= budget
        slope = float(np.polyfit(np.log(np.array(settings["M"])[done]), np.log(t[done]), 1)[0]) if done.sum() >= 2 \
            else math.nan
        last = float(t[-1])
        censored = math.isfinite(last) and last > budget
        out = [f"{m:g}" for m, v in zip(settings["M"], t) if not v <= budget]
        t_curved, t_slope = members["f_exp"][name][-1], members["f_slow"][name][-1]
        rule = head_rules(L0, L1, 1.0, tau, budget)[name][0]
        rows.append(Row(f"HEAD-TO-HEAD:{name}", "later",
                        "iterations to ||grad f|| <= eps on the Remark 5 pair (median over seeds)",
                        {"L0": L0, "L1": L1, "eps": eps, "tau": tau, "noise": noise, "budget": budget},
                        float(budget) if censored else last, math.nan,
                        math.nan if censored or not math.isfinite(last) else last / ref, MEASURED,
                        {"M": settings["M"][-1], "rule": rule, "T_f_exp_curved": t_curved, "T_f_slow_slope": t_slope},
                        note=f"log-log slope in M = {slope:.2f}; at M = {settings['M'][-1]:g}: "
                             f"{_count(t_curved, budget)} on f_exp (curved, where a momentum differs from the "
                             f"gradient), {_count(t_slope, budget)} on the slope f_slow"
                             + (" (on its linear part m = g: the momentum has no effect there)"
                                if RUNNER_RULES[rule].momentum is not None else "")
                             + (f"; not within the budget {budget} (or diverged) at M = {', '.join(out)}"
                                if out else ""),
                        censored=censored,
                        columns={"measured": f"T_eps of the worse member at M = {settings['M'][-1]:g}",
                                 "ratio": "measured / T_eps of clipped GD (Thm 3)"}))
    return rows, {"M": settings["M"], "table": table, "members": members, "budget": budget, "eps": eps, "tau": tau}
