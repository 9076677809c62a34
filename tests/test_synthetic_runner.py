"""The Numba batch runner against a plain NumPy reference loop, analytic counts and the theorems' bounds."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic import rules
from clipcheck.synthetic.result import BUDGET, CONVERGED, DIVERGED
from clipcheck.theory import bounds, steps


def reference_run(fam, rule, x0, eps, max_iter, **params):
    """Independent loop: NumPy family methods, the rule written out again, one instance at a time (1-D)."""
    out = []
    for x in np.atleast_1d(np.asarray(x0, float)):
        for t in range(max_iter + 1):
            g = fam.grad(x)[0]
            if not np.isfinite(g):  # divergence = the gradient overflows
                out.append((t, DIVERGED))
                break
            if abs(g) <= eps:
                out.append((t, CONVERGED))
                break
            if t == max_iter:
                out.append((t, BUDGET))
                break
            if rule == "gd":
                h = params["h"]
            elif rule == "clipped":
                h = min(params["eta_c"], params["gamma"] * params["eta_c"] / abs(g))
            else:
                h = params["eta_n"] / (abs(g) + params["beta"])
            x = x - h * g
    return np.array(out).T


CASES = [
    (F.f_exp(1.0, 2.0), "clipped", dict(zip(("eta_c", "gamma"), steps.zhsj_thm3_params(1.0, 2.0)))),
    (F.f_exp(1.0, 1.0), "gd", {"h": 0.05}),
    (F.f_slow(0.3), "gd", {"h": 0.5}),
    (F.cosh2(), "normalized", dict(zip(("eta_n", "beta"), steps.ngd_params(2.0, 1.0)))),
    (F.x4(), "clipped", {"eta_c": 0.05, "gamma": 2.0}),
    (F.logistic(2.0), "gd", {"h": 0.3}),
    (F.exp_linear(1.0), "normalized", {"eta_n": 0.1, "beta": 1.0}),
]


@pytest.mark.parametrize("fam, rule, params", CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_numba_runner_matches_numpy_reference(fam, rule, params):
    x0 = np.array([fam.start_for_gap(D) for D in (0.3, 2.0, 20.0)])
    x0 = np.concatenate([x0, -x0]) if fam.lift == "radial" else x0
    res = synthetic.run(fam, rule, x0, 1e-4, 3000, **params)
    it, status = reference_run(fam, rule, x0, 1e-4, 3000, **params)
    np.testing.assert_array_equal(res.iterations, it)  # same arithmetic, so identical counts
    np.testing.assert_array_equal(res.status, status)


def test_divergence_is_a_status():
    # section 3.1: h > h* from x_bar moves to |x| > x_bar and grows without end, so GD must overflow
    L0, L1, M = 1.0, 1.0, 100.0
    fam = F.f_exp(L0, L1)
    h = 1.5 * steps.zhsj_thm4_critical_step(L0, L1, M)
    res = synthetic.run(fam, "gd", [fam.start_for_grad(M)], 1e-3, 10**6, h=h)
    assert res.status[0] == DIVERGED and res.t_eps()[0] == np.inf


def test_budget_and_start_counts():
    fam = F.f_slow(1.0)
    res = synthetic.run(fam, "gd", [10.0, 0.0], 0.5, 3, h=0.01)
    # x0 = 10 is on the unit slope (gradient 1 > 0.5): 3 steps of 0.01 cannot leave it; x0 = 0 counts as t = 0
    assert res.status.tolist() == [BUDGET, CONVERGED] and res.iterations.tolist() == [3, 0]
    assert res.t_eps()[0] == 4  # censored: T_eps > max_iter


def test_classic_gd_quadratic_converges_in_one_step():
    # analytic: GD with h = 1/L on L x^2 / 2 lands on the minimiser after one step
    q = F.quadratic(7.0)
    res = synthetic.run(q, "gd", [3.0, -100.0], 1e-12, 10, h=1 / 7.0)
    assert res.iterations.tolist() == [1, 1]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_radial_lift_counts_match_the_line(seed):
    # a radial f(||x||) keeps GD on the ray through x0, so counts equal the 1-D ones; rounding of the norm can
    # move the step that crosses eps by one, hence the tolerance of 1
    rng = np.random.default_rng(seed)
    fam = F.f_exp(1.0, float(rng.uniform(0.5, 3)))
    r0 = np.array([fam.start_for_grad(M) for M in rng.uniform(1, 1e3, 4)])
    u = rng.standard_normal((4, 3))
    X = r0[:, None] * u / np.linalg.norm(u, axis=1, keepdims=True)
    eta_c, gamma = steps.zhsj_thm3_params(1.0, fam.L1)
    line = synthetic.run(fam, "clipped", r0, 1e-6, 10**5, eta_c=eta_c, gamma=gamma)
    lift = synthetic.run(fam, "clipped", X, 1e-6, 10**5, eta_c=eta_c, gamma=gamma)
    assert np.all(np.abs(line.iterations - lift.iterations) <= 1)
    assert np.all(lift.status == CONVERGED)


@given(eta_c=st.floats(1e-4, 10), gamma=st.floats(1e-4, 1e4), g=st.floats(1e-8, 1e8))
def test_clipped_step_invariants(eta_c, gamma, g):
    # ZHSJ section 2: h_c = min(eta_c, gamma eta_c / g), so h_c <= eta_c and the step length h_c g <= gamma eta_c
    h = rules.clipped(g, None, (eta_c, gamma), 0)
    assert h <= eta_c and h * g <= gamma * eta_c * (1 + 1e-15)


def test_zhsj_thm3_holds_on_a_near_tight_slope():
    # ZHSJ-Thm3 (derived): a slope with gradient just above eps is the near-tight case of THEOREMS.md 4
    L0, L1, eps = 1.0, 1.0, 0.05
    fam = F.f_slow(1.01 * eps)
    x0 = fam.start_for_gap(2.0)
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    res = synthetic.run(fam, "clipped", [x0], eps, 10**7, eta_c=eta_c, gamma=gamma)
    bound = bounds.zhsj_thm3_clipped_gd(L0, L1, 2.0, eps, "derived")
    assert res.status[0] == CONVERGED and res.iterations[0] <= bound
    assert res.iterations[0] >= 0.5 * bound  # near-tight: ~10 L0 D / a^2 steps against 11.16 L0 D / eps^2


def test_zhsj_thm4_derived_on_the_pair():
    # ZHSJ-Thm4 (derived): for every h of a grid, the worse member of the 3.3 pair needs at least the bound
    pair = F.lower_bound_pair(1.0, 1.0, 20.0, 0.1)
    b = bounds.zhsj_thm4_gd_lower(1.0, 1.0, 20.0, pair.delta, 0.1, "derived")
    hs = pair.h_star * np.logspace(-1, 1, 11) * 1.001
    budget = int(2 * b) + 1
    te = synthetic.run(pair.exp, "gd", np.full(hs.size, pair.x_exp), 0.1, budget, h=hs).t_eps()
    ts = synthetic.run(pair.slow, "gd", np.full(hs.size, pair.x_slow), 0.1, budget, h=hs).t_eps()
    assert np.all(np.maximum(te, ts) >= b)


@pytest.mark.parametrize("kwargs, name", [
    (dict(rule="sgd-typo"), "rule"), (dict(h=-1.0), "h"), (dict(eps=0.0), "eps"), (dict(max_iter=0), "max_iter"),
    (dict(x0=[np.nan]), "x0"), (dict(gamma=1.0), "gamma"), (dict(rule="clipped"), "eta_c"),
    (dict(x0=np.ones((2, 3)), function=F.logistic()), "x0"), (dict(eps="1e-3"), "eps"), (dict(x0=[1, "2"]), "x0"),
    (dict(eps=True), "eps"), (dict(x0=[1 + 2j]), "x0"), (dict(x0=np.ones((3, 0))), "x0"),
    (dict(max_iter=2**63 - 1), "max_iter"), (dict(max_iter=1e19), "max_iter"), (dict(h=np.inf), "h"),
    (dict(function="f_exp"), "function"), (dict(noise="pink"), "noise"), (dict(tau=0.1), "tau"),
    (dict(stop="soon"), "stop"), (dict(backend="tpu"), "backend"), (dict(seed=-1), "seed"),
    (dict(record=[3, 2]), "record"), (dict(math="fast"), "math"), (dict(extra=1.0), "extra"),
])
def test_bad_input_names_the_argument(kwargs, name):
    # the boundary refuses what it cannot run, with the argument's name first (issue 10, item 4)
    args = dict(function=F.f_exp(1.0, 1.0), rule="gd", x0=[1.0], eps=1e-3, max_iter=10, h=0.1)
    args.update(kwargs)
    if args["rule"] == "clipped":
        args.pop("h")
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        synthetic.run(**args)


@settings(max_examples=30, deadline=None)
@given(L0=st.floats(0.1, 10), L1=st.floats(0.1, 10), M=st.floats(1.0, 1e4), seed=st.integers(0, 99))
def test_clipped_counts_are_invariant_under_rescaling(L0, L1, M, seed):
    # analytic: with y = L1 x, f_exp(L0, L1)(x) = (L0/L1^2) f_exp(1, 1)(y), and clipped GD (eta_c, gamma) on it
    # is clipped GD (L0 eta_c, gamma L1/L0) on f_exp(1, 1) with eps scaled by L1/L0. The same run written
    # differently must give the same count; rounding can move the step that crosses eps by one
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    f = F.f_exp(L0, L1)
    x0 = f.start_for_grad(M) * (1 + 0.1 * np.random.default_rng(seed).random())
    a = synthetic.run(f, "clipped", [x0], 1e-6, 10**6, eta_c=eta_c, gamma=gamma)
    b = synthetic.run(F.f_exp(1.0, 1.0), "clipped", [L1 * x0], 1e-6 * L1 / L0, 10**6,
                      eta_c=L0 * eta_c, gamma=gamma * L1 / L0)
    assert a.status[0] == b.status[0] == CONVERGED
    assert abs(int(a.iterations[0]) - int(b.iterations[0])) <= 1


def test_degenerate_constants_are_refused_before_any_kernel_runs():
    # issue 10 item 2: these calls returned leftover memory (status 46, 8e18 iterations) from a failing kernel
    with pytest.raises(ValueError, match="^df"):
        synthetic.run(F.f_exp(1, 1), "sgd", [5.0], 0.5, 100, noise="student-t", tau=0.1,
                      noise_params={"df": 1e-10}, h=0.01)
    with pytest.raises(ValueError, match="^L1"):
        F.f_exp(1.0, 1e-200)  # L1^2 underflows to 0
