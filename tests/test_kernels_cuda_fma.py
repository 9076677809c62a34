"""synthetic/cuda.py's without_fma(): the generated CUDA kernels reach numba-cuda's compile_cuda with the NVVM option
fma=False (so NVVM does not fuse a*b + c, which would round once where the CPU kernels and the NumPy reference loops
round twice), and no other CUDA code of the process is touched. No GPU or NVVM is needed: compile_cuda is replaced
by a recorder, which sees exactly the options NVVM would get (tests/test_mathfns.py shows, where NVVM exists, that
fma=False reaching nvvm.compile_ir removes every fma.rn.f64 from the PTX)."""
import inspect
import types

import pytest

pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")

from numba.cuda import dispatcher  # noqa: E402

from clipcheck.synthetic import cuda as backend  # noqa: E402


def _fn(module):
    return types.SimpleNamespace(__module__=module)


def test_numba_cuda_still_compiles_kernels_through_the_patched_global():
    # without_fma patches dispatcher.compile_cuda; if numba-cuda stopped reading that global when it builds a
    # kernel, the patch would do nothing and CPU and GPU bits could differ silently
    init = inspect.unwrap(dispatcher._Kernel.__init__)  # under numba-cuda's compiler-lock decorator
    assert "compile_cuda" in init.__code__.co_names


def test_generated_kernels_get_fma_off_and_others_not(monkeypatch):
    seen = []

    def recorder(pyfunc, *args, nvvm_options=None, **kwargs):
        seen.append(nvvm_options)

    monkeypatch.setattr(dispatcher, "compile_cuda", recorder)
    backend.without_fma()
    backend.without_fma()  # a second call must not wrap twice
    dispatcher.compile_cuda(_fn("clipcheck_kernel_cuda_0123"), None, (), nvvm_options={"opt": 3, "fastmath": False})
    dispatcher.compile_cuda(_fn("users_module"), None, (), nvvm_options={"opt": 3, "fastmath": False})
    assert seen == [{"opt": 3, "fastmath": False, "fma": False}, {"opt": 3, "fastmath": False}]
    assert dispatcher.compile_cuda.__wrapped_original__ is recorder
