"""Step rules, written once as plain scalar Python (compiled for CPU and CUDA like the profiles).

`step_size(rule, q0, q1, q2, g)` is the step h > 0 the rule takes at gradient norm g > 0; the iterate moves by
-h * grad f. A rule's parameters are the small float vector (q0, q1, q2); RULE_PARAMS names them.
"""
GD = 0          # h = h                                  (q0 = h)
CLIPPED = 1     # h = min{eta_c, gamma eta_c / g}        (q0 = eta_c, q1 = gamma), ZHSJ section 2
NORMALIZED = 2  # h = eta_n / (g + beta)                 (q0 = eta_n, q1 = beta)

RULES = {"gd": GD, "clipped": CLIPPED, "normalized": NORMALIZED}
RULE_PARAMS = {"gd": ("h",), "clipped": ("eta_c", "gamma"), "normalized": ("eta_n", "beta")}


def step_size(rule, q0, q1, q2, g):
    if rule == GD:
        return q0
    if rule == CLIPPED:
        return min(q0, q1 * q0 / g)
    if rule == NORMALIZED:
        return q0 / (g + q1)
    return -1.0
