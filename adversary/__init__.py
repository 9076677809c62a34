"""Worst-case instances of the (L0,L1) class, certified by construction (THEOREMS.md section 4b).

    from clipcheck.adversary import Profile, worst_case

`Profile` is a 1-D profile p'' = u (L0 + L1 |p'|) with piecewise-constant u in [-1, 1] (in the class without a
check), frozen with its start point; `Profile.function(lift)` makes it a function of the open runner (every rule
runs on it, on CPU and CUDA); `worst_case` searches such profiles for the worst instance of a step rule, replays
the best from scratch and certifies it. Everything compiled here goes through the runner's kernel cache, keyed by
the pasted source, so no edit can leave a stale compiled search behind.
"""
from .profile import Profile, evaluate
from .rules import RULES
from .search import WorstCase, worst_case

__all__ = ["Profile", "evaluate", "worst_case", "WorstCase", "RULES"]
