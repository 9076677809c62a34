"""Experiments on functions with certified (L0,L1): functions, step rules, noise, and the one batch runner."""
from .certify import certify, smallest_L0  # the functions (their module stays importable as .certify)
from .functions import Function, Profile1D
from .result import BUDGET, CONVERGED, DIVERGED, RunResult, Status
from .rules import Rule
from .run import run

__all__ = ["Function", "Profile1D", "Rule", "run", "certify", "smallest_L0", "RunResult", "Status", "CONVERGED",
           "BUDGET", "DIVERGED"]
