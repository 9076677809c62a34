"""One training run: SGD with or without gradient clipping, the smoothness probe, divergence, held-out loss.

Steps without a probe make no host sync: the training loss and gradient norm of every step go into tensors on the
device and are read at probe steps (and at the end), where divergence is checked.
"""
import math
import time
from dataclasses import dataclass, field

import torch

from clipcheck.gpu.probe import DEFAULT_S_GRID, MODES, check_s_grid
from clipcheck.gpu.smoothness_probe import DIVERGENCE_FACTOR, SmoothnessProbe


@dataclass
class TrainConfig:
    """One training run.  clip=None trains without clipping; otherwise torch.nn.utils.clip_grad_norm_(clip) is
    applied before the SGD step, so a step is lr*min(1, clip/||g||)*g (THEOREMS.md §2: eta_c = lr, gamma = clip).
    The probe measures every `probe_every` steps on the first `probe_size` training examples (mode: see
    SmoothnessProbe); the held-out loss is evaluated before training and after every `heldout_every` steps and the
    last one.
    amp: autocast (float16 and GradScaler on CUDA, bfloat16 on the CPU) for the training passes; the probe always
    computes at the parameters' precision."""

    steps: int
    lr: float
    clip: float | None
    batch_size: int
    probe_every: int = 1
    probe_size: int = 32
    s_grid: tuple = DEFAULT_S_GRID
    momentum: float = 0.0
    seed: int = 0
    hvp: bool = False
    mode: str = "eval"
    heldout_every: int = 50
    amp: bool = False
    divergence_factor: float = DIVERGENCE_FACTOR

    def __post_init__(self):
        for name in ("steps", "batch_size", "probe_every", "probe_size", "heldout_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be positive and finite, got {self.lr}")
        if self.clip is not None and not (self.clip > 0 and math.isfinite(self.clip)):
            raise ValueError(f"clip must be positive and finite, got {self.clip}")
        if not (0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        self.s_grid = check_s_grid(self.s_grid)


@dataclass
class TrainResult:
    """records: one dict per step (step, train_loss, grad_norm before clipping, clipped); probes: the probe's
    records; heldout: dicts (step, loss) of the held-out loss after `step` steps (0: before training); status
    "finished" or "diverged" with diverged = {"step", "reason"}: the first step whose training loss or gradient
    norm is not finite or whose loss exceeds divergence_factor times the first one, or the probe's own verdict,
    whichever comes first.  A diverged run stops at the next sync point."""

    records: list = field(default_factory=list)
    probes: list = field(default_factory=list)
    heldout: list = field(default_factory=list)
    status: str = "finished"
    diverged: dict | None = None
    seconds: float = 0.0

    @property
    def clipped_fraction(self):
        return sum(r["clipped"] for r in self.records) / len(self.records) if self.records else math.nan


def heldout_loss(model, loss_fn, examples, batch_size, device):
    """Mean of loss_fn over `examples` = (inputs, targets) in eval mode, in chunks of `batch_size` (every chunk
    weighted by its size: exact for per-example or per-token means with equal lengths)."""
    inputs, targets = examples
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=device)
    try:
        with torch.no_grad():
            for i in range(0, len(inputs), batch_size):
                chunk = (inputs[i:i + batch_size].to(device), targets[i:i + batch_size].to(device))
                total += loss_fn(model, chunk).double() * len(chunk[0])
    finally:
        for module, training in flags:
            module.training = training
    return total.item() / len(inputs)


def train(model, loss_fn, examples, config, device, heldout=None, progress=None):
    """Train `model` in place on `examples` = (inputs, targets) by SGD; returns a TrainResult.

    Mini-batches are drawn with a generator seeded by config.seed, so runs with the same seed (clipped or not) see
    the same batches.  The probe batch is the first `probe_size` examples.  `heldout` = (inputs, targets) or None.
    `progress(step)` is called after each step if given.
    """
    inputs, targets = examples
    if len(inputs) != len(targets) or len(inputs) < 1:
        raise ValueError(f"examples need equal, positive lengths, got {len(inputs)} inputs, {len(targets)} targets")
    device = torch.device(device)
    model.to(device).train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum)
    probe = SmoothnessProbe(model, (inputs[:config.probe_size], targets[:config.probe_size]), loss_fn,
                            every=config.probe_every, s_grid=config.s_grid, hvp=config.hvp, mode=config.mode,
                            divergence_factor=config.divergence_factor, seed=config.seed)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp and device.type == "cuda")
    batches = torch.Generator().manual_seed(config.seed)
    losses = torch.empty(config.steps, device=device)
    norms = torch.empty(config.steps, device=device)
    result, start = TrainResult(), time.perf_counter()
    if heldout is not None:
        result.heldout.append(_heldout_point(model, loss_fn, heldout, config, device, 0))
    for step in range(config.steps):
        index = torch.randint(len(inputs), (config.batch_size,), generator=batches)
        batch = (inputs[index].to(device), targets[index].to(device))
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=config.amp):
            loss = loss_fn(model, batch)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        if config.clip is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
        else:
            norm = torch.nn.utils.clip_grad_norm_(parameters, config.clip)  # the norm before clipping
        losses[step], norms[step] = loss.detach(), norm
        with probe.around_step(step):
            scaler.step(optimizer)
        scaler.update()
        last = step == config.steps - 1
        if step % config.probe_every == 0 or last:
            _read_steps(result, losses, norms, config, step)
            verdicts = [d for d in (result.diverged, probe.diverged) if d is not None]
            result.diverged = min(verdicts, key=lambda d: d["step"]) if verdicts else None
            if result.diverged is not None:
                break
        if heldout is not None and ((step + 1) % config.heldout_every == 0 or last):
            result.heldout.append(_heldout_point(model, loss_fn, heldout, config, device, step + 1))
        if progress is not None:
            progress(step)
    result.probes = probe.records
    result.status = "finished" if result.diverged is None else "diverged"
    result.seconds = time.perf_counter() - start
    return result


def _heldout_point(model, loss_fn, heldout, config, device, steps_done):
    return {"step": steps_done, "loss": heldout_loss(model, loss_fn, heldout, max(config.batch_size, 128), device)}


def _read_steps(result, losses, norms, config, upto):
    """Copy the device buffers of the steps since the last sync into records; note the first divergent step."""
    first = len(result.records)
    values = torch.stack([losses[first:upto + 1], norms[first:upto + 1]]).tolist()
    for offset, (loss, norm) in enumerate(zip(*values)):
        step = first + offset
        result.records.append({"step": step, "train_loss": loss, "grad_norm": norm,
                               "clipped": config.clip is not None and norm > config.clip})
        if result.diverged is not None:
            continue
        start = result.records[0]["train_loss"]
        if not (math.isfinite(loss) and math.isfinite(norm)):
            result.diverged = {"step": step, "reason": "non-finite training loss or gradient"}
        elif config.divergence_factor is not None and start > 0 and loss > config.divergence_factor * start:
            result.diverged = {"step": step, "reason": f"training loss {loss:.3g} above "
                                                       f"{config.divergence_factor:g} x its first value {start:.3g}"}
