"""The one result record of a run (in the spirit of scipy's OptimizeResult)."""
import enum
from dataclasses import dataclass, field

import numpy as np


class Status(enum.IntEnum):
    """How an instance's run ended."""

    CONVERGED = 0  # reached the target (||grad f|| <= eps, or f - f* <= eps); `iterations` is T_eps
    BUDGET = 1     # max_iter steps taken without reaching it: T_eps > max_iter (a censored value)
    DIVERGED = 2   # f or grad f overflowed to inf/NaN: T_eps = inf


CONVERGED, BUDGET, DIVERGED = Status.CONVERGED, Status.BUDGET, Status.DIVERGED
STATUS_NAMES = {s.value: s.name.lower() for s in Status}


@dataclass
class RunResult:
    """Per-instance outcome of `clipcheck.synthetic.run`, one entry per row of x0.

    iterations      int64: T_eps when converged (x0 counts as t = 0); otherwise the iterations taken (max_iter,
                    or the step at which f or grad f overflowed). With stop="never", the first t that met the
                    target (status CONVERGED) although the run went on to max_iter.
    status          int8 codes of Status: CONVERGED (0), BUDGET (1), DIVERGED (2).
    f_final         f at the last iterate evaluated (inf or NaN after divergence).
    grad_norm_final ||grad f|| there (the true gradient, also under noise).
    x_final         (n, d) the last iterate.
    meta            what was run: function(s), rule and parameters, noise, eps, max_iter, backend, versions.
    trace           None, or when `record` was given: {"t": (K,) iterations, "f": (n, K), "grad_norm": (n, K),
                    "x": (n, K, d)}, NaN where an instance had stopped before that iteration.
    """

    iterations: np.ndarray
    status: np.ndarray
    f_final: np.ndarray
    grad_norm_final: np.ndarray
    x_final: np.ndarray = None
    meta: dict = field(default_factory=dict)
    trace: dict = None

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
        """JSON-ready: non-finite numbers become None (JSON has no inf or NaN)."""
        def clean(values):
            return [float(v) if np.isfinite(v) else None for v in np.ravel(values)]
        d = {"iterations": self.iterations.tolist(), "status": [STATUS_NAMES[int(s)] for s in self.status],
             "f_final": clean(self.f_final), "grad_norm_final": clean(self.grad_norm_final), "meta": self.meta}
        if self.trace is not None:
            d["trace"] = {"t": self.trace["t"].tolist(),
                          "f": [clean(r) for r in self.trace["f"]],
                          "grad_norm": [clean(r) for r in self.trace["grad_norm"]]}
        return d
