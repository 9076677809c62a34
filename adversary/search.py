"""`worst_case`: search the 1-D (L0,L1) class for the instance on which a step rule does worst.

Two measures (issue 9):
  steps=n   min_{0<=t<=n} |f'(x_t)|^2 / (f(x0) - f*), the standard measure of worst-case analysis;
  eps=e     T_eps / bound(f(x0) - f*), with the iteration bound given by the caller (a value > 1 is a
            counterexample to that bound).
The search vector is (z, controls): z sets p'(x0) (steps: g0 = scale e^z; eps: g0 = eps (1 + e^z), just above
the target), the controls u = clip(1.5 sin(theta), -1, 1) are K blocks of `cells` entries used by online.py
(periodic, so no coordinate runs off to where nothing changes; bang-bang u = +-1 on a plateau, so the exact
bang-bang profiles of THEOREMS.md 4b are reached exactly rather than approached). A small CMA-ES
(cmaes.py) maximises the measure from several seeds within the time budget. The best instance is frozen into a
`Profile`, replayed from scratch by replay.py, and certified before it is reported.

A found instance is a lower estimate of the worst case over the class, never a proof of it (THEOREMS.md 4b), and
1-D cannot reach worst cases that need the gradient to turn (THEOREMS.md 4c).
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np

from clipcheck.theory.validation import count, nonnegative, positive

from .cmaes import CMAES
from .online import BUDGET, CONVERGED, DIVERGED, simulator
from .profile import Certificate, Profile
from .replay import Replay, replay
from .rules import CLASS_CONSTANTS, DECLARED_M, resolve

# e^z stays a finite, representable factor; for eps, p'(x0) >= eps (1 + 2e-9): a bound that is tight in the limit
# p'(x0) -> eps (CLASSIC-GD at T = 1) gives a ratio 1 - 4e-9, not a rounding error above 1
Z_RANGE = {"steps": (-30.0, 30.0), "eps": (-20.0, 10.0)}
Z_START = {"steps": 0.0, "eps": -3.0}  # eps: start with p'(x0) = 1.05 eps
CONTROL_GAIN = 1.5  # u = clip(1.5 sin theta): u = +-1 on a third of each period
SIGMA_START = 0.8
SIGMA_REFINE = 0.3
DEFAULT_EPS_HORIZON = 1000


@dataclass(frozen=True)
class WorstCase:
    """The outcome of `worst_case`. `value` is measured on the replayed frozen instance, never taken from the
    search; `certified` says the instance passed Profile.certify() and, when an M was declared, has
    sup |f'| <= M on its sublevel set."""

    value: float
    instance: Profile
    certified: bool
    measure: str
    steps: object
    eps: object
    rule: str
    rule_params: dict
    L0: float
    L1: float
    delta: float
    f_star: float
    grad_sup: float
    declared_M: object
    iterations: int
    status: int
    bound_value: float
    search_value: float
    certificate: Certificate
    trajectory: Replay
    history: list = field(repr=False)
    evaluations: int = 0
    restarts: int = 0
    stopped_by_budget: bool = False
    seed: int = 0

    @property
    def censored(self):
        """The replay hit its step budget (eps measure): T_eps is larger than `iterations`."""
        return self.measure == "eps" and self.status == BUDGET

    def to_dict(self):
        d = {k: getattr(self, k) for k in ("value", "certified", "measure", "steps", "eps", "rule", "rule_params",
                                           "L0", "L1", "delta", "f_star", "grad_sup", "declared_M", "iterations",
                                           "status", "bound_value", "search_value", "evaluations", "restarts",
                                           "stopped_by_budget", "seed", "history")}
        d["censored"] = self.censored
        d["instance"] = self.instance.to_dict()
        d["certificate"] = self.certificate.to_dict()
        d["trajectory"] = {k: getattr(self.trajectory, k).tolist() for k in ("x", "f", "g")}
        return d


def _rule_vector(rule, L0, L1, given):
    """The rule's parameter vector in the order of its params, validated by the rule (a parameter named L0 or L1
    defaults to the class constant; tau, for rules that read the noise bound, is 0: the search has no noise)."""
    given = dict(given)
    for name, value in zip(CLASS_CONSTANTS, (L0, L1)):
        if name in rule.param_names:
            given.setdefault(name, value)
    for k, v in given.items():
        if np.ndim(v) != 0:
            raise ValueError(f"{k} must be a scalar, got {v!r}")
    q = [float(v) for v in rule.values(given, tau=0.0)]
    return np.array(q), dict(zip(rule.param_names, q))


@dataclass
class _Objective:
    """theta -> the measure of one online run (negative for an instance the search must not return)."""

    simulate: object
    measure: str
    L0: float
    L1: float
    q: np.ndarray
    state_size: int
    steps: object
    eps: object
    bound: object
    declared_M: object
    min_delta: float
    cells: int
    horizon: int
    max_iter: int

    @property
    def scale(self):
        """The gradient scale of the class, where p'(x0) starts for the steps measure."""
        return self.L0 / self.L1 if self.L1 > 0 else 1.0

    def decode(self, theta):
        lo, hi = Z_RANGE[self.measure]
        z = min(max(theta[0], lo), hi)
        g0 = self.scale * math.exp(z) if self.measure == "steps" else self.eps * (1.0 + math.exp(z))
        return g0, np.clip(CONTROL_GAIN * np.sin(theta[1:]), -1.0, 1.0)

    def run(self, theta):
        g0, controls = self.decode(theta)
        n_steps = self.steps if self.measure == "steps" else -1
        return g0, self.simulate(controls, self.cells, g0, self.L0, self.L1, self.q, self.state_size, n_steps,
                                 self.eps or 0.0, self.horizon, self.max_iter, self.declared_M is not None)

    def value_of(self, status, t_end, min_g2, delta, grad_bound):
        """The measure; negative for an instance the search must not return: one whose gradients overflowed while
        it was built (f* = -inf in float64), one below min_delta, or one above the declared M."""
        if status == DIVERGED or not 0.0 < delta < math.inf:
            return -1.0
        if delta < self.min_delta:
            return -(1.0 - delta / self.min_delta)
        if self.declared_M is not None and grad_bound > self.declared_M:
            return -(grad_bound / self.declared_M - 1.0)
        if self.measure == "steps":
            return min_g2 / delta
        T = float(t_end) if status == CONVERGED else float(self.max_iter + 1)
        return T / _bound_at(self.bound, delta)

    def __call__(self, theta):
        _, (status, t_end, min_g2, f_star, grad_bound, _, _, _) = self.run(theta)
        return self.value_of(status, t_end, min_g2, -f_star, grad_bound)


def _bound_at(bound, delta):
    with np.errstate(over="ignore"):  # a bound that overflows is +inf: the ratio is 0
        b = float(bound(delta))
    if not b > 0:
        raise ValueError(f"bound must return a positive number of iterations, got {b!r} at delta = {delta!r}")
    return b


def worst_case(rule, L0, L1, *, steps=None, eps=None, seed=0, budget_s=30.0, bound=None, declared_M=None,
               min_delta=0.0, horizon=None, cells=4, blocks=4, restarts=6, evaluations=None, max_iter=None,
               **rule_params):
    """Search the 1-D (L0, L1) class for the worst instance of `rule` under one measure.

    rule        a rule of the open runner that steps along the gradient ("gd" (h), "clipped" (eta_c, gamma),
                "normalized" (eta_n, beta), "vankov-star" (L0, L1), ... or a clipcheck.synthetic Rule), or
                "gd-thm6" (M; the Thm 6 step 1/(2(M L1 + L0))); its parameters as keywords (a parameter named L0
                or L1 defaults to the class constant).
    steps       maximise min_{0<=t<=steps} |f'(x_t)|^2 / (f(x0) - f*); or
    eps, bound  maximise T_eps / bound(f(x0) - f*); bound is a callable of Delta.
    declared_M  a declared bound on sup |f'| over {f <= f(x0)} (A4); instances above it are rejected. A rule
                parameter named M is declared automatically (Thm 6).
    min_delta   search only instances with f(x0) - f* >= min_delta (e.g. long runs only).
    seed        restart r draws from numpy's default_rng([seed, r]).
    budget_s    wall-clock budget of the search, checked after each generation (the replay is not counted).
                The search is reproducible as long as it ends before the budget (see .stopped_by_budget).
    horizon     number of gaps built online before the tails close (steps: = steps; eps: 1000).
    cells, blocks   cells per gap and number of distinct control blocks (used cyclically).
    restarts, evaluations   CMA-ES restarts (RESTART_PLAN, then random starts) and evaluations per restart
                (default 150 x dimension + 1000).
    max_iter    step budget of an eps run (default 10 horizon + 1000); beyond it T_eps counts as max_iter + 1.
    Returns a WorstCase.
    """
    rule = resolve(rule)
    L0 = float(positive("L0", L0))
    L1 = float(nonnegative("L1", L1))
    if (steps is None) == (eps is None):
        raise ValueError("steps, eps: give exactly one of them")
    measure = "steps" if steps is not None else "eps"
    if measure == "steps":
        steps = count("steps", steps)
        if bound is not None:
            raise ValueError("bound: only the eps measure takes a bound")
    else:
        eps = float(positive("eps", eps))
        if not callable(bound):
            raise ValueError("bound: the eps measure needs a callable bound(delta) -> iterations")
    seed = count("seed", seed, minimum=0)
    budget_s = float(positive("budget_s", budget_s))
    cells = count("cells", cells)
    blocks = count("blocks", blocks)
    restarts = count("restarts", restarts)
    horizon = count("horizon", horizon if horizon is not None else (steps or DEFAULT_EPS_HORIZON))
    if measure == "steps":
        horizon = min(horizon, steps)
    max_iter = steps if measure == "steps" else count("max_iter", max_iter or 10 * horizon + 1000)
    q, named = _rule_vector(rule, L0, L1, rule_params)
    if DECLARED_M in named:
        if declared_M is not None and declared_M != named[DECLARED_M]:
            raise ValueError(f"declared_M: the rule already declares M = {named[DECLARED_M]!r}")
        declared_M = named[DECLARED_M]
    if declared_M is not None:
        declared_M = float(positive("declared_M", declared_M))
    min_delta = float(nonnegative("min_delta", min_delta))
    blocks = min(blocks, horizon)
    if evaluations is not None:
        evaluations = count("evaluations", evaluations)

    objective = _Objective(simulator(rule.step), measure, L0, L1, q, int(rule.state_size), steps, eps, bound,
                           declared_M, min_delta, cells, horizon, max_iter)
    start = time.perf_counter()
    best_theta, best_value = None, -math.inf
    history, total, done, out_of_time = [], 0, 0, False
    for r in range(restarts):
        rng = np.random.default_rng([seed, r])
        mean, sigma = _restart_start(r, blocks, cells, best_theta, measure, rng)
        k = (mean.size - 1) // cells
        es = CMAES(mean, sigma, rng)
        budget_evals = evaluations or 150 * mean.size + 1000
        while es.evaluations < budget_evals and not es.converged:
            thetas = es.ask()
            values = [objective(th) for th in thetas]
            es.tell(thetas, values)
            total += len(values)
            i = int(np.argmax(values))
            if values[i] > best_value:
                best_value, best_theta = values[i], thetas[i].copy()
            history.append({"restart": r, "blocks": k, "generation": es.generation, "evaluations": total,
                            "elapsed_s": time.perf_counter() - start, "generation_best": float(values[i]),
                            "best": float(best_value)})
            if time.perf_counter() - start >= budget_s:
                out_of_time = True
                break
        done += 1
        if out_of_time:
            break
    return _freeze_and_replay(objective, rule, named, best_theta, best_value, history, total, done, out_of_time,
                              seed)


# The restarts, in order: (number of blocks, start). Blocks stay at 1 while the shape of one gap is searched from
# three starts (the neutral profile u = 0, the bang-bang V of THEOREMS.md 4b -- u = +1 then -1 outward, the
# slowest way from a gradient back to the same gradient -- and a random one), then double from the best so far
# with its blocks tiled (gap j uses block j mod K, so the tiled vector is the same instance); the rest are random.
RESTART_PLAN = ((1, "neutral"), (1, "bang-bang"), (1, "random"), (2, "tiled"), (4, "tiled"))


def _restart_start(r, blocks, cells, best_theta, measure, rng):
    """(mean, sigma) of restart r with at most `blocks` blocks (RESTART_PLAN)."""
    k, kind = RESTART_PLAN[r] if r < len(RESTART_PLAN) else (blocks, "random")
    k = min(k, blocks)
    mean = np.zeros(1 + k * cells)
    mean[0] = Z_START[measure]
    if kind == "tiled" and best_theta is not None and k > (len(best_theta) - 1) // cells:
        old = best_theta[1:].reshape(-1, cells)
        mean[0] = best_theta[0]
        mean[1:] = np.concatenate([old[j % old.shape[0]] for j in range(k)])
        return mean, SIGMA_REFINE
    if kind == "neutral":
        return mean, SIGMA_START
    if kind == "bang-bang":
        half = (cells + 1) // 2
        mean[1:] = np.tile(np.where(np.arange(cells) < half, np.pi / 2, -np.pi / 2), k)
        return mean, SIGMA_START
    mean[0] += rng.standard_normal()
    mean[1:] = rng.uniform(-np.pi, np.pi, k * cells)
    return mean, SIGMA_START


def _freeze_and_replay(objective, rule, named, theta, search_value, history, total, done, out_of_time, seed):
    """Freeze the best instance into a Profile, replay it from scratch, certify it, and measure it."""
    o = objective
    g0, (_, _, _, _, _, knots, controls, anchor) = o.run(theta)
    profile = Profile(o.L0, o.L1, knots, controls, anchor, 0.0, g0, 0.0)
    run = replay(profile, rule.step, o.q, int(rule.state_size), n_steps=o.steps if o.measure == "steps" else None,
                 eps=o.eps if o.measure == "eps" else None, max_iter=o.max_iter)
    delta = profile.delta
    grad_sup = profile.sup_grad()
    certificate = profile.certify()
    bound_value = math.nan
    if run.status == DIVERGED or not 0.0 < delta < math.inf:
        value = math.nan  # gradients overflowed while the instance was built: nothing to report
    elif o.measure == "steps":
        value = run.min_grad2 / delta
    else:
        bound_value = _bound_at(o.bound, delta)
        value = (run.t_end if run.status == CONVERGED else o.max_iter + 1) / bound_value
    m_ok = (o.declared_M is None or grad_sup <= o.declared_M) and delta >= o.min_delta
    certified = bool(certificate.holds and m_ok and math.isfinite(value))
    return WorstCase(value=float(value), instance=profile, certified=certified, measure=o.measure, steps=o.steps,
                     eps=o.eps, rule=rule.name, rule_params=named, L0=o.L0, L1=o.L1, delta=float(delta),
                     f_star=float(profile.f_star), grad_sup=float(grad_sup), declared_M=o.declared_M,
                     iterations=int(run.t_end), status=int(run.status), bound_value=float(bound_value),
                     search_value=float(search_value), certificate=certificate, trajectory=run, history=history,
                     evaluations=total, restarts=done, stopped_by_budget=out_of_time, seed=seed)
