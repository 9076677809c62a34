"""Worst-case instances of the (L0,L1) class, certified by construction (THEOREMS.md section 4b).

    from clipcheck.adversary import Profile, worst_case

`Profile` is a 1-D profile p'' = u (L0 + L1 |p'|) with piecewise-constant u in [-1, 1] (in the class without a
check), frozen with its start point; `worst_case` searches such profiles for the worst instance of a step rule,
replays the best from scratch and certifies it.
"""
from pathlib import Path

from clipcheck.synthetic._kernel_cache import drop_stale_kernels

drop_stale_kernels(Path(__file__).resolve().parent)  # closed_form.py is compiled into other modules' kernels

from .profile import Profile, evaluate  # noqa: E402
from .rules import RULES  # noqa: E402
from .search import WorstCase, worst_case  # noqa: E402

__all__ = ["Profile", "evaluate", "worst_case", "WorstCase", "RULES"]
