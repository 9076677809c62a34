"""Counter-based random numbers, written once as plain scalar functions (like profiles.py).

A draw is a pure function of (seed, stream, counter, lane): `counter_key(seed, stream, counter)` hashes the first
three once per iteration, `uniform(key, lane)` and `normal(key, lane)` hash in the lane. There is no state, so a
run is reproducible from its seed and independent of thread count, chunking and execution order.

The hash is SplitMix64's finaliser (a bijection of uint64 that spreads every input bit over every output bit)
applied once per key component. Only uint64 integer operations (xor, shift, wrapping multiply) and `math` are
used, with every constant a np.uint64 so Numba never mixes signed and unsigned (which would promote to float):
the same source compiles with numba.njit and as a CUDA device function. The functions call each other, so they
are registered with `register_jitable` (which leaves them plain Python functions and lets any njit or CUDA kernel
call them). Numba's cache of a kernel does not notice edits here: clear __pycache__ after editing.
Integer and uniform draws are identical on every target; normal draws use log and cos from the target's maths
library, so on CUDA they may differ in the last bits.
"""
import math

import numpy as np
from numba.extending import register_jitable

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio, odd: x -> x * G + G is a bijection
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2^-53


@register_jitable
def mix64(z):
    """SplitMix64 finaliser: a bijection of uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@register_jitable
def absorb(h, x):
    """Hash the uint64-convertible integer x into h; x * G + G keeps x = 0 away from mix64's fixed point 0."""
    return mix64(h ^ (np.uint64(x) * _GOLDEN + _GOLDEN))


@register_jitable
def counter_key(seed, stream, counter):
    """The key of one iteration: `seed` of the run, `stream` (the instance), `counter` (the iteration)."""
    return absorb(absorb(absorb(np.uint64(0), seed), stream), counter)


@register_jitable
def uniform(key, lane):
    """A uniform draw in the open interval (0, 1): the top 53 bits of the lane's hash, offset by half a step."""
    return (float(absorb(key, lane) >> _S11) + 0.5) * _TWO_M53


@register_jitable
def normal(key, lane):
    """A standard normal draw (Box-Muller on lanes 2 lane and 2 lane + 1; the sine half is not used)."""
    u1 = uniform(key, 2 * lane)
    u2 = uniform(key, 2 * lane + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
