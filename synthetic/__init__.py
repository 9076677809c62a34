"""Experiments on constructed (L0,L1)-smooth functions: families, step rules and batch runners."""
from .batch import run, run_many
from .result import BUDGET, CONVERGED, DIVERGED, RunResult

__all__ = ["run", "run_many", "RunResult", "CONVERGED", "BUDGET", "DIVERGED"]
