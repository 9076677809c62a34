"""Benchmark of the runner against a C loop: clipped GD on f_exp(1, 1) from starts with |f'(x0)| = M spread over
[1, 1e6] (log-spaced), to eps = 1e-9, with per-instance early exit: issue 12's acceptance batch (200,000 instances
by default, about 50 M steps).

Implementations, interleaved round by round (every implementation once per round, the order rotating), so that a
round slowed down by other work on the shared cores hits all of them alike:
- C loop: bench/clip_ref.c, OpenMP over instances, 8 SIMD lanes of glibc's vector exp (-O3 -march=native
  -ffast-math); the reference the ratios are taken against;
- runner: clipcheck.synthetic.run, the specialised lane kernel with clipcheck's own expm1 (mathfns, the default);
- runner libm: the same kernel with math="libm" (the platform's expm1, one scalar call per lane-step);
- NumPy: the same loop in NumPy with np.expm1, finished instances removed from the arrays.
- C loop without -ffast-math (extra information only, not the reference): the same C source compiled with
  -O3 -march=native alone, so without libmvec's vector exp (GCC then calls libm's scalar exp).
Each round also prints a 2-thread availability probe: the same fixed spin run by one thread, then by two at once;
2.0 means both cores were free, 1.0 that only one was.

Then: M steps/s per implementation (best round and median), the ratio to the C loop (best over best, and the median
of the per-round ratios), the total step count of each (any drift shows), and the iteration-count and status
mismatches of the runner against the libm kernel and against the NumPy loop on the whole batch (mathfns and libm may
round e^x differently in the last bit; the count says how often that changes an iteration count), and the Python
time of a runner call: its wall time minus the time inside the worker kernel (issue 12 asks <= 2 ms per 200,000
instances).

Run on demand:  python bench/bench_runner.py [--instances N] [--rounds R] [--threads T] [--python-only CALLS]
"""
import os

# libgomp threads spin for a while after a parallel region (GOMP_SPINCOUNT); with two parallel users in one process
# (the C loop's OpenMP and the runner's threads) that spinning would take the cores from the other's next run.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import llvmlite.binding  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

from clipcheck import synthetic  # noqa: E402
from clipcheck.synthetic import catalogue as F  # noqa: E402
from clipcheck.theory import steps  # noqa: E402

L0, L1, EPS, MAX_ITER = 1.0, 1.0, 1e-9, 10**6


def workload(n):
    fam = F.f_exp(L0, L1)
    M = np.logspace(0, 6, n)
    return fam, np.log1p(L1 * M / L0) / L1  # THEOREMS.md 3.1: |f'(x0)| = M


def runner(math):
    def run(fam, x0, eta_c, gamma):
        res = synthetic.run(fam, "clipped", x0, EPS, MAX_ITER, eta_c=eta_c, gamma=gamma, math=math)
        return res.iterations, res.status
    return run


def numpy_loop(fam, x0, eta_c, gamma):
    """The same loop in NumPy (np.expm1), finished instances removed from the arrays (not masked)."""
    x, idx = x0.copy(), np.arange(x0.size)
    iters, status = np.zeros(x0.size, np.int64), np.zeros(x0.size, np.int8)
    t = 0
    while x.size:
        d = np.copysign(L0 / L1 * np.expm1(L1 * np.abs(x)), x)
        g = np.abs(d)
        done = (g <= EPS) | (t == MAX_ITER)
        iters[idx[done]] = t
        status[idx[done]] = np.where(g[done] <= EPS, 0, 1)
        keep = ~done
        x, d, g, idx = x[keep], d[keep], g[keep], idx[keep]
        x -= np.minimum(eta_c, gamma * eta_c / g) * d
        t += 1
    return iters, status


def build_c(threads, fast_math=True):
    """The C loop on `threads` threads as a callable, or None without a C compiler with OpenMP."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    out = Path(tempfile.mkdtemp()) / "clip_ref.so"
    src = Path(__file__).with_name("clip_ref.c")
    cmd = [cc, "-O3", "-march=native", *(["-ffast-math"] if fast_math else []), "-fopenmp", "-shared", "-fPIC",
           str(src), "-o", str(out), "-lm"]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    lib = ctypes.CDLL(str(out))
    f = lib.run_clipped_fexp
    dp, ip = ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_int64)
    f.argtypes = [ctypes.c_int64, dp, ip, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double,
                  ctypes.c_double, ctypes.c_int64, ip, ctypes.c_int]
    f.restype = ctypes.c_int64

    def run(fam, x0, eta_c, gamma):
        order = np.random.default_rng(0).permutation(x0.size).astype(np.int64)  # spreads costly instances
        iters = np.zeros(x0.size, np.int64)
        f(x0.size, x0.ctypes.data_as(dp), order.ctypes.data_as(ip), L0, L1, eta_c, gamma, EPS, MAX_ITER,
          iters.ctypes.data_as(ip), threads)
        return iters, np.where(iters < MAX_ITER, 0, 1).astype(np.int8)
    return run


@numba.njit(nogil=True, cache=False)
def _spin(n):
    s = 0.0
    for i in range(n):
        s = s * 0.999999 + 1.0
    return s


def availability(n=20_000_000):
    """How many of two cores were free: time of one spin alone over the time of two spins at once, times 2."""
    _spin(1000)
    t0 = time.perf_counter()
    _spin(n)
    one = time.perf_counter() - t0
    threads = [threading.Thread(target=_spin, args=(n,)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two = time.perf_counter() - t0
    return 2.0 * one / two


def python_time(fam, x0, eta_c, gamma, repeats):
    """Milliseconds of a runner call spent outside the worker kernel (packing, slices, threads, the result check):
    each call's wall time minus the union of the intervals in which a worker ran, one value per call."""
    from clipcheck.synthetic import kernels
    original = kernels.cpu_run_kernel
    spans = []

    def timed(*args, **kwargs):
        worker = original(*args, **kwargs)  # already compiled by the rounds above

        def call(*a):
            t0 = time.perf_counter()
            worker(*a)
            spans.append((t0, time.perf_counter()))
        return call

    kernels.cpu_run_kernel = timed
    out = []
    try:
        for _ in range(repeats):
            spans.clear()
            t0 = time.perf_counter()
            synthetic.run(fam, "clipped", x0, EPS, MAX_ITER, eta_c=eta_c, gamma=gamma)
            total = time.perf_counter() - t0
            busy, end = 0.0, -np.inf
            for a, b in sorted(spans):
                if b > end:
                    busy += b - max(a, end)
                    end = b
            out.append(1e3 * (total - busy))
    finally:
        kernels.cpu_run_kernel = original
    return np.array(out)


def mismatches(a, b):
    (ia, sa), (ib, sb) = a, b
    return int(np.sum(ia != ib)), int(np.sum(sa != sb))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2, help="threads of the runner and the C loop (default 2)")
    ap.add_argument("--python-only", type=int, metavar="CALLS", default=0,
                    help="only the Python time of CALLS runner calls (after one warm-up call), nothing else")
    args = ap.parse_args()
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    fam, x0 = workload(args.instances)
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    if args.python_only:
        runner("clipcheck")(fam, x0, eta_c, gamma)  # compilation
        print_python_time(python_time(fam, x0, eta_c, gamma, args.python_only), args)
        return
    impls = {"runner": runner("clipcheck"), "runner libm": runner("libm"), "NumPy": numpy_loop}
    c = build_c(args.threads)
    if c is not None:
        impls = {"C loop": c, **impls, "C no-fast-math": build_c(args.threads, fast_math=False)}
    ref = "C loop" if c is not None else "runner"
    print(f"{args.instances} instances of clipped GD on f_exp(L0={L0:g}, L1={L1:g}), M in [1, 1e6], eps={EPS:g}; "
          f"{args.threads} threads; {os.cpu_count()} cpus ({llvmlite.binding.get_host_cpu_name()}), numba "
          f"{numba.__version__}, numpy {np.__version__}")
    results = {}
    for name, fn in impls.items():  # warm-up: compilation, page faults; also the results compared below
        results[name] = fn(fam, x0, eta_c, gamma)
    steps_of = {name: int(res[0].sum()) for name, res in results.items()}
    rates = {name: [] for name in impls}
    names = list(impls)
    for r in range(args.rounds):
        line = []
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            iters, _ = impls[name](fam, x0, eta_c, gamma)
            rate = int(iters.sum()) / (time.perf_counter() - t0) / 1e6
            rates[name].append(rate)
            line.append(f"{name} {rate:6.1f}")
        print(f"round {r}: 2-thread availability {availability():.2f} | " + " | ".join(line) + "  M steps/s",
              flush=True)
    print(f"\n{'implementation':14s} {'steps':>11s} {'best M/s':>9s} {'median M/s':>10s} {'best/best':>10s} "
          f"{'median ratio':>12s}   (ratios to the {ref})")
    base = np.array(rates[ref])
    for name in names:
        mine = np.array(rates[name])
        print(f"{name:14s} {steps_of[name]:11d} {mine.max():9.1f} {np.median(mine):10.1f} "
              f"{mine.max() / base.max():10.2f} {np.median(mine / base):12.2f}")
    for other in ("runner libm", "NumPy"):
        it, st = mismatches(results["runner"], results[other])
        print(f"runner (mathfns) against {other}: {it} iteration-count and {st} status mismatches "
              f"of {args.instances}")
    if c is None:
        print("(no C compiler with OpenMP found: the C loop was skipped)")
    else:
        print("(C no-fast-math: extra information only; the acceptance ratio is the one to the C loop)")
    print_python_time(python_time(fam, x0, eta_c, gamma, max(args.rounds, 3)), args)


def print_python_time(py, args):
    print(f"Python time of a runner call ({args.instances} instances, {args.threads} threads): best "
          f"{py.min():.2f} ms, median {np.median(py):.2f} ms ({', '.join(f'{v:.2f}' for v in py)})")


if __name__ == "__main__":
    main()
