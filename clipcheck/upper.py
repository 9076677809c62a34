"""Upper-bound claims: run every row of a records.UpperBound on the catalogue's certified instances and on the 1-D
adversary's worst instances, and decide each row on the worse of the two.

The adversary's searches are grid points of a sweep (one point per search start), so they are cached by their
settings and the code digest and spread by --workers / --dask. A search maximises T_eps / Delta: every bound checked
here is linear in Delta for a fixed class, eps and M (up to the ceiling of Vankov's), and the search is rank-based,
so it finds the same instance whatever the constant, and its points do not depend on it. Each instance it returns
is replayed through clipcheck.synthetic.run and certified (Profile.certify, and sup |f'| <= M where M is declared)
before a row uses it.
"""
import math

import numpy as np

from clipcheck import synthetic
from clipcheck.adversary import Profile, worst_case
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic import kernels
from clipcheck.synthetic.result import BUDGET, CONVERGED
from clipcheck.synthetic.sweep import cached, sweep

from .records import ADVERSARY_SLACK, INCONCLUSIVE, SHAPE_ONLY, VIOLATED, Context, Row, upper_verdict

BUDGET_CAP = 2 * 10**9  # no single instance runs longer than this; hitting it is reported, never hidden
FAMILIES = ("slope", "steep slope", "f_exp", "logistic", "exp_linear", "cosh", "x4", "x^4 (even power)")
SHAPE_ONLY_ROOM = 20.0  # budget of a shape-only bound's runs, in multiples of its shape
PROFILE_POINTS = 400    # samples of the worst adversarial profile for its figure
TRACE_MAX = 20_000      # iterates of its run kept for the figure
# The adversary's search settings (the claims add classes and horizon). A search stops on a count, never on the
# clock, so its result does not depend on machine load: each CMA-ES restart runs until converged or
# SEARCH_EVALUATIONS (None: worst_case's own count, 150 x dimension + 1000: 1750, 1750, 1750, 2350, 3550, 3550
# for the six restarts with 4 cells; every quick search uses all of them, 14,710 in all, in 0.3 to 3 s on the
# shared machine). budget_s is a safety limit only, far above that; a search that hits it is named in its row's note.
SEARCH_EVALUATIONS = None
SEARCH = {"seeds": [0], "restarts": 6, "evaluations": SEARCH_EVALUATIONS, "cells": 4, "blocks": 4, "budget_s": 1800.0}
SEARCH_FULL = {**SEARCH, "seeds": [0, 1, 2], "restarts": 10, "budget_s": 3600.0}


def budget(bound):
    """Steps to allow when checking an upper bound: one more than the bound, so a budget stop is a violation."""
    return int(min(math.ceil(bound) + 1, BUDGET_CAP))


def gap(fn, x0):
    return float(fn.value(x0)[0]) - fn.f_star


def describe(fn, x0, **extra):
    """The instance (fn, x0) for a row: its family, certified L0 and L1, x0, gap and gradient norm, and `extra`
    (which must not replace those: a rule's parameters go nested, as rule_params)."""
    clash = set(extra) & {"family", "L0", "L1", "x0", "delta", "grad_norm_x0"}
    if clash:
        raise ValueError(f"extra: {sorted(clash)[0]!r} would replace the instance's own value")
    x = np.atleast_1d(x0).tolist()
    return {"family": fn.name, "L0": fn.L0, "L1": fn.L1, "x0": x if len(x) > 1 else x[0],
            "delta": gap(fn, x0), "grad_norm_x0": float(fn.grad_norm(x0)[0]), **extra}


def class_instances(L0, L1, eps, families=FAMILIES):
    """Certified members of the (L0, L1) class that make Thm 3 / Thm 6 / NGD nearly tight (THEOREMS.md 4): a slope
    with gradient just above eps (unclipped steps), a slope as steep as the class allows (clipped steps once
    L1 > 3/2), f_exp from large gradients, and the other catalogue families that fit; `families` picks among
    FAMILIES (each new function source is a compiled kernel per rule: quick mode keeps few)."""
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"families: unknown family {sorted(unknown)[0]!r}; known: {', '.join(FAMILIES)}")
    out = []
    if "slope" in families and 1.01 * eps <= 2.0 * L0 / 3.0:
        slow = F.f_slow(1.01 * eps)
        for delta in (1.0, 10.0):
            out.append((slow, slow.start_for_gap(delta), {"role": "slope just above eps"}))
    steep = F.f_slow(2.0 * L0 / 3.0)
    if "steep slope" in families and 2.0 * L0 / 3.0 > eps:
        for k in (10.0, 100.0):
            out.append((steep, steep.start_for_gap(k * steep.params[0]), {"role": "steepest slope in class"}))
    if L1 > 0 and "f_exp" in families:
        fe = F.f_exp(L0, L1)
        for M in (10.0, 1e3, 1e5):
            out.append((fe, fe.start_for_grad(M), {"role": "f_exp from ||grad|| = M"}))
    if L1 > 0:
        for name, make in (("logistic", F.logistic), ("exp_linear", F.exp_linear)):
            if name in families:
                fam = make(L1)
                for delta in (1.0, 10.0):
                    out.append((fam, fam.start_for_gap(delta), {"role": "ridge profile"}))
    for name, make in (("cosh", F.cosh2), ("x4", F.x4), ("x^4 (even power)", lambda: F.even_power(2))):
        fam = make() if name in families else None
        if fam is not None and fam.in_class(L0, L1):
            for M in (10.0, 1e3):
                out.append((fam, fam.start_for_grad(M), {"role": "catalogue"}))
    return [(f, x, info) for f, x, info in out if f.in_class(L0, L1)]


def _groups(ub):
    """The rows that share one run: same rule, same parameter function."""
    groups = {}
    for row in ub.rows:
        groups.setdefault((row.rule, row.params, row.M), []).append(row)
    return groups


# -- the catalogue ---------------------------------------------------------------------------------------------

def _catalogue_items(ub, settings):
    """[(function, x0, info, L0, L1, eps)]: the record's own instances, or the class instances of the settings."""
    if ub.catalogue is not None:
        return ub.catalogue(settings)
    families = settings.get("families", FAMILIES)
    return [(f, x, info, L0, L1, eps) for L0, L1 in settings["classes"] for eps in settings["eps"]
            for f, x, info in class_instances(L0, L1, eps, families)]


def _counts(res):
    """(measured, censored) of a run: T_eps (inf when diverged); a run stopped by its budget counts its budget,
    censored (the true T_eps is larger: shown "> budget")."""
    censored = res.status == BUDGET
    return np.where(censored, res.iterations.astype(float), res.t_eps()), censored


def _catalogue(ub, settings):
    """Per row label: a list of candidates {measured, censored, bound, ok, unknown, instance, source}."""
    items = _catalogue_items(ub, settings)
    out = {row.label: [] for row in ub.rows}
    if not items:
        return out
    fns = [f for f, _, _, _, _, _ in items]
    x0 = np.array([x for _, x, _, _, _, _ in items], float)
    eps = np.array([e for *_, e in items])
    for (rule, params_of, M_of), rows in _groups(ub).items():
        ctxs = [Context(L0, L1, e, gap(f, x), M_of(L0, L1, e, f, x) if M_of else None)
                for f, x, _, L0, L1, e in items]
        bnds = {r.label: np.array([r.bound(c) for c in ctxs], float) for r in rows}
        # a shape-only bound has no constant: allow 20 times it, so the implied constant shows up to 20
        factor = SHAPE_ONLY_ROOM if ub.shape_only else 1.0
        budgets = [budget(factor * max(b[i] for b in bnds.values())) for i in range(len(items))]
        per = [params_of(c) for c in ctxs]
        status, measured, censored = _catalogue_runs(ub, rule, fns, x0, eps, budgets, per)
        for r in rows:
            for i, (f, x, info, L0, L1, e) in enumerate(items):
                b = float(bnds[r.label][i])
                ok = bool(status[i] == CONVERGED and measured[i] <= b)
                # a budget stop below the bound (only when BUDGET_CAP cut the budget) proves nothing either way
                unknown = bool(status[i] == BUDGET and measured[i] < b)
                out[r.label].append({"measured": float(measured[i]), "censored": bool(censored[i]), "bound": b,
                                     "ok": ok, "unknown": unknown, "source": "catalogue", "family": f.name,
                                     "instance": describe(f, x, **info, class_L0=L0, class_L1=L1, eps=e,
                                                          **({ub.M_name: ctxs[i].M} if ctxs[i].M is not None
                                                             else {}),
                                                          rule_params=per[i], status=int(status[i]))})
    return out


def _catalogue_runs(ub, rule, fns, x0, eps, budgets, per):
    """(status, measured, censored) of the catalogue's runs of one rule: one run per function source (one kernel
    each), each stored as it finishes (synthetic.sweep.cached: an interrupted verify resumes after it). Its key is
    everything the run depends on, budgets included (they come from the bounds, whose constants a test may move)."""
    n = len(fns)
    status, measured, censored = np.empty(n, np.int64), np.empty(n), np.empty(n, bool)
    parts = {}
    for i, f in enumerate(fns):
        parts.setdefault(kernels.source_key(f), []).append(i)
    for part in parts.values():
        part_budgets = [budgets[i] for i in part]
        key = {"catalogue": ub.id, "rule": rule, "stop": ub.stop,
               "functions": [[fns[i].name, fns[i].params.tolist()] for i in part], "x0": x0[part].tolist(),
               "eps": eps[part].tolist(), "budgets": part_budgets, "rule_params": [per[i] for i in part]}

        def compute(part=part, part_budgets=part_budgets):
            params = {k: np.array([per[i][k] for i in part]) for k in per[part[0]]}
            res = synthetic.run([fns[i] for i in part], rule, x0[part], eps[part], part_budgets, stop=ub.stop,
                                **params)
            m, c = _counts(res)
            return {"status": res.status.tolist(), "measured": m.tolist(), "censored": c.tolist()}

        got = cached(key, compute)
        status[part], measured[part], censored[part] = got["status"], got["measured"], got["censored"]
    return status, measured, censored


# -- the adversary ---------------------------------------------------------------------------------------------

def search_point(rule, params, L0, L1, eps, M, horizon, seed, restarts, evaluations, cells, blocks, budget_s):
    """One search start (a grid point of the sweep): the 1-D adversary's worst instance for T_eps / Delta, as JSON."""
    # a rule parameter named L0 or L1 is the class constant (worst_case fills it in)
    given = {k: v for k, v in params.items() if not (k == "L0" and v == L0 or k == "L1" and v == L1)}
    wc = worst_case(rule, L0, L1, eps=eps, bound=lambda d: d, seed=seed, budget_s=budget_s, declared_M=M,
                    horizon=horizon, cells=cells, blocks=blocks, restarts=restarts, evaluations=evaluations,
                    **given)
    return {"value": wc.value, "certified": wc.certified, "instance": wc.instance.to_dict(),
            "iterations": wc.iterations, "status": wc.status, "delta": wc.delta, "grad_sup": wc.grad_sup,
            "evaluations": wc.evaluations, "restarts": wc.restarts, "stopped_by_budget": wc.stopped_by_budget,
            "history": [[h["evaluations"], h["best"]] for h in wc.history]}


def _adversary_classes(cfg):
    """(L0, L1, eps, M or None) of each adversary class in the settings."""
    return [(float(c[0]), float(c[1]), float(c[2]), float(c[3]) if len(c) > 3 else None) for c in cfg["classes"]]


def _adversary(ub, cfg):
    """Per row label: candidates from the adversary's best certified instance of each class; the searches; and per
    row label, how many of its searches stopped on their time budget (their result depends on machine speed)."""
    out = {row.label: [] for row in ub.rows}
    groups = _groups(ub)
    points, keys = [], []
    for cls in _adversary_classes(cfg):
        L0, L1, eps, M = cls
        for gk, rows in groups.items():
            rule, params_of, _ = gk
            params = params_of(Context(L0, L1, eps, math.nan, M))
            for seed in cfg["seeds"]:
                points.append({"rule": rule, "params": params, "L0": L0, "L1": L1, "eps": eps, "M": M,
                               "horizon": cfg["horizon"], "seed": seed, "restarts": cfg["restarts"],
                               "evaluations": cfg.get("evaluations"), "cells": cfg["cells"], "blocks": cfg["blocks"],
                               "budget_s": cfg["budget_s"]})
                keys.append((cls, gk))
    found = sweep(search_point, points, f"{ub.id}:adversary")
    best, searches = {}, []
    timed_out = {row.label: 0 for row in ub.rows}
    for (cls, gk), point, res in zip(keys, points, found):
        for row in groups[gk]:
            timed_out[row.label] += bool(res["stopped_by_budget"])
        searches.append({"class": list(cls), "rule": gk[0], "seed": point["seed"], "value": res["value"],
                         "certified": res["certified"], "evaluations": res["evaluations"],
                         "stopped_by_budget": res["stopped_by_budget"], "history": res["history"]})
        if res["certified"] and (best.get((cls, gk)) is None or res["value"] > best[(cls, gk)][1]["value"]):
            best[(cls, gk)] = (point, res)
    for (cls, gk), (point, res) in best.items():
        for row in groups[gk]:
            out[row.label].append(_replayed(row, point, res, cls))
    return out, searches, timed_out


def _replayed(row, point, res, cls):
    """The adversary's instance replayed through the runner and certified, as a candidate of `row`."""
    L0, L1, eps, M = cls
    prof = Profile.from_dict(res["instance"])
    ctx = Context(L0, L1, eps, prof.delta, M)
    b = float(row.bound(ctx))
    cert = prof.certify()
    grad_sup = prof.sup_grad()
    certified = bool(cert.holds and prof.delta > 0 and (M is None or grad_sup <= M))
    allowed = b * (1 + ADVERSARY_SLACK)
    limit = budget(allowed)
    run = synthetic.run(prof.function("line"), point["rule"], [prof.x0], eps, limit, **point["params"])
    measured, censored = _counts(run)
    T = float(measured[0])  # a budget stop counts its budget, censored: T_eps > limit >= the bound, a violation
    ok = bool(run.status[0] == CONVERGED and T <= allowed)
    unknown = bool(run.status[0] == BUDGET and limit < math.ceil(allowed) + 1)  # cut by BUDGET_CAP
    return {"measured": T, "censored": bool(censored[0]), "bound": b, "ok": ok, "unknown": unknown,
            "certified": certified,
            "source": "adversary", "family": "adversary (1-D, certified by construction)",
            "instance": {"family": "adversary profile", "L0": L0, "L1": L1, "eps": eps,
                         **({"M": M, "sup_grad": grad_sup} if M is not None else {}), "rule": point["rule"],
                         "rule_params": point["params"], "delta": prof.delta, "x0": prof.x0, "cells": prof.n_cells,
                         "status": int(run.status[0]), "certified": certified,
                         "certificate": cert.sentence, "search_seed": point["seed"],
                         "search_T_over_delta": res["value"], "profile": res["instance"]}}


def _worst_trace(candidate, eps):
    """The figure's data for an adversarial instance: the profile around its iterates, the iterates and the
    gradient norm against t (replayed through the runner with a trace)."""
    inst = candidate["instance"]
    prof = Profile.from_dict(inst["profile"])
    n = int(min(candidate["measured"], TRACE_MAX))
    run = synthetic.run(prof.function("line"), inst["rule"], [prof.x0], eps, max(n, 1), record=n,
                        **inst["rule_params"])
    xs = run.trace["x"][0, :, 0]
    xs = xs[np.isfinite(xs)]
    lo, hi = float(xs.min()), float(xs.max())
    pad = 0.1 * (hi - lo) or 1.0
    grid = np.linspace(lo - pad, hi + pad, PROFILE_POINTS)
    vals = prof.values(grid)
    g = run.trace["grad_norm"][0]
    # a zoom on p' over three steps in the middle of the run, where the shape of the worst case shows
    k = max(0, xs.size // 2 - 1)
    near = xs[k:k + 4]
    zoom = np.linspace(near.min(), near.max(), PROFILE_POINTS) if near.size > 1 else np.array([xs[0]])
    return {"x": grid.tolist(), "p": (vals[:, 0] - prof.f_star).tolist(), "iterates": xs.tolist(),
            "zoom_x": zoom.tolist(), "zoom_dp": prof.values(zoom)[:, 1].tolist(), "zoom_iterates": near.tolist(),
            "zoom_iterates_dp": prof.values(near)[:, 1].tolist(),
            "f_iterates": (prof.values(xs[:: max(1, xs.size // 2000)])[:, 0] - prof.f_star).tolist(),
            "iterate_stride": max(1, xs.size // 2000), "t": run.trace["t"][: g.size].tolist(),
            "grad_norm": g[np.isfinite(g)].tolist(), "eps": eps, "rule": inst["rule"], "ratio": candidate["ratio"],
            "measured": candidate["measured"], "bound": candidate["bound"], "delta": inst["delta"],
            "class": [inst["L0"], inst["L1"]]}


# -- rows ---------------------------------------------------------------------------------------------------

def check(ub, settings):
    """Rows and figure data of the upper-bound claim `ub` under `settings` ("adversary": the searches' settings;
    without it the catalogue alone)."""
    cands = _catalogue(ub, settings)
    searches, dropped, timed_out = [], {label: 0 for label in cands}, {label: 0 for label in cands}
    if settings.get("adversary"):
        if ub.stop != "grad":
            raise ValueError(f"{ub.id}: the adversary measures T_eps of the gradient; stop={ub.stop!r} rows have none")
        adv, searches, timed_out = _adversary(ub, settings["adversary"])
        for label, found in adv.items():
            cands[label] += [c for c in found if c["certified"]]
            dropped[label] = sum(not c["certified"] for c in found)
    rows, data, worst = [], {"rows": {}, "searches": searches}, None
    for row in ub.rows:
        cs = cands[row.label]
        if not cs:
            raise ValueError(f"settings: no instance for row {ub.row_id(row)} under {settings!r} (no catalogue "
                             "instance fits its classes and no adversary class is searched)")
        for c in cs:
            c["ratio"] = c["measured"] / c["bound"] if c["bound"] > 0 else math.inf
        verdict = upper_verdict([c["ok"] for c in cs], [c["unknown"] for c in cs])
        c = cs[_deciding(cs, verdict)]
        if ub.shape_only:
            verdict = SHAPE_ONLY
        adv = [a for a in cs if a["source"] == "adversary"]
        constant = row.constant()
        note = (f"{len(cs) - len(adv)} certified catalogue instances and {len(adv)} adversarial "
                f"{'one' if len(adv) == 1 else 'ones'} (the worst of each adversary class, replayed through the "
                f"runner); the worst decides; needed constant = ratio x {constant:g}")
        if ub.shape_only:
            note = "ratio = implied constant (largest over instances); " + note
        if dropped[row.label]:
            note += f"; {dropped[row.label]} adversarial instance(s) failed their certificate and were not used"
        if timed_out[row.label]:
            note += (f"; search stopped by the time budget (budget_s = {settings['adversary']['budget_s']:g} s) "
                     f"before its evaluations in {timed_out[row.label]} of its adversary searches: the instance "
                     "found depends on machine speed")
        if c["censored"]:
            note += "; the deciding run stopped on its step budget (measured = that budget: T_eps is larger)"
        # a run cut below its bound says nothing about the constant (nan); a diverged run (ratio inf) no finite one
        needed = math.nan if c["unknown"] else c["ratio"] * constant
        rows.append(Row(ub.row_id(row), row.status, row.render(), dict(settings), c["measured"], c["bound"],
                        c["ratio"], verdict, {**c["instance"], "source": c["source"]}, note=note, constant=constant,
                        needed_constant=needed, censored=c["censored"],
                        adversarial_ratio=max(a["ratio"] for a in adv) if adv else math.nan))
        data["rows"][ub.row_id(row)] = {k: [a[k] for a in cs] for k in ("measured", "bound", "family", "source")}
        top = max(adv, key=lambda a: a["ratio"], default=None)
        if top is not None and (worst is None or top["ratio"] >= worst[0]["ratio"]):
            worst = (top, row)
    if worst is not None:
        top, row = worst
        data["adversary"] = {**_worst_trace(top, top["instance"]["eps"]), "row": ub.row_id(row)}
    return rows, data


def _deciding(cands, verdict):
    """Index of the candidate that decides the row: the worst violation, else the first run cut below its
    bound, else the largest ratio."""
    def key(i):
        c = cands[i]
        if verdict == VIOLATED:
            return (not c["ok"] and not c["unknown"], c["ratio"])
        if verdict == INCONCLUSIVE:
            return (c["unknown"], -i)
        return (True, c["ratio"])
    return max(range(len(cands)), key=key)
