"""What SmoothnessProbe costs: time per probed step and extra memory, in units of the training step and of one
parameter-sized copy.  Run on demand:  python bench/bench_probe.py [--repeats N] [--device cpu|cuda]

Time: the median of `repeats` plain SGD steps (forward, backward, step) against the median of the same steps with a
probe on every one; the overhead is the difference, in milliseconds and in plain steps.  A probe makes
1 + len(s_grid) forward+backward passes on the probe batch (one more, a double backward, with hvp).
Memory: the peak above the plain step's peak while a probed step runs, divided by the bytes of the trainable
parameters.  On CUDA from torch.cuda.max_memory_allocated; on the CPU from the process's peak resident set
(VmHWM, reset through /proc/self/clear_refs), with glibc told to return every large block (MALLOC_MMAP_THRESHOLD_)
so that freed copies leave the resident set.  The wide MLP (batch 8) is the clean memory case: its activations are
negligible next to its parameters; for the LSTM and ResNet-20 the activations of the probe's passes are included.
"""
import argparse
import os
import re
import statistics
import sys
import time

if "MALLOC_MMAP_THRESHOLD_" not in os.environ:  # glibc reads it at start-up: run again with it set
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})

import torch  # noqa: E402
from torch import nn  # noqa: E402

from clipcheck.gpu import SmoothnessProbe, models  # noqa: E402


def _wide_mlp():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1024, 2048), nn.Tanh(), nn.Linear(2048, 2048), nn.Tanh(), nn.Linear(2048, 10))
    batch = (torch.randn(8, 1024), torch.randint(0, 10, (8,)))
    return net, batch, models.classification_loss


def _lstm():
    torch.manual_seed(0)
    net = models.LSTMLanguageModel(1000, 64, 2)  # the quick preset's language model
    tokens = torch.randint(0, 1000, (16, 21))
    return net, (tokens[:, :-1], tokens[:, 1:]), models.language_model_loss


def _resnet():
    torch.manual_seed(0)
    return models.ResNet20(), (torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))), models.classification_loss


CASES = {"wide MLP (batch 8)": _wide_mlp, "LSTM (quick preset)": _lstm, "ResNet-20 8x8 (quick preset)": _resnet}


def _peak_rss_bytes():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024


def _reset_peak(device):
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _peak_rss_bytes()


def _peak(device):
    if device.type == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated()
    return _peak_rss_bytes()


def _step(net, batch, loss_fn, optimizer, probe=None, step=0):
    optimizer.zero_grad(set_to_none=True)
    loss_fn(net, batch).backward()
    if probe is None:
        optimizer.step()
    else:
        with probe.around_step(step):
            optimizer.step()


def measure(build, device, repeats, hvp=False, snapshot_device=None):
    net, batch, loss_fn = build()
    net.to(device).train()
    batch = tuple(t.to(device) for t in batch)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3)
    probe = SmoothnessProbe(net, batch, loss_fn, every=1, hvp=hvp, snapshot_device=snapshot_device, mode="train")
    param_bytes = sum(p.numel() * p.element_size() for p in net.parameters())
    _step(net, batch, loss_fn, optimizer)
    _step(net, batch, loss_fn, optimizer, probe)  # warm-up of both paths
    timings, peaks = {"plain": [], "probed": []}, {"plain": [], "probed": []}
    for i in range(repeats):
        for kind in ("plain", "probed"):
            base = _reset_peak(device)
            start = time.perf_counter()
            _step(net, batch, loss_fn, optimizer, probe if kind == "probed" else None, i + 1)
            if device.type == "cuda":
                torch.cuda.synchronize()
            timings[kind].append(time.perf_counter() - start)
            peaks[kind].append(_peak(device) - base)
    plain, probed = statistics.median(timings["plain"]), statistics.median(timings["probed"])
    extra = (statistics.median(peaks["probed"]) - statistics.median(peaks["plain"])) / param_bytes
    return {"params": sum(p.numel() for p in net.parameters()), "plain_ms": 1e3 * plain,
            "overhead_ms": 1e3 * (probed - plain), "overhead_steps": (probed - plain) / plain, "extra_copies": extra}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__} on {device}, {args.threads} thread(s), median of {args.repeats}; "
          f"a probe = {1 + 5} forward+backward passes (s grid of 5), +1 double backward with hvp")
    print(f"{'model':30} {'variant':14} {'params':>9} {'plain step':>11} {'probe adds':>11} {'in steps':>9} "
          f"{'extra memory':>13}")
    variants = {"default": {}, "hvp": {"hvp": True}, "snapshot cpu": {"snapshot_device": "cpu"}}
    for name, build in CASES.items():
        for variant, options in variants.items():
            if variant == "snapshot cpu" and device.type == "cpu":
                continue  # the same as the default on a CPU
            r = measure(build, device, args.repeats, **options)
            print(f"{name:30} {variant:14} {r['params']:9,d} {r['plain_ms']:9.1f}ms {r['overhead_ms']:9.1f}ms "
                  f"{r['overhead_steps']:8.1f}x {r['extra_copies']:8.2f} copies")


if __name__ == "__main__":
    main()
