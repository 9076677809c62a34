"""clipcheck.adversary.worst_case: the search, the frozen instance, its replay and certificate."""
import json
import math

import numpy as np
import pytest

from clipcheck.adversary import Profile, worst_case
from clipcheck.adversary.replay import replay
from clipcheck.adversary.rules import RULES
from clipcheck.synthetic.rules import RULES as RUNNER_RULES
from clipcheck.theory import bounds, steps


def exact_1d_gd_worst(n, h, L):
    """The exact worst case of min_{0<=t<=n} f'(x_t)^2 / (f(x0) - f*) over 1-D L-smooth f, GD with 0 < hL <= 1.

    Derivation (THEOREMS.md 4b, "a useful 1-D fact"): let m = min_t |f'(x_t)|. As hL <= 1, f' keeps its sign
    along the run (|f'(x_{t+1}) - f'(x_t)| <= L h |f'(x_t)|), say f' > 0, so x moves left by steps l_t = h f'(x_t)
    >= h m. On a step, f' >= max(f'(x_t) - L s, m - L (l_t - s)) at distance s from x_t: the loss
    f(x_t) - f(x_{t+1}) is at least the integral of that V, which grows with f'(x_t) and equals h m^2 (1 - hL/4)
    when f'(x_t) = m. After x_n, f' can fall to 0 no faster than L: f(x_n) - f* >= m^2 / (2L). So
    f(x0) - f* >= m^2 (n h (1 - hL/4) + 1/(2L)), with equality for the profile made of n such V's and that tail.
    """
    return 1.0 / (n * h * (1.0 - h * L / 4.0) + 1.0 / (2.0 * L))


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20])
@pytest.mark.parametrize("hL", [0.5, 1.0])
def test_l1_zero_gd_reaches_the_exact_1d_worst_case(n, hL):
    """Acceptance (issue 9): with L1 = 0 the adversary is within 1% of the exact worst case (derived in
    exact_1d_gd_worst), and never above it: 1e-12 relative is the rounding of a 20-step chain, so a value above
    that is an instance outside the class."""
    L = 2.0
    wc = worst_case("gd", L, 0.0, steps=n, h=hL / L, seed=0, budget_s=60.0)
    exact = exact_1d_gd_worst(n, hL / L, L)
    assert wc.certified
    assert 0.99 * exact <= wc.value <= exact * (1 + 1e-12)
    assert not wc.stopped_by_budget  # the result above does not depend on the machine's speed


def test_hand_built_worst_case_replays_to_the_exact_value():
    """Independent of the search: the profile of the derivation (n V's of slope m with kinks at mid-step, then the
    tail) built by hand and replayed gives exactly the formula (1e-13: rounding of the chain)."""
    L, h, n, m = 1.0, 0.7, 6, 1.3
    step_len = h * m
    knots = -step_len * np.arange(2 * n + 1)[::-1] / 2.0  # x_n = -n h m ... x_0 = 0, kinks at mid-steps
    controls = np.tile([-1.0, 1.0], n)  # left to right within a step: f' falls to its bottom, then rises back
    prof = Profile(L, 0.0, knots, controls, 2 * n, 0.0, m, 0.0)
    run = replay(prof, RUNNER_RULES["gd"].step, [h], n_steps=n)
    np.testing.assert_allclose(run.g, m, rtol=1e-13)
    assert run.min_grad2 / prof.delta == pytest.approx(exact_1d_gd_worst(n, h, L), rel=1e-13)


def test_the_reported_value_is_the_replay_of_the_frozen_instance():
    """The record's value is recomputed from the JSON of the instance alone, by the replay loop."""
    L0, L1, eps = 1.0, 0.5, 0.2
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    bound = lambda d: float(bounds.zhsj_thm3_clipped_gd(L0, L1, d, eps, constants="derived"))  # noqa: E731
    wc = worst_case("clipped", L0, L1, eps=eps, bound=bound, eta_c=eta_c, gamma=gamma, horizon=60, budget_s=60.0,
                    restarts=2)
    prof = Profile.from_dict(json.loads(json.dumps(wc.to_dict()["instance"])))
    run = replay(prof, RUNNER_RULES["clipped"].step, [eta_c, gamma], eps=eps, max_iter=10_000)
    assert run.t_end == wc.iterations
    assert wc.value == run.t_end / bound(prof.delta)
    assert wc.value == wc.search_value  # the online construction and the frozen profile agree bit for bit
    assert wc.certified and 0 < wc.value <= 1


def test_classic_gd_false_constant_is_rejected_and_the_true_one_holds():
    """Mutation test (issue 9, acceptance): CLASSIC-GD T_eps <= c L Delta / eps^2 with h = 1/L. The constant 2 is
    tight (one step from f' just above eps down a slope that flattens at rate L: Delta -> eps^2 / (2L)), so the
    search finds a certified ratio > 1 for c = 1.30 and stays <= 1 for c = 2."""
    L, eps = 1.0, 0.01
    ratios = {}
    for c in (2.0, 1.30):
        wc = worst_case("gd", L, 0.0, eps=eps, h=1.0 / L, bound=lambda d, c=c: c * L * d / eps**2, horizon=50,
                        budget_s=60.0, restarts=1)
        assert wc.certified
        ratios[c] = wc.value
    assert ratios[1.30] > 1.0
    assert 0.99 < ratios[2.0] <= 1.0


def test_long_runs_approach_the_asymptotic_constant():
    """With Delta >= 50 eps^2 / L the worst CLASSIC-GD ratio is the V-chain's: T_eps <= (4/3) L Delta / eps^2 +
    1/3 (derivation as in exact_1d_gd_worst, with the last step ending below eps), so over horizon H the ratio is
    (H + 1) / (2 (0.75 H + 0.5)); 1% is the acceptance tolerance."""
    L, eps, H = 1.0, 0.01, 80
    wc = worst_case("gd", L, 0.0, eps=eps, h=1.0 / L, bound=lambda d: 2 * L * d / eps**2, horizon=H,
                    min_delta=50 * eps**2 / L, budget_s=60.0, restarts=2)
    expected = (H + 1) / (2 * (0.75 * H + 0.5))
    assert wc.certified and wc.delta >= 50 * eps**2 / L
    assert 0.99 * expected <= wc.value <= expected * (1 + 1e-9)


def test_declared_m_is_respected_and_an_impossible_one_is_reported_uncertified():
    """Thm 6 (rule gd-thm6 declares M): the returned instance has sup |f'| <= M on its sublevel set (exact
    Profile.sup_grad). With M below eps no instance can start (f'(x0) > eps > M): certified is False."""
    L0, L1, eps, M = 1.0, 1.0, 0.1, 0.12
    bound = lambda d: float(bounds.zhsj_thm6_gd(L0, L1, M, d, eps, constants="derived"))  # noqa: E731
    wc = worst_case("gd-thm6", L0, L1, eps=eps, bound=bound, M=M, horizon=40, budget_s=60.0, restarts=2)
    assert wc.declared_M == M and wc.certified
    assert wc.grad_sup <= M and wc.instance.sup_grad() == wc.grad_sup
    low = worst_case("gd-thm6", L0, L1, eps=eps, bound=bound, M=0.5 * eps, horizon=10, budget_s=60.0, restarts=1,
                     evaluations=200)
    assert not low.certified


def test_same_seed_same_result():
    """Reproducibility: the search draws only from default_rng([seed, restart])."""
    a = worst_case("normalized", 1.0, 1.0, steps=4, eta_n=0.1, beta=1.0, seed=3, budget_s=60.0, restarts=2)
    b = worst_case("normalized", 1.0, 1.0, steps=4, eta_n=0.1, beta=1.0, seed=3, budget_s=60.0, restarts=2)
    assert a.value == b.value and a.instance == b.instance
    best = [h["best"] for h in a.history]
    assert best == sorted(best) and len(best) > 10


def test_thm6_rule_is_the_theorems_step():
    """Formula: the gd-thm6 step is h = 1/(2(M L1 + L0)), as steps.zhsj_thm6_step computes it."""
    state = np.zeros(1)
    for L0, L1, M in ((1.0, 2.0, 3.0), (0.5, 0.0, 7.0), (3.0, 10.0, 0.01)):
        assert RULES["gd-thm6"].step(1.0, state, np.array([L0, L1, M]), 0) == pytest.approx(
            steps.zhsj_thm6_step(L0, L1, M), rel=1e-15)
        assert RULES["gd-thm6"].step(1.0, state, np.array([L0, L1, M]), 0) == 1.0 / (2.0 * (M * L1 + L0))


@pytest.mark.parametrize("args, kwargs, name", [
    (("gd", 1.0, 0.0), {"h": 1.0}, "steps, eps"),
    (("gd", 1.0, 0.0), {"h": 1.0, "steps": 3, "eps": 0.1}, "steps, eps"),
    (("gd", 1.0, 0.0), {"h": 1.0, "eps": 0.1}, "bound"),
    (("gd", 1.0, 0.0), {"h": 1.0, "steps": 3, "bound": lambda d: d}, "bound"),
    (("gd", 0.0, 0.0), {"h": 1.0, "steps": 3}, "L0"),
    (("gd", 1.0, -1.0), {"h": 1.0, "steps": 3}, "L1"),
    (("gd", 1.0, 0.0), {"h": -1.0, "steps": 3}, "h"),
    (("gd", 1.0, 0.0), {"steps": 3}, "h"),
    (("gd", 1.0, 0.0), {"h": 1.0, "gamma": 1.0, "steps": 3}, "gamma"),
    (("gd", 1.0, 0.0), {"h": 1.0, "steps": 0}, "steps"),
    (("gd", 1.0, 0.0), {"h": 1.0, "eps": math.nan, "bound": lambda d: d}, "eps"),
    (("momentum-clip", 1.0, 0.0), {"eta": 1.0, "gamma": 1.0, "steps": 3}, "rule"),
    (("no-such-rule", 1.0, 0.0), {"steps": 3}, "rule"),
    (("gd", 1.0, 0.0), {"h": 1.0, "steps": 3, "budget_s": 0.0}, "budget_s"),
    (("gd", 1.0, 0.0), {"h": 1.0, "steps": 3, "seed": -1}, "seed"),
    (("gd-thm6", 1.0, 1.0), {"M": 1.0, "steps": 3, "declared_M": 2.0}, "declared_M"),
])
def test_bad_arguments_are_value_errors_naming_the_argument(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        worst_case(*args, **kwargs)


def test_a_bound_returning_nonsense_is_refused():
    with pytest.raises(ValueError, match="bound"):
        worst_case("gd", 1.0, 0.0, eps=0.1, h=1.0, bound=lambda d: -1.0, horizon=3, evaluations=20, restarts=1)
