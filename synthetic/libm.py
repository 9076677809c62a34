"""The platform's libm as the elementary functions of the kernels (the `math="libm"` option).

Same names and contract as mathfns.py. Results may differ in the last bit between platforms and between CPU and
CUDA; mathfns.py is the library's defined arithmetic. Overflow returns inf instead of raising, in Python too.
"""
import math

from numba.extending import register_jitable

_EXP_MAX = 709.782712893384  # log(DBL_MAX): exp beyond overflows


@register_jitable
def exp(x):
    return math.inf if x > _EXP_MAX else math.exp(x)


@register_jitable
def expm1(x):
    return math.inf if x > _EXP_MAX else math.expm1(x)


@register_jitable
def log1p(x):
    if x == -1.0:
        return -math.inf
    return math.nan if x < -1.0 else math.log1p(x)


@register_jitable
def log(x):
    if x == 0.0:
        return -math.inf
    return math.nan if x < 0.0 else math.log(x)
