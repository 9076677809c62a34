"""clipcheck's own exp, expm1, log1p and log, in plain IEEE arithmetic: the same bits on every backend.

Why: libm and CUDA's libdevice round differently (from each other and from version to version), so an iteration
count that hinges on the last bit of e^x could differ between the CPU runner, the CUDA runner and the NumPy
reference loops; and a scalar libm call keeps LLVM from vectorising a lane loop. These functions use only + - * /,
comparisons and int64 operations on the IEEE-754 bit pattern (`np.float64(x).view(np.int64)` and back). Every one
of those operations is correctly rounded on every backend, so the one source gives the same bits
- with numba.njit: called from a fixed-length loop of 16 or 32 lanes it vectorises (ymm/zmm; at 8 lanes it does
  not), provided it is inlined into the loop, see "Compiling" below;
- as a numba-cuda device function: the PTX has no libdevice call (a CUDA kernel must be compiled without FMA, below);
- as plain Python, on floats or NumPy scalars.

Method (fdlibm-style, own constants):
- exp, expm1: x = k ln2 + r, k the nearest integer to x/ln2, |r| <= 0.347 (Cody-Waite: ln2 = _LN2_HI + _LN2_LO
  with 42 bits in _LN2_HI, so k*_LN2_HI and x - k*_LN2_HI are exact). e^r - 1 = r + r^2/2 + r^3 P(r) is summed as a
  double-double, with r^2/2 exact through r = a + b, a of 26 bits. 2^k is written into the exponent field. expm1
  adds (2^k - 1) with exact two-sums, so there is no cancellation error for small k; exp rounds a subnormal result
  once (by a bias of 2^-1022), not twice.
- log, log1p: x = 2^e (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)), read from the bit pattern (subnormals lifted by
  2^54 first); with s = f/(2 + f), log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2)), where e*_LN2_HI,
  f and (f to 26 bits)^2/2 are summed exactly. log1p rounds u = 1 + x, keeps the exact rounding error c and adds
  c/u; when e = 0 it takes f = x, exactly.
- P and R: mpmath.chebyfit (near-minimax) on |r| <= 0.35 (10 terms, error 8.9e-18) and s^2 <= 0.029440 (8 terms,
  error 2.1e-18), rounded to doubles; tests/test_mathfns.py re-derives them and re-measures the fit.

Accuracy (issue 12 asks for <= 1 ulp): the maximum error against mpmath at 200 bits, over 889,000 arguments per
function (the test grids plus 875,000 more, spread over the whole domain with extra weight on every change of
regime: `python tests/test_mathfns.py --measure 1000000`), is MEASURED_MAX_ULP:
    exp 0.533, expm1 0.572, log1p 0.649, log 0.660 ulp (mean 0.18-0.25).
The error is one final rounding (<= 0.5 ulp) plus the error of the small terms: up to about 0.16 ulp for log and
log1p, where s (f^2/2 + R) is up to 5% of the result and s itself is rounded twice.

FMA: none. Every product is rounded before it is added, on every backend, because that is the one arithmetic all
three compute alike:
- CPU: compile with fastmath off, not even {'contract'}: without that flag LLVM never fuses, and a test checks the
  vectorised lane loop for vfmadd. The issue's prototype measured about 10% of speed for contract.
- CUDA: NVVM contracts a*b + c into fma.rn.f64 by default. The numba-cuda docs list contraction under
  fastmath=True (with flushing subnormals and approximate division), but with fastmath off numba-cuda passes no fma
  option, and NVVM's own default is -fma=1: the PTX of these functions then has fma.rn.f64 (seen here). numba-cuda
  0.30 has no public switch (numba-cuda issue 118 and pull request 839, open), so a CUDA kernel that must match the
  CPU bit for bit has to be compiled with the NVVM option fma=0. The test shows the PTX with fma.rn.f64 by default
  and with none (every operation .rn, which ptxas may not fuse either) when fma=0 reaches nvvm.compile_ir. The rest
  of the kernel's arithmetic needs that anyway, whatever these functions do.
- Plain Python has no fused multiply-add before Python 3.13: explicit FMA would need a slow emulation in the
  reference loops.

Compiling: the functions are registered with `register_jitable`, which leaves them plain Python functions and lets
njit and CUDA code call them. LLVM does not inline functions this large by itself, and a call per lane stops
vectorisation, so the kernel factory pastes their source into each CPU kernel and inlines it there at the source
level (synthetic/inline.py); code that calls them directly uses numba.njit(inline="always") (Numba-IR level).
register_jitable(inline="always") would inline them everywhere, but numba-cuda 0.30.4 then fails to type any kernel
that calls them (its overload inliner, cf. numba-cuda issue 624). In CPU kernels _bits and _from_bits become one
LLVM bitcast each (synthetic/intrinsics.py): Numba compiles `.view` as a call with an error path, and inside a lane
kernel such calls kept the reference counts of the lane arrays from being pruned, which stopped vectorisation. A bit
cast is exact, so every backend still computes the same bits from this source.
Division goes through np.true_divide: `/` gets a ZeroDivisionError branch under Numba's default error model, which
alone stops vectorisation. Special values are selected at the end, from arithmetic on a sanitised argument, so the
code is branch-free after if-conversion and plain Python never divides by zero or overflows an integer. Numba's cache
of a kernel does not notice edits here: clear __pycache__ after editing.
"""
import math

import numpy as np
from numba.extending import register_jitable

MEASURED_MAX_ULP = {"exp": 0.533, "expm1": 0.572, "log1p": 0.649, "log": 0.660}  # see the docstring

_INF = math.inf
_NAN = math.nan
_INV_LN2 = 1.4426950408889634          # 1/ln 2 rounded; any nearby value gives a valid k
_LN2_HI = 0.6931471805598903           # ln 2 rounded to a multiple of 2^-42: 42 bits, so k * _LN2_HI is exact
_LN2_LO = 5.497923018708371e-14        # ln 2 - _LN2_HI rounded
_SHIFTER = 6755399441055744.0          # 1.5 * 2^52: adding it rounds to an integer, held in the low bits
_SHIFTER_BITS = 0x4338000000000000     # the bit pattern of _SHIFTER
_SPLIT = 50331648.0                    # 1.5 * 2^25: (r + _SPLIT) - _SPLIT rounds |r| < 1/2 to a multiple of 2^-27
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD   # the bit pattern of sqrt(1/2) rounded
_MIN_NORMAL = 2.2250738585072014e-308  # 2^-1022
_TWO_54 = 18014398509481984.0          # 2^54 lifts every subnormal into the normal range
_EXP_LO, _EXP_HI = -746.0, 710.0       # exp is 0 below and inf above; clamped there it still yields 0 / inf
_EXPM1_LO = -40.0                      # below, e^x < 2^-57 and expm1(x) rounds to -1
_EXPM1_BIG = 40.0                      # above, e^x > 2^57 and the -1 is below 1/32 ulp of e^x

# P(r) ~ (e^r - 1 - r - r^2/2) / r^3 on |r| <= 0.35 (mpmath.chebyfit, 10 terms, max error 8.9e-18)
_P0 = 0.16666666666666669
_P1 = 0.041666666666666664
_P2 = 0.008333333333329796
_P3 = 0.0013888888888886363
_P4 = 0.00019841269864364933
_P5 = 2.4801587318080937e-05
_P6 = 2.7557266442353424e-06
_P7 = 2.7557281528710364e-07
_P8 = 2.5101335854788522e-08
_P9 = 2.0911915299044694e-09
# R(z) ~ (2 atanh(s)/s - 2) / z, z = s^2 <= 0.029440 (mpmath.chebyfit, 8 terms, max error 2.1e-18)
_R0 = 0.6666666666666666
_R1 = 0.4000000000000088
_R2 = 0.2857142857080323
_R3 = 0.2222222239180047
_R4 = 0.18181795630884753
_R5 = 0.15386240205813478
_R6 = 0.13268759668560612
_R7 = 0.13086767009948175


@register_jitable
def _bits(x):
    """The IEEE-754 bit pattern of the double x, as an int64 (a bitcast)."""
    return np.float64(x).view(np.int64)


@register_jitable
def _from_bits(b):
    """The double whose bit pattern is the int64 b (a bitcast)."""
    return float(np.int64(b).view(np.float64))


@register_jitable
def _div(a, b):
    """a / b, correctly rounded, without the ZeroDivisionError check that `/` gets under Numba's default (Python)
    error model: that branch would stop the lane loop from vectorising. Callers never pass b = 0."""
    return float(np.true_divide(a, b))


@register_jitable
def _pow2(k):
    """2^k for an int64 k in [-1022, 1023], written straight into the exponent field (k = 1024 gives inf)."""
    return _from_bits((k + 1023) << 52)


@register_jitable
def _scale(m, k):
    """m * 2^k for k in [-1076, 1024] with one rounding at most: both halves of k give normal powers of two, and for
    the m passed here (in [0.5, 2], or a multiple of the result's subnormal spacing) m * 2^(k>>1) is exact, so only
    the second product can round (a subnormal result) or overflow (inf)."""
    k1 = k >> 1
    return (m * _pow2(k1)) * _pow2(k - k1)


@register_jitable
def _fast_two_sum(a, b):
    """(s, err) with s = fl(a + b) and s + err = a + b exactly, when |a| >= |b| or a = 0 (Dekker)."""
    s = a + b
    return s, b - (s - a)


@register_jitable
def _two_sum(a, b):
    """(s, err) with s = fl(a + b) and s + err = a + b exactly, for any finite a, b (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@register_jitable
def _split(r):
    """(a, b) with r = a + b exactly, a a multiple of 2^-27 with <= 26 bits (so a*a and a*b are exact), |b| <= 2^-28;
    for |r| < 1/2."""
    a = (r + _SPLIT) - _SPLIT
    return a, r - a


@register_jitable
def _sanitise(x, lo, hi):
    """x clamped to [lo, hi], NaN mapped to 0: the argument the arithmetic runs on (specials are selected later)."""
    if x != x:
        return 0.0
    return lo if x < lo else (hi if x > hi else x)


@register_jitable
def _reduce_exp(x):
    """(k, r, r_lo) with x = k ln2 + r + r_lo, k the int64 nearest x/ln2 and |r| <= 0.347, for |x| <= 746."""
    t = x * _INV_LN2 + _SHIFTER      # t in [2^52, 2^53), where the ulp is 1: k sits in the low bits of t
    k = _bits(t) - _SHIFTER_BITS
    kf = t - _SHIFTER                # the same integer as a float, exactly
    hi = x - kf * _LN2_HI            # exact: kf * _LN2_HI has <= 53 bits and cancels against x (Sterbenz)
    lo = kf * _LN2_LO                # |lo| <= 2^-31
    r, r_lo = _fast_two_sum(hi, -lo)  # exact unless |hi| < |lo|, and then r_lo's error is below 2^-85
    return k, r, r_lo


@register_jitable
def _poly_exp(r):
    """P(r) ~ (e^r - 1 - r - r^2/2) / r^3 on |r| <= 0.35, Horner form."""
    return _P0 + r * (_P1 + r * (_P2 + r * (_P3 + r * (_P4 + r * (_P5 + r * (_P6 + r * (_P7 + r * (
        _P8 + r * _P9))))))))


@register_jitable
def _expm1_reduced(r, r_lo):
    """(s, s_lo) with s + s_lo = e^(r + r_lo) - 1 to about 2^-60 relative, for |r| <= 0.35 and |r_lo| <= 2^-31.

    The terms r and r^2/2 carry the most weight, so they are summed exactly; the rest is below 2% of the result.
    """
    a, b = _split(r)                 # r^2/2 = a^2/2 + a b + b^2/2, the first term exact
    s, err = _fast_two_sum(r, 0.5 * (a * a))
    tail = a * b + 0.5 * (b * b) + (r * r) * r * _poly_exp(r) + r_lo * (1.0 + r)
    return s, err + tail


@register_jitable
def exp(x):
    """e^x, within MEASURED_MAX_ULP["exp"] ulp; 0 below -745.134, inf above 709.783."""
    x = float(x)                                 # a NumPy scalar would turn every step into NumPy arithmetic
    k, r, r_lo = _reduce_exp(_sanitise(x, _EXP_LO, _EXP_HI))
    s, s_lo = _expm1_reduced(r, r_lo)
    one, one_lo = _fast_two_sum(1.0, s)          # e^r = 1 + s, with the rounding error of 1 + s kept
    # A subnormal result would be rounded twice (to 53 bits, then to the subnormal spacing): instead add the bias
    # 2^(-1022-k), which scales to 2^-1022, so that the one rounding happens at the spacing of the bias.
    bias = _pow2(-1022 - k) if k <= -1022 else 0.0
    bias = bias if one < bias else 0.0           # result below 2^-1022 (else no bias: an ordinary rounding)
    h, h_lo = _fast_two_sum(bias, one)
    y = _scale((h + (h_lo + (one_lo + s_lo))) - bias, k)   # h - bias is exact (Sterbenz)
    return x if x != x else y


@register_jitable
def expm1(x):
    """e^x - 1 without cancellation, within MEASURED_MAX_ULP["expm1"] ulp; -1 below -37.43, inf above 709.783,
    expm1(-0.0) = -0.0."""
    x = float(x)
    k, r, r_lo = _reduce_exp(_sanitise(x, _EXPM1_LO, _EXP_HI))
    s, s_lo = _expm1_reduced(r, r_lo)
    # |x| <= 40: e^x - 1 = (2^k - 1) + 2^k s + 2^k s_lo; the first two sums are exact, so one rounding remains
    half = _pow2(k - 1)                          # 2^(k-1), normal for every k here: -58 <= k <= 1024
    t = half * 2.0                               # 2^k exactly; k in [-58, 58] when x <= 40 (else unused)
    a, a_lo = _two_sum(t, -1.0)
    u, v = _fast_two_sum(a, t * s)               # |a| >= |t s| for k != 0, and a = 0 for k = 0
    moderate = u + (v + (a_lo + t * s_lo))
    # x > 40: e^x > 2^57, so subtracting 1 cannot change the rounded e^x. m 2^(k-1) is exact for m in [0.5, 2], so
    # only the doubling can round, to inf: the one rounding of m 2^k (as _scale, with one power of two fewer)
    one, one_lo = _fast_two_sum(1.0, s)
    big = ((one + (one_lo + s_lo)) * half) * 2.0
    y = big if x > _EXPM1_BIG else moderate
    y = x if x == 0.0 else y                     # keeps the sign of -0.0
    return x if x != x else y


@register_jitable
def _reduce_log(x):
    """(e, f) with x = 2^e (1 + f), e an integer held in a float, 1 + f in [sqrt(1/2), sqrt(2)); x > 0 finite."""
    tiny = x < _MIN_NORMAL
    xn = x * _TWO_54 if tiny else x
    e = (_bits(xn) - _SQRT_HALF_BITS) >> 52     # the exponent of x / sqrt(1/2), floored
    m = _from_bits(_bits(xn) - (e << 52))       # x 2^-e: the same mantissa, exponent moved to 0 or -1
    return float(e) - (54.0 if tiny else 0.0), m - 1.0   # m - 1 is exact (Sterbenz)


@register_jitable
def _poly_log(z):
    """R(z) ~ (2 atanh(s)/s - 2) / z for z = s^2 <= 0.02944, Horner form."""
    return _R0 + z * (_R1 + z * (_R2 + z * (_R3 + z * (_R4 + z * (_R5 + z * (_R6 + z * _R7))))))


@register_jitable
def _log_parts(e, f, c):
    """e ln2 + log(1 + f) + c for an integer e, 1 + f in [sqrt(1/2), sqrt(2)] and a small correction c.

    log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with s = f/(2 + f). The large terms e*_LN2_HI, f and (f rounded to
    26 bits)^2/2 are summed exactly; the rounded remainder is at most 5% of the result.
    """
    s = _div(f, 2.0 + f)
    z = s * s
    a, b = _split(f)                                   # f^2/2 = a^2/2 + a b + b^2/2, the first term exact
    hi, lo = _fast_two_sum(e * _LN2_HI, f)             # |e ln2| > |f| when e != 0
    hi, lo2 = _fast_two_sum(hi, -0.5 * (a * a))        # |hi| > 0.27 > a^2/2 when e != 0, and a^2/2 < |f|/4
    rest = s * (0.5 * (f * f) + z * _poly_log(z)) - (a * b + 0.5 * (b * b)) + (e * _LN2_LO + c)
    return hi + ((lo + lo2) + rest)


@register_jitable
def log(x):
    """Natural logarithm, within MEASURED_MAX_ULP["log"] ulp; log(0) = -inf, log(x < 0) = NaN, log(inf) = inf."""
    x = float(x)
    ok = (x > 0.0) & (x < _INF)
    e, f = _reduce_log(x if ok else 1.0)
    y = _log_parts(e, f, 0.0)
    return y if ok else (x if x == _INF else (-_INF if x == 0.0 else _NAN))


@register_jitable
def log1p(x):
    """log(1 + x) without cancellation, within MEASURED_MAX_ULP["log1p"] ulp; log1p(-1) = -inf,
    log1p(x < -1) = NaN, log1p(-0.0) = -0.0."""
    x = float(x)
    ok = (x > -1.0) & (x < _INF)
    xs = x if ok else 0.0
    u, c = _two_sum(1.0, xs)                     # u = fl(1 + x) > 0, and u + c = 1 + x exactly
    e, f = _reduce_log(u)
    near = e == 0.0                              # 1 + x in [sqrt(1/2), sqrt(2)): f = x exactly, no correction
    y = _log_parts(e, xs if near else f, 0.0 if near else _div(c, u))   # log(u + c) = log(u) + c/u, (c/u)^2 < 2^-104
    y = x if x == 0.0 else y                     # keeps the sign of -0.0
    return y if ok else (x if x == _INF else (-_INF if x == -1.0 else _NAN))
