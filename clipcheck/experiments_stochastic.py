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
from clipcheck.theory import bounds, steps

from . import upper
from .records import (DEMONSTRATED, HOLDS, MEASURED, NOT_DEMONSTRATED, SHAPE_ONLY, VIOLATED, BoundRow, Constant,
                      Row, UpperBound)
from .upper import class_instances, describe as _describe, gap as _gap
Z95 = float(_normal.ppf(0.975))  # two-sided 95% normal quantile for every confidence interval here

# -- settings ------------------------------------------------------------------------------------------------
THM7 = {
    "quick": {"classes": [[1.0, 1.0]], "eps": [0.5], "tau": [0.1], "noise": ["bounded"], "seeds": 100,
              "seed": 0, "n_checkpoints": 400},
    "full": {"classes": [[1.0, 1.0], [2.0, 3.0], [1.0, 10.0]], "eps": [0.5, 0.3], "tau": [0.1, 0.3],
             "noise": ["bounded", "bounded-adversarial"], "seeds": 1000, "seed": 0, "n_checkpoints": 1000},
}
THM8 = {
    "quick": {"L0": 1.0, "L1": 1.0, "tau": 0.1, "noise": "bounded", "eps": [0.5, 0.35, 0.25], "seeds": 50,
              "seed": 0, "max_horizon": 2**17},
    "full": {"L0": 1.0, "L1": 1.0, "tau": 0.1, "noise": "bounded", "eps": [0.5, 0.35, 0.25, 0.18, 0.12],
             "seeds": 200, "seed": 0, "max_horizon": 2**22},
}
# The adversary's classes (L0, L1, eps[, declared M]) as in experiments.py: one search per class, rule and seed.
_SEARCH = {"seeds": [0], "restarts": 6, "evaluations": None, "cells": 4, "blocks": 4, "budget_s": 120.0,
           "horizon": 300}
_SEARCH_FULL = {**_SEARCH, "seeds": [0, 1, 2], "restarts": 10, "budget_s": 600.0}
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
KOLOSKOVA = {
    "quick": {"L": 1.0, "tau": 1.0, "p_plus": 0.1, "lr": 0.005, "steps": 20000, "seeds": 20, "seed": 0,
              "thresholds": [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]},
    "full": {"L": 1.0, "tau": 1.0, "p_plus": 0.1, "lr": 0.001, "steps": 200000, "seeds": 100, "seed": 0,
             "thresholds": [0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2, 1.6, 3.2]},
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
VANKOV_A = {"vankov-star": 1.0, "vankov-si": 1.0, "vankov-cl": 0.5}


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


def thm7(settings):
    n_s = settings["seeds"]
    results, prob_worst, exp_worst = [], None, None
    for L0, L1 in settings["classes"]:
        for eps in settings["eps"]:
            for tau in settings["tau"]:
                for noise in settings["noise"]:
                    for fam, x0, info in _thm7_instances(L0, L1, eps):
                        delta = _gap(fam, x0)
                        T = int(math.ceil(thm7_horizon(L0, L1, delta, tau, eps)))
                        eta = steps.zhsj_thm7_eta(L0, L1, tau, T)
                        ck = _checkpoints(T, settings["n_checkpoints"])
                        x = np.repeat(np.atleast_2d(x0), n_s, axis=0) if np.ndim(x0) else np.full(n_s, x0)
                        r = synthetic.run(fam, "clipped-sgd", x, eps, T, noise=noise, tau=tau,
                                          seed=settings["seed"], stop="never", record=ck, eta=eta, L1=L1)
                        hits = int(np.sum(r.status == CONVERGED))
                        lo, hi = wilson(hits, n_s)
                        first = np.where(r.status == CONVERGED, r.iterations, np.inf)
                        mean, half, q25, q50, q75 = _seed_stats(r.trace["grad_norm"])
                        k = int(np.argmin(mean))
                        rec = {"label": f"{fam.name}, {info['role']}, eps={eps:g}, tau={tau:g}, {noise}",
                               "L0": L0, "L1": L1, "eps": eps, "tau": tau, "noise": noise, "delta": delta, "T": T,
                               "eta": eta, "p_hat": hits / n_s, "p_ci": [lo, hi],
                               "median_first_hit": float(np.median(first)), "min_mean": float(mean[k]),
                               "min_mean_half_width": float(half[k]), "at": int(ck[k]),
                               "mean_lower_all_above_eps": bool(np.all(mean - half > eps)),
                               "checkpoints": ck.tolist(), "mean": mean.tolist(), "q25": q25.tolist(),
                               "q50": q50.tolist(), "q75": q75.tolist(),
                               "instance": _describe(fam, x0, **info, T=T, eta=eta)}
                        results.append(rec)
                        key = (rec["p_ci"][1], -rec["median_first_hit"] / T)  # least likely, then slowest
                        if prob_worst is None or key < (prob_worst["p_ci"][1],
                                                        -prob_worst["median_first_hit"] / prob_worst["T"]):
                            prob_worst = rec
                        if exp_worst is None or rec["min_mean"] / eps > exp_worst["min_mean"] / exp_worst["eps"]:
                            exp_worst = rec
    params = {**settings, "step": "h_k = min{1/(16 eta L1 (||g_k|| + tau)), eta}, eta = min{1/(20 L0), "
                                  "1/(128 L1 tau), 1/sqrt(T)} (eta inside the first denominator as printed)"}
    w = prob_worst
    rows = [Row("ZHSJ-Thm7:probability", "paper-shape",
                "clipped SGD, Thm 7 step, T = D' max{128 L1/eps, 4 D'/eps^4, (80 L0 + 512 L1 tau)/eps^2}: "
                "P(min_{t<=T} ||grad f(x_t)|| <= eps) >= 1/2",
                params, w["median_first_hit"], float(w["T"]), w["median_first_hit"] / w["T"],
                VIOLATED if w["p_ci"][1] < 0.5 else HOLDS,
                {**w["instance"], "p_hat": w["p_hat"], "p_ci95": w["p_ci"], "seeds": n_s},
                note=f"{len(results)} instances x {n_s} seeds; measured = median first hitting time of the "
                     f"worst instance (lowest success CI, then largest median/T); VIOLATED only if the 95% Wilson upper bound of "
                     f"P(success) < 1/2; worst P = {w['p_hat']:.3f} [{w['p_ci'][0]:.3f}, {w['p_ci'][1]:.3f}]")]
    w = exp_worst
    rows.append(Row("ZHSJ-Thm7:expectation", "paper-shape",
                    "clipped SGD, same T: min_{t<=T} E||grad f(x_t)|| <= eps", params, w["min_mean"], w["eps"],
                    w["min_mean"] / w["eps"], VIOLATED if w["mean_lower_all_above_eps"] else HOLDS,
                    {**w["instance"], "at_iteration": w["at"], "ci95_half_width": w["min_mean_half_width"],
                     "seeds": n_s},
                    note="measured = min over checkpoints (every t <= 200, then evenly spaced) of the mean over "
                         "seeds of ||grad f(x_t)||, which can only overstate the min over all t; VIOLATED only if "
                         "the lower 95% confidence limit of the mean exceeds eps at every checkpoint"))
    return rows, {"instances": results}


# -- ZHSJ-Thm8 ----------------------------------------------------------------------------------------------

def _thm8_instances(L0, L1, eps):
    """A slope just above eps (where SGD's 1/sqrt(T) step costs eps^-4) and the logistic ridge (its gradient
    decays towards f* at infinity, so reaching eps is a question of distance, ~ log(1/eps)/eps)."""
    slow = F.f_slow(1.01 * eps)
    lg = F.logistic(L1)
    return [(slow, slow.start_for_gap(1.0), "slope just above eps (the eps^-4 regime)"),
            (lg, lg.start_for_gap(1.0), "logistic ridge from gap 1")]


def thm8(settings):
    L0, L1, tau, n_s = settings["L0"], settings["L1"], settings["tau"], settings["seeds"]
    curves = {}
    for eps in settings["eps"]:
        for fam, x0, role in _thm8_instances(L0, L1, eps):
            delta, M = _gap(fam, x0), float(fam.sublevel_grad_sup(x0)[0])
            T, needed = 1, None
            while T <= settings["max_horizon"]:
                h = steps.zhsj_thm8_step(L1, M, tau, T)
                r = synthetic.run(fam, "sgd", np.full(n_s, x0), eps, T, noise=settings["noise"], tau=tau,
                                  seed=settings["seed"], h=h)
                p = float(np.mean(r.status == CONVERGED))
                if p >= 0.5:
                    needed = T
                    break
                T *= 2
            c = curves.setdefault(role, {"eps": [], "needed": [], "shape": [], "M": [], "delta": []})
            c["eps"].append(eps)
            c["needed"].append(needed)
            c["shape"].append(thm8_shape(L0, L1, M, delta, tau, eps))
            c["M"].append(M)
            c["delta"].append(delta)
    rows = []
    for role, c in curves.items():
        ok = [i for i, v in enumerate(c["needed"]) if v is not None]
        implied = [c["needed"][i] / c["shape"][i] for i in ok]
        slope = (float(np.polyfit(np.log(1 / np.array(c["eps"])[ok]), np.log(np.array(c["needed"], float)[ok]),
                                  1)[0]) if len(ok) >= 2 else math.nan)
        worst = int(np.argmax(implied)) if implied else 0
        i = ok[worst] if ok else 0
        rows.append(Row(f"ZHSJ-Thm8:{role.split(' ')[0]}", "paper-shape",
                        "SGD, h = min{1/sqrt(T), 1/(L1 (M + tau))}: T = O(max{(D + c (L0 + L1 M)(M + tau)^2)^2/eps^4,"
                        " L1^2 (M + tau)^2}) (shape only)", dict(settings),
                        float(c["needed"][i]) if ok else math.inf, float(c["shape"][i]),
                        max(implied) if implied else math.inf, SHAPE_ONLY,
                        {"role": role, "eps": c["eps"][i], "M": c["M"][i], "delta": c["delta"][i]},
                        note=f"measured = smallest horizon T (doubling from 1) whose run reaches eps with "
                             f"P >= 1/2 over {n_s} seeds; bound = the shape with c = 1; ratio = implied constant "
                             f"(largest over eps); fitted slope of log T vs log(1/eps) = {slope:.2f} (shape: <= 4)"
                             + ("" if len(ok) == len(c["eps"]) else "; some eps not reached within max_horizon")))
    return rows, {"curves": curves, "settings": settings}


# -- deterministic later rules on the class instances -------------------------------------------------------

def _vankov_row(rule, bound_fn, text, M=None):
    """A Vankov et al. row: the constant checked is 1/a (a = 1 for eta*, eta_si, 1/2 for eta_cl: the bound scales
    with 1/a), and the bound is computed from that same constant."""
    const = Constant(value=1.0 / VANKOV_A[rule])
    return BoundRow(rule, "later", const, text, rule, lambda ctx: {"L0": ctx.L0, "L1": ctx.L1},
                    lambda ctx: float(bound_fn(ctx, 1.0 / const())), M=M, fields=lambda: {"rule": rule})


VANKOV_NONCONVEX = UpperBound("VANKOV-nonconvex", "Vankov et al. steps eta*, eta_si, eta_cl: gradient norm bound",
                              tuple(_vankov_row(rule, lambda ctx, a: vankov_nonconvex(ctx.L0, ctx.L1, ctx.delta,
                                                                                       ctx.eps, a),
                                                "{rule}: T_eps <= ceil({c:g} (2 L0 D/eps^2 + 3 L1 D/eps)) - 1 "
                                                "(constant 1/a)") for rule in VANKOV_A))


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
                      M=_radius) for rule in VANKOV_A), catalogue=_convex_instances, stop="gap")

GORBUNOV = UpperBound(
    "GORBUNOV-convex", "(L0,L1)-GD on convex instances against the O(L0 R^2/eps + L1^2 R^2) shape",
    (BoundRow("", "later", Constant(value=1.0),
              "x+ = x - eta grad f/(L0 + L1 ||grad f||), eta = 1/2: f - f* <= eps within O(L0 R^2/eps + L1^2 R^2) "
              "(shape only, c = {c:g}; eta = 1/2 is our choice: it keeps the step below Vankov's eta_si = 1/(L0 + "
              "1.5 L1 g), so every step decreases f; the paper's own range of eta is not transcribed here)",
              "l0l1-gd", lambda ctx: {"eta": 0.5, "L0": ctx.L0, "L1": ctx.L1},
              lambda ctx: float(gorbunov_shape(ctx.L0, ctx.L1, ctx.M, ctx.eps)), M=_radius),),
    catalogue=_convex_instances, stop="gap", shape_only=True)


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


def koloskova(settings):
    tau, p, lr, n, L = settings["tau"], settings["p_plus"], settings["lr"], settings["steps"], settings["L"]
    cs = list(settings["thresholds"])
    fam = F.quadratic(L)
    n_s = settings["seeds"]
    ck = np.unique(np.concatenate([np.geomspace(1, n // 2, 200).round(), np.arange(n // 2, n + 1, max(1, n // 2000))]))
    late = ck >= n // 2  # the floor is read off the second half of the run
    floors, preds, bands = [], [], []
    x0 = np.full(n_s, 1.0 / L)  # ||grad f(x0)|| = 1, above every floor of the grid
    for c in cs + [None]:
        kw = {"rule": "torch-clip", "lr": lr, "max_norm": c} if c is not None else {"rule": "sgd", "h": lr}
        r = synthetic.run(fam, x0=x0, eps=1e-12, max_iter=n, noise="bounded-adversarial", tau=tau,
                          seed=settings["seed"], noise_params={"p_plus": p}, stop="never", record=ck, **kw)
        trace = r.trace["grad_norm"]
        floors.append(float(np.median(trace[:, late].mean(axis=1))))  # per seed: mean ||grad|| in the 2nd half
        bands.append(np.percentile(trace, [25, 50, 75], axis=0).tolist())
        preds.append(koloskova_mean_field_floor(tau, p, c, L) if c is not None else 0.0)
    sigma = tau * math.sqrt(p / (1 - p))
    clipped = np.array(floors[:-1])
    biased = np.array(preds[:-1]) > 0
    falls = bool(np.all(np.diff(clipped[biased]) < 0)) if biased.sum() >= 2 else False
    above = bool(clipped[0] > 3.0 * floors[-1])
    verdict = DEMONSTRATED if falls and above else NOT_DEMONSTRATED
    row = Row("KOLOSKOVA-bias", "later",
              "clipped SGD with a fixed threshold c stalls at a floor of order min{sigma, sigma^2/c} that falls as c "
              "grows (Koloskova, Hendrikx, Stich, ICML 2023)", dict(settings), clipped[0], floors[-1],
              clipped[0] / floors[-1] if floors[-1] > 0 else math.inf, verdict,
              {"c": cs[0], "sigma": sigma, "mean_field_floor": preds[0], "min_sigma_sigma2_over_c":
               min(sigma, sigma**2 / cs[0])},
              note=f"f = {L:g} x^2/2, skewed bounded noise (p_plus = {p:g}, tau = {tau:g}, A5 holds), torch-style "
                   f"clipping with lr = {lr:g}; measured = floor at the smallest c, bound column = unclipped SGD's "
                   f"floor (noise only); floors {', '.join(f'{v:.3g}' for v in clipped)} for c = "
                   f"{', '.join(f'{v:g}' for v in cs)}; mean-field prediction "
                   f"{', '.join(f'{v:.3g}' for v in preds[:-1])}")
    return [row], {"c": cs, "floor": floors[:-1], "sgd_floor": floors[-1], "mean_field": preds[:-1],
                   "sigma": sigma, "settings": settings, "checkpoints": ck.astype(int).tolist(), "bands": bands}


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


def head_to_head(settings):
    L0, L1, eps, tau, n_s, budget = (settings[k] for k in ("L0", "L1", "eps", "tau", "seeds", "budget"))
    noise = "bounded" if tau > 0 else "none"
    table = {}
    for M in settings["M"]:
        pair = F.lower_bound_pair(L0, L1, M, eps)
        for name, (rule, params) in head_rules(L0, L1, M, tau, budget).items():
            x0 = np.array([pair.x_exp] * n_s + [pair.x_slow] * n_s)
            r = synthetic.run([pair.exp] * n_s + [pair.slow] * n_s, rule, x0, eps, budget, noise=noise, tau=tau,
                              seed=settings["seed"], **params)
            t = r.t_eps()
            worst = max(float(np.median(t[:n_s])), float(np.median(t[n_s:])))  # worst member, median over seeds
            table.setdefault(name, []).append(None if not math.isfinite(worst) else worst)
    ref = np.array(table["clipped (Thm 3)"], float)
    rows = []
    for name, ts in table.items():
        t = np.array([np.inf if v is None else v for v in ts], float)
        ok = np.isfinite(t) & (t <= budget)
        slope = float(np.polyfit(np.log(np.array(settings["M"])[ok]), np.log(t[ok]), 1)[0]) if ok.sum() >= 2 \
            else math.nan
        censored = ", ".join(f"{m:g}" for m, v in zip(settings["M"], t) if not (v <= budget))
        rows.append(Row(f"HEAD-TO-HEAD:{name}", "later",
                        "iterations to ||grad f|| <= eps, worst member of the Remark 5 pair (median over seeds)",
                        {"L0": L0, "L1": L1, "eps": eps, "tau": tau, "noise": noise, "budget": budget},
                        float(t[-1]), float(ref[-1]), float(t[-1] / ref[-1]), MEASURED,
                        {"M": settings["M"][-1], "rule": head_rules(L0, L1, 1.0, tau, budget)[name][0]},
                        note=f"bound column = clipped GD (Thm 3) at the largest M; ratio = this rule / clipped; "
                             f"log-log slope in M = {slope:.2f}"
                             + (f"; > budget {budget} at M = {censored}" if censored else "")))
    return rows, {"M": settings["M"], "table": table, "budget": budget, "eps": eps, "tau": tau}
