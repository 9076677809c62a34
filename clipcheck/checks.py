"""A user's own bound check: run a rule on a function from start points and compare T_eps with a bound.

check_upper_bound returns rows like those of `clipcheck verify` (measured, bound, ratio, verdict per instance,
and the worst one), so a user's theorem about their own function or rule is checked the same way as the paper's.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from .claims import HOLDS, INCONCLUSIVE, VIOLATED
from .synthetic import BUDGET, CONVERGED, Function, run
from .synthetic.run import MAX_ITER
from .theory.validation import as_finite, positive, strict_number


@dataclass
class UpperBoundCheck:
    """The outcome of check_upper_bound.

    verdict   "holds" when every instance reached eps within its bound; "VIOLATED" when one needed more (the
              instance is in `worst`, enough to rerun it); "inconclusive" when a run was cut by max_iter below its
              bound. A violation on a function whose certificate is only claimed is reported, with a note: it
              refutes the bound or the claimed certificate.
    rows      one dict per instance: x0, eps, delta, measured (T_eps), bound, ratio, status
    worst     the row that decides the verdict (largest ratio, or the first violation)
    """

    name: str
    verdict: str
    rows: list
    worst: dict
    certificate: str
    notes: list = field(default_factory=list)

    @property
    def holds(self):
        return self.verdict == HOLDS

    def to_dict(self):
        return {"name": self.name, "verdict": self.verdict, "worst": self.worst, "rows": self.rows,
                "certificate": self.certificate, "notes": self.notes}

    def plot(self, path):
        """Measured T_eps against the bound for every instance (log-log, the diagonal is ratio 1)."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        b = np.array([r["bound"] for r in self.rows])
        m = np.array([r["measured"] for r in self.rows])
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(b, m, "o", label="instances")
        lo, hi = min(b.min(), m.min()), max(b.max(), m.max())
        ax.loglog([lo, hi], [lo, hi], "k--", lw=1, label="measured = bound")
        ax.set_xlabel("bound on T_eps")
        ax.set_ylabel("measured T_eps")
        ax.set_title(f"{self.name}: {self.verdict}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return str(path)


def _instances(function, instances):
    """[(x0 as (d,) array, eps)] from a sequence of (x0, eps) pairs."""
    out = []
    for k, item in enumerate(instances):
        try:
            x0, eps = item
        except (TypeError, ValueError):
            raise ValueError(f"instances: item {k} must be a pair (x0, eps), got {item!r}") from None
        x0 = np.atleast_1d(as_finite("instances x0", strict_number("instances x0", x0))).astype(float)
        if function.dim is not None and x0.shape != (function.dim,):
            raise ValueError(f"instances: x0 of item {k} must have {function.dim} entries, got shape {x0.shape}")
        out.append((x0, float(positive("instances eps", eps))))
    if not out:
        raise ValueError("instances must not be empty")
    dims = {x.size for x, _ in out}
    if len(dims) > 1:
        raise ValueError("instances: every x0 must have the same dimension")
    return out


def check_upper_bound(function, rule, rule_params, bound, instances, *, max_iter=MAX_ITER, name=None, **run_options):
    """Check "T_eps <= bound(delta, eps)" for `rule` (a name or a Rule, with its parameters `rule_params`) on
    `function` from each (x0, eps) of `instances`, where delta = f(x0) - f* (f* from the function; without it,
    bound receives nan). Each run gets a budget of ceil(bound) + 1 steps, so a budget stop is a violation;
    max_iter caps it (a cap below the bound makes the row inconclusive). run_options go to synthetic.run
    (noise, tau, seed, backend, math). Returns an UpperBoundCheck."""
    if not isinstance(function, Function):
        raise ValueError(f"function must be a clipcheck.synthetic.Function, got {type(function).__name__}")
    if not callable(bound):
        raise ValueError("bound must be a function bound(delta, eps) -> the bound on T_eps")
    items = _instances(function, instances)
    X0 = np.array([x for x, _ in items])
    eps = np.array([e for _, e in items])
    f0 = function.value(X0)
    delta = f0 - function.f_star if math.isfinite(function.f_star) else np.full(len(items), math.nan)
    bounds = np.array([float(bound(d, e)) for d, e in zip(delta, eps)])
    if np.any(np.isnan(bounds)) or np.any(bounds < 0):
        raise ValueError("bound returned a negative or NaN value")
    budgets = np.minimum(np.ceil(np.minimum(bounds, 2.0**62)) + 1, float(max_iter)).astype(np.int64)
    res = run(function, rule, X0, eps, budgets, **dict(rule_params or {}), **run_options)
    measured = res.t_eps()
    rows = []
    for i, (x0, e) in enumerate(items):
        ok = res.status[i] == CONVERGED and measured[i] <= bounds[i]
        cut = res.status[i] == BUDGET and budgets[i] <= bounds[i]
        rows.append({"x0": x0.tolist(), "eps": e, "delta": float(delta[i]), "measured": float(measured[i]),
                     "bound": float(bounds[i]), "ratio": float(measured[i] / bounds[i]) if bounds[i] > 0 else math.inf,
                     "status": int(res.status[i]), "verdict": HOLDS if ok else (INCONCLUSIVE if cut else VIOLATED)})
    failing = [r for r in rows if r["verdict"] == VIOLATED]
    unknown = [r for r in rows if r["verdict"] == INCONCLUSIVE]
    verdict = VIOLATED if failing else (INCONCLUSIVE if unknown else HOLDS)
    worst = failing[0] if failing else (unknown[0] if unknown else max(rows, key=lambda r: r["ratio"]))
    notes = []
    if failing and "claimed" in function.certificate:
        notes.append("the function's certificate is only claimed: the violation refutes the bound or the claim "
                     "(check it with clipcheck.synthetic.certify)")
    label = name or f"{getattr(rule, 'name', rule)} on {function.name}"
    return UpperBoundCheck(label, verdict, rows, worst, function.certificate, notes)
