"""LLVM-level helpers of the CPU kernels: bit casts between float64 and int64, and the vector width hint.

Bit casts: one LLVM `bitcast`, emitted where it is called.

mathfns reads and writes IEEE bit patterns with `np.float64(x).view(np.int64)` and back, which works as plain
Python, with numba.njit and under numba-cuda. But on the CPU Numba compiles `.view` as a call to its own overload,
with an error path. In a lane kernel those calls sit between the reference-count operations (NRT_incref/decref)
that Numba places around the lane arrays passed to an inlined function; their error paths keep Numba's refcount
pruning from removing the pair, and the NRT calls left in the lane loop stop LLVM's loop vectoriser (measured:
"call instruction cannot be vectorized", 27 M steps/s instead of 73 on the benchmark batch). So the kernel
factory pastes these intrinsics in place of mathfns._bits and mathfns._from_bits in CPU code. A bit cast is
exact, so the bits computed are those of every other backend.
"""
from numba import types
from numba.extending import intrinsic


@intrinsic
def float_bits(typingctx, x):
    """The IEEE-754 bit pattern of the double x, as an int64."""
    if not isinstance(x, (types.Float, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        value = context.cast(builder, args[0], signature.args[0], types.float64)
        return builder.bitcast(value, context.get_value_type(types.int64))

    return types.int64(x), codegen


@intrinsic
def bits_float(typingctx, b):
    """The double whose bit pattern is the integer b (as an int64)."""
    if not isinstance(b, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = context.cast(builder, args[0], signature.args[0], types.int64)
        return builder.bitcast(value, context.get_value_type(types.float64))

    return types.float64(b), codegen


@intrinsic
def prefer_wide_vectors(typingctx):
    """Let LLVM vectorise the calling function with the widest vector registers of the CPU (zmm on AVX-512).

    LLVM's X86 backend prefers 256-bit vectors on AVX-512 CPUs unless a function asks otherwise (the function
    attribute "prefer-vector-width"); the lane loop is pure arithmetic, where 8 lanes per instruction beat 4
    (measured in bench/bench_runner.py). Without AVX-512 the attribute changes nothing. Only the width changes:
    the operations, and so the bits, are the same."""
    def codegen(context, builder, signature, args):
        # llvmlite's FunctionAttributes accepts only its list of LLVM keywords; a string attribute is written as is
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen
