"""clipcheck: check, by computation, the theory of gradient clipping under (L0,L1)-smoothness."""
__version__ = "0.1.0"


def __getattr__(name):
    # clipcheck.check_upper_bound without importing the runner (Numba) on `import clipcheck`: the command's
    # start-up stays fast
    if name == "check_upper_bound":
        from .checks import check_upper_bound
        return check_upper_bound
    raise AttributeError(f"module 'clipcheck' has no attribute {name!r}")
