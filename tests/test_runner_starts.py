"""run reads the starts from the caller's x0 itself (no copy, issue 12's "less Python per call"): x0 is never
written, the result's iterates are an array of their own, and every way of giving x0 gives the same numbers."""
import numpy as np

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F


def _run(x0):
    return synthetic.run(F.f_exp(1.0, 1.0), "clipped", x0, 1e-9, 10**5, eta_c=0.2, gamma=1.0)


def assert_same_numbers(a, b):
    """Every result array of a equals b's, bit for bit."""
    for k in ("iterations", "status", "f_final", "grad_norm_final", "x_final"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_x0_is_read_not_written_and_the_result_has_its_own_iterates():
    # expected: x0 bit for bit as before the run (the kernels only read it), and the same run from a Python list of
    # the starts (which run converts into a new array, the path that copies)
    x0 = np.log1p(np.logspace(0, 4, 300))  # |f'(x0)| = M in [1, 1e4] (THEOREMS.md 3.1): the iterates move far
    before = x0.copy()
    res = _run(x0)
    assert np.array_equal(x0, before)
    assert not np.shares_memory(res.x_final, x0)
    assert not np.array_equal(res.x_final[:, 0], x0)  # the iterates did move, so the test above could fail
    assert_same_numbers(res, _run(x0.tolist()))


def test_read_only_and_strided_starts_give_the_same_numbers():
    # expected: the run from a writeable contiguous x0 (a read-only or strided x0 is copied first; same arithmetic)
    x0 = np.log1p(np.logspace(0, 4, 300))
    ref = _run(x0)
    frozen = x0.copy()
    frozen.flags.writeable = False
    assert_same_numbers(_run(frozen), ref)
    spread = np.zeros(600)
    spread[::2] = x0
    assert_same_numbers(_run(spread[::2]), ref)
    # float32 starts: converted
    assert_same_numbers(_run(x0.astype(np.float32).astype(float)), _run(x0.astype(np.float32)))
