"""The CUDA backend of `run`: the per-instance arrays live on the device for the whole run; each launch is a slice.

Without a GPU it runs under numba-cuda's simulator (NUMBA_ENABLE_CUDASIM=1, set before numba is imported): pure
Python speed, for checking correctness on tiny batches. bench/bench_gpu.py measures it on a real device.
"""
import numba
import numpy as np
from numba import cuda

from . import kernels
from .lanes import RUNNING

THREADS = 128               # threads per block
STEPS_PER_SLICE = 2**20     # steps per thread per launch on a device (about 0.1 s of work)
SIMULATED_STEPS = 2**12     # the simulator runs Python: shorter slices keep Ctrl-C prompt


def available():
    """True when a CUDA device (or the simulator) can run kernels."""
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install reads as "no device", not a crash of the caller
        return False


def _simulated():
    return bool(numba.config.ENABLE_CUDASIM)


def _launch_shape(n):
    if _simulated():
        return 1, min(n, 8)  # the simulator runs each thread as a Python thread: keep the block small
    try:
        sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
    except Exception:
        sms = 1
    blocks = max(1, min(-(-n // THREADS), 8 * sms))  # persistent threads: a few blocks per multiprocessor
    return blocks, THREADS


def without_fma():
    """Compile clipcheck's generated CUDA kernels with the NVVM option fma=0 (from then on, in this process).

    NVVM contracts a*b + c into one fused multiply-add by default (-fma=1), which rounds once where the CPU kernels
    and the NumPy reference loops round twice, so iteration counts could differ in the last bit of a step. numba-cuda
    0.30 has no switch for it (its fastmath=True turns fma on, with flushing subnormals and approximate division),
    so the nvvm_options of the kernels whose Python function comes from a generated kernel module
    ("clipcheck_kernel_*", kernels.py) get fma=False on their way to numba.cuda.dispatcher.compile_cuda; any other
    CUDA code of the process compiles as before. Device functions are linked into the kernel and compiled by NVVM
    with the kernel's options, so the whole kernel is covered."""
    from numba.cuda import dispatcher
    original = dispatcher.compile_cuda
    if getattr(original, "clipcheck_without_fma", False):
        return

    def compile_cuda(pyfunc, *args, nvvm_options=None, **kwargs):
        if str(getattr(pyfunc, "__module__", "")).startswith("clipcheck_kernel_"):
            nvvm_options = dict(nvvm_options or {}, fma=False)
        return original(pyfunc, *args, nvvm_options=nvvm_options, **kwargs)

    compile_cuda.clipcheck_without_fma = True
    compile_cuda.__wrapped_original__ = original
    dispatcher.compile_cuda = compile_cuda


def run_rows(function, rule, noise, dim, math, rows, P, stop, state, common, interrupt):
    """Run the instances `rows` (None: every row) on the device, updating the host arrays of `state` in place (see
    run.py); stop is the integer code of the stopping rule."""
    if not available():
        raise ValueError("backend: no CUDA device found (install the cuda extra; without a GPU set "
                         "NUMBA_ENABLE_CUDASIM=1 for the simulator)")
    if not _simulated():
        without_fma()
    kernel = kernels.cuda_run_kernel(function, rule, noise, dim, math)
    budget = SIMULATED_STEPS if _simulated() else STEPS_PER_SLICE
    names = ("X", "T", "S", "MOM", "HIT", "RJ", "STATUS", "F", "G", "RF", "RG", "RX")
    dev = {k: cuda.to_device(np.ascontiguousarray(state[k])) for k in names}
    fixed = {k: cuda.to_device(np.ascontiguousarray(v)) for k, v in common.items() if k != "NOISE"}
    dP = cuda.to_device(np.ascontiguousarray(P))
    pending = np.arange(state["X"].shape[0], dtype=np.int64) if rows is None else rows  # None: every row
    while pending.size:
        blocks, threads = _launch_shape(pending.size)
        kernel[blocks, threads](cuda.to_device(pending), cuda.to_device(np.zeros(1, np.int64)), budget, dP,
                                dev["X"], dev["T"], dev["S"], dev["MOM"], dev["HIT"], dev["RJ"], dev["STATUS"],
                                dev["F"], dev["G"], fixed["EPS"], fixed["FSTAR"], fixed["MAXIT"], fixed["Q"],
                                fixed["SEED"], fixed["STREAM"], fixed["TAU"], fixed["NA"], stop, common["NOISE"],
                                fixed["CK"], dev["RF"], dev["RG"], dev["RX"])
        status = dev["STATUS"].copy_to_host()  # the one host sync of a slice
        interrupt.check()
        pending = pending[status[pending] == RUNNING]
    for k in names:
        state[k][...] = dev[k].copy_to_host()
