"""Adversarial profiles as functions of the open runner (issue 9, item 1): lifts, every rule on CPU and CUDA, and the
search's instance replayed through clipcheck.synthetic.run."""
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from clipcheck import synthetic
from clipcheck.adversary import Profile, worst_case
from clipcheck.adversary.replay import replay
from clipcheck.synthetic.rules import RULES
from clipcheck.theory import steps

# parameters for every rule of the runner on the profiles below (L0 = 1, L1 = 0.5, gradients up to about 2)
PARAMS = {"gd": {"h": 0.3}, "clipped": {"eta_c": 0.3, "gamma": 0.5}, "normalized": {"eta_n": 0.3, "beta": 0.5},
          "sgd": {"h": 0.3}, "clipped-sgd": {"eta": 0.3, "L1": 0.5}, "clipped-sgd-outer": {"eta": 0.3, "L1": 0.5},
          "l0l1-gd": {"eta": 0.5, "L0": 1.0, "L1": 0.5}, "vankov-star": {"L0": 1.0, "L1": 0.5},
          "vankov-si": {"L0": 1.0, "L1": 0.5}, "vankov-cl": {"L0": 1.0, "L1": 0.5},
          "momentum-clip": {"eta": 0.3, "gamma": 0.3}, "mixed-clip": {"eta": 0.3, "gamma": 0.3},
          "nsgd-m": {}, "torch-clip": {"lr": 0.3, "max_norm": 0.5}}
STEP_RULES = [name for name, r in RULES.items() if r.scales is None]


def a_profile():
    """A nonconvex profile with sign changes of p' inside cells, both tails, and x0 where p' = 1.7."""
    knots = [-3.0, -2.0, -1.2, -0.5, 0.0, 0.4, 1.1, 2.0]
    controls = [1.0, -0.6, 1.0, 0.3, -1.0, 1.0, -0.2]
    return Profile(1.0, 0.5, knots, controls, 6, 0.0, 1.7, knots[6])


def an_even_profile():
    return Profile.mirrored(1.0, 0.5, [0.0, 0.5, 1.2, 2.0], [1.0, -0.4, 1.0], x0=1.6)


def test_every_rule_covers_the_runner():
    assert set(PARAMS) == set(RULES)  # a rule added to the runner must be added here


@pytest.mark.parametrize("lift, kw", [("line", {}), ("ridge", {"e": [3.0, -4.0, 12.0]}), ("separable", {"dim": 3})])
def test_lifts_evaluate_the_profile(lift, kw):
    """Expected values: the profile's own evaluation (Python, closed forms). The ridge p(<e, x>) has gradient
    p' e/|e| at x0 e/|e|; the separable sum of copies at (x0, ..., x0) has value d p(x0) and gradient p'(x0) in
    each coordinate; f* and (L0, L1) are the profile's (d f* for the sum). Exact: the same arithmetic, except the
    ridge's inner product <e, x0 e>, which rounds (1e-15 relative)."""
    prof = a_profile()
    fn = prof.function(lift, **kw)
    x0 = prof.start(lift, **kw)
    f0, g0, _ = prof(prof.x0)
    F, G, H = fn.evaluate(np.atleast_2d(x0) if np.ndim(x0) else [x0])
    d = fn.dim
    parts = d if lift == "separable" else 1
    assert F[0] == pytest.approx(parts * f0, rel=1e-15)
    want = np.full(d, g0) if lift == "separable" else g0 * np.asarray(fn.direction if lift == "ridge" else [1.0])
    np.testing.assert_allclose(G[0], want, rtol=1e-15, atol=1e-15)
    assert (fn.L0, fn.L1) == (prof.L0, prof.L1) and fn.f_star == parts * prof.f_star
    assert "by construction" in fn.certificate or "separable" in fn.certificate


def test_radial_lift_only_for_even_profiles_and_it_is_the_profile_of_the_norm():
    """Analytic fact: p(||x||) at x = r u (unit u) is p(r) with gradient p'(r) u; THEOREMS.md 4b: refused for a
    profile that is not even."""
    even = an_even_profile()
    fn = even.function("radial", dim=2)
    u = np.array([0.6, 0.8])
    F, G, _ = fn.evaluate((1.3 * u)[None, :])
    f, g, _ = even(1.3)
    assert F[0] == pytest.approx(f, rel=1e-15)
    # rtol 1e-15 (about 4 ulps): x/||x|| and p'(r) times it each round once; atol 0, so that the check is relative
    # also for components far below 1e-8 (np.allclose's default atol would pass any gradient smaller than that)
    np.testing.assert_allclose(G[0], g * u, rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="radial"):
        a_profile().function("radial", dim=2)


@pytest.mark.parametrize("bad, name", [({"lift": "cone"}, "lift"), ({"lift": "line", "others": [None]}, "others"),
                                       ({"lift": "separable", "others": [1.0]}, "others"),
                                       ({"lift": "ridge", "dim": 2, "e": [1.0, 0.0, 0.0]}, "e"),
                                       ({"lift": "separable", "dim": 0}, "dim")])
def test_bad_lift_arguments_name_the_argument(bad, name):
    with pytest.raises(ValueError, match=name):
        a_profile().function(**bad)


@pytest.mark.parametrize("rule", STEP_RULES)
def test_runner_on_the_profile_agrees_with_the_independent_replay(rule):
    """Independent implementation: adversary.replay, a plain Python loop over the profile's evaluate and the rule's
    step run as Python. The runner's compiled kernel must give the same count and status on the line lift."""
    prof = a_profile()
    r = RULES[rule]
    q = [float(v) for v in r.values(PARAMS[rule], tau=0.0)]
    ref = replay(prof, r.step, q, r.state_size, eps=1e-3, max_iter=400)
    line = synthetic.run(prof.function("line"), rule, [prof.x0], 1e-3, 400, **PARAMS[rule])
    assert line.iterations[0] == ref.t_end and line.status[0] == ref.status


@pytest.mark.parametrize("rule", ["gd", "clipped"])
def test_counts_do_not_depend_on_the_lift(rule):
    """Rotation- and lift-invariance (DESIGN.md, PEPit's complexified tests): a rotated ridge in R^3 and a separable
    sum whose second part starts at its minimiser (p' = 0 there, so that coordinate never moves) need the count of
    the line. (Two rules: each lift is a kernel of its own per rule.)"""
    prof = a_profile()
    line = synthetic.run(prof.function("line"), rule, [prof.x0], 1e-3, 400, **PARAMS[rule])
    e = np.array([2.0, -1.0, 2.0])
    ridge = synthetic.run(prof.function("ridge", e=e), rule, prof.start("ridge", e=e), 1e-3, 400, **PARAMS[rule])
    flat_at_min = Profile.from_dict({**an_even_profile().to_dict(), "x0": 0.0})
    sep = synthetic.run(prof.function("separable", others=[flat_at_min]), rule,
                        prof.start("separable", others=[flat_at_min]), 1e-3, 400, **PARAMS[rule])
    # the ridge rounds <e, x> at every step, so its count may move by a step where a run ends within rounding of eps
    assert abs(int(ridge.iterations[0]) - int(line.iterations[0])) <= 1 and ridge.status[0] == line.status[0]
    assert sep.iterations[0] == line.iterations[0] and sep.status[0] == line.status[0]


CUDA_SCRIPT = textwrap.dedent("""
    import warnings
    warnings.simplefilter("ignore")
    import numpy as np
    from clipcheck import synthetic
    from clipcheck.adversary import Profile
    from tests.test_adversary_runner import PARAMS, a_profile
    prof = a_profile()
    for lift, kw, rules in (("line", {}, PARAMS), ("ridge", {"e": [1.0, 2.0]}, ["gd", "clipped"])):
        fn = prof.function(lift, **kw)
        x0 = np.array([prof.start(lift, **kw)] * 2)
        for rule in rules:
            p = PARAMS[rule]
            a = synthetic.run(fn, rule, x0, 1e-3, 200, **p)
            b = synthetic.run(fn, rule, x0, 1e-3, 200, backend="cuda", **p)
            assert (a.iterations == b.iterations).all() and (a.status == b.status).all(), (lift, rule, a, b)
            assert np.array_equal(a.x_final, b.x_final, equal_nan=True), (lift, rule)
    print("ok")
""")


def test_every_rule_runs_on_a_profile_on_cpu_and_cuda_simulator_alike():
    """PROTOCOL.md: the same source on both backends, and clipcheck's own expm1 in the closed forms: bit-identical
    counts and final iterates, every rule on the line and two on a ridge in R^2 (NUMBA_ENABLE_CUDASIM set before
    numba is imported, so in a child process)."""
    pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=root)
    p = subprocess.run([sys.executable, "-c", CUDA_SCRIPT], env=env, capture_output=True, text=True, timeout=1200,
                       cwd=root)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-3000:]


@pytest.mark.parametrize("rule, params", [("clipped", None), ("normalized", None), ("gd", None),
                                          ("vankov-si", {})])
def test_the_searched_instance_replays_through_the_runner_to_the_same_count(rule, params):
    """The search's online run, the frozen Profile and the runner's kernel use the same closed forms and step
    functions in the same order: the runner's T_eps on the frozen instance is the search's, exactly."""
    L0, L1, eps = 1.0, 0.5, 0.05
    if params is None:
        params = {"clipped": dict(zip(("eta_c", "gamma"), steps.zhsj_thm3_params(L0, L1))),
                  "normalized": dict(zip(("eta_n", "beta"), steps.ngd_params(L0, L1))),
                  "gd": {"h": steps.classic_gd_step(L0)}}[rule]
    wc = worst_case(rule, L0, L1, eps=eps, bound=lambda d: d / eps**2, horizon=30, restarts=2, evaluations=300,
                    **params)
    prof = wc.instance
    res = synthetic.run(prof.function("line"), rule, [prof.x0], eps, wc.iterations + 10, **wc.rule_params)
    assert wc.certified and res.status[0] == synthetic.CONVERGED
    assert res.iterations[0] == wc.iterations
    assert res.f_final[0] - prof.f_star == pytest.approx(prof(float(res.x_final[0, 0]))[0] - prof.f_star, abs=0)
    assert math.isfinite(wc.value)
