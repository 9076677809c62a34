"""Benchmark of the CUDA backend against the CPU backend on bench_runner.py's batch: clipped GD on f_exp(1, 1),
|f'(x0)| = M log-spaced in [1, 1e6], eps = 1e-9 (200,000 instances by default). Prints instance-steps per second of
each backend, round by round (interleaved, the order rotating), their ratio CUDA/CPU, the step count of each and
the iteration-count and status mismatches between them (0 expected: both compile clipcheck's own expm1 and the
CUDA kernel is compiled with NVVM's fma=0, see synthetic/cuda.py).

Design of the CUDA kernel (synthetic/cuda_lanes.py): persistent threads with refill. A launch starts a few blocks
of 128 threads per multiprocessor, not one thread per instance; each thread takes the next instance from a global
queue (an atomic counter) as soon as its own finishes, so a warp never waits for its slowest instance before
starting new work. A launch is a slice of bounded work (each thread stops after STEPS_PER_SLICE steps and saves its
instance), so the host can honour Ctrl-C between launches; the host reads back only the status array per slice.

Without a CUDA device this prints why and exits with status 0 (the CUDA simulator runs Python, it is no benchmark).

Run on demand:  python bench/bench_gpu.py [--instances N] [--rounds R]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runner import EPS, L0, L1, MAX_ITER, workload  # noqa: E402

from clipcheck import synthetic  # noqa: E402
from clipcheck.theory import steps  # noqa: E402


def device_or_reason():
    """(device, None) for a real CUDA device, else (None, the reason there is none)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return None, "NUMBA_ENABLE_CUDASIM is set: the CUDA simulator runs Python, it is not benchmarked"
    try:
        from numba import cuda
    except ImportError as err:
        return None, f"numba-cuda is not installed (pip install 'clipcheck[cuda]'): {err}"
    try:
        if not cuda.is_available():
            return None, "no CUDA device or driver found"
        return cuda.get_current_device(), None
    except Exception as err:  # a broken driver reads as "no device"
        return None, f"CUDA is not usable here: {type(err).__name__}: {err}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    device, reason = device_or_reason()
    if device is None:
        print(f"bench_gpu: nothing to measure: {reason}.")
        return 0
    from numba import cuda

    from clipcheck.synthetic import cuda as cuda_backend
    fam, x0 = workload(args.instances)
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)

    def run(backend):
        return synthetic.run(fam, "clipped", x0, EPS, MAX_ITER, eta_c=eta_c, gamma=gamma, backend=backend)

    sms = device.MULTIPROCESSOR_COUNT
    name = device.name.decode() if isinstance(device.name, bytes) else device.name
    print(f"{args.instances} instances of clipped GD on f_exp(L0={L0:g}, L1={L1:g}), M in [1, 1e6], eps={EPS:g}")
    print(f"CUDA: {name}, compute capability {device.compute_capability}, {sms} multiprocessors; persistent "
          f"threads with refill: {cuda_backend.THREADS} threads per block, up to 8 blocks per multiprocessor, "
          f"{cuda_backend.STEPS_PER_SLICE} steps per thread per launch")
    print(f"CPU: {os.cpu_count()} cpus, the lane kernel on every core")
    results = {b: run(b) for b in ("cpu", "cuda")}  # warm-up (compilation) and the results compared below
    cuda.synchronize()
    rates = {"cpu": [], "cuda": []}
    order = ["cpu", "cuda"]
    for r in range(args.rounds):
        line = []
        for backend in order[r % 2:] + order[:r % 2]:
            t0 = time.perf_counter()
            res = run(backend)
            rate = int(res.iterations.sum()) / (time.perf_counter() - t0) / 1e6
            rates[backend].append(rate)
            line.append(f"{backend} {rate:8.1f}")
        print(f"round {r}: " + " | ".join(line) + "  M instance-steps/s", flush=True)
    cpu, gpu = np.array(rates["cpu"]), np.array(rates["cuda"])
    for backend in order:
        mine = np.array(rates[backend])
        print(f"{backend:5s} steps {int(results[backend].iterations.sum()):12d}  best {mine.max():9.1f}  "
              f"median {np.median(mine):9.1f} M instance-steps/s")
    print(f"CUDA / CPU: best over best {gpu.max() / cpu.max():.2f}, median of the per-round ratios "
          f"{np.median(gpu / cpu):.2f}")
    it = int(np.sum(results["cpu"].iterations != results["cuda"].iterations))
    st = int(np.sum(results["cpu"].status != results["cuda"].status))
    print(f"CPU against CUDA: {it} iteration-count and {st} status mismatches of {args.instances}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
