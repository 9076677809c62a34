"""proofs_check: SymPy, exact-rational and mpmath-interval checks of the steps and constants inside the proofs
(THEOREMS.md). Each check is a plain function registered as an item (id, method); its keyword arguments are the
constants it checks, and by default it reads them from clipcheck.theory.bounds / .steps at call time, so the
constants proved are the constants the library uses. `run_all()` runs the registry."""
from __future__ import annotations

from .core import CheckRecord, Method
from .functions import (check_cert_cosh, check_cert_even_power, check_cert_exp_linear, check_cert_logistic,
                        check_cert_lse, check_cert_matrix_quartic, check_cert_pnorm, check_cert_x3,
                        check_cert_x4, check_fexp, check_fs, check_lemma2, check_lower_bound_arithmetic,
                        check_thm4_needs_delta_exp, lemma2_min_l0)
from .lemmas import (check_classic_gd, check_fact_m, check_fact_m_sharp, check_kappa, check_lemma_sharp,
                     check_lemma_zjfw)
from .open_question import check_thm4_open_question
from .theorems import (check_li_constant_step, check_ngd_constant, check_ngd_equiv, check_thm3_decrease_clipped,
                       check_thm3_decrease_unclipped, check_thm3_derived, check_thm3_quoted, check_thm6_derived,
                       check_thm6_quoted)

# the registry, in the order of THEOREMS.md
REGISTRY = [
    check_lemma_sharp, check_kappa, check_lemma_zjfw, check_fact_m, check_fact_m_sharp, check_lemma2,
    check_ngd_equiv, check_classic_gd,
    check_thm3_decrease_unclipped, check_thm3_decrease_clipped, check_thm3_derived, check_thm3_quoted,
    check_lower_bound_arithmetic, check_thm4_needs_delta_exp, check_thm4_open_question,
    check_thm6_derived, check_thm6_quoted, check_ngd_constant, check_li_constant_step,
    check_fexp, check_fs,
    check_cert_x3, check_cert_x4, check_cert_even_power, check_cert_pnorm, check_cert_matrix_quartic,
    check_cert_exp_linear, check_cert_cosh, check_cert_logistic, check_cert_lse,
]

# extra instances run by run_all(quick=False): other polynomials and exponents than the spec's examples
_FULL_EXTRA = [
    (check_lemma2, dict(coeffs=(1, -2, 0.5, 1, -0.3, 0.1), l1=0.7, l0=39.5)),
    (check_cert_pnorm, dict(p_exp=4.5, l1=2.0)),
]


def item_ids() -> list[str]:
    """The ids of the registered items, without running anything."""
    return [check.item_id for check in REGISTRY]


def unmatched(prefixes) -> list[str]:
    """The prefixes (e.g. of `clipcheck proofs --only`) that start no item id."""
    ids = item_ids()
    return [p for p in prefixes if not any(i.startswith(p) for i in ids)]


def _run(check, **kw) -> CheckRecord:
    try:
        return check(**kw)
    except Exception as exc:  # a crashing check is a failed check, with the reason in its log
        return CheckRecord(check.item_id, (check.__doc__ or "").strip().splitlines()[0], check.method.value, kw,
                           "FAILED", [f"crashed: {type(exc).__name__}: {exc}"])


def run_all(quick: bool = True, only=()) -> list[CheckRecord]:
    """Run the registered checks whose id starts with one of `only` (all if empty), at the library's constants
    (quick: a few seconds on one core); quick=False adds the extra instances."""
    def chosen(check):
        return not only or any(check.item_id.startswith(p) for p in only)

    out = [_run(check) for check in REGISTRY if chosen(check)]
    if not quick:
        out += [_run(check, **kw) for check, kw in _FULL_EXTRA if chosen(check)]
    return out


__all__ = ["CheckRecord", "Method", "REGISTRY", "item_ids", "unmatched", "run_all", "lemma2_min_l0"] + [
    c.__name__ for c in REGISTRY]
