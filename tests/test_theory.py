"""theory/: bounds, steps and growth functions against the formulas of THEOREMS.md and analytic facts."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcheck.theory import bounds, steps
from clipcheck.theory.smoothness import L0L1, gradient_growth, kappa, value_growth, zjfw_coefficients

pos = st.floats(1e-3, 1e3)


@given(L0=pos, L1=pos, delta=pos, eps=st.floats(1e-4, 1.0))
def test_zhsj_thm3_matches_the_stated_formulas(L0, L1, delta, eps):
    # expected: THEOREMS.md ZHSJ-Thm3, written again in plain Python
    paper = 20 * L0 * delta / eps**2 + 20 * max(1, L1**2) * delta / L0
    derived = 11.16 * L0 * delta / eps**2 + 11.16 * max(0.01, L1**2) * delta / L0
    assert bounds.zhsj_thm3_clipped_gd(L0, L1, delta, eps) == pytest.approx(paper, rel=1e-12)
    assert bounds.zhsj_thm3_clipped_gd(L0, L1, delta, eps, "derived") == pytest.approx(derived, rel=1e-12)
    assert derived <= paper  # analytic: 11.16 <= 20 and max(0.01, x) <= max(1, x)


def test_zhsj_thm3_vacuous_without_L0():
    assert bounds.zhsj_thm3_clipped_gd(0.0, 1.0, 1.0, 0.1) == np.inf


@given(M=st.floats(1.01, 1e6), delta=st.floats(1.0, 1e3))
def test_zhsj_thm4_paper_vs_derived_ratio_at_L0_eq_L1(M, delta):
    # expected: dividing the two formulas of ZHSJ-Thm4 at L0 = L1 = 1 leaves 4 (log M + 1) / log(1 + M)
    eps = 0.1
    p = bounds.zhsj_thm4_gd_lower(1, 1, M, delta, eps, "paper")
    d = bounds.zhsj_thm4_gd_lower(1, 1, M, delta, eps, "derived")
    assert d / p == pytest.approx(4 * (math.log(M) + 1) / math.log1p(M), rel=1e-10)


def test_zhsj_thm4_is_vacuous_outside_its_hypotheses():
    assert bounds.zhsj_thm4_gd_lower(1, 1, 10, 0.05, 0.1) == 0.0  # Delta <= 5 eps / 8
    assert bounds.zhsj_thm4_gd_lower(0.5, 1, 10, 10, 0.1, "paper") == 0.0  # paper form needs L0 >= 1
    assert bounds.zhsj_thm4_gd_lower(1, 1, 10, 10, 0.9, "derived") == 0.0  # needs eps < 2 L0 / 3


def test_zhsj_thm6_formula_and_step():
    # expected: THEOREMS.md ZHSJ-Thm6, h = 1/(2(M L1 + L0)) and 4 (resp. 2.85) (M L1 + L0) Delta / eps^2
    assert steps.zhsj_thm6_step(2, 3, 5) == 1 / (2 * (15 + 2))
    assert bounds.zhsj_thm6_gd(2, 3, 5, 7, 0.5) == pytest.approx(4 * 17 * 7 / 0.25)
    assert bounds.zhsj_thm6_gd(2, 3, 5, 7, 0.5, "derived") == pytest.approx(2.85 * 17 * 7 / 0.25)


def test_classic_gd_formula():
    assert bounds.classic_gd(3.0, 2.0, 0.5) == pytest.approx(2 * 3 * 2 / 0.25)  # 2 L Delta / eps^2


@given(L0=pos, L1=st.floats(0, 1e3))
def test_ngd_equiv_parameter_mapping(L0, L1):
    # NGD-equiv: eta_n / beta must be the Thm 3 eta_c and beta its gamma (THEOREMS.md, NGD bound)
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    eta_n, beta = steps.ngd_params(L0, L1)
    assert eta_n / beta == pytest.approx(eta_c, rel=1e-12)
    assert beta == pytest.approx(gamma, rel=1e-12)
    assert steps.clipped_equivalent_of_normalized(eta_n, beta) == pytest.approx((eta_n / beta, beta))


@given(eta_n=pos, beta=pos, g=st.floats(1e-9, 1e9))
def test_ngd_equiv_step_inequality(eta_n, beta, g):
    h_n, h_c = bounds.ngd_equiv_steps(eta_n, beta, g)
    # NGD-equiv: h_c / 2 <= h_n <= h_c; 1e-12 covers the rounding of the two quotients
    assert h_c / 2 * (1 - 1e-12) <= h_n <= h_c * (1 + 1e-12)


def test_zhsj_thm3_params():
    assert steps.zhsj_thm3_params(2.0, 4.0) == (1 / 20, 0.5)  # eta_c = 1/(10 L0), gamma = min(10 L0, L0/L1)
    assert steps.zhsj_thm3_params(2.0, 0.0) == (1 / 20, 20.0)


def test_zhsj_thm4_critical_step_is_the_2_cycle_of_f_exp():
    # section 3.1: from x_bar = log(1 + L1 M/L0)/L1 with f'(x_bar) = M, one step of h* lands on -x_bar
    L0, L1, M = 2.0, 3.0, 50.0
    x_bar = math.log1p(L1 * M / L0) / L1
    assert x_bar - steps.zhsj_thm4_critical_step(L0, L1, M) * M == pytest.approx(-x_bar, rel=1e-14)


@pytest.mark.parametrize("call, name", [
    (lambda: bounds.zhsj_thm3_clipped_gd(-1, 1, 1, 0.1), "L0"),
    (lambda: bounds.zhsj_thm3_clipped_gd(1, 1, 1, 0.0), "eps"),
    (lambda: bounds.zhsj_thm3_clipped_gd(1, 1, float("nan"), 0.1), "delta"),
    (lambda: bounds.zhsj_thm3_clipped_gd(1, 1, 1, 0.1, constants="best"), "constants"),
    (lambda: bounds.zhsj_thm4_gd_lower(1, 1, float("inf"), 1, 0.1), "M"),
    (lambda: bounds.zhsj_thm6_gd(1, -2, 1, 1, 0.1), "L1"),
    (lambda: steps.zhsj_thm3_params(0, 1), "L0"),
    (lambda: L0L1(1, -1), "L1"),
    (lambda: bounds.zhsj_thm7_horizon(1, 0, 1, 0.1, 0.1), "L1"),
    (lambda: bounds.vankov_nonconvex(1, 1, 1, 0.1, a=0), "a"),
    (lambda: steps.li_constant_step(0, 0, 1), "L0"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_lemma_sharp_kappa_values():
    # THEOREMS.md: kappa(0.1) = 1.03418 and kappa(1/2) = 1.18977 to the digits shown; kappa(0) = 1
    assert round(float(kappa(0.1)), 5) == 1.03418
    assert round(float(kappa(0.5)), 5) == 1.18977
    u = np.linspace(1e-6, 5, 1000)
    assert np.all(np.diff(kappa(u)) > 0)
    assert float(kappa(1e-8)) == pytest.approx(1.0, abs=1e-8)


def test_lemma_sharp_is_equality_on_f_exp():
    # analytic fact: for f_exp, x >= 0, y = x + r, both sides of LEMMA-sharp's gradient part are
    # (L0/L1) e^{L1 x}(e^{L1 r} - 1); 1e-12 relative covers the rounding of exp
    L0, L1, x, r = 2.0, 3.0, 0.7, 0.4
    fp = lambda t: L0 / L1 * math.expm1(L1 * t)  # noqa: E731
    assert fp(x + r) - fp(x) == pytest.approx(float(gradient_growth(L0, L1, fp(x), r)), rel=1e-12)
    f = lambda t: L0 / L1**2 * (math.expm1(L1 * t) - L1 * t)  # noqa: E731
    lhs = f(x + r) - f(x) - fp(x) * r
    assert lhs == pytest.approx(float(value_growth(L0, L1, fp(x), r)), rel=1e-10)


def test_lemma_sharp_L1_zero_limits():
    # with L1 = 0 the lemma is the classical L-smooth one: L0 r and L0 r^2 / 2
    assert float(gradient_growth(2.0, 0.0, 5.0, 0.3)) == pytest.approx(0.6)
    assert float(value_growth(2.0, 0.0, 5.0, 0.3)) == pytest.approx(0.09)


@given(c=st.floats(1e-3, 5), u=st.floats(0, 1), L0=pos, L1=pos, g=pos)
def test_lemma_zjfw_follows_from_lemma_sharp(c, u, L0, L1, g):
    # LEMMA-ZJFW: A(c) >= B(c), and for r <= c / L1 the LEMMA-sharp bound is below (A L0 + B L1 g) r
    A, B = zjfw_coefficients(c)
    assert A >= B
    r = u * c / L1
    assert float(gradient_growth(L0, L1, g, r)) <= (A * L0 + B * L1 * g) * r * (1 + 1e-12)


def test_local_smoothness_is_the_curvature_on_a_quadratic():
    # analytic: for f = x^T A x / 2 the estimator along d is ||A d|| / ||d|| at every s (rounding only)
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    from clipcheck.theory.smoothness import local_smoothness
    d = np.array([0.3, -0.7])
    assert local_smoothness(lambda x: A @ x, [1.0, 2.0], d) == pytest.approx(
        np.linalg.norm(A @ d) / np.linalg.norm(d), rel=1e-12)


def test_local_smoothness_within_lemma_sharp_on_f_exp():
    # ZHSJ-Def1 / LEMMA-sharp: on f_exp the estimate along d is at most (L0 + L1 g)(e^{L1 r} - 1)/(L1 r)
    from clipcheck.theory.smoothness import local_smoothness
    L0, L1, x, d = 1.0, 2.0, 1.3, -0.4
    grad = lambda t: np.sign(t) * L0 / L1 * np.expm1(L1 * np.abs(t))  # noqa: E731
    est = local_smoothness(grad, np.array([x]), np.array([d]))
    assert est <= float(gradient_growth(L0, L1, abs(grad(x)), abs(d))) / abs(d) * (1 + 1e-12)
    with pytest.raises(ValueError, match="^s_grid"):
        local_smoothness(grad, np.array([x]), np.array([d]), s_grid=[0.0])
