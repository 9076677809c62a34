"""Step rules: one record and one scalar step function each (the rule protocol of PROTOCOL.md).

A rule moves the iterate by -h * g_hat, where g_hat is the gradient estimate (the gradient itself without noise)
and h = step(gnorm, state, q, t): gnorm = ||g_hat||, state a float array of `state_size` entries the rule may
update, q the parameter values in the order of `params`, t the step index 0, 1, ...
Rules with momentum keep m <- beta_t m + (1 - beta_t) g_hat (m_0 = g_hat_0) and move by -(h_m m + h_g g_hat)
with (h_m, h_g) = scales(mnorm, gnorm, state, q, t) and beta_t = momentum(q, t).

Step functions are plain scalar Python (PROTOCOL.md): the kernel factory compiles them for the CPU lanes, CUDA
and the Python reference. To add a rule, add its step function and its record to RULES below (one file).
"""
import math
from dataclasses import dataclass, field

import numpy as np

from clipcheck.theory.validation import as_finite, strict_number

from . import mathfns as mf


@dataclass(frozen=True)
class Param:
    """A rule parameter: its name, default (None: required) and domain."""

    name: str
    default: float = None
    domain: str = "positive"   # "positive" (> 0), "nonnegative" (>= 0), "unit" ([0, 1)), "closed-unit" ([0, 1]),
                               # "any" (finite: a user's rule judges its own parameters)

    def check(self, value):
        """value (scalar or array) validated for this domain; ValueError naming the parameter. A Python float or int
        in the domain comes back as a float (the common case, without NumPy's costs per call), anything else as an
        array."""
        if (type(value) is float or (type(value) is int and abs(value) <= 2**53)) and math.isfinite(value) and \
                self._inside(float(value)):
            return float(value)
        arr = as_finite(self.name, strict_number(self.name, value))
        if not np.all(self._inside(arr)):
            text = {"positive": "> 0", "nonnegative": ">= 0", "unit": "in [0, 1)", "closed-unit": "in [0, 1]"}
            raise ValueError(f"{self.name} must be {text[self.domain]}, got {value!r}")
        return arr

    def _inside(self, v):
        """Whether the finite v (a float, or an array elementwise) is in the domain."""
        if self.domain == "any":
            return True
        lo_ok = v > 0 if self.domain == "positive" else v >= 0
        hi_ok = v < 1 if self.domain == "unit" else (v <= 1 if self.domain == "closed-unit" else True)
        return lo_ok & hi_ok


@dataclass(frozen=True, eq=False)
class Rule:
    """A step rule: name, scalar step function, parameters (with defaults and domains), state size.

    step         step(gnorm, state, q, t) -> h (ignored when `scales` is given)
    momentum     beta(q, t) -> beta_t, for rules that move along a momentum m
    scales       scales(mnorm, gnorm, state, q, t) -> (h_m, h_g)
    init_state   the state at t = 0 (zeros when empty)
    reads_tau    a parameter named tau defaults to the oracle's noise bound of the run
    """

    name: str
    step: object
    params: tuple = ()
    state_size: int = 0
    momentum: object = None
    scales: object = None
    init_state: tuple = ()
    reference: str = ""
    constraint: object = None  # constraint(values: dict) -> None or an error message
    reads_tau: bool = False

    @property
    def param_names(self):
        return tuple(p.name for p in self.params)

    def values(self, given, tau=None):
        """The parameter values in order, validated: defaults filled, missing or unknown names refused."""
        names = self.param_names
        for k in given:
            if k not in names:
                raise ValueError(f"{k} is not a parameter of rule {self.name!r} "
                                 f"(it takes {', '.join(names) or 'no parameters'})")
        values = {}
        for p in self.params:
            if p.name in given:
                values[p.name] = p.check(given[p.name])
            elif p.name == "tau" and self.reads_tau and tau is not None:
                values[p.name] = p.check(tau)
            elif p.default is not None:
                values[p.name] = p.check(p.default)
            else:
                raise ValueError(f"{p.name} is required by rule {self.name!r}")
        if self.constraint is not None:
            problem = self.constraint(values)
            if problem:
                raise ValueError(problem)
        return [values[n] for n in names]

    @classmethod
    def from_numba(cls, step, params=None, state_size=0, name=None, init_state=None):
        """A user's rule: step(gnorm, state, q, t) -> h, an njit (or plain scalar) function; params maps each
        parameter name to its default (None: required), in the order of q; state_size floats of state
        (zeros at t = 0 unless init_state is given). Parameters must be finite; their sign is the rule's
        business."""
        if not callable(step):
            raise ValueError(f"step must be a function step(gnorm, state, q, t) -> h, got {type(step).__name__}")
        params = dict(params or {})
        for k in params:
            if not isinstance(k, str) or not k.isidentifier():
                raise ValueError(f"params: parameter names must be identifiers, got {k!r}")
        state_size = int(strict_number("state_size", state_size))
        if state_size < 0:
            raise ValueError(f"state_size must be >= 0, got {state_size}")
        init = tuple(float(v) for v in (init_state or ()))
        if init and len(init) != state_size:
            raise ValueError(f"init_state must have state_size = {state_size} entries, got {len(init)}")
        label = name or getattr(step, "__name__", "user rule")
        return cls(label, step, tuple(Param(k, v, "any") for k, v in params.items()), state_size,
                   init_state=init, reference="user-defined")


def _over(a, b):
    """a / b with a / 0 = inf (a denominator such as L1 g can underflow to 0)."""
    return a / b if b > 0.0 else math.inf


# -- deterministic rules of the paper (ZHSJ section 2) -----------------------------------------------------

def gd(gnorm, state, q, t):
    """h = h."""
    return q[0]


def clipped(gnorm, state, q, t):
    """h = min{eta_c, gamma eta_c / ||g||} (ZHSJ's parametrisation)."""
    return min(q[0], q[1] * q[0] / gnorm)


def normalized(gnorm, state, q, t):
    """h = eta_n / (||g|| + beta)."""
    return q[0] / (gnorm + q[1])


# -- stochastic and later rules (THEOREMS.md 3, 5) ------------------------------------------------------

def clipped_sgd(gnorm, state, q, t):
    """ZHSJ-Thm7, as printed (eta inside the first denominator): min{1/(16 eta L1 (||g|| + tau)), eta}."""
    return min(_over(1.0, 16.0 * q[0] * q[1] * (gnorm + q[2])), q[0])


def clipped_sgd_outer(gnorm, state, q, t):
    """ZHSJ-Thm7 read without the inner eta (clipcheck's reading): min{1/(16 L1 (||g|| + tau)), eta}."""
    return min(_over(1.0, 16.0 * q[1] * (gnorm + q[2])), q[0])


def l0l1_gd(gnorm, state, q, t):
    """Smoothed clipping (Gorbunov et al. 2025): eta / (L0 + L1 ||g||)."""
    return _over(q[0], q[1] + q[2] * gnorm)


def vankov_star(gnorm, state, q, t):
    """Vankov et al. eta* = ln(1 + L1 g/(L0 + L1 g)) / (L1 g)."""
    u = q[1] * gnorm
    if u == 0.0:
        return _over(1.0, q[0])
    return mf.log1p(u / (q[0] + u)) / u


def vankov_si(gnorm, state, q, t):
    """Vankov et al. eta_si = 1 / (L0 + 1.5 L1 g)."""
    return _over(1.0, q[0] + 1.5 * q[1] * gnorm)


def vankov_cl(gnorm, state, q, t):
    """Vankov et al. eta_cl = min{1/(2 L0), 1/(3 L1 g)}."""
    return min(_over(1.0, 2.0 * q[0]), _over(1.0, 3.0 * q[1] * gnorm))


def torch_clip(gnorm, state, q, t):
    """clip_grad_norm_(max_norm) then SGD(lr): lr min{1, max_norm / ||g||}."""
    return q[0] * min(1.0, q[1] / gnorm)


def momentum_constant(q, t):
    """beta_t = beta (ZJFW momentum clipping; parameter 3)."""
    return q[2]


def momentum_clip_scales(mnorm, gnorm, state, q, t):
    """ZJFW (nu = 1): x -= eta/(1 + eta ||m||/gamma) m."""
    return q[0] / (1.0 + q[0] * mnorm / q[1]), 0.0


def mixed_clip_scales(mnorm, gnorm, state, q, t):
    """ZJFW: x -= nu eta/(1 + eta||m||/gamma) m + (1 - nu) eta/(1 + eta||g||/gamma) g."""
    nu = q[3]
    return nu * q[0] / (1.0 + q[0] * mnorm / q[1]), (1.0 - nu) * q[0] / (1.0 + q[0] * gnorm / q[1])


def nsgd_m_momentum(q, t):
    """Hubler et al.: beta_t = 1 - (t + 1)^(-1/2) (so beta_0 = 0)."""
    return 1.0 - 1.0 / math.sqrt(t + 1.0)


def nsgd_m_scales(mnorm, gnorm, state, q, t):
    """Hubler et al.: x -= eta0 (t + 1)^(-3/4) m / ||m||."""
    return (0.0 if mnorm == 0.0 else q[0] * (t + 1.0) ** -0.75 / mnorm), 0.0


def _not_both_zero(values):
    if np.any(values["L0"] + values["L1"] == 0):
        return "L0 and L1 must not both be 0"
    return None


def _p(name, default=None, domain="positive"):
    return Param(name, default, domain)


_L0L1 = (_p("L0", domain="nonnegative"), _p("L1", domain="nonnegative"))
_MOMENTUM = (_p("eta"), _p("gamma"), _p("beta", 0.9, "unit"))

RULES = {r.name: r for r in (
    Rule("gd", gd, (_p("h"),), reference="GD, THEOREMS.md 2"),
    Rule("clipped", clipped, (_p("eta_c"), _p("gamma")), reference="ZHSJ section 2 (clipped GD)"),
    Rule("normalized", normalized, (_p("eta_n"), _p("beta")), reference="ZHSJ section 2 (normalized GD)"),
    Rule("sgd", gd, (_p("h"),), reference="ZHSJ-Thm8 (fixed-step SGD)"),
    Rule("clipped-sgd", clipped_sgd, (_p("eta"), _p("L1"), _p("tau", domain="nonnegative")), reads_tau=True,
         reference="ZHSJ-Thm7, step as printed (eta inside the first denominator)"),
    Rule("clipped-sgd-outer", clipped_sgd_outer, (_p("eta"), _p("L1"), _p("tau", domain="nonnegative")),
         reads_tau=True, reference="ZHSJ-Thm7 without the inner eta (clipcheck's reading)"),
    Rule("l0l1-gd", l0l1_gd, (_p("eta"),) + _L0L1, constraint=_not_both_zero,
         reference="Gorbunov et al. (ICLR 2025)"),
    Rule("vankov-star", vankov_star, _L0L1, constraint=_not_both_zero, reference="Vankov et al. (ICLR 2025)"),
    Rule("vankov-si", vankov_si, _L0L1, constraint=_not_both_zero, reference="Vankov et al. (ICLR 2025)"),
    Rule("vankov-cl", vankov_cl, _L0L1, constraint=_not_both_zero, reference="Vankov et al. (ICLR 2025)"),
    Rule("momentum-clip", None, _MOMENTUM, momentum=momentum_constant, scales=momentum_clip_scales,
         reference="Zhang, Jin, Fang, Wang (NeurIPS 2020), nu = 1"),
    Rule("mixed-clip", None, _MOMENTUM + (_p("nu", 0.7, "closed-unit"),), momentum=momentum_constant,
         scales=mixed_clip_scales, reference="Zhang, Jin, Fang, Wang (NeurIPS 2020)"),
    Rule("nsgd-m", None, (_p("eta0", 1.0 / 7.0),), momentum=nsgd_m_momentum, scales=nsgd_m_scales,
         reference="Hubler, Yang, Li, He (AISTATS 2024)"),
    Rule("torch-clip", torch_clip, (_p("lr"), _p("max_norm")),
         reference="torch.nn.utils.clip_grad_norm_ then SGD: eta_c = lr, gamma = max_norm"),
)}


def get(rule):
    """A Rule from a name of RULES or a Rule; ValueError otherwise."""
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, str) and rule in RULES:
        return RULES[rule]
    raise ValueError(f"rule must be a Rule or one of {', '.join(map(repr, RULES))}; got {rule!r}")


# -- adapters the kernel template calls (every rule as momentum + scales) ---------------------------------

def step_scales(mnorm, gnorm, state, q, t):
    """Rules without momentum: (0, step); STEP is bound by the kernel factory to the rule's step function."""
    return 0.0, STEP(gnorm, state, q, t)  # noqa: F821 (bound when pasted)


def no_momentum(q, t):
    return 0.0


@dataclass(frozen=True)
class Parts:
    """What the kernel template binds for a rule."""

    scales: object
    momentum: object
    bindings: dict = field(default_factory=dict)


def parts(rule):
    if rule.scales is not None:
        return Parts(rule.scales, rule.momentum or no_momentum)
    return Parts(step_scales, no_momentum, {"STEP": rule.step})
