"""Benchmark of a mixed batch: a union kernel throughout against a union that hands its unfinished instances to its
members' own kernels once it has run run.UNION_SECONDS_PER_MEMBER per member (the default).

The batch is like the catalogue runs of the upper-bound claims: clipped GD on three functions of two sources
(f_exp at two parameter sets, f_slow), from starts x0 log-spaced in [0.1, 100], to eps = 1e-9. (A member whose own
kernel does not vectorise either, such as the quartic ||Ax - b||^4 with its loop over the rows of A, steps about as
fast in the union: the gain is on members like f_exp, whose expm1 vectorises in their own kernel.) The two
ways are interleaved round by round (the order alternating), so that a round slowed down by other work on the
shared cores hits both alike. Each round prints the wall time of each and their ratio; the end, the best and the
median of the per-round ratios, and whether both gave the same iterations, statuses and final points (they must:
a member reads only its own leading parameters, so each instance sees the same arithmetic).

Run on demand:  python bench/bench_union.py [--instances N] [--rounds R] [--threads T]
"""
import argparse
import importlib
import time

import numba
import numpy as np

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as C

RUN = importlib.import_module("clipcheck.synthetic.run")  # the module (the package exports the function `run`)
EPS, MAX_ITER = 1e-9, 10**7


def batch(n):
    fns = [C.f_exp(1.0, 1.0), C.f_exp(2.0, 0.5), C.f_slow(1.0)]
    return [fns[i % len(fns)] for i in range(n)], np.logspace(-1, 2, n)


def timed(fns, x0, split):
    saved = RUN.UNION_SECONDS_PER_MEMBER
    RUN.UNION_SECONDS_PER_MEMBER = saved if split else float("inf")
    try:
        t0 = time.perf_counter()
        res = synthetic.run(fns, "clipped", x0, EPS, MAX_ITER, eta_c=0.1, gamma=1.0)
        return time.perf_counter() - t0, res
    finally:
        RUN.UNION_SECONDS_PER_MEMBER = saved


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    fns, x0 = batch(args.instances)
    for f in {id(f): f for f in fns}.values():  # compile the members' own kernels first: a warm comparison
        synthetic.run(f, "clipped", x0[:1], EPS, 10, eta_c=0.1, gamma=1.0)
    timed(fns[:8], x0[:8], False)  # and the union's
    ratios, same = [], True
    for r in range(args.rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        seconds, results = {}, {}
        for split in order:
            seconds[split], results[split] = timed(fns, x0, split)
        a, b = results[False], results[True]
        same &= all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("iterations", "status", "x_final"))
        ratios.append(seconds[False] / seconds[True])
        print(f"round {r + 1}: union throughout {seconds[False]:.2f} s, members' kernels after "
              f"{RUN.UNION_SECONDS_PER_MEMBER:g} s per member {seconds[True]:.2f} s: {ratios[-1]:.2f}x "
              f"({int(a.iterations.sum()):,} steps)", flush=True)
    print(f"speed-up: best {max(ratios):.2f}x, median {np.median(ratios):.2f}x; identical results: {same}")


if __name__ == "__main__":
    main()
