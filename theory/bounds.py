"""One vectorised function per claim id of THEOREMS.md. Each returns iteration bounds (or gradient bounds) as
floats broadcast over its arguments.

Conventions: T_eps is the first t >= 0 with ||grad f(x_t)|| <= eps (x0 counts as t = 0); Delta = f(x0) - f*.
Bad input (negative constants, eps <= 0, NaN/inf) raises ValueError naming the argument. An upper bound whose
hypotheses fail is vacuous and returns +inf; a lower bound whose hypotheses fail is vacuous and returns 0.
`constants="paper"` is the constant as quoted for the paper (status paper-shape), `constants="derived"` the
sharper one re-derived for this project (machine-checked in proofs_check).

Extreme but valid input never gives NaN: products and quotients are formed from mantissas and binary exponents
separately (`_product`), logarithms of large ratios from sums of logarithms, so a result is +inf only when the
true value exceeds the float range and 0 only when it is below the smallest float (or is 0).
"""
import numpy as np

from .validation import choice, nonnegative, positive

CONSTANTS = ("paper", "derived")

# The constants of THEOREMS.md, named once. proofs_check imports them; the item in brackets proves (or, for a
# paper-shape constant, compares against the derived one) and fails if the constant moves to a false value.
CLASSIC_GD = 2.0                  # T <= 2 L Delta/eps^2                              [CLASSIC-GD]
THM3_PAPER = 20.0                 # 20 L0 Delta/eps^2 + 20 max{1, L1^2} Delta/L0      [ZHSJ-Thm3:quoted]
THM3_DERIVED = 11.16              # 11.16 ... + 11.16 max{0.01, L1^2} Delta/L0        [ZHSJ-Thm3:derived]
THM3_L1_FLOOR = {"paper": 1.0, "derived": 0.01}
THM3_DECREASE_UNCLIPPED = THM3_DERIVED  # unclipped steps lose >= g^2/(11.16 L0)     [ZHSJ-Thm3:decrease-unclipped]
THM3_DECREASE_CLIPPED = 0.8965    # clipped steps lose >= 0.8965 gamma^2 eta_c        [ZHSJ-Thm3:decrease-clipped]
THM4_PAPER = 8.0                  # quoted lower bound (open for L1 >> L0)            [ZHSJ-Thm4:open-question]
THM4_DERIVED = 2.0                # 2 eps^2 log(1 + L1 M/L0) in the denominator       [ZHSJ-Thm4:derived]
THM4_MID = 0.625                  # Delta - 5 eps/8: f_s(+-1) = 5a/8                  [ZHSJ-Thm4:derived, §3.2-f_s]
THM4_FS_CURVATURE = 1.5           # f_s'' <= 3a/2, so a <= 2 L0/3 keeps f_s in class  [§3.2-f_s]
THM6_PAPER = 4.0                  # 4 (M L1 + L0) Delta/eps^2                         [ZHSJ-Thm6:quoted]
THM6_DERIVED = 2.85               # 2.85 (M L1 + L0) Delta/eps^2                      [ZHSJ-Thm6:derived]
NGD_DERIVED = 22.3                # 22.3 L0 Delta/eps^2 + 22.3 max{0.01, L1^2} ...    [NGD-bound]
NGD_L1_FLOOR = 0.01
FACT_M_L1, FACT_M_L0 = 3.0, 2.0   # M <= 3 L1 Delta + sqrt(2 L0 Delta)                [FACT-M]
FACT_M_SHARP_L1, FACT_M_SHARP_L0 = 1.0, 2.0  # M <= L1 Delta + sqrt(2 L0 Delta)       [FACT-M:sharp]
LI_DERIVED = 2.0                  # T <= 2 (L0 + 1.5 L1 G) Delta/eps^2                [LI-constant-step]
# Quoted from later work or shape-only, not derived in THEOREMS.md, so no proofs_check item can fail on them:
# the numbers inside zhsj_thm7_*, zhsj_thm8_shape, vankov_*, gorbunov_convex_shape.


def _args(**named):
    return [nonnegative(n, v) for n, v in named.items()]


def _product(num, den=()):
    """prod(num) / prod(den) for non-negative arrays, without overflow or underflow in the intermediate products:
    mantissas and binary exponents are combined separately, so the result is inf (or 0) only when the true value
    is beyond the float range. A zero in `den` gives inf (0 if `num` has a zero too); callers mask such entries."""
    m, e = np.float64(1.0), 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for v in num:
            mv, ev = np.frexp(np.asarray(v, dtype=float))
            m, e = m * mv, e + ev.astype(np.int64)
        for v in den:
            mv, ev = np.frexp(np.asarray(v, dtype=float))
            m, e = m / mv, e - ev.astype(np.int64)
        m = np.where(np.isnan(m), 0.0, m)  # 0/0: a zero numerator wins (callers mask zero denominators)
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(m, np.clip(e, -(2**30), 2**30).astype(np.int32))


def _log1p_ratio(a, b, c):
    """log(1 + a b / c) for a, b >= 0 and c > 0, finite even where a b / c overflows (then it is the sum of logs)."""
    u = _product([a, b], [c])
    with np.errstate(divide="ignore"):
        big = np.log(a) + np.log(b) - np.log(c)
    return np.where(np.isfinite(u), np.log1p(u), big)


def _scaled_max_term(c, floor, L1, delta, L0):
    """c max{floor, L1^2} delta / L0, with L1^2 never formed (it can overflow while the term is finite)."""
    above = L1 >= np.sqrt(floor)
    return np.where(above, _product([c, L1, L1, delta], [L0]), _product([c, floor, delta], [L0]))


def classic_gd(L, delta, eps):
    """CLASSIC-GD [standard]: for L-smooth f bounded below, GD with h = 1/L has T_eps <= 2 L Delta / eps^2.

    Assumptions: f is L-smooth on all of R^d (global), f* > -inf. Returns 0 when L Delta = 0 (then grad f(x0) = 0),
    +inf when the bound exceeds the float range.
    """
    L, delta = _args(L=L, delta=delta)
    eps = positive("eps", eps)
    return _product([CLASSIC_GD, L, delta], [eps, eps])


def zhsj_thm3_clipped_gd(L0, L1, delta, eps, constants="paper"):
    """ZHSJ-Thm3: clipped GD with eta_c = 1/(10 L0), gamma = min{10 L0, L0/L1} reaches ||grad f|| <= eps within

        paper   [paper-shape]: T_eps <= 20 L0 Delta / eps^2 + 20 max{1, L1^2} Delta / L0
        derived [derived]:     T_eps <= 11.16 L0 Delta / eps^2 + 11.16 max{0.01, L1^2} Delta / L0

    Assumptions: A1 (f* > -inf), A2 (twice differentiable), A3 ((L0,L1)-smooth on the 1-neighbourhood of the
    sublevel set {f <= f(x0)}); A4 is not needed. Vacuous (+inf) when L0 = 0. Returns 0 when Delta = 0 (x0 is
    a minimiser) and +inf when the bound exceeds the float range.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps = positive("eps", eps)
    c = THM3_PAPER if constants == "paper" else THM3_DERIVED
    L0_safe = np.where(L0 > 0, L0, 1.0)
    bound = _product([c, L0, delta], [eps, eps]) + _scaled_max_term(c, THM3_L1_FLOOR[constants], L1, delta, L0_safe)
    return np.where(L0 > 0, bound, np.inf)


def delta_exp(L0, L1, M):
    """Delta_exp(L0, L1, M) = M/L1 - (L0/L1^2) log(1 + L1 M/L0) (THEOREMS.md section 3.3, from section 3.1).

    It is the gap f(x_bar) - f* of f_exp started where |f'| = M, hence the hypothesis Delta >= Delta_exp of the
    derived ZHSJ-Thm4 bound (below it the f_exp member is not in the class of gap Delta). It is also the least
    gap any f with (L0,L1)-smoothness on its sublevel set can have at a point with ||grad f|| = M (gradient-flow
    argument, proofs_check FACT-M:sharp), and it increases in M.

    Computed as (M^2/L0) psi(u) for u = L1 M/L0 <= 1, psi(u) = (u - log1p u)/u^2 (series for small u), and as
    (M/L1)(1 - log1p(u)/u) for u > 1. Limits: L1 = 0 gives M^2/(2 L0), L0 = 0 gives M/L1. Returns 0 when M = 0
    (or the value is below the smallest float), +inf when L0 = L1 = 0 < M (no such function) or on overflow.
    """
    L0, L1, M = _args(L0=L0, L1=L1, M=M)
    u = _product([L1, M], [np.where(L0 > 0, L0, 1.0)])
    u = np.where(L0 > 0, u, np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # psi(u) = sum_k (-1)^k u^k / (k + 2); 20 terms leave an error below 0.1^20 on u < 0.1
        us = np.minimum(u, 0.1)
        series = sum((-us) ** k / (k + 2) for k in range(20))
        um = np.clip(u, 0.1, 1.0)
        psi = np.where(u < 0.1, series, (um - np.log1p(um)) / (um * um))
        small = _product([M, M, psi], [np.where(L0 > 0, L0, 1.0)])
        ub = np.where(np.isfinite(u) & (u > 1), u, 2.0)
        log_u = np.log(np.where(L1 > 0, L1, 1.0)) + np.log(np.where(M > 0, M, 1.0)) - np.log(np.where(L0 > 0, L0, 1.0))
        ratio = np.where(np.isfinite(u), np.log1p(ub) / ub, log_u * np.exp(-log_u))  # log1p(u)/u
        ratio = np.where(L0 > 0, ratio, 0.0)
        large = _product([M, 1.0 - ratio], [np.where(L1 > 0, L1, 1.0)])
    out = np.where(u <= 1, small, large)
    out = np.where((L0 == 0) & (L1 == 0), np.inf, out)
    return np.where(M == 0, 0.0, out)


def zhsj_thm4_gd_lower(L0, L1, M, delta, eps, constants="paper"):
    """ZHSJ-Thm4: for every fixed step h, some f in the class needs at least

        paper   [paper-shape]: T_eps >= L1 M (Delta - 5 eps/8) / (8 eps^2 (log M + 1))
        derived [derived, constructive pair of section 3.3]:
                               T_eps >= L1 M (Delta - 5 eps/8) / (2 eps^2 log(1 + L1 M / L0))

    Class: A1-A4 with L0 >= 1, L1 >= 1, M > 1 (paper form). The derived form needs L0, L1 > 0, a slope a with
    eps < a <= min{M, 2 L0 / 3}, i.e. eps < min{M, 2 L0 / 3}, and Delta >= Delta_exp(L0, L1, M) (`delta_exp`;
    below it the f_exp member has a larger gap than Delta, and proofs_check ZHSJ-Thm4:needs-Delta_exp shows that
    the formula can then exceed what fixed-step GD needs). Outside these hypotheses, or when Delta <= 5 eps / 8,
    the bound is vacuous and 0 is returned; it is also 0 when below the smallest float, +inf on overflow.
    Known gap: for L1 >> L0 the derived log term carries log L1 that the quoted form does not; neither is
    silently preferred.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, M, delta = _args(L0=L0, L1=L1, M=M, delta=delta)
    eps = positive("eps", eps)
    excess = delta - THM4_MID * eps
    excess_pos = np.maximum(excess, 0.0)
    if constants == "paper":
        ok = (L0 >= 1) & (L1 >= 1) & (M > 1)
        log_term = np.log(np.where(ok, M, 1.0)) + 1.0
        bound = _product([L1, M, excess_pos], [THM4_PAPER, eps, eps, log_term])
    else:
        ok = (L0 > 0) & (L1 > 0) & (eps < np.minimum(M, L0 / THM4_FS_CURVATURE))
        ok = ok & (delta >= delta_exp(L0, L1, M))
        L0s = np.where(ok, L0, 1.0)
        u = _product([L1, M], [L0s])
        lg = _log1p_ratio(np.where(ok, L1, 1.0), np.where(ok, M, 1.0), L0s)
        with np.errstate(divide="ignore", invalid="ignore"):
            u_over_log = np.where(u > 0, np.minimum(u, 1.0) / np.log1p(np.minimum(u, 1.0)), 1.0)  # -> 1 as u -> 0
        small = _product([L0, excess_pos, u_over_log], [THM4_DERIVED, eps, eps])  # u <= 1: L1 M/log1p(u) = L0 u/log1p(u)
        large = _product([L1, M, excess_pos], [THM4_DERIVED, eps, eps, np.where(u > 1, lg, 1.0)])
        bound = np.where(u <= 1, small, large)
    return np.where(ok & (excess > 0), bound, 0.0)


def zhsj_thm6_gd(L0, L1, M, delta, eps, constants="paper"):
    """ZHSJ-Thm6: fixed-step GD with h = 1/(2(M L1 + L0)) reaches ||grad f|| <= eps within

        paper   [paper-shape]: T_eps <= 4 (M L1 + L0) Delta / eps^2
        derived [derived]:     T_eps <= 2.85 (M L1 + L0) Delta / eps^2

    Assumptions: A1-A4 on S (M >= sup ||grad f|| over the sublevel set of x0). The step stays in the sublevel set
    for every L1 (proofs_check ZHSJ-Thm6:derived). Vacuous (+inf) when M L1 + L0 = 0. Returns 0 when Delta = 0,
    +inf when the bound exceeds the float range.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, M, delta = _args(L0=L0, L1=L1, M=M, delta=delta)
    eps = positive("eps", eps)
    c = THM6_PAPER if constants == "paper" else THM6_DERIVED
    bound = _product([c, M, L1, delta], [eps, eps]) + _product([c, L0, delta], [eps, eps])
    return np.where(((M > 0) & (L1 > 0)) | (L0 > 0), bound, np.inf)


def ngd_bound(L0, L1, delta, eps):
    """NGD bound [derived by a direct per-step calculation, THEOREMS.md section 3; the route through NGD-equiv
    would need 22.307 and is not the proof]: normalized GD with eta_n = min{1, 1/(10 L1)}, beta = min{10 L0, L0/L1}
    reaches ||grad f|| <= eps within T_eps <= 22.3 L0 Delta / eps^2 + 22.3 max{0.01, L1^2} Delta / L0.

    Assumptions: those of ZHSJ-Thm3 (A1-A3). Vacuous (+inf) when L0 = 0. Returns 0 when Delta = 0, +inf when the
    bound exceeds the float range.
    """
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps = positive("eps", eps)
    L0_safe = np.where(L0 > 0, L0, 1.0)
    bound = _product([NGD_DERIVED, L0, delta], [eps, eps]) + _scaled_max_term(NGD_DERIVED, NGD_L1_FLOOR, L1, delta,
                                                                              L0_safe)
    return np.where(L0 > 0, bound, np.inf)


def li_constant_step_gd(L, delta, eps):
    """LI-constant-step [later: Li, Qian, Tian, Rakhlin, Jadbabaie 2023; constant derived here]: GD with
    h = 1/L, L = L0 + 1.5 L1 G and G = 3 L1 Delta + sqrt(2 L0 Delta) the FACT-M gradient bound (both from
    `steps.li_constant_step`), reaches ||grad f|| <= eps within T_eps <= 2 L Delta / eps^2
    (machine-checked: proofs_check LI-constant-step).

    Assumptions: f (L0,L1)-smooth on all of R^d (FACT-M needs it), f* > -inf. Returns 0 when L Delta = 0, +inf
    when the bound exceeds the float range.
    """
    L, delta = _args(L=L, delta=delta)
    eps = positive("eps", eps)
    return _product([LI_DERIVED, L, delta], [eps, eps])


def ngd_equiv_steps(eta_n, beta, grad_norm):
    """NGD-equiv: with eta_c = eta_n / beta and gamma eta_c = eta_n, the normalized step h_n = eta_n/(g + beta)
    and the clipped step h_c = min{eta_c, gamma eta_c / g} satisfy h_c / 2 <= h_n <= h_c. Returns (h_n, h_c).
    h_c is +inf only on overflow of eta_n/beta; h_n is 0 only when below the smallest float."""
    eta_n, beta = positive("eta_n", eta_n), positive("beta", beta)
    g = nonnegative("grad_norm", grad_norm)
    h_n = (eta_n / 2) / (g / 2 + beta / 2)  # halves: g + beta must not overflow
    with np.errstate(divide="ignore", over="ignore"):
        h_c = np.minimum(eta_n / beta, eta_n / g)
    return h_n, h_c


def fact_m(L0, L1, gap):
    """FACT-M [derived]: for f (L0,L1)-smooth on all of R^d with f* > -inf,
    ||grad f(x)|| <= 3 L1 (f(x) - f*) + sqrt(2 L0 (f(x) - f*)); with gap = Delta this bounds M of A4.

    Proof: the step x - grad f / (L0 + 1.5 L1 g) decreases f by at least g^2 / (2 L0 + 3 L1 g), and that decrease
    cannot exceed f(x) - f*. Returns +inf only on overflow; `fact_m_sharp` is the sharper form.
    """
    L0, L1, gap = _args(L0=L0, L1=L1, gap=gap)
    return _product([FACT_M_L1, L1, gap]) + np.sqrt(FACT_M_L0) * np.sqrt(L0) * np.sqrt(gap)


def fact_m_sharp(L0, L1, gap):
    """FACT-M:sharp [derived here, proofs_check FACT-M:sharp]: ||grad f(x)|| <= L1 (f(x) - f*) + sqrt(2 L0 (f(x) - f*)).

    Assumptions: f* > -inf, f (L0,L1)-smooth on the sublevel set {f <= f(x)} (A3 suffices). Proof: along the
    unit-speed path of -grad f/||grad f|| from x, G = ||grad f|| obeys G' >= -(L0 + L1 G) and f falls at rate G,
    so f(x) - f* >= Delta_exp(L0, L1, ||grad f(x)||) (`delta_exp`); Delta_exp(L0, L1, L1 D + sqrt(2 L0 D)) >= D
    because e^t >= 1 + t + t^2/2. Tight as D -> 0 and as D -> oo (f_exp). Returns +inf only on overflow.
    """
    L0, L1, gap = _args(L0=L0, L1=L1, gap=gap)
    return _product([FACT_M_SHARP_L1, L1, gap]) + np.sqrt(FACT_M_SHARP_L0) * np.sqrt(L0) * np.sqrt(gap)


# -- the stochastic theorems and the results that followed the paper ------------------------------------------

def zhsj_thm7_delta_prime(L0, L1, delta, tau):
    """ZHSJ-Thm7 [paper-shape]: Delta' = Delta + (5 L0 + 2 L1 tau) tau^2 + 9 tau L0^2 / L1 (needs L1 > 0).
    Returns +inf only on overflow."""
    L0, delta, tau = _args(L0=L0, delta=delta, tau=tau)
    L1 = positive("L1", L1)
    return (delta + _product([5.0, L0, tau, tau]) + _product([2.0, L1, tau, tau, tau])
            + _product([9.0, tau, L0, L0], [L1]))


def zhsj_thm7_horizon(L0, L1, delta, tau, eps):
    """ZHSJ-Thm7 [paper-shape]: clipped SGD with the Thm 7 step reaches min_t E||grad f(x_t)|| <= eps (or does so
    with probability >= 1/2) within T = Delta' max{128 L1/eps, 4 Delta'/eps^4, (80 L0 + 512 L1 tau)/eps^2}.

    Assumptions: A1-A3 and A5 (||g_hat - grad f|| <= tau almost surely) globally, L1 > 0. Returns +inf only on
    overflow.
    """
    eps = positive("eps", eps)
    dp = zhsj_thm7_delta_prime(L0, L1, delta, tau)
    L0, L1, tau = (np.asarray(v, float) for v in (L0, L1, tau))
    return np.maximum.reduce([_product([dp, 128.0, L1], [eps]), _product([4.0, dp, dp], [eps, eps, eps, eps]),
                              _product([dp, 80.0, L0], [eps, eps]) + _product([dp, 512.0, L1, tau], [eps, eps])])


def zhsj_thm8_shape(L0, L1, M, delta, tau, eps):
    """ZHSJ-Thm8 (shape only; the paper gives no constant, so c = 1 here and no verdict rests on it):
    T = O(max{(Delta + (L0 + L1 M)(M + tau)^2)^2/eps^4, L1^2 (M + tau)^2}) for SGD with h = min{1/sqrt(T),
    1/(L1 (M + tau))}. Assumptions: those of Thm 7 plus A4. Returns +inf only on overflow."""
    L0, L1, M, delta, tau = _args(L0=L0, L1=L1, M=M, delta=delta, tau=tau)
    eps = positive("eps", eps)
    Mt = M / 2 + tau / 2  # (M + tau)/2: the sum must not overflow
    inner = delta + _product([4.0, L0, Mt, Mt]) + _product([4.0, L1, M, Mt, Mt])
    return np.maximum(_product([inner, inner], [eps, eps, eps, eps]), _product([4.0, L1, L1, Mt, Mt]))


def vankov_nonconvex(L0, L1, delta, eps, a):
    """VANKOV-nonconvex [later: Vankov, Rodomanov, Nedich, Sankar, Stich, ICLR 2025]: with eta*, eta_si (a = 1)
    or eta_cl (a = 1/2), min_{k<=K} ||grad f(x_k)|| <= eps once K + 1 >= 2 L0 D/(a eps^2) + 3 L1 D/(a eps).
    As a bound on T_eps (the first such k): T_eps <= ceil(that) - 1. Assumptions: (L0,L1)-smooth, f* > -inf.
    Returns +inf only on overflow."""
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps, a = positive("eps", eps), positive("a", a)
    total = _product([2.0, L0, delta], [a, eps, eps]) + _product([3.0, L1, delta], [a, eps])
    return np.maximum(np.ceil(total) - 1.0, 0.0)


def vankov_convex(L0, L1, R, delta, eps, a):
    """VANKOV-convex [later, ibid.]: for convex f, f(x_K) - f* <= eps once
    K >= (2/a) L0 R^2/eps + (3/a) L1 R ln(D/eps), R = ||x0 - x*|| (a as in vankov_nonconvex).
    Returns +inf only on overflow."""
    L0, L1, R, delta = _args(L0=L0, L1=L1, R=R, delta=delta)
    eps, a = positive("eps", eps), positive("a", a)
    with np.errstate(divide="ignore"):
        log_term = np.maximum(np.log(delta) - np.log(eps), 0.0)  # log(D) - log(eps): D/eps can overflow
    return np.ceil(_product([2.0, L0, R, R], [a, eps]) + _product([3.0, L1, R, log_term], [a]))


def gorbunov_convex_shape(L0, L1, R, eps):
    """GORBUNOV-convex [later: Gorbunov et al., ICLR 2025] (shape, c = 1): for convex f, x+ = x - eta grad f /
    (L0 + L1 ||grad f||) reaches f - f* <= eps within O(L0 R^2/eps + L1^2 R^2). Returns +inf only on overflow."""
    L0, L1, R = _args(L0=L0, L1=L1, R=R)
    eps = positive("eps", eps)
    return _product([L0, R, R], [eps]) + _product([L1, L1, R, R])
