"""LLVM-level helpers of the CPU kernels: bit casts between float64 and int64, and the vector width hint.

Bit casts: one LLVM `bitcast`, emitted where it is called.

mathfns reads and writes IEEE bit patterns with `np.float64(x).view(np.int64)` and back, which works as plain
Python, with numba.njit and under numba-cuda. But on the CPU Numba compiles `.view` as a call to its own overload,
with an error path. In a lane kernel those calls sit between the reference-count operations (NRT_incref/decref)
that Numba places around the lane arrays passed to an inlined function; their error paths keep Numba's refcount
pruning from removing the pair, and the NRT calls left in the lane loop stop LLVM's loop vectoriser (measured:
"call instruction cannot be vectorized", 27 M steps/s instead of 73 on the benchmark batch). So the kernel
factory pastes these intrinsics in place of mathfns._bits and mathfns._from_bits in CPU code. A bit cast is
exact, so the bits computed are those of every other backend. Intrinsics exist only in compiled code: a CPU kernel
cannot run as plain Python (NUMBA_DISABLE_JIT=1 makes the call raise); the plain-Python reference loops use
mathfns' own `.view` versions.
"""
from numba import types
from numba.extending import intrinsic


def _bitcast(name, accepts, source, target):
    """An intrinsic `name(x)`: x (of a type in `accepts`) converted to `source`, its bits read as `target`."""
    def typer(typingctx, x):
        if not isinstance(x, accepts):
            return None

        def codegen(context, builder, signature, args):
            value = context.cast(builder, args[0], signature.args[0], source)
            return builder.bitcast(value, context.get_value_type(target))

        return target(x), codegen

    typer.__name__ = typer.__qualname__ = name
    return intrinsic(typer)


float_bits = _bitcast("float_bits", (types.Float, types.Integer), types.float64, types.int64)  # bits of a double
bits_float = _bitcast("bits_float", (types.Integer,), types.int64, types.float64)  # the double of an int64's bits


@intrinsic
def prefer_wide_vectors(typingctx):
    """Let LLVM vectorise the calling function with the widest vector registers of the CPU (zmm on AVX-512).

    LLVM's X86 backend prefers 256-bit vectors on AVX-512 CPUs unless a function asks otherwise (the function
    attribute "prefer-vector-width"); the lane loop is pure arithmetic, where 8 lanes per instruction beat 4
    (bench/bench_runner.py's batch ran faster with it; that run's numbers were not recorded). Without AVX-512 the
    attribute changes nothing. Only the width changes: the operations, and so the bits, are the same."""
    def codegen(context, builder, signature, args):
        # llvmlite's FunctionAttributes accepts only its list of LLVM keywords; a string attribute is written as is
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen
