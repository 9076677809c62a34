"""The parameter rules the theorems prescribe (THEOREMS.md section 2 and 3). Scalars in, scalars out."""
import numpy as np

from .validation import nonnegative, positive


def classic_gd_step(L):
    """CLASSIC-GD: h = 1/L for an L-smooth function (L > 0)."""
    return 1.0 / float(positive("L", L))


def zhsj_thm3_params(L0, L1):
    """ZHSJ-Thm3 [paper]: eta_c = 1/(10 L0), gamma = min{1/eta_c, 1/(10 L1 eta_c)} = min{10 L0, L0/L1}.

    Returns (eta_c, gamma). Needs L0 > 0; L1 = 0 gives gamma = 10 L0 (the L0/L1 term is +inf).
    The clipped step is h_c = min{eta_c, gamma eta_c / ||g||}, so a step is never longer than gamma * eta_c.
    """
    L0 = float(positive("L0", L0))
    L1 = float(nonnegative("L1", L1))
    eta_c = 1.0 / (10.0 * L0)
    gamma = 10.0 * L0 if L1 == 0 else min(10.0 * L0, L0 / L1)
    return eta_c, gamma


def zhsj_thm6_step(L0, L1, M):
    """ZHSJ-Thm6 [paper]: fixed step h = 1/(2(M L1 + L0)); needs M L1 + L0 > 0."""
    L0, L1, M = (float(nonnegative(n, v)) for n, v in (("L0", L0), ("L1", L1), ("M", M)))
    if M * L1 + L0 <= 0:
        raise ValueError("L0 must be > 0 when M * L1 = 0 (the Thm 6 step 1/(2(M L1 + L0)) is undefined)")
    return 1.0 / (2.0 * (M * L1 + L0))


def ngd_params(L0, L1):
    """NGD bound [derived]: eta_n = min{1, 1/(10 L1)}, beta = min{10 L0, L0/L1} (needs L0 > 0).

    These are the NGD-equiv images of the Thm 3 parameters: eta_n / beta = 1/(10 L0) = eta_c and beta = gamma.
    """
    L0 = float(positive("L0", L0))
    L1 = float(nonnegative("L1", L1))
    if L1 == 0:
        return 1.0, 10.0 * L0
    return min(1.0, 1.0 / (10.0 * L1)), min(10.0 * L0, L0 / L1)


def clipped_equivalent_of_normalized(eta_n, beta):
    """NGD-equiv: the clipped-GD parameters (eta_c, gamma) = (eta_n / beta, beta), so that gamma eta_c = eta_n."""
    eta_n = float(positive("eta_n", eta_n))
    beta = float(positive("beta", beta))
    return eta_n / beta, beta


def torch_clip_to_zhsj(lr, max_norm):
    """PyTorch's clip_grad_norm_(max_norm) then SGD(lr) steps lr * min{1, c/||g||} * g: eta_c = lr, gamma = c."""
    return float(positive("lr", lr)), float(positive("max_norm", max_norm))


def zhsj_thm4_critical_step(L0, L1, M):
    """h* = 2 log(1 + L1 M / L0) / (L1 M) (section 3.1): on f_exp from the point with |f'| = M, GD with h = h*
    is the 2-cycle x_bar <-> -x_bar, and any h > h* diverges. Needs L0, L1, M > 0."""
    L0, L1, M = (float(positive(n, v)) for n, v in (("L0", L0), ("L1", L1), ("M", M)))
    return 2.0 * np.log1p(L1 * M / L0) / (L1 * M)


def li_constant_step(L0, L1, delta):
    """LI-constant-step [later: Li, Qian, Tian, Rakhlin, Jadbabaie 2023; constant derived here]:
    h = 1/(L0 + 1.5 L1 G) with G = 3 L1 D + sqrt(2 L0 D), the FACT-M gradient bound on {f <= f(x0)}.
    Every iterate stays in that set, where ||grad f|| <= G, so h <= 1/(L0 + 1.5 L1 g) = eta_si(g); the
    LEMMA-sharp model is convex in the step, so the FACT-M decrease at eta_si gives f(x+) <= f(x) - h g^2/2 and
    T_eps <= 2 L D / eps^2 with L = L0 + 1.5 L1 G (machine-checked: proofs_check LI-constant-step; the 1/2 is
    tight as g -> 0 and 1.5 may drop to 4/3). Returns (h, L)."""
    L0, L1, delta = (float(nonnegative(n, v)) for n, v in (("L0", L0), ("L1", L1), ("delta", delta)))
    G = 3.0 * L1 * delta + float(np.sqrt(2.0 * L0 * delta))
    L = L0 + 1.5 * L1 * G
    if L <= 0:
        raise ValueError("L0 must be > 0 when L1 G = 0 (the step 1/(L0 + 1.5 L1 G) is undefined)")
    return 1.0 / L, L
