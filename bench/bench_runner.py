"""Benchmark: clipped GD on f_exp, 10,000 one-dimensional instances (starts spread over M in [1, 1e6]) to
eps = 1e-9 with per-instance early exit. Prints instance-steps per second for the Numba runner, a compacted
NumPy loop and a C reference (OpenMP over instances, SIMD exp over lanes), and their ratios.

Run on demand:  python bench/bench_runner.py [--instances N] [--repeat R]
"""
import os

# libgomp threads spin for a while after a parallel region (GOMP_SPINCOUNT); with two OpenMP users in one
# process (the C reference and Numba's omp layer) that spinning can take the cores from the other's next run.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from clipcheck import synthetic  # noqa: E402
from clipcheck.synthetic import catalogue as F  # noqa: E402
from clipcheck.theory import steps  # noqa: E402

L0, L1, EPS, MAX_ITER = 1.0, 1.0, 1e-9, 10**6


def workload(n):
    fam = F.f_exp(L0, L1)
    M = np.logspace(0, 6, n)
    x0 = np.log1p(L1 * M / L0) / L1  # section 3.1: |f'(x0)| = M
    return fam, x0


def numba_runner(fam, x0, eta_c, gamma):
    res = synthetic.run(fam, "clipped", x0, EPS, MAX_ITER, eta_c=eta_c, gamma=gamma)
    return int(res.iterations.sum())


def numpy_compacted(fam, x0, eta_c, gamma):
    """The same loop in NumPy, finished instances removed from the arrays (not masked)."""
    x = x0.copy()
    total, t = 0, 0
    while x.size:
        d = np.copysign(L0 / L1 * np.expm1(L1 * np.abs(x)), x)
        g = np.abs(d)
        done = (g <= EPS) | (t == MAX_ITER)
        total += int(done.sum()) * t
        keep = ~done
        x, d, g = x[keep], d[keep], g[keep]
        x -= np.minimum(eta_c, gamma * eta_c / g) * d
        t += 1
    return total


def build_c():
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    out = Path(tempfile.mkdtemp()) / "clip_ref.so"
    src = Path(__file__).with_name("clip_ref.c")
    cmd = [cc, "-O3", "-march=native", "-ffast-math", "-fopenmp", "-shared", "-fPIC", str(src), "-o", str(out),
           "-lm"]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    lib = ctypes.CDLL(str(out))
    f = lib.run_clipped_fexp
    dp, ip = ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_int64)
    f.argtypes = [ctypes.c_int64, dp, ip, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double,
                  ctypes.c_double, ctypes.c_int64, ip]
    f.restype = ctypes.c_int64

    def run(fam, x0, eta_c, gamma):
        order = np.random.default_rng(0).permutation(x0.size).astype(np.int64)  # spreads costly instances
        iters = np.zeros(x0.size, np.int64)
        return int(f(x0.size, x0.ctypes.data_as(dp), order.ctypes.data_as(ip), L0, L1, eta_c, gamma, EPS,
                     MAX_ITER, iters.ctypes.data_as(ip)))
    return run


def timed(fn, args, repeat):
    fn(*args)  # warm-up: JIT compilation, page faults
    best, total = np.inf, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        total = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return total, best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    fam, x0 = workload(args.instances)
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    impls = {"numba runner": numba_runner, "numpy compacted": numpy_compacted}
    c = build_c()
    if c is not None:
        impls = {"C reference": c, **impls}
    print(f"{args.instances} instances, clipped GD on f_exp(L0={L0:g}, L1={L1:g}) to eps={EPS:g}, "
          f"{os.cpu_count()} cpus, best of {args.repeat}")
    results = {name: timed(fn, (fam, x0, eta_c, gamma), args.repeat) for name, fn in impls.items()}
    ref = "C reference" if c is not None else "numba runner"
    ref_rate = results[ref][0] / results[ref][1]
    print(f"{'implementation':18s} {'steps':>12s} {'seconds':>9s} {'M steps/s':>10s} {'vs ' + ref:>16s}")
    for name, (total, sec) in results.items():
        rate = total / sec
        print(f"{name:18s} {total:12d} {sec:9.4f} {rate / 1e6:10.1f} {rate / ref_rate:16.2f}")
    if c is None:
        print("(no C compiler found: C reference skipped)", file=sys.stderr)


if __name__ == "__main__":
    main()
