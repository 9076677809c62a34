"""The one result record of a batch run (in the spirit of scipy's OptimizeResult)."""
from dataclasses import dataclass, field

import numpy as np

CONVERGED = 0   # reached ||grad f|| <= eps; `iterations` is T_eps
BUDGET = 1      # max_iter steps taken without reaching eps; T_eps > max_iter
DIVERGED = 2    # grad f (or the iterate) overflowed to inf/NaN; T_eps = inf
STATUS_NAMES = {CONVERGED: "converged", BUDGET: "budget exhausted", DIVERGED: "diverged"}


@dataclass
class RunResult:
    """Per-instance outcome of `synthetic.run`, one entry per row of x0.

    iterations      int64: T_eps when converged; the iterations taken (max_iter, or the step that overflowed)
                    otherwise. x0 counts as t = 0.
    status          int8: CONVERGED (0), BUDGET (1), DIVERGED (2).
    f_final         f at the last iterate (inf or NaN after divergence).
    grad_norm_final ||grad f|| at the last iterate.
    meta            what was run: family, rule, parameters, eps, max_iter.
    """

    iterations: np.ndarray
    status: np.ndarray
    f_final: np.ndarray
    grad_norm_final: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def converged(self):
        return self.status == CONVERGED

    def t_eps(self):
        """T_eps as floats: the count when converged, +inf when diverged. A budget stop is a censored value:
        T_eps > max_iter, returned as max_iter + 1 (a valid lower bound, never a valid upper bound)."""
        t = self.iterations.astype(float)
        t = np.where(self.status == BUDGET, t + 1.0, t)
        return np.where(self.status == DIVERGED, np.inf, t)

    def to_dict(self):
        return {
            "iterations": self.iterations.tolist(),
            "status": [STATUS_NAMES[int(s)] for s in self.status],
            "f_final": [float(v) for v in self.f_final],
            "grad_norm_final": [float(v) for v in self.grad_norm_final],
            "meta": self.meta,
        }
