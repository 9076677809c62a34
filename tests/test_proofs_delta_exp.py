"""THEOREMS.md section 3.3, the hypothesis Delta >= Delta_exp, shown by direct runs (plain NumPy GD on the 1-D
profiles of sections 3.1 and 3.2, written again here): what happens below it.

Expected values are formulas: the Thm 6 [derived] upper bound, the Thm 4 [derived] formula, and the analytic
behaviour of GD on f_exp (contraction below the 2-cycle level, section 3.1)."""
import math

import numpy as np

from clipcheck.theory import bounds, steps

L0, L1, M, DELTA, EPS = 1.0, 1.0, 1e4, 10.0, 0.5  # the instance of proofs_check ZHSJ-Thm4:needs-Delta_exp


def f_exp(x):
    return L0 / L1**2 * (math.expm1(L1 * abs(x)) - L1 * abs(x))


def f_exp_grad(x):
    with np.errstate(over="ignore"):
        return math.copysign(L0 / L1 * float(np.expm1(L1 * abs(x))), x)  # inf once GD has diverged


def f_slow(a):
    def value(x):
        return a * (0.75 * x**2 - x**4 / 8) if abs(x) <= 1 else a * (abs(x) - 0.375)

    def grad(x):
        return a * (1.5 * x - x**3 / 2) if abs(x) <= 1 else math.copysign(a, x)
    return value, grad


def start_for_gap(value, gap, hi=100.0):
    """The x in (0, hi) with value(x) = gap (bisection: value is increasing on x > 0)."""
    lo = 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if value(mid) < gap else (lo, mid)
    return hi


def gd_count(grad, x, h, eps, budget=100_000):
    """T_eps of GD x+ = x - h grad(x) (x0 counts as t = 0), or None if it diverges or the budget runs out."""
    for t in range(budget):
        g = grad(x)
        if abs(g) <= eps:
            return t
        if not math.isfinite(g):
            return None
        x = x - h * g
    return None


def test_below_delta_exp_the_pair_needs_fewer_steps_than_the_thm4_formula():
    assert DELTA < float(bounds.delta_exp(L0, L1, M))  # the instance is below the hypothesis
    m_sharp = float(bounds.fact_m_sharp(L0, L1, DELTA))  # no f of gap Delta has a larger gradient (FACT-M:sharp)
    x_exp = start_for_gap(f_exp, DELTA)
    assert abs(f_exp_grad(x_exp)) <= m_sharp  # the f_exp member of gap Delta, checked against FACT-M:sharp
    formula = L1 * M * (DELTA - 5 * EPS / 8) / (2 * EPS**2 * math.log1p(L1 * M / L0))  # Thm 4 [derived]
    # 1. with the Thm 6 step for M' = m_sharp, both members of the pair finish within Thm 6's bound, far below
    h6 = steps.zhsj_thm6_step(L0, L1, m_sharp)
    upper = float(bounds.zhsj_thm6_gd(L0, L1, m_sharp, DELTA, EPS, "derived"))
    value, grad = f_slow(0.6)  # slope a in (eps, 2 L0/3]
    counts = [gd_count(f_exp_grad, x_exp, h6, EPS), gd_count(grad, start_for_gap(value, DELTA), h6, EPS)]
    assert all(c is not None and c <= upper < formula for c in counts)
    # 2. the pair's own rule: at h just above h*(M) it takes f_exp, which now starts below the 2-cycle level
    #    (gradient m < M) and converges, while f_s needs (Delta - 5a/8)/(h a^2) < formula steps
    h = steps.zhsj_thm4_critical_step(L0, L1, M) * 1.01
    t_exp = gd_count(f_exp_grad, x_exp, h, EPS)
    assert t_exp is not None and t_exp < formula
    a = EPS * (1 + 1e-9)
    value, grad = f_slow(a)
    t_slow = gd_count(grad, start_for_gap(value, DELTA), h, EPS)
    assert t_slow is not None and t_slow < formula
    # 3. for comparison, at Delta = Delta_exp the f_exp member from x_bar diverges at this h (h > h*)
    x_bar = math.log1p(L1 * M / L0) / L1
    assert gd_count(f_exp_grad, x_bar, h, EPS, budget=200) is None


def test_at_delta_exp_the_f_exp_member_starts_on_the_gradient_M():
    # section 3.1: f_exp(x_bar) = Delta_exp and f_exp'(x_bar) = M; a start of gap Delta < Delta_exp has a smaller
    # gradient, so the member is not the one the bound needs (1e-9: bisection and rounding)
    x_bar = math.log1p(L1 * M / L0) / L1
    assert math.isclose(f_exp(x_bar), float(bounds.delta_exp(L0, L1, M)), rel_tol=1e-12)
    assert math.isclose(f_exp_grad(x_bar), M, rel_tol=1e-12)
    assert f_exp_grad(start_for_gap(f_exp, DELTA)) < M * (1 - 1e-9)
