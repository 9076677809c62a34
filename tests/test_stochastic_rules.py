"""synthetic.rules: each rule by its defining invariant, and the prescribed parameters."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic import rules as R
from clipcheck.theory import steps

pos = st.floats(1e-3, 1e3)
JIT = settings(deadline=None)


def _scales(rule, q, m_norm, g_norm, t):
    """(h_m, h_g) of a rule, through the adapter the kernels use, on NumPy scalars (IEEE division by 0)."""
    r = R.RULES[rule]
    q = np.asarray(q, float)
    with np.errstate(divide="ignore", over="ignore"):
        if r.scales is not None:
            return r.scales(np.float64(m_norm), np.float64(g_norm), np.zeros(1), q, t)
        return 0.0, r.step(np.float64(g_norm), np.zeros(1), q, t)


def _h(rule, q, g, tau=0.0):
    return _scales(rule, list(q) + ([tau] if R.RULES[rule].reads_tau else []), 0.0, g, 0)[1]


@JIT
@given(eta_c=pos, gamma=pos, g=st.floats(1e-6, 1e9))
def test_clipped_step_length_never_exceeds_gamma_eta_c(eta_c, gamma, g):
    # THEOREMS.md 2: h_c = min{eta_c, gamma eta_c/g}, so the move h_c g is at most gamma eta_c (rounding: 1 ulp)
    assert _h("clipped", [eta_c, gamma], g) * g <= gamma * eta_c * (1 + 1e-15)
    # torch-clip with lr = eta_c, max_norm = gamma is the same step (the documented mapping)
    assert _h("torch-clip", [eta_c, gamma], g) == pytest.approx(_h("clipped", [eta_c, gamma], g), rel=1e-15)


@JIT
@given(eta=st.floats(1e-4, 1.0), L1=pos, tau=st.floats(0.0, 10.0), g=st.floats(1e-6, 1e9))
def test_thm7_step_is_min_of_eta_and_the_printed_clip(eta, L1, tau, g):
    h = _h("clipped-sgd", [eta, L1], g, tau)
    assert h == min(1.0 / (16 * eta * L1 * (g + tau)), eta)  # ZHSJ-Thm7 as printed, eta inside the denominator
    assert h * g <= 1.0 / (16 * eta * L1) * (1 + 1e-15)  # hence a step never longer than 1/(16 eta L1)


@JIT
@given(eta=pos, L0=pos, L1=pos, g=st.floats(1e-6, 1e9))
def test_l0l1_gd_step_times_local_constant_is_eta(eta, L0, L1, g):
    # definition: h (L0 + L1 g) = eta; 2 roundings
    assert _h("l0l1-gd", [eta, L0, L1], g) * (L0 + L1 * g) == pytest.approx(eta, rel=4e-16)


@JIT
@given(L0=st.just(0.0) | pos, L1=st.just(0.0) | pos, g=st.floats(1e-6, 1e6))
def test_vankov_steps_are_ordered(L0, L1, g):
    if L0 + L1 == 0:
        return
    star, si, cl = (_h(r, [L0, L1], g) for r in ("vankov-star", "vankov-si", "vankov-cl"))
    # Vankov et al.: eta_si is the simpler lower estimate of eta* (ln(1 + v) >= v/(1 + v/2) for v in [0, 1]),
    # eta* <= 1/(L0 + L1 g) (ln(1 + v) <= v), and eta_cl = min{1/(2L0), 1/(3L1 g)} >= 1/(2L0 + 3L1 g) = eta_si/2
    assert si <= star * (1 + 1e-12) and star <= 1.0 / (L0 + L1 * g) * (1 + 1e-12)
    assert cl >= 0.5 * si * (1 - 1e-12)


@pytest.mark.parametrize("rule,a", [("vankov-star", 1.0), ("vankov-si", 1.0), ("vankov-cl", 0.5)])
@pytest.mark.parametrize("fam", [F.f_exp(1.0, 1.0), F.f_exp(2.0, 5.0), F.cosh2(), F.x4(), F.logistic(2.0)],
                         ids=lambda f: f.name)
def test_vankov_step_decreases_f_by_the_stated_amount(rule, a, fam):
    # Vankov et al.: f(x) - f(x+) >= a g^2/(2 L0 + 3 L1 g) for (L0,L1)-smooth f (checked with the certificate)
    x = np.concatenate([np.linspace(-20, 20, 401) * fam.scale])
    x = x[np.isfinite(fam.value(x)) & (fam.grad_norm(x) > 0) & (fam.grad_norm(x) < 1e12)]
    g = fam.grad(x)
    h = np.array([_h(rule, [fam.L0, fam.L1], abs(v)) for v in g])
    dec = fam.value(x) - fam.value(x - h * g)
    want = a * g**2 / (2 * fam.L0 + 3 * fam.L1 * np.abs(g))
    # rounding: f is evaluated at two points of size |f|; allow 1e-12 |f|
    assert np.all(dec >= want - 1e-12 * np.abs(fam.value(x)))


def test_underflowing_denominators_give_an_infinite_step_not_an_exception():
    # L0 = 0 and L1 g below the smallest double: 1/(L0 + 1.5 L1 g) overflows; the run then reports divergence
    assert _h("vankov-si", [0.0, 5e-324], 0.5) == math.inf and _h("l0l1-gd", [1.0, 0.0, 5e-324], 0.5) == math.inf


@JIT
@given(eta0=st.floats(1e-3, 10.0), m=st.floats(1e-9, 1e9), t=st.integers(0, 10**7))
def test_nsgd_m_step_length_equals_eta_t(eta0, m, t):
    hm, hg = _scales("nsgd-m", [eta0], m, 1.0, t)
    # Hubler et al.: x+ = x - eta_t m/||m||, eta_t = eta0 t^{-3/4} with t = k + 1; 2 roundings
    assert hm * m == pytest.approx(eta0 * (t + 1.0) ** -0.75, rel=1e-15) and hg == 0.0


@JIT
@given(eta=pos, gamma=pos, m=st.floats(0.0, 1e12), g=st.floats(0.0, 1e12), nu=st.floats(0.0, 1.0))
def test_momentum_and_mixed_clip_steps_are_shorter_than_gamma(eta, gamma, m, g, nu):
    # ZJFW: eta ||v||/(1 + eta ||v||/gamma) < gamma for each part; the mixture is at most gamma in length
    hm, hg = _scales("mixed-clip", [eta, gamma, 0.9, nu], m, g, 5)
    assert hm * m + hg * g <= gamma * (1 + 1e-12)
    hm1, hg1 = _scales("momentum-clip", [eta, gamma, 0.9], m, g, 5)
    assert hg1 == 0.0 and hm1 * m <= gamma * (1 + 1e-12)


def test_momentum_coefficients():
    q = np.array([0.1, 1.0, 0.9, 0.7])
    assert R.RULES["momentum-clip"].momentum(q, 3) == 0.9  # ZJFW: fixed beta
    nsgd = R.RULES["nsgd-m"].momentum
    assert nsgd(q, 0) == 0.0 and nsgd(q, 3) == 1 - 1 / math.sqrt(4)  # Hubler: 1 - t^{-1/2}
    assert R.parts(R.RULES["sgd"]).momentum(q, 3) == 0.0  # no momentum: the kernel's beta is 0


def test_prescribed_parameters():
    # ZHSJ-Thm7: eta = min{1/(20 L0), 1/(128 L1 tau), 1/sqrt(T)}, by hand at (L0, L1, tau, T) = (1, 1, 0.1, 100)
    assert steps.zhsj_thm7_eta(1.0, 1.0, 0.1, 100) == pytest.approx(min(1 / 20, 1 / 12.8, 0.1))
    assert steps.zhsj_thm7_eta(1.0, 1.0, 0.0, 10**6) == 1e-3  # tau = 0: the 1/(128 L1 tau) term drops
    # ZHSJ-Thm8: h = min{1/sqrt(T), 1/(L1 (M + tau))}
    assert steps.zhsj_thm8_step(2.0, 10.0, 1.0, 100) == pytest.approx(1 / 22)


def test_huge_threshold_clipped_sgd_is_sgd():
    fam = F.f_exp(1.0, 1.0)
    x0 = np.full(20, fam.start_for_grad(5.0))
    common = dict(eps=1e-3, max_iter=3000, noise="gaussian", tau=0.3, seed=4, stop="never", record=[3000])
    sgd = synthetic.run(fam, "sgd", x0, h=0.02, **common)
    for rule, p in (("clipped", {"eta_c": 0.02, "gamma": 1e300}), ("torch-clip", {"lr": 0.02, "max_norm": 1e300})):
        r = synthetic.run(fam, rule, x0, **p, **common)
        # min{h, 1e300 h/g} = h exactly, so the runs agree bit for bit
        assert np.array_equal(r.iterations, sgd.iterations)
        assert np.array_equal(r.trace["grad_norm"], sgd.trace["grad_norm"])


def test_parameters_are_validated():
    fam = F.f_exp(1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        synthetic.run(fam, "momentum-clip", [1.0], 0.1, 10, eta=0.1, gamma=1.0, beta=1.0)
    with pytest.raises(ValueError, match="nu"):
        synthetic.run(fam, "mixed-clip", [1.0], 0.1, 10, eta=0.1, gamma=1.0, nu=1.5)
    with pytest.raises(ValueError, match="L0 and L1"):
        synthetic.run(fam, "vankov-si", [1.0], 0.1, 10, L0=0.0, L1=0.0)
    with pytest.raises(ValueError, match="gamma"):
        synthetic.run(fam, "momentum-clip", [1.0], 0.1, 10, eta=0.1)
    with pytest.raises(ValueError, match="lr is not a parameter"):
        synthetic.run(fam, "sgd", [1.0], 0.1, 10, h=0.1, lr=0.1)
