"""The claims registry: what `clipcheck verify` checks, one entry per claim id of THEOREMS.md.

A claim computes plain data (rows and the arrays its figure needs); plotting and reporting happen elsewhere.
"""
from dataclasses import asdict, dataclass, field

# Verdicts. Upper bounds and facts: holds / VIOLATED. Lower bounds: demonstrated / not demonstrated by this
# construction (a finding, never a failure). Certificates: certified / NOT CERTIFIED.
HOLDS, VIOLATED = "holds", "VIOLATED"
INCONCLUSIVE = "inconclusive (budget cap reached below the bound)"
DEMONSTRATED, NOT_DEMONSTRATED = "demonstrated", "not demonstrated by this construction"
CERTIFIED, NOT_CERTIFIED = "certified", "NOT CERTIFIED"
REFUTED, MISSED_FALSE = "refuted, as expected", "CHECKER MISSED A FALSE CERTIFICATE"  # negative controls
FAILING = {VIOLATED, NOT_CERTIFIED, MISSED_FALSE}

STATUS_LABELS = {
    "paper": "as stated in the paper",
    "paper-shape": "paper's constant (as quoted)",
    "derived": "derived for clipcheck",
    "later": "beyond the paper",
    "standard": "standard result",
}


@dataclass
class Row:
    """One line of the report.

    measured / bound / ratio: for upper bounds the worst measured T_eps, the bound at that instance and their
    largest ratio (<= 1 holds); for lower bounds the best-tuned T_eps over the step grid, the bound and the
    ratio (>= 1 demonstrates); for facts and certificates the worst left/right ratio (<= 1 holds).
    instance: the instance that decides the verdict (the counterexample when VIOLATED).
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

    @property
    def failed(self):
        return self.verdict in FAILING

    def to_dict(self):
        d = asdict(self)
        d["status_label"] = STATUS_LABELS.get(self.status, self.status)
        d["failed"] = self.failed
        return d


@dataclass
class Claim:
    """A registry entry: `compute(settings) -> (rows, data)`; `plot(data, folder) -> file name or ""`."""

    id: str
    title: str
    compute: callable
    plot: callable = None
    settings: dict = field(default_factory=dict)  # {"quick": {...}, "full": {...}}


def registry():
    from . import experiments as ex
    from . import plots as pl

    return [
        Claim("ZHSJ-Remark5", "Remark 5: clipped GD is arbitrarily faster than tuned fixed-step GD as M grows",
              ex.remark5, pl.remark5, ex.REMARK5),
        Claim("CLASSIC-GD", "L-smooth GD with h = 1/L", ex.classic_gd, pl.upper("CLASSIC-GD"), ex.CLASSIC),
        Claim("ZHSJ-Thm3", "clipped GD upper bound", ex.thm3, pl.upper("ZHSJ-Thm3"), ex.THM3),
        Claim("ZHSJ-Thm4", "fixed-step GD lower bound on the section 3.3 pair", ex.thm4, pl.thm4, ex.THM4),
        Claim("ZHSJ-Thm6", "fixed-step GD upper bound with h = 1/(2(M L1 + L0))", ex.thm6, pl.upper("ZHSJ-Thm6"),
              ex.THM6),
        Claim("NGD-equiv", "normalized and clipped steps agree within a factor 2", ex.ngd_equiv, None,
              ex.NGD_EQUIV),
        Claim("NGD-bound", "normalized GD upper bound", ex.ngd, pl.upper("NGD-bound"), ex.THM3),
        Claim("FACT-M", "gradient bound from the function gap", ex.fact_m, None, ex.SAMPLES),
        Claim("LEMMA-sharp", "gradient and function growth under (L0,L1)-smoothness", ex.lemma_sharp,
              pl.lemma_sharp, ex.SAMPLES),
        Claim("CERT", "certified (L0,L1) of every constructed function", ex.certificates, None, ex.CERT),
    ] + _stochastic_claims()


def _stochastic_claims():
    """Thm 7, Thm 8 and the rules that followed the paper (issue 3), registered by their own module."""
    from .experiments_stochastic import CLAIMS
    return list(CLAIMS)
