"""Stochastic and post-paper step rules, as plain scalar functions (see rng.py for why register_jitable).

Every rule moves x <- x - h_m m - h_g g_hat, where g_hat is the oracle gradient and m the momentum
m <- beta_t m + (1 - beta_t) g_hat (only rules with momentum keep m). `momentum(rule, q, t)` gives beta_t and
`scales(rule, q, m_norm, g_norm, t, tau)` gives (h_m, h_g) at iteration t = 0, 1, ... from the rule's parameters
q (a small float array, names in STOCHASTIC_RULES) and the oracle's noise bound tau. The deterministic rules of
rules.py ("gd", "clipped", "normalized") run here too, with the oracle gradient in place of the gradient.
"""
import math

import numpy as np
from numba.extending import register_jitable

from clipcheck.theory.validation import keywords, nonnegative, positive

from . import rules

_deterministic_step = register_jitable(rules.step_size)  # the same source as synthetic/cpu.py compiles

SGD = 10          # h = h                                               (Thm 8 step: thm8_step)
CLIPPED_SGD = 11  # h = min{1/(16 eta L1 (||g_hat|| + tau)), eta}       (Thm 7, as printed: eta inside)
L0L1_GD = 12      # h = eta / (L0 + L1 ||g_hat||)                       (smoothed clipping, Gorbunov et al.)
VANKOV_STAR = 13  # h = ln(1 + L1 g/(L0 + L1 g)) / (L1 g)               (Vankov et al. eta*)
VANKOV_SI = 14    # h = 1 / (L0 + 1.5 L1 g)                             (Vankov et al. eta_si)
VANKOV_CL = 15    # h = min{1/(2 L0), 1/(3 L1 g)}                       (Vankov et al. eta_cl)
MOMENTUM_CLIP = 16  # m = beta m + (1-beta) g_hat; x -= eta/(1 + eta||m||/gamma) m   (ZJFW, nu = 1)
MIXED_CLIP = 17   # x -= nu eta/(1 + eta||m||/gamma) m + (1-nu) eta/(1 + eta||g_hat||/gamma) g_hat   (ZJFW)
NSGD_M = 18       # beta_t = 1 - t^{-1/2}; x -= eta0 t^{-3/4} m/||m||, t = k + 1   (Hubler et al.)
TORCH_CLIP = 19   # x -= lr min{1, max_norm/||g_hat||} g_hat: clip_grad_norm_ then SGD; eta_c = lr, gamma = max_norm

STOCHASTIC_RULES = {"sgd": ("h",), "clipped-sgd": ("eta", "L1"), "l0l1-gd": ("eta", "L0", "L1"),
                    "vankov-star": ("L0", "L1"), "vankov-si": ("L0", "L1"), "vankov-cl": ("L0", "L1"),
                    "momentum-clip": ("eta", "gamma", "beta"), "mixed-clip": ("eta", "gamma", "beta", "nu"),
                    "nsgd-m": ("eta0",), "torch-clip": ("lr", "max_norm")}
RULE_IDS = {"sgd": SGD, "clipped-sgd": CLIPPED_SGD, "l0l1-gd": L0L1_GD, "vankov-star": VANKOV_STAR,
            "vankov-si": VANKOV_SI, "vankov-cl": VANKOV_CL, "momentum-clip": MOMENTUM_CLIP,
            "mixed-clip": MIXED_CLIP, "nsgd-m": NSGD_M, "torch-clip": TORCH_CLIP, **rules.RULES}
ALL_PARAMS = {**rules.RULE_PARAMS, **STOCHASTIC_RULES}
# Defaults from the papers: ZJFW use beta = 0.9 (and nu = 0.7 in their mixed runs); Hubler et al. eta_t = t^{-3/4}/7.
DEFAULTS = {"momentum-clip": {"beta": 0.9}, "mixed-clip": {"beta": 0.9, "nu": 0.7}, "nsgd-m": {"eta0": 1.0 / 7.0}}
MOMENTUM_RULES = (MOMENTUM_CLIP, MIXED_CLIP, NSGD_M)
_NONNEGATIVE = ("L0", "L1")  # may be 0 (but not both: checked in check_params)
_UNIT = {"beta": (0.0, 1.0, False), "nu": (0.0, 1.0, True)}  # beta in [0, 1), nu in [0, 1]


@register_jitable
def momentum(rule, q, t):
    """beta_t of the rules with momentum (0 otherwise)."""
    if rule == MOMENTUM_CLIP or rule == MIXED_CLIP:
        return q[2]
    if rule == NSGD_M:
        return 1.0 - 1.0 / math.sqrt(t + 1.0)
    return 0.0


@register_jitable
def _over(a, b):
    """a / b for a > 0, b >= 0, with a/0 = inf (a denominator can underflow to 0, e.g. L1 g with tiny L1)."""
    return a / b if b > 0.0 else math.inf


@register_jitable
def _step(rule, q, g, tau):
    """h of the rules without momentum at oracle norm g > 0 (the move is -h g_hat)."""
    if rule < SGD:
        return _deterministic_step(rule, q[0], q[1], q[2], g)
    if rule == SGD:
        return q[0]
    if rule == CLIPPED_SGD:
        return min(_over(1.0, 16.0 * q[0] * q[1] * (g + tau)), q[0])
    if rule == L0L1_GD:
        return _over(q[0], q[1] + q[2] * g)
    if rule == VANKOV_STAR:
        u = q[1] * g
        return _over(1.0, q[0]) if u == 0.0 else math.log1p(u / (q[0] + u)) / u
    if rule == VANKOV_SI:
        return _over(1.0, q[0] + 1.5 * q[1] * g)
    if rule == VANKOV_CL:
        return min(_over(1.0, 2.0 * q[0]), _over(1.0, 3.0 * q[1] * g))
    if rule == TORCH_CLIP:
        return q[0] * min(1.0, q[1] / g)
    return -1.0


@register_jitable
def scales(rule, q, m_norm, g_norm, t, tau):
    """(h_m, h_g): the move is -(h_m m + h_g g_hat); zero where the vector it multiplies is zero."""
    if rule == MOMENTUM_CLIP or rule == MIXED_CLIP:
        eta, gamma = q[0], q[1]
        nu = 1.0 if rule == MOMENTUM_CLIP else q[3]
        return nu * eta / (1.0 + eta * m_norm / gamma), (1.0 - nu) * eta / (1.0 + eta * g_norm / gamma)
    if rule == NSGD_M:
        return (0.0 if m_norm == 0.0 else q[0] * (t + 1.0) ** -0.75 / m_norm), 0.0
    return 0.0, (0.0 if g_norm == 0.0 else _step(rule, q, g_norm, tau))


def check_params(rule, params):
    """The rule's parameter values in order (each a scalar or an array), after defaults and validation."""
    names = ALL_PARAMS[rule]
    given = {**DEFAULTS.get(rule, {}), **params}
    keywords(f"rule {rule!r}", names, given)
    out = []
    for p in names:
        if p in _UNIT and rule in STOCHASTIC_RULES:  # (normalized GD's beta is a positive offset)
            lo, hi, closed = _UNIT[p]
            v = nonnegative(p, given[p])
            if np.any(v > hi) or (not closed and np.any(v == hi)):
                raise ValueError(f"{p} must be in [{lo}, {hi}{']' if closed else ')'}, got {given[p]!r}")
        elif p in _NONNEGATIVE:
            v = nonnegative(p, given[p])
        else:
            v = positive(p, given[p])
        out.append(v)
    if "L0" in names and "L1" in names:
        if np.any(out[names.index("L0")] + out[names.index("L1")] == 0):
            raise ValueError(f"L0 and L1 must not both be 0 for rule {rule!r}")
    return out


# -- the parameters the theorems prescribe -------------------------------------------------------------------

def thm7_eta(L0, L1, tau, T):
    """ZHSJ-Thm7 [paper]: eta = min{1/(20 L0), 1/(128 L1 tau), 1/sqrt(T)} (terms with a zero denominator drop)."""
    L0, L1, tau = (float(nonnegative(n, v)) for n, v in (("L0", L0), ("L1", L1), ("tau", tau)))
    T = float(positive("T", T))
    terms = [1.0 / np.sqrt(T)] + ([1.0 / (20.0 * L0)] if L0 > 0 else []) + (
        [1.0 / (128.0 * L1 * tau)] if L1 * tau > 0 else [])
    return min(terms)


def thm8_step(L1, M, tau, T):
    """ZHSJ-Thm8 [paper]: fixed SGD step h = min{1/sqrt(T), 1/(L1 (M + tau))}."""
    L1, M, tau = (float(nonnegative(n, v)) for n, v in (("L1", L1), ("M", M), ("tau", tau)))
    T = float(positive("T", T))
    return min(1.0 / np.sqrt(T), np.inf if L1 * (M + tau) == 0 else 1.0 / (L1 * (M + tau)))


def torch_to_zhsj(lr, max_norm):
    """torch.nn.utils.clip_grad_norm_(max_norm) then SGD(lr): eta_c = lr, gamma = max_norm (THEOREMS.md 2)."""
    return float(positive("lr", lr)), float(positive("max_norm", max_norm))
