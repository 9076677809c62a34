"""The step rules the adversary simulates, in the rule protocol of the open runner (PROTOCOL.md):

    step(gnorm, state, q, t) -> h      the iterate moves by -h * gradient

gnorm > 0 is the gradient norm, state a float array of `state_size` entries the rule may update, q the rule's
parameters in the order of `params`, t the step index. Plain scalar Python: compiled by the search with
numba.njit, run as Python by the replay. Any object with the fields name, step, params and state_size (the open
runner's Rule records, once they land) can be passed to `worst_case` in place of a name.
"""
from dataclasses import dataclass

from numba.extending import register_jitable


@register_jitable
def gd_step(gnorm, state, q, t):
    """GD: h = q0 (fixed step)."""
    return q[0]


@register_jitable
def clipped_step(gnorm, state, q, t):
    """Clipped GD (ZHSJ section 2): h = min{eta_c, gamma eta_c / ||g||}, q = (eta_c, gamma)."""
    if gnorm <= q[1]:
        return q[0]
    return q[1] * q[0] / gnorm


@register_jitable
def normalized_step(gnorm, state, q, t):
    """Normalized GD: h = eta_n / (||g|| + beta), q = (eta_n, beta)."""
    return q[0] / (gnorm + q[1])


@register_jitable
def thm6_step(gnorm, state, q, t):
    """ZHSJ-Thm6 fixed step h = 1 / (2 (M L1 + L0)) with the declared gradient bound M, q = (L0, L1, M)."""
    return 1.0 / (2.0 * (q[2] * q[1] + q[0]))


@dataclass(frozen=True)
class AdversaryRule:
    """A step rule: name, scalar step function, names of its parameters, size of its state."""

    name: str
    step: object
    params: tuple
    state_size: int = 0


RULES = {r.name: r for r in (
    AdversaryRule("gd", gd_step, ("h",)),
    AdversaryRule("clipped", clipped_step, ("eta_c", "gamma")),
    AdversaryRule("normalized", normalized_step, ("eta_n", "beta")),
    AdversaryRule("gd-thm6", thm6_step, ("L0", "L1", "M")),
)}

# Parameters that, when a rule takes them and the caller leaves them out, are the class constants.
CLASS_CONSTANTS = ("L0", "L1")
# A rule parameter with this name is a declared bound on sup |f'| over the sublevel set (A4): the adversary
# rejects every instance whose true bound exceeds it.
DECLARED_M = "M"
