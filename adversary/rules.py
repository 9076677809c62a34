"""The step rules the adversary searches with: the open runner's rules (clipcheck.synthetic.rules), one definition
for the search, its replay and the runner, plus the one rule the runner has no name for.

The search runs the rule on the fly (online.py), so it takes rules that move along the gradient: a Rule with a
step function (PROTOCOL.md: step(gnorm, state, q, t) -> h), not the momentum rules.
"""
from clipcheck.synthetic.rules import RULES as RUNNER_RULES
from clipcheck.synthetic.rules import Param, Rule


def thm6_step(gnorm, state, q, t):
    """ZHSJ-Thm6 fixed step h = 1 / (2 (M L1 + L0)) with the declared gradient bound M, q = (L0, L1, M)."""
    return 1.0 / (2.0 * (q[2] * q[1] + q[0]))


# Parameters that, when a rule takes them and the caller leaves them out, are the class constants.
CLASS_CONSTANTS = ("L0", "L1")
# A rule parameter with this name is a declared bound on sup |f'| over the sublevel set (A4): the adversary
# rejects every instance whose true bound exceeds it.
DECLARED_M = "M"

RULES = {r.name: r for r in (
    Rule("gd-thm6", thm6_step, (Param("L0", domain="nonnegative"), Param("L1", domain="nonnegative"), Param("M")),
         reference="ZHSJ-Thm6 step from the declared M (the runner's gd with h = steps.zhsj_thm6_step)"),
)}


def resolve(rule):
    """A Rule the search can run: a name of the runner's rules or of RULES above, or a Rule record with a step
    function. ValueError naming `rule` otherwise."""
    if isinstance(rule, str):
        found = RULES.get(rule) or RUNNER_RULES.get(rule)
        if found is None:
            names = ", ".join(map(repr, list(RUNNER_RULES) + list(RULES)))
            raise ValueError(f"rule must be a Rule or one of {names}; got {rule!r}")
        rule = found
    if not isinstance(rule, Rule):
        raise ValueError(f"rule must be a clipcheck.synthetic Rule or a rule name; got {rule!r}")
    if rule.scales is not None or rule.step is None:
        raise ValueError(f"rule: {rule.name!r} moves along a momentum; the adversary searches rules that step "
                         "along the gradient (step(gnorm, state, q, t) -> h)")
    if any(v != 0.0 for v in rule.init_state):
        raise ValueError(f"rule: {rule.name!r} starts from a nonzero state; the search starts every rule at zero")
    return rule
