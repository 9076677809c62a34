"""Benchmark: clipcheck's expm1 (synthetic/mathfns.py) against libm's math.expm1, njit on one thread, inside the
fixed-length lane loop of the lane kernels (16 and 32 lanes), ours compiled with numba.njit(inline="always") as a
lane kernel compiles it. Rounds are interleaved (every kernel once per round, in rotating order) because the second
core is shared: a slow round then hits all kernels alike. Prints M evaluations/s per kernel and round, then the best
round of each, their ratio ours/libm and the median of the per-round ratios.

Arguments are uniform in [0, 14], the range of L1 |x| in the f_exp runs (x0 = log1p(M)/L1 with M up to 1e6); every
evaluation is accumulated into the output, so no loop can be removed. Timing starts after compilation.

Run on demand:  python bench/bench_mathfns.py [--rounds R] [--size N] [--repeat K]
"""
import argparse
import math
import time

import llvmlite.binding
import numba
import numpy as np

from clipcheck.synthetic import mathfns

# Numba-level inlining, as a CPU lane kernel compiles it (a call per lane would stop vectorisation)
expm1 = numba.njit(inline="always")(mathfns.expm1)


def lane_kernel(fn, lanes):
    """out[c, lane] += fn(x[c, lane]) over chunks c of `lanes` arguments (chunk-major, as in the lane kernels); the
    inner loop has a fixed length, the shape LLVM vectorises."""
    @numba.njit
    def run(x, out, repeat):
        for _ in range(repeat):
            for c in range(x.shape[0]):
                for lane in range(lanes):
                    out[c, lane] += fn(x[c, lane])
    return run


@numba.njit(inline="always")
def libm_expm1(x):
    return math.expm1(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", type=int, default=1 << 14, help="arguments per pass (a multiple of 32)")
    ap.add_argument("--repeat", type=int, default=200, help="passes per timing")
    a = ap.parse_args()
    if a.size % 32:
        raise SystemExit("--size must be a multiple of 32")
    numba.set_num_threads(1)
    x = np.random.default_rng(0).uniform(0.0, 14.0, a.size)
    kernels = {f"{name} {lanes} lanes": (lane_kernel(fn, lanes), x.reshape(-1, lanes))
               for lanes in (16, 32) for name, fn in (("mathfns", expm1), ("libm", libm_expm1))}
    for kernel, xl in kernels.values():
        kernel(xl, np.zeros_like(xl), 1)  # compile before timing
    evals = a.size * a.repeat
    rates = {name: [] for name in kernels}
    names = list(kernels)
    print(f"{evals / 1e6:.1f} M evaluations per timing, {a.rounds} rounds, numba {numba.__version__}, "
          f"CPU {llvmlite.binding.get_host_cpu_name()}")
    for r in range(a.rounds):
        line = []
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
            kernel, xl = kernels[name]
            out = np.zeros_like(xl)
            t0 = time.perf_counter()
            kernel(xl, out, a.repeat)
            rate = evals / (time.perf_counter() - t0) / 1e6
            rates[name].append(rate)
            line.append(f"{name}: {rate:7.1f}")
        print(f"round {r}: " + " | ".join(line) + "  M evals/s")
    for lanes in (16, 32):
        ours, libm = np.array(rates[f"mathfns {lanes} lanes"]), np.array(rates[f"libm {lanes} lanes"])
        print(f"{lanes} lanes: best round mathfns {ours.max():7.1f}, libm {libm.max():7.1f} M evals/s, ratio "
              f"{ours.max() / libm.max():.2f}; median of the per-round ratios {np.median(ours / libm):.2f}")


if __name__ == "__main__":
    main()
