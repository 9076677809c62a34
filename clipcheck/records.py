"""Rows, verdicts and claim records of `clipcheck verify`: the bottom module every claim module imports (it imports
none of them).

A claim is a record (DESIGN.md, "The main job"). `Claim` is what the registry lists: compute(settings) -> (rows,
data) and plot(data, folder) -> file name. An upper bound is described by `UpperBound` and its `BoundRow`s: the
rule, its parameters, the bound and the constant, with the statement rendered from that constant as it is when the
row is made, so that no row can state one number while checking another. `upper_verdict` decides every upper-bound
row alike.
"""
import math
from dataclasses import asdict, dataclass, field

from clipcheck.theory import bounds as _bounds

# Verdicts. Upper bounds and facts: holds / VIOLATED. Lower bounds: demonstrated / not demonstrated by this
# construction (a finding, never a failure). Certificates: certified / NOT CERTIFIED.
HOLDS, VIOLATED = "holds", "VIOLATED"
INCONCLUSIVE = "inconclusive (budget cap reached below the bound)"
DEMONSTRATED, NOT_DEMONSTRATED = "demonstrated", "not demonstrated by this construction"
CERTIFIED, NOT_CERTIFIED = "certified", "NOT CERTIFIED"
NOT_REFUTED = "not refuted (no proof within the budget)"  # a certificate neither proved nor refuted
REFUTED, MISSED_FALSE = "refuted, as expected", "CHECKER MISSED A FALSE CERTIFICATE"  # negative controls
SHAPE_ONLY = "shape only (no constant claimed)"
MEASURED = "measured (no bound claimed)"
FAILING = {VIOLATED, NOT_CERTIFIED, MISSED_FALSE}

STATUS_LABELS = {
    "paper": "as stated in the paper",
    "paper-shape": "paper's constant (as quoted)",
    "derived": "derived for clipcheck",
    "later": "beyond the paper",
    "standard": "standard result",
    "clipcheck": "clipcheck's reading (not the printed statement)",
    "shape": "shape only (the paper gives no constant)",
}

# An adversarial instance (a float computation from start to end) violates a bound only when it needs more than
# (1 + ADVERSARY_SLACK) times it: a bound that is tight in a limit (CLASSIC-GD at T = 1) is met within rounding.
ADVERSARY_SLACK = 1e-9


@dataclass
class Row:
    """One line of the report.

    measured / bound / ratio: for upper bounds the T_eps of the deciding instance, the bound there and their ratio
    (<= 1 holds); for lower bounds the best-tuned T_eps over the step grid, the bound and the ratio (>= 1
    demonstrates); for facts and certificates the worst left/right ratio (<= 1 holds).
    instance: the instance that decides the verdict (the counterexample when VIOLATED).
    censored: measured is a budget the run did not finish within (the true value is larger: "> measured").
    columns: for rows whose measured / bound / ratio are not a measurement against a bound, what each holds.
    constant, needed_constant, adversarial_ratio (upper bounds): the constant checked, (measured / bound) x that
    constant at the deciding instance (the smallest constant this check would reject), and the worst ratio the
    adversary's certified instances reached.
    """

    id: str
    status: str
    statement: str
    params: dict
    measured: float
    bound: float
    ratio: float
    verdict: str
    instance: dict = field(default_factory=dict)
    figure: str = ""
    note: str = ""
    censored: bool = False
    columns: dict = field(default_factory=dict)
    constant: float = math.nan
    needed_constant: float = math.nan
    adversarial_ratio: float = math.nan

    @property
    def failed(self):
        return self.verdict in FAILING

    @property
    def is_upper_bound(self):
        return not math.isnan(self.constant)

    def to_dict(self):
        d = asdict(self)
        if not self.is_upper_bound:  # the constant columns belong to upper-bound rows only
            for k in ("constant", "needed_constant", "adversarial_ratio"):
                del d[k]
        d["status_label"] = STATUS_LABELS.get(self.status, self.status)
        d["failed"] = self.failed
        return d


@dataclass
class Claim:
    """A registry entry: `compute(settings) -> (rows, data)`; `plot(data, folder) -> file name or ""`.
    constants() -> {name: value} of the constants its rows check (part of its cache key: a moved constant is a
    different computation)."""

    id: str
    title: str
    compute: callable
    plot: callable = None
    settings: dict = field(default_factory=dict)  # {"quick": {...}, "full": {...}}
    constants: callable = dict
    weight: float = 1.0  # rough seconds of a cold quick run: when claims run side by side, the longest start first


# -- upper bounds ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Constant:
    """The constant of a bound: `name` in `source`, theory.bounds by default (or a dict), read whenever it is used,
    so that a row checks and states the number its bound function computes with, also after it moved."""

    name: str
    source: object = None

    def __call__(self):
        source = _bounds if self.source is None else self.source
        return float(source[self.name] if isinstance(source, dict) else getattr(source, self.name))


@dataclass(frozen=True)
class Context:
    """What a bound and a rule's parameters depend on, for one instance: the class (L0, L1), eps, Delta = f(x0) -
    f*, and M: a bound on ||grad f|| over the sublevel set {f <= f(x0)} (declared by the adversary, computed for the
    catalogue's instances; None where the row needs none)."""

    L0: float
    L1: float
    eps: float
    delta: float
    M: float = None


@dataclass(frozen=True)
class BoundRow:
    """One row of an upper bound: `label` (row id suffix; "" for a claim of one row), the constant's status, the
    constant, the statement (a format string: {c} is the constant, {floor} etc. come from `fields`), the runner's
    rule with params(ctx) -> its parameters (not depending on Delta: the adversary fixes them before it builds an
    instance), bound(ctx) -> the bound on T_eps, M(L0, L1, eps, function, x0) -> the context's M for a catalogue
    instance (None when the row needs none), and fields() -> the statement's other fields."""

    label: str
    status: str
    constant: Constant
    statement: str
    rule: str
    params: callable
    bound: callable
    M: callable = None
    fields: callable = dict

    def render(self):
        """The statement with the constant (and the fields) as they are now."""
        return self.statement.format(c=self.constant(), **self.fields())


@dataclass(frozen=True)
class UpperBound:
    """An upper-bound claim: its rows; catalogue(settings) -> [(function, x0, info, L0, L1, eps)], the instances it
    runs on (None: the class instances of the settings); the stopping rule of its runs ("grad": T_eps of the
    gradient, the adversary's measure too; "gap": f - f* <= eps); shape_only: a bound without a claimed constant
    (c = 1), whose rows report the implied constant and never fail."""

    id: str
    title: str
    rows: tuple
    catalogue: callable = None
    stop: str = "grad"
    shape_only: bool = False
    M_name: str = "M"  # what the context's M is for this claim's rows (convex claims carry R = ||x0 - x*|| there)

    def row_id(self, row):
        return f"{self.id}:{row.label}" if row.label else self.id

    def constants(self):
        return {self.row_id(r): r.constant() for r in self.rows}


def upper_verdict(ok, unknown):
    """The verdict of an upper-bound row from per-instance flags: every instance met its bound (holds); one did not
    and was not cut by a budget cap (VIOLATED); otherwise some were cut below their bound (inconclusive)."""
    if all(ok):
        return HOLDS
    if not all(o or u for o, u in zip(ok, unknown)):
        return VIOLATED
    return INCONCLUSIVE
