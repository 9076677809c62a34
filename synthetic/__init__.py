"""Experiments on constructed (L0,L1)-smooth functions: families, step rules and batch runners."""
from ._kernel_cache import drop_stale_kernels

drop_stale_kernels()  # before any kernel is loaded from disk

from .batch import run, run_many
from .result import BUDGET, CONVERGED, DIVERGED, RunResult

__all__ = ["run", "run_many", "RunResult", "CONVERGED", "BUDGET", "DIVERGED"]
