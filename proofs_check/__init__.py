"""proofs_check: SymPy and mpmath-interval checks of the steps and constants inside the proofs
(THEOREMS.md). Each check is a plain function whose keyword arguments are the constants it checks, with
the spec's values as defaults; it returns a CheckRecord. `run_all()` runs the registry."""
from __future__ import annotations

from .core import CheckRecord
from .functions import (check_cert_cosh, check_cert_even_power, check_cert_exp_linear, check_cert_logistic,
                        check_cert_lse, check_cert_matrix_quartic, check_cert_pnorm, check_cert_x3,
                        check_cert_x4, check_fexp, check_fs, check_lemma2, check_lower_bound_arithmetic,
                        lemma2_min_l0)
from .lemmas import check_fact_m, check_kappa, check_lemma_sharp, check_lemma_zjfw
from .open_question import check_thm4_open_question
from .theorems import (check_li_constant_step, check_ngd_constant, check_ngd_equiv, check_thm3_decrease_clipped,
                       check_thm3_decrease_unclipped, check_thm3_derived, check_thm3_quoted, check_thm3_spec_rounding,
                       check_thm6_derived,
                       check_thm6_quoted)

# the registry, in the order of THEOREMS.md
REGISTRY = [
    check_lemma_sharp, check_kappa, check_lemma_zjfw, check_fact_m, check_lemma2,
    check_ngd_equiv,
    check_thm3_decrease_unclipped, check_thm3_decrease_clipped, check_thm3_spec_rounding, check_thm3_derived,
    check_thm3_quoted,
    check_lower_bound_arithmetic, check_thm4_open_question,
    check_thm6_derived, check_thm6_quoted, check_ngd_constant, check_li_constant_step,
    check_fexp, check_fs,
    check_cert_x3, check_cert_x4, check_cert_even_power, check_cert_pnorm, check_cert_matrix_quartic,
    check_cert_exp_linear, check_cert_cosh, check_cert_logistic, check_cert_lse,
]

# extra instances run by run_all(quick=False): other polynomials and exponents than the spec's examples
_FULL_EXTRA = [
    (check_lemma2, dict(coeffs=(1, -2, 0.5, 1, -0.3, 0.1), l1=0.7, l0=39.5)),
    (check_cert_pnorm, dict(p_exp=4.5, l1=2.0)),
    (check_cert_even_power, dict(n_max=8)),
]


def run_all(quick: bool = True) -> list[CheckRecord]:
    """Run every registered check at the spec's constants (quick: about 5 s on one core)."""
    out = []
    for check in REGISTRY:
        try:
            out.append(check())
        except Exception as exc:  # a crashing check is a failed check, with the reason in its log
            out.append(CheckRecord(getattr(check, "__name__", "?"), check.__doc__.strip().splitlines()[0],
                                   "sympy-identity", {}, "FAILED", [f"crashed: {type(exc).__name__}: {exc}"]))
    if not quick:
        for check, kw in _FULL_EXTRA:
            out.append(check(**kw))
    return out


__all__ = ["CheckRecord", "REGISTRY", "run_all", "lemma2_min_l0"] + [c.__name__ for c in REGISTRY]
