"""Review of the runner's in-kernel result check, the process-wide helper threads and the scalar fast paths
(commits 4b45495, fbd2ff4): faults that the post-run check used to catch, interrupts that land anywhere in
run_slice, and the fast paths against the general path they shortcut."""
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F

RUN = sys.modules["clipcheck.synthetic.run"]  # the module (the package exports the function `run` by that name)


# -- the kernels' counts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("single", [True, False])
def test_an_instance_run_twice_in_place_of_another_is_an_error(monkeypatch, single):
    # A fault in the queue (here _groups' rows; a kernel's could do the same): instance 0 is queued twice and
    # instance 1 never, so the kernels finish n results, none of them impossible, while instance 1 keeps the
    # status RUNNING it was packed with. Expected: an error naming instance 1 (the rule "a status that is not
    # final" of the check), never a RunResult holding it.
    real = RUN._groups

    def duplicating(function, fns, n):
        for kernel_fn, rows, P in real(function, fns, n):
            rows = np.arange(n, dtype=np.int64) if rows is None else rows
            rows[rows == 1] = 0
            yield kernel_fn, rows, P

    monkeypatch.setattr(RUN, "_groups", duplicating)
    f = F.f_exp(1.0, 1.0)
    x0 = np.linspace(-2.0, 2.0, 4)  # fewer than kernels.LANES: one worker, so the two copies of 0 share it
    with pytest.raises(RuntimeError, match="instance 1 .*status -1"):
        synthetic.run(f if single else [f] * 4, "clipped", x0, 1e-6, 50, eta_c=0.1, gamma=1.0)
