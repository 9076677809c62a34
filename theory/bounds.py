"""One vectorised function per claim id of THEOREMS.md. Each returns iteration bounds (or gradient bounds) as
floats broadcast over its arguments.

Conventions: T_eps is the first t >= 0 with ||grad f(x_t)|| <= eps (x0 counts as t = 0); Delta = f(x0) - f*.
Bad input (negative constants, eps <= 0, NaN/inf) raises ValueError naming the argument. An upper bound whose
hypotheses fail is vacuous and returns +inf; a lower bound whose hypotheses fail is vacuous and returns 0.
`constants="paper"` is the constant as quoted for the paper (status paper-shape), `constants="derived"` the
sharper one re-derived for this project (machine-checked in proofs_check).
"""
import numpy as np

from .validation import choice, nonnegative, positive

CONSTANTS = ("paper", "derived")

# The constants of THEOREMS.md, named once.
THM3_PAPER = 20.0
THM3_DERIVED = 11.16
THM3_L1_FLOOR = {"paper": 1.0, "derived": 0.01}
THM4_PAPER = 8.0
THM4_DERIVED = 2.0
THM6_PAPER = 4.0
THM6_DERIVED = 2.85
NGD_DERIVED = 22.3


def _args(**named):
    return [nonnegative(n, v) for n, v in named.items()]


def classic_gd(L, delta, eps):
    """CLASSIC-GD [standard]: for L-smooth f bounded below, GD with h = 1/L has T_eps <= 2 L Delta / eps^2.

    Assumptions: f is L-smooth on all of R^d (global), f* > -inf.
    """
    L, delta = _args(L=L, delta=delta)
    eps = positive("eps", eps)
    return 2.0 * L * delta / eps**2


def zhsj_thm3_clipped_gd(L0, L1, delta, eps, constants="paper"):
    """ZHSJ-Thm3: clipped GD with eta_c = 1/(10 L0), gamma = min{10 L0, L0/L1} reaches ||grad f|| <= eps within

        paper   [paper-shape]: T_eps <= 20 L0 Delta / eps^2 + 20 max{1, L1^2} Delta / L0
        derived [derived]:     T_eps <= 11.16 L0 Delta / eps^2 + 11.16 max{0.01, L1^2} Delta / L0

    Assumptions: A1 (f* > -inf), A2 (twice differentiable), A3 ((L0,L1)-smooth on the 1-neighbourhood of the
    sublevel set {f <= f(x0)}); A4 is not needed. Vacuous (+inf) when L0 = 0.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps = positive("eps", eps)
    c = THM3_PAPER if constants == "paper" else THM3_DERIVED
    floor = THM3_L1_FLOOR[constants]
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = c * L0 * delta / eps**2 + c * np.maximum(floor, L1**2) * delta / L0
    return np.where(L0 > 0, bound, np.inf)


def zhsj_thm4_gd_lower(L0, L1, M, delta, eps, constants="paper"):
    """ZHSJ-Thm4: for every fixed step h, some f in the class needs at least

        paper   [paper-shape]: T_eps >= L1 M (Delta - 5 eps/8) / (8 eps^2 (log M + 1))
        derived [derived, constructive pair of section 3.3]:
                               T_eps >= L1 M (Delta - 5 eps/8) / (2 eps^2 log(1 + L1 M / L0))

    Class: A1-A4 with L0 >= 1, L1 >= 1, M > 1 (paper form). The derived form needs L0, L1 > 0 and a slope a with
    eps < a <= min{M, 2 L0 / 3}, i.e. eps < min{M, 2 L0 / 3}. Outside these hypotheses, or when
    Delta <= 5 eps / 8, the bound is vacuous and 0 is returned. Known gap: for L1 >> L0 the derived log term
    carries log L1 that the quoted form does not; neither is silently preferred.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, M, delta = _args(L0=L0, L1=L1, M=M, delta=delta)
    eps = positive("eps", eps)
    excess = delta - 5.0 * eps / 8.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if constants == "paper":
            ok = (L0 >= 1) & (L1 >= 1) & (M > 1)
            bound = L1 * M * excess / (THM4_PAPER * eps**2 * (np.log(np.where(ok, M, 1.0)) + 1.0))
        else:
            ok = (L0 > 0) & (L1 > 0) & (eps < np.minimum(M, 2.0 * L0 / 3.0))
            bound = L1 * M * excess / (THM4_DERIVED * eps**2 * np.log1p(L1 * M / np.where(ok, L0, 1.0)))
    return np.where(ok & (excess > 0), bound, 0.0)


def zhsj_thm6_gd(L0, L1, M, delta, eps, constants="paper"):
    """ZHSJ-Thm6: fixed-step GD with h = 1/(2(M L1 + L0)) reaches ||grad f|| <= eps within

        paper   [paper-shape]: T_eps <= 4 (M L1 + L0) Delta / eps^2
        derived [derived]:     T_eps <= 2.85 (M L1 + L0) Delta / eps^2

    Assumptions: A1-A4 on S (M = sup ||grad f|| over the sublevel set of x0). The step stays in S when L1 >= 1/2;
    otherwise its length is <= M / (2 L0). Vacuous (+inf) when M L1 + L0 = 0.
    """
    choice("constants", constants, CONSTANTS)
    L0, L1, M, delta = _args(L0=L0, L1=L1, M=M, delta=delta)
    eps = positive("eps", eps)
    c = THM6_PAPER if constants == "paper" else THM6_DERIVED
    L = M * L1 + L0
    return np.where(L > 0, c * L * delta / eps**2, np.inf)


def ngd_bound(L0, L1, delta, eps):
    """NGD bound [derived from NGD-equiv]: normalized GD with eta_n = min{1, 1/(10 L1)}, beta = min{10 L0, L0/L1}
    reaches ||grad f|| <= eps within T_eps <= 22.3 L0 Delta / eps^2 + 22.3 max{0.01, L1^2} Delta / L0.

    Assumptions: those of ZHSJ-Thm3 (A1-A3). Vacuous (+inf) when L0 = 0.
    """
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps = positive("eps", eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = NGD_DERIVED * L0 * delta / eps**2 + NGD_DERIVED * np.maximum(0.01, L1**2) * delta / L0
    return np.where(L0 > 0, bound, np.inf)


def ngd_equiv_steps(eta_n, beta, grad_norm):
    """NGD-equiv: with eta_c = eta_n / beta and gamma eta_c = eta_n, the normalized step h_n = eta_n/(g + beta)
    and the clipped step h_c = min{eta_c, gamma eta_c / g} satisfy h_c / 2 <= h_n <= h_c. Returns (h_n, h_c)."""
    eta_n, beta = positive("eta_n", eta_n), positive("beta", beta)
    g = nonnegative("grad_norm", grad_norm)
    h_n = eta_n / (g + beta)
    with np.errstate(divide="ignore"):
        h_c = np.minimum(eta_n / beta, eta_n / g)
    return h_n, h_c


def fact_m(L0, L1, gap):
    """FACT-M [derived]: for f (L0,L1)-smooth on all of R^d with f* > -inf,
    ||grad f(x)|| <= 3 L1 (f(x) - f*) + sqrt(2 L0 (f(x) - f*)); with gap = Delta this bounds M of A4.

    Proof: the step x - grad f / (L0 + 1.5 L1 g) decreases f by at least g^2 / (2 L0 + 3 L1 g), and that decrease
    cannot exceed f(x) - f*.
    """
    L0, L1, gap = _args(L0=L0, L1=L1, gap=gap)
    return 3.0 * L1 * gap + np.sqrt(2.0 * L0 * gap)


# -- the stochastic theorems and the results that followed the paper ------------------------------------------

def zhsj_thm7_delta_prime(L0, L1, delta, tau):
    """ZHSJ-Thm7 [paper-shape]: Delta' = Delta + (5 L0 + 2 L1 tau) tau^2 + 9 tau L0^2 / L1 (needs L1 > 0)."""
    L0, delta, tau = _args(L0=L0, delta=delta, tau=tau)
    L1 = positive("L1", L1)
    return delta + (5.0 * L0 + 2.0 * L1 * tau) * tau**2 + 9.0 * tau * L0**2 / L1


def zhsj_thm7_horizon(L0, L1, delta, tau, eps):
    """ZHSJ-Thm7 [paper-shape]: clipped SGD with the Thm 7 step reaches min_t E||grad f(x_t)|| <= eps (or does so
    with probability >= 1/2) within T = Delta' max{128 L1/eps, 4 Delta'/eps^4, (80 L0 + 512 L1 tau)/eps^2}.

    Assumptions: A1-A3 and A5 (||g_hat - grad f|| <= tau almost surely) globally, L1 > 0.
    """
    eps = positive("eps", eps)
    dp = zhsj_thm7_delta_prime(L0, L1, delta, tau)
    L0, L1, tau = (np.asarray(v, float) for v in (L0, L1, tau))
    return dp * np.maximum.reduce([128.0 * L1 / eps, 4.0 * dp / eps**4, (80.0 * L0 + 512.0 * L1 * tau) / eps**2])


def zhsj_thm8_shape(L0, L1, M, delta, tau, eps):
    """ZHSJ-Thm8 (shape only; the paper gives no constant, so c = 1 here and no verdict rests on it):
    T = O(max{(Delta + (L0 + L1 M)(M + tau)^2)^2/eps^4, L1^2 (M + tau)^2}) for SGD with h = min{1/sqrt(T),
    1/(L1 (M + tau))}. Assumptions: those of Thm 7 plus A4."""
    L0, L1, M, delta, tau = _args(L0=L0, L1=L1, M=M, delta=delta, tau=tau)
    eps = positive("eps", eps)
    return np.maximum((delta + (L0 + L1 * M) * (M + tau) ** 2) ** 2 / eps**4, L1**2 * (M + tau) ** 2)


def vankov_nonconvex(L0, L1, delta, eps, a):
    """VANKOV-nonconvex [later: Vankov, Rodomanov, Nedich, Sankar, Stich, ICLR 2025]: with eta*, eta_si (a = 1)
    or eta_cl (a = 1/2), min_{k<=K} ||grad f(x_k)|| <= eps once K + 1 >= 2 L0 D/(a eps^2) + 3 L1 D/(a eps).
    As a bound on T_eps (the first such k): T_eps <= ceil(that) - 1. Assumptions: (L0,L1)-smooth, f* > -inf."""
    L0, L1, delta = _args(L0=L0, L1=L1, delta=delta)
    eps, a = positive("eps", eps), positive("a", a)
    return np.maximum(np.ceil(2.0 * L0 * delta / (a * eps**2) + 3.0 * L1 * delta / (a * eps)) - 1.0, 0.0)


def vankov_convex(L0, L1, R, delta, eps, a):
    """VANKOV-convex [later, ibid.]: for convex f, f(x_K) - f* <= eps once
    K >= (2/a) L0 R^2/eps + (3/a) L1 R ln(D/eps), R = ||x0 - x*|| (a as in vankov_nonconvex)."""
    L0, L1, R, delta = _args(L0=L0, L1=L1, R=R, delta=delta)
    eps, a = positive("eps", eps), positive("a", a)
    with np.errstate(divide="ignore"):
        log_term = np.maximum(np.log(delta / eps), 0.0)
    return np.ceil((2.0 / a) * L0 * R**2 / eps + (3.0 / a) * L1 * R * log_term)


def gorbunov_convex_shape(L0, L1, R, eps):
    """GORBUNOV-convex [later: Gorbunov et al., ICLR 2025] (shape, c = 1): for convex f, x+ = x - eta grad f /
    (L0 + L1 ||grad f||) reaches f - f* <= eps within O(L0 R^2/eps + L1^2 R^2)."""
    L0, L1, R = _args(L0=L0, L1=L1, R=R)
    eps = positive("eps", eps)
    return L0 * R**2 / eps + L1**2 * R**2
