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


@given(M=st.floats(1.01, 1e6), extra=st.floats(1.0, 1e3))
def test_zhsj_thm4_paper_vs_derived_ratio_at_L0_eq_L1(M, extra):
    # expected: dividing the two formulas of ZHSJ-Thm4 at L0 = L1 = 1 leaves 4 (log M + 1) / log(1 + M)
    # (Delta above Delta_exp, the derived form's hypothesis)
    eps = 0.1
    delta = float(bounds.delta_exp(1, 1, M)) + extra
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


# ---------------------------------------------------------------- extreme but valid input (issue 10, item 4)
# Expected values come from the same formulas evaluated in high-precision mpmath (an independent implementation),
# converted to float, which gives +inf above the float range and 0 below it, as the docstrings promise.

import mpmath  # noqa: E402

M_ = mpmath.mpf


def _mp_float(x):
    return float(x) if x < M_("1e309") else math.inf


def _exact_thm3(L0, L1, delta, eps, c, floor):
    with mpmath.workdps(40):
        L0, L1, delta, eps = map(M_, (L0, L1, delta, eps))
        return _mp_float(c * L0 * delta / eps**2 + c * max(M_(floor), L1**2) * delta / L0)


def _exact_delta_exp(L0, L1, M):
    with mpmath.workdps(1000):  # the difference cancels about 2 log10(1/u) digits when u = L1 M/L0 is small
        L0, L1, M = map(M_, (L0, L1, M))
        return _mp_float(M / L1 - L0 / L1**2 * mpmath.log1p(L1 * M / L0))


def _close(got, want, rel):
    return (got == want) or (math.isfinite(want) and abs(got - want) <= rel * abs(want))


extreme = st.sampled_from([0.0, 5e-324, 1e-300, 1e-200, 1e-20, 0.3, 1.0, 7.0, 1e20, 1e200, 1e300, 1.7e308])


@given(L0=extreme, L1=extreme, delta=extreme, eps=extreme.filter(lambda e: e > 0))
def test_zhsj_thm3_never_nan_and_matches_40_digit_formula(L0, L1, delta, eps):
    # expected: the THEOREMS.md formula in mpmath; 1e-13: a few roundings in the mantissa products, but a value
    # near the bottom of the float range keeps fewer digits, so those are compared at 1e-6 (subnormal spacing)
    got = float(bounds.zhsj_thm3_clipped_gd(L0, L1, delta, eps, "derived"))
    assert not math.isnan(got)
    if L0 == 0:
        assert got == math.inf  # vacuous, as documented
        return
    want = _exact_thm3(L0, L1, delta, eps, bounds.THM3_DERIVED, bounds.THM3_L1_FLOOR["derived"])
    assert _close(got, want, 1e-13 if abs(want) > 1e-290 or want == 0 else 1e-6) or want < 1e-300


def test_issue10_calls_no_longer_give_nan_or_zero():
    # expected: Delta = 0 means x0 is a minimiser, so T_eps = 0 exactly (before: 0/0 = NaN); eta_c = 1/(10 L0)
    assert float(bounds.zhsj_thm3_clipped_gd(1, 1, 0, 1e-200)) == 0.0
    eta_c, gamma = steps.zhsj_thm3_params(1e308, 1)
    assert eta_c == pytest.approx(1e-309, rel=1e-6) and gamma == 1e308  # 1e-6: 1e-309 is subnormal (fewer digits)
    # the intermediate L0 * Delta overflows although the bound is 11.16 * 1e201 + 11.16 (formula by hand)
    assert float(bounds.zhsj_thm3_clipped_gd(1e200, 0, 1e200, 1e100, "derived")) == pytest.approx(11.16e200, rel=1e-14)
    assert steps.zhsj_thm3_params(1e-300, 1e308)[1] == pytest.approx(1e-308, rel=1e-14)  # L0/L1 (G L1 overflows)


@pytest.mark.parametrize("L0, L1, M", [(1, 1, 10), (2, 3, 50), (1, 1e-200, 1), (1e-300, 1e300, 1e300),
                                       (1, 1, 1e-5), (1e10, 1e-10, 3), (1, 2, 0.37), (3, 1e5, 1e-3)])
def test_delta_exp_matches_40_digit_formula(L0, L1, M):
    # expected: THEOREMS.md section 3.3, M/L1 - (L0/L1^2) log(1 + L1 M/L0), in mpmath; 1e-13: the series and
    # log1p forms lose a few digits at most
    assert float(bounds.delta_exp(L0, L1, M)) == pytest.approx(_exact_delta_exp(L0, L1, M), rel=1e-13)


def test_delta_exp_limits_and_the_f_exp_gap():
    # analytic limits: L1 -> 0 gives M^2/(2 L0) (f_exp -> L0 x^2/2), L0 -> 0 gives M/L1, no such f if both are 0
    assert float(bounds.delta_exp(2.0, 0.0, 3.0)) == 9.0 / 4.0
    assert float(bounds.delta_exp(0.0, 4.0, 3.0)) == 0.75
    assert float(bounds.delta_exp(0.0, 0.0, 3.0)) == math.inf and float(bounds.delta_exp(0.0, 0.0, 0.0)) == 0.0
    # section 3.1: f_exp(x_bar) with x_bar = log(1 + L1 M/L0)/L1 (independent float evaluation, 1e-12: rounding)
    L0, L1, M = 2.0, 3.0, 50.0
    x_bar = math.log1p(L1 * M / L0) / L1
    f = L0 / L1**2 * (math.expm1(L1 * x_bar) - L1 * x_bar)
    assert float(bounds.delta_exp(L0, L1, M)) == pytest.approx(f, rel=1e-12)


@given(L0=st.floats(1e-3, 1e3), L1=st.floats(1e-3, 1e3), gap=st.floats(1e-6, 1e6))
def test_fact_m_sharp_is_the_inverse_bound_of_delta_exp(L0, L1, gap):
    # FACT-M:sharp: Delta_exp(L0, L1, L1 D + sqrt(2 L0 D)) >= D (e^t >= 1 + t + t^2/2), and it is below FACT-M;
    # 1e-12: rounding of the two evaluations
    g = float(bounds.fact_m_sharp(L0, L1, gap))
    assert float(bounds.delta_exp(L0, L1, g)) >= gap * (1 - 1e-12)
    assert g <= float(bounds.fact_m(L0, L1, gap))


def test_zhsj_thm4_derived_needs_delta_exp():
    # THEOREMS.md section 3.3: below Delta_exp the derived bound is vacuous (0); at and above it, the formula
    L0, L1, M, eps = 1.0, 1.0, 10.0, 0.1
    d_exp = float(bounds.delta_exp(L0, L1, M))
    assert float(bounds.zhsj_thm4_gd_lower(L0, L1, M, d_exp * (1 - 1e-9), eps, "derived")) == 0.0
    want = L1 * M * (d_exp - 5 * eps / 8) / (2 * eps**2 * math.log1p(L1 * M / L0))
    assert float(bounds.zhsj_thm4_gd_lower(L0, L1, M, d_exp, eps, "derived")) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("fn, args", [
    (bounds.classic_gd, (1e-300, 1e300, 1e-10)), (bounds.zhsj_thm6_gd, (1e300, 1e300, 1e300, 1e-300, 1.0)),
    (bounds.ngd_bound, (1e200, 1e200, 1e200, 1e100)), (bounds.fact_m, (1e300, 1e300, 1e300)),
    (bounds.fact_m_sharp, (1e-300, 1e-300, 1e-300)), (bounds.zhsj_thm7_horizon, (1e200, 1e-200, 1e200, 1e-100, 1e-3)),
    (bounds.zhsj_thm8_shape, (1e200, 1e200, 1e200, 1e200, 1e200, 1e300)),
    (bounds.vankov_nonconvex, (1e-300, 1e300, 1e300, 1e-10, 1.0)), (bounds.vankov_convex, (1, 1, 1e200, 1e300, 1e-300, 1)),
    (bounds.gorbunov_convex_shape, (1e300, 1e300, 1e200, 1e100)), (bounds.li_constant_step_gd, (1e-300, 1e300, 1e-10)),
    (bounds.zhsj_thm4_gd_lower, (1e300, 1e300, 1e300, 1e300, 1e-300)),
])
def test_no_bound_is_nan_on_extreme_input(fn, args):
    # expected: inf or a number, never NaN (docstrings: inf on overflow, 0 below the float range)
    assert not np.isnan(fn(*args))


@pytest.mark.parametrize("fn, args", [
    (steps.zhsj_thm6_step, (1e308, 1e308, 1e308)), (steps.zhsj_thm4_critical_step, (1e-300, 1e300, 1e300)),
    (steps.zhsj_thm4_critical_step, (1e300, 1e-300, 1e-300)), (steps.li_constant_step, (1e300, 1e10, 1e300)),
    (steps.ngd_params, (1e308, 1e-320)), (steps.classic_gd_step, (1e-320,)),
])
def test_no_step_is_nan_on_extreme_input(fn, args):
    out = fn(*args)
    assert not np.any(np.isnan(out))


def test_steps_match_40_digit_formulas_at_extremes():
    # expected: the step rules of THEOREMS.md in mpmath; 1e-12: rounding (1e-6 where the result is subnormal)
    h = steps.zhsj_thm6_step(1e-300, 1e200, 1e200)  # M L1 = 1e400 overflows, h = 1/(2 (1e400 + 1e-300))
    assert h == 0.0  # true value 5e-401 is below the smallest float
    h = steps.zhsj_thm6_step(1.0, 1e160, 1e150)  # h = 1/(2 (1e310 + 1)) = 5e-311: subnormal
    assert h == pytest.approx(5e-311, rel=1e-6)
    hs = steps.zhsj_thm4_critical_step(1e-300, 1e300, 1e300)  # 2 log(1 + 1e900)/1e600 = 0 below the float range
    assert hs == 0.0
    hs = steps.zhsj_thm4_critical_step(1e-300, 1e150, 1e150)  # 2 log(1e600)/1e300
    with mpmath.workdps(40):
        assert hs == pytest.approx(float(2 * mpmath.log(M_("1e600")) / M_("1e300")), rel=1e-12)
    hs = steps.zhsj_thm4_critical_step(1.0, 1e-200, 1e-200)  # u = 1e-400 underflows: h* -> 2/L0
    assert hs == 2.0
    h, L = steps.li_constant_step(1e300, 1e10, 1e300)  # L = 1e300 + 1.5e10 (3e310 + sqrt(2) 1e300)
    with mpmath.workdps(40):
        want = 1 / (M_("1e300") + M_("1.5e10") * (M_("3e310") + mpmath.sqrt(2) * M_("1e300")))
    assert L == math.inf and h == pytest.approx(float(want), rel=1e-6)


def test_step_rules_refuse_arrays_by_name():
    # "scalars in, scalars out": an array is a ValueError naming the argument (before: an unnamed TypeError)
    with pytest.raises(ValueError, match="^L0 "):
        steps.zhsj_thm3_params(np.array([1.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match="^M "):
        steps.zhsj_thm6_step(1.0, 1.0, [1.0, 2.0])


def _validation_is_strict():
    from clipcheck.theory import validation
    try:
        validation.nonnegative("x", "1")
    except ValueError:
        return True
    return False


@pytest.mark.xfail(not _validation_is_strict(), strict=True,
                   reason="needs the strict checker the lead is adding to theory/validation.py (issue 10 item 4)")
@pytest.mark.parametrize("call, name", [
    (lambda: bounds.zhsj_thm3_clipped_gd(1, 1, "1", 0.1), "delta"),
    (lambda: bounds.zhsj_thm3_clipped_gd(1, True, 1, 0.1), "L1"),
    (lambda: bounds.delta_exp(1, 1, "3"), "M"),
    (lambda: steps.zhsj_thm3_params("1e-3", 1), "L0"),
    (lambda: steps.zhsj_thm6_step(1, 1, False), "M"),
])
def test_strings_and_bools_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: bounds.zhsj_thm3_clipped_gd(1, 1, 1 + 2j, 0.1), "delta"),
    (lambda: steps.zhsj_thm3_params(1, 1j), "L1"),
    (lambda: bounds.delta_exp(1, None, 3), "L1"),
])
def test_complex_and_none_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
