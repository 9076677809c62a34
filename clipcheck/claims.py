"""The claims registry: what `clipcheck verify` checks, one list, one entry per claim id of THEOREMS.md.

The top of the application: it imports the claim modules and the figures, and no claim module imports it. Rows,
verdicts and the claim records live in records.py (re-exported here for callers that know them from here).
"""
import functools

from . import experiments as ex
from . import experiments_stochastic as es
from . import plots as pl
from . import plots_stochastic as ps
from . import upper
from .records import (CERTIFIED, DEMONSTRATED, FAILING, HOLDS, INCONCLUSIVE, MEASURED, MISSED_FALSE,
                      NOT_CERTIFIED, NOT_DEMONSTRATED, REFUTED, SHAPE_ONLY, STATUS_LABELS, VIOLATED, Claim, Row)

__all__ = ["registry", "Claim", "Row", "CERTIFIED", "DEMONSTRATED", "FAILING", "HOLDS", "INCONCLUSIVE", "MEASURED",
           "MISSED_FALSE", "NOT_CERTIFIED", "NOT_DEMONSTRATED", "REFUTED", "SHAPE_ONLY", "STATUS_LABELS", "VIOLATED"]


def _upper(record, plot, settings, weight=1.0):
    """The registry entry of an upper-bound record: decided by upper.check, cached under its constants."""
    return Claim(record.id, record.title, functools.partial(upper.check, record), plot(record.id), settings,
                 record.constants, weight)


def registry():
    # weights: seconds of each claim in a cold quick verify on 2 cores (2026-12-02), rounded; scheduling only
    return [
        Claim("ZHSJ-Remark5", "Remark 5: clipped GD is arbitrarily faster than tuned fixed-step GD as M grows",
              ex.remark5, pl.remark5, ex.REMARK5, weight=24),
        _upper(ex.CLASSIC_RECORD, pl.upper, ex.CLASSIC, weight=7),
        _upper(ex.THM3_RECORD, pl.upper, ex.THM3, weight=9),
        Claim("ZHSJ-Thm4", "fixed-step GD lower bound on the section 3.3 pair", ex.thm4, pl.thm4, ex.THM4),
        _upper(ex.THM6_RECORD, pl.upper, ex.THM6, weight=3),
        Claim("NGD-equiv", "normalized and clipped steps agree within a factor 2", ex.ngd_equiv, None,
              ex.NGD_EQUIV),
        _upper(ex.NGD_RECORD, pl.upper, ex.NGD, weight=7),
        Claim("FACT-M", "gradient bound from the function gap", ex.fact_m, None, ex.SAMPLES, weight=7),
        Claim("LEMMA-sharp", "gradient and function growth under (L0,L1)-smoothness", ex.lemma_sharp,
              pl.lemma_sharp, ex.SAMPLES),
        Claim("CERT", "certified (L0,L1) of every constructed function", ex.certificates, None, ex.CERT,
              weight=3),
        Claim("ZHSJ-Thm7", "clipped SGD with the Thm 7 step: success probability and min_t E||grad f|| over seeds",
              es.thm7, ps.thm7, es.THM7, weight=14),
        Claim("ZHSJ-Thm8", "SGD with the Thm 8 step: horizon needed against the shape of the bound", es.thm8,
              ps.thm8, es.THM8, weight=3),
        _upper(es.VANKOV_NONCONVEX, pl.upper, es.VANKOV, weight=15),
        _upper(es.VANKOV_CONVEX, pl.upper, es.CONVEX),
        _upper(es.GORBUNOV, pl.upper, es.CONVEX, weight=1.5),
        Claim("KOLOSKOVA-bias", "clipped SGD with a fixed threshold stalls at a bias floor that falls as c grows",
              es.koloskova, ps.koloskova, es.KOLOSKOVA, weight=4),
        _upper(es.LI_RECORD, pl.upper, es.LI),
        Claim("HEAD-TO-HEAD", "every rule on the Remark 5 instances", es.head_to_head, ps.head_to_head, es.HEAD,
              weight=15),
    ]
