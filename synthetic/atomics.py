"""Atomic integer counters for the CPU kernels: the shared work queue and step budget of a slice.

`fetch_add(arr, i, v)` adds v to arr[i] and returns the old value, atomically (sequentially consistent). In
compiled code it is one LLVM atomicrmw; called from Python it is the plain read-modify-write (the Python target
runs one instance at a time). CUDA kernels use numba.cuda.atomic.add instead.
"""
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def fetch_add(arr, i, v):
    old = arr[i]
    arr[i] += v
    return old


@intrinsic
def _atomic_fetch_add(typingctx, arr, i, v):
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        return None
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ary_t = signature.args[0]
        ary = context.make_array(ary_t)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, ary_t, ary, [args[1]])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")

    return sig, codegen


@overload(fetch_add, target="cpu")
def _fetch_add_cpu(arr, i, v):
    def impl(arr, i, v):
        return _atomic_fetch_add(arr, i, v)
    return impl
