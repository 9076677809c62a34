"""kernels.compile_worker remembers the argument types it has compiled for by Numba's type fingerprints: arguments
of a type already seen compile nothing, and every new type still gets its own compilation."""
import numba
import numpy as np

from clipcheck.synthetic import kernels


def test_a_type_seen_compiles_nothing_and_every_new_type_compiles_once():
    # expected: Numba's typing (numba.typeof) tells these arguments apart: a read-only array and a 2-D array are
    # other types than a writeable 1-D float64 array, an int64 array another dtype; equal types share one overload
    first = numba.njit(lambda a: a.size)  # a new dispatcher: no overloads yet
    ro = np.zeros(3)
    ro.flags.writeable = False
    counts = []
    for arg in (np.zeros(3), np.ones(5), ro, np.zeros((2, 2)), np.zeros(3, np.int64), np.zeros(4)):
        kernels.compile_worker(first, (arg,))
        counts.append(len(first.overloads))
    assert counts == [1, 1, 2, 3, 4, 4]
