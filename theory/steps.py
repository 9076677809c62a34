"""The parameter rules the theorems prescribe (THEOREMS.md section 2 and 3). Scalars in, scalars out.

Every rule is computed in a form that cannot overflow in an intermediate step: a result is +inf only when the
true value exceeds the float range and 0 only when it is below the smallest float; each docstring says where.
"""
import math

import numpy as np

from . import bounds
from .validation import nonnegative, positive

# The step constants of THEOREMS.md, named once (proofs_check imports them; the item in brackets fails when one
# moves to a value for which the theorem's constant no longer follows).
CLASSIC_GD_STEP = 1.0   # h = 1/(1 L)                                                   [CLASSIC-GD]
THM3_ETA_DIV = 10.0     # eta_c = 1/(10 L0)                                             [ZHSJ-Thm3:*]
THM3_GAMMA_DIV = 10.0   # gamma = min{1/eta_c, 1/(10 L1 eta_c)} = min{10 L0, L0/L1}     [ZHSJ-Thm3:*]
THM6_STEP_DIV = 2.0     # h = 1/(2 (M L1 + L0))                                         [ZHSJ-Thm6:derived]
THM4_HSTAR = 2.0        # h* = 2 log(1 + L1 M/L0)/(L1 M)                                [§3.1-f_exp, ZHSJ-Thm4:derived]
LI_STEP_L1 = 1.5        # h = 1/(L0 + 1.5 L1 G)                                         [LI-constant-step]


def _scalar(name, value, check):
    """One finite number, validated by `check` (nonnegative or positive); arrays are refused by name."""
    arr = check(name, value)
    if np.ndim(arr) != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape {np.shape(arr)}")
    return float(arr)


def classic_gd_step(L):
    """CLASSIC-GD: h = 1/L for an L-smooth function (L > 0). +inf when 1/L exceeds the float range."""
    L = _scalar("L", L, positive)
    with np.errstate(over="ignore"):
        return float(np.float64(1.0 / CLASSIC_GD_STEP) / np.float64(L))


def zhsj_thm3_params(L0, L1):
    """ZHSJ-Thm3 [paper]: eta_c = 1/(10 L0), gamma = min{1/eta_c, 1/(10 L1 eta_c)} = min{10 L0, L0/L1}.

    Returns (eta_c, gamma). Needs L0 > 0; L1 = 0 gives gamma = 10 L0 (the L0/L1 term is +inf).
    The clipped step is h_c = min{eta_c, gamma eta_c / ||g||}, so a step is never longer than gamma * eta_c <= 1.
    eta_c is +inf when 1/(10 L0) exceeds the float range (L0 below about 5.6e-310) and never 0; gamma is +inf
    when 10 L0 exceeds it (then no step is clipped) and 0 only when L0 min{10, 1/L1} is below the smallest float.
    """
    L0 = _scalar("L0", L0, positive)
    L1 = _scalar("L1", L1, nonnegative)
    with np.errstate(over="ignore", divide="ignore"):
        eta_c = float(np.float64(1.0 / THM3_ETA_DIV) / np.float64(L0))
        # gamma = L0 min{A, (A/G)/L1}: the constants are divided first, so G L1 cannot overflow
        cap = min(THM3_ETA_DIV, float(np.float64(THM3_ETA_DIV / THM3_GAMMA_DIV) / np.float64(L1)))
        gamma = float(np.float64(L0) * np.float64(cap))
    return eta_c, gamma


def _inverse_sum(*terms):
    """1 / (sum of the products of each term's non-negative factors), the sum > 0. When the sum overflows it is
    formed scaled by 2^-64 (then >= 1e289, every product finite) and the result scaled back."""
    total = sum(float(bounds._product(t)) for t in terms)
    with np.errstate(over="ignore", divide="ignore"):
        if math.isfinite(total):
            return float(np.float64(1.0) / np.float64(total))
        scaled = sum(float(bounds._product(list(t) + [2.0**-64])) for t in terms)
        return float(np.ldexp(1.0 / scaled, -64))


def zhsj_thm6_step(L0, L1, M):
    """ZHSJ-Thm6 [paper]: fixed step h = 1/(2(M L1 + L0)); needs M L1 + L0 > 0. The step is 0 only when it is
    below the smallest float (M L1 + L0 above about 1e308 * 2^74)."""
    L0, L1, M = (_scalar(n, v, nonnegative) for n, v in (("L0", L0), ("L1", L1), ("M", M)))
    if not (L0 > 0 or (M > 0 and L1 > 0)):
        raise ValueError("L0 must be > 0 when M * L1 = 0 (the Thm 6 step 1/(2(M L1 + L0)) is undefined)")
    return _inverse_sum([THM6_STEP_DIV, M, L1], [THM6_STEP_DIV, L0])


def ngd_params(L0, L1):
    """NGD bound [derived]: eta_n = min{1, 1/(10 L1)}, beta = min{10 L0, L0/L1} (needs L0 > 0).

    These are the NGD-equiv images of the Thm 3 parameters, computed from them: beta = gamma and
    eta_n = gamma eta_c = min{1, 1/(10 L1)}, so eta_n / beta = eta_c. beta is +inf when 10 L0 exceeds the float
    range; eta_n is never 0 or inf.
    """
    L0 = _scalar("L0", L0, positive)
    L1 = _scalar("L1", L1, nonnegative)
    _, gamma = zhsj_thm3_params(L0, L1)
    with np.errstate(divide="ignore", over="ignore"):
        eta_n = min(1.0, float(np.float64(1.0 / THM3_GAMMA_DIV) / np.float64(L1)))
    return eta_n, gamma


def clipped_equivalent_of_normalized(eta_n, beta):
    """NGD-equiv: the clipped-GD parameters (eta_c, gamma) = (eta_n / beta, beta), so that gamma eta_c = eta_n.
    eta_c is +inf or 0 only when eta_n / beta is beyond the float range."""
    eta_n = _scalar("eta_n", eta_n, positive)
    beta = _scalar("beta", beta, positive)
    with np.errstate(over="ignore", under="ignore"):
        return float(np.float64(eta_n) / np.float64(beta)), beta


def torch_clip_to_zhsj(lr, max_norm):
    """PyTorch's clip_grad_norm_(max_norm) then SGD(lr) steps lr * min{1, c/||g||} * g: eta_c = lr, gamma = c."""
    return _scalar("lr", lr, positive), _scalar("max_norm", max_norm, positive)


def zhsj_thm4_critical_step(L0, L1, M):
    """h* = 2 log(1 + L1 M / L0) / (L1 M) (section 3.1): on f_exp from the point with |f'| = M, GD with h = h*
    is the 2-cycle x_bar <-> -x_bar, and any h > h* diverges. Needs L0, L1, M > 0.

    Computed as (2/L0) log1p(u)/u for u = L1 M/L0 <= 1 and from log(L1) + log(M) - log(L0) when u overflows;
    +inf when h* exceeds the float range, 0 when it is below the smallest float."""
    L0, L1, M = (_scalar(n, v, positive) for n, v in (("L0", L0), ("L1", L1), ("M", M)))
    u = float(bounds._product([L1, M], [L0]))
    if u <= 1:
        ratio = math.log1p(u) / u if u > 0 else 1.0  # log1p(u)/u -> 1 as u -> 0
        return float(bounds._product([THM4_HSTAR, ratio], [L0]))
    return float(bounds._product([THM4_HSTAR, bounds._log1p_ratio(L1, M, L0)], [L1, M]))


def li_constant_step(L0, L1, delta):
    """LI-constant-step [later: Li, Qian, Tian, Rakhlin, Jadbabaie 2023; constant derived here]:
    h = 1/(L0 + 1.5 L1 G) with G = 3 L1 D + sqrt(2 L0 D), the FACT-M gradient bound on {f <= f(x0)}.
    Every iterate stays in that set, where ||grad f|| <= G, so h <= 1/(L0 + 1.5 L1 g) = eta_si(g); the
    LEMMA-sharp model is convex in the step, so the FACT-M decrease at eta_si gives f(x+) <= f(x) - h g^2/2 and
    T_eps <= 2 L D / eps^2 with L = L0 + 1.5 L1 G (`bounds.li_constant_step_gd`; machine-checked: proofs_check
    LI-constant-step; the 1/2 is tight as g -> 0 and 1.5 may drop to 4/3). Returns (h, L); L is +inf (and h is
    computed without it) when it exceeds the float range, h is 0 only when below the smallest float."""
    L0, L1, delta = (_scalar(n, v, nonnegative) for n, v in (("L0", L0), ("L1", L1), ("delta", delta)))
    G = float(bounds.fact_m(L0, L1, delta))
    if not (L0 > 0 or (L1 > 0 and G > 0)):
        raise ValueError("L0 must be > 0 when L1 G = 0 (the step 1/(L0 + 1.5 L1 G) is undefined)")
    L = float(bounds._product([LI_STEP_L1, L1, G])) + L0
    if math.isfinite(G):
        return _inverse_sum([L0], [LI_STEP_L1, L1, G]), L
    # G overflowed; G 2^-64 = fact_m(L0 2^-64, L1, D 2^-64) (both of its terms scale linearly in (L0, D))
    G_scaled = float(bounds.fact_m(L0 * 2.0**-64, L1, delta * 2.0**-64))
    with np.errstate(over="ignore", divide="ignore"):
        return float(np.ldexp(1.0 / (L0 * 2.0**-64 + float(bounds._product([LI_STEP_L1, L1, G_scaled]))), -64)), L


def zhsj_thm7_eta(L0, L1, tau, T):
    """ZHSJ-Thm7 [paper]: eta = min{1/(20 L0), 1/(128 L1 tau), 1/sqrt(T)} for clipped SGD with the step
    min{1/(16 eta L1 (||g|| + tau)), eta} over T iterations (A1-A3, A5: ||g_hat - grad f|| <= tau a.s.). A term
    whose denominator is 0 drops out (its bound is +inf)."""
    L0, L1, tau = (_scalar(n, v, nonnegative) for n, v in (("L0", L0), ("L1", L1), ("tau", tau)))
    T = _scalar("T", T, positive)
    terms = [1.0 / math.sqrt(T)] + ([1.0 / (20.0 * L0)] if L0 > 0 else [])
    if L1 > 0 and tau > 0:
        terms.append(float(bounds._product([1.0], [128.0, L1, tau])))
    return min(terms)


def zhsj_thm8_step(L1, M, tau, T):
    """ZHSJ-Thm8 [paper]: the fixed SGD step h = min{1/sqrt(T), 1/(L1 (M + tau))} (A1-A5; only the shape of its
    bound is known, THEOREMS.md 3). A zero denominator drops its term."""
    L1, M, tau = (_scalar(n, v, nonnegative) for n, v in (("L1", L1), ("M", M), ("tau", tau)))
    T = _scalar("T", T, positive)
    terms = [1.0 / math.sqrt(T)]
    if L1 > 0 and M + tau > 0:
        terms.append(float(bounds._product([1.0], [L1, M + tau])))
    return min(terms)
