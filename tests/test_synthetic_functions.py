"""synthetic.catalogue and functions: derivatives, certificates and the facts of THEOREMS.md section 3-4."""
import math

import numpy as np
import pytest
import sympy as sp

from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic.certify import certify, profile_certificate

CATALOGUE = F.catalogue() + [F.quadratic(3.0)]


def _sympy_profile(fam):
    """An independent implementation: the profile as a SymPy expression in x > 0 (and x < 0 where not even)."""
    x = sp.Symbol("x", real=True)
    p0, p1 = (list(fam.profile.params) + [0.0, 0.0])[:2]
    k = fam.profile.evaluate
    if k is F.exp_profile:
        return x, p0 / p1**2 * (sp.exp(p1 * sp.Abs(x)) - p1 * sp.Abs(x) - 1)
    if k is F.slow_profile:
        return x, sp.Piecewise((p0 * (sp.Rational(3, 4) * x**2 - x**4 / 8), sp.Abs(x) <= 1),
                               (p0 * (sp.Abs(x) - sp.Rational(3, 8)), True))
    if k is F.cosh_profile:
        return x, sp.exp(x) + sp.exp(-x)
    if k is F.power_profile:
        return x, p0 * sp.Abs(x) ** p1
    if k is F.logistic_profile:
        return x, sp.log(1 + sp.exp(-p0 * x))
    assert k is F.explin_profile
    return x, sp.exp(p0 * x)


@pytest.mark.parametrize("fam", CATALOGUE, ids=lambda f: f.name)
def test_profiles_agree_with_sympy(fam):
    x, expr = _sympy_profile(fam)
    pts = np.array([-2.3, -0.6, -0.1, 0.05, 0.4, 0.9, 1.7]) * fam.scale
    d1, d2 = sp.diff(expr, x), sp.diff(expr, x, 2)
    want = np.array([[float(e.subs(x, t).evalf(30)) for e in (expr, d1, d2)] for t in pts])
    got = np.stack(fam.profile.at(pts), axis=1)
    # 1e-12 relative: double rounding of a handful of elementary operations, against 30-digit SymPy values
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("fam", [f for f in CATALOGUE if f.lift == "radial"], ids=lambda f: f.name)
def test_radial_lift_hessian_norm_matches_finite_differences(fam):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3)) * fam.scale
    h = 1e-6 * fam.scale
    for x in X:
        H = np.stack([(fam.grad((x + h * e)[None]) - fam.grad((x - h * e)[None]))[0] / (2 * h) for e in np.eye(3)])
        want = np.abs(np.linalg.eigvalsh((H + H.T) / 2)).max()
        # central differences with step 1e-6 * scale: error ~ 1e-6 relative (truncation h^2 plus rounding eps/h)
        assert fam.hessian_norm(x[None])[0] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("fam", CATALOGUE, ids=lambda f: f.name)
def test_certificates_of_the_table_hold(fam):
    assert profile_certificate(fam.profile, 20_001, radial=fam.lift == "radial").holds  # THEOREMS.md 4 table


def test_quartic_certificate_is_not_refuted():
    q = F.quartic(np.array([[2.0, 1.0], [0.0, 1.0]]))
    assert certify(q, q.L0, q.L1, [(-3.0, 3.0)] * 2, budget_s=10).verdict != "refuted"  # THEOREMS.md 4 table


@pytest.mark.parametrize("fam, L0, L1", [
    (F.f_exp(1.0, 1.0), 0.99, 1.0),   # f'' = L0 + L1 |f'| is an equality: any smaller L0 fails
    (F.f_exp(1.0, 1.0), 1.0, 0.99),   # ... and any smaller L1 fails far out
    (F.x4(), 16 / 9 * 0.99, 3.0),     # 16/9 is the smallest L0 at L1 = 3 (equality at |x| = 2/3)
    (F.f_slow(1.0), 1.49, 0.0),       # f''(0) = 3a/2
    (F.cosh2(), 1.98, 1.0),           # f''(0) = 2 with f'(0) = 0
])
def test_certify_rejects_too_small_constants(fam, L0, L1):
    from dataclasses import replace
    assert not profile_certificate(replace(fam.profile, L0=L0, L1=L1), 20_001, radial=True).holds


def test_certify_refutes_log_sum_exp_claim():
    # THEOREMS.md: log-sum-exp is NOT (0, max||a_i||): at x = 0, grad f = 0 while Hess f = a^2 > 0
    f = F.log_sum_exp_claimed(np.array([[1.0], [-1.0]]))
    c = certify(f, f.L0, f.L1, [(-3.0, 3.0)], budget_s=10)
    assert c.verdict == "refuted" and abs(c.witness[0]) < 1e-3  # the witness: where the gradient vanishes


def test_f_exp_facts():
    # section 3.1: f'' = L0 + L1 |f'| exactly, x_bar = log(1 + L1 M/L0)/L1, Delta = M/L1 - L0/L1^2 log(1 + L1 M/L0)
    L0, L1, M = 2.0, 3.0, 40.0
    f = F.f_exp(L0, L1)
    x = np.linspace(-5, 5, 101)
    _, d, dd = f.profile.at(x)
    np.testing.assert_allclose(dd, L0 + L1 * np.abs(d), rtol=1e-14)
    x_bar = f.start_for_grad(M)
    assert x_bar == pytest.approx(math.log1p(L1 * M / L0) / L1, rel=1e-13)
    assert f.value(x_bar)[0] == pytest.approx(M / L1 - L0 / L1**2 * math.log1p(L1 * M / L0), rel=1e-12)


def test_f_slow_facts():
    # section 3.2: C^2 at |x| = 1, f(+-1) = 5a/8, a-Lipschitz, f'' in [0, 3a/2]; x0 for a gap D is D/a + 3/8
    a = 0.7
    f = F.f_slow(a)
    for side in (-1.0, 1.0):
        inner, outer = f.profile.at(np.array([side * (1 - 1e-12)])), f.profile.at(np.array([side * (1 + 1e-12)]))
        for u, v in zip(inner, outer):
            assert u[0] == pytest.approx(v[0], abs=1e-10)
        assert f.value(side)[0] == pytest.approx(5 * a / 8, rel=1e-15)
    x = np.linspace(-3, 3, 10001)
    _, d, dd = f.profile.at(x)
    assert np.abs(d).max() <= a and dd.min() >= 0 and dd.max() <= 1.5 * a
    assert f.start_for_gap(3.0) == pytest.approx(3.0 / a + 3 / 8, rel=1e-12)


def test_lower_bound_pair_validation():
    with pytest.raises(ValueError, match="^eps"):
        F.lower_bound_pair(1.0, 1.0, 10.0, 0.9)  # the slope a > eps would exceed 2 L0 / 3
    with pytest.raises(ValueError, match="^delta"):
        F.lower_bound_pair(1.0, 1.0, 10.0, 0.1, delta=0.01)
    with pytest.raises(ValueError, match="^delta must be >= Delta_exp"):  # THEOREMS.md 3.3's hypothesis
        F.lower_bound_pair(1.0, 1.0, 10.0, 0.1, delta=5.0)
    p = F.lower_bound_pair(1.0, 2.0, 10.0, 0.1)
    assert p.slow.in_class(1.0, 2.0) and p.exp.in_class(1.0, 2.0)
    assert p.slow.value(p.x_slow)[0] == pytest.approx(p.delta, rel=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: F.f_exp(-1, 1), "L0"), (lambda: F.f_slow(0), "a"), (lambda: F.power_over_p(2.0), "p"),
    (lambda: F.f_exp(1, 1).value([np.nan]), "x"), (lambda: F.radial(F.logistic_profile_1d()), "profile"),
    (lambda: F.f_slow(1.0).start_for_grad(2.0), "M"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
