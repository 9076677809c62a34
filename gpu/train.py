"""SGD with or without gradient clipping, logging loss, gradient norm and the local-smoothness probe per step."""
import math
import time
from dataclasses import dataclass, field

import torch

from clipcheck.gpu.probe import DEFAULT_S_GRID, local_smoothness, parameters_of


@dataclass
class TrainConfig:
    """One training run.  clip=None trains without clipping; otherwise torch.nn.utils.clip_grad_norm_(clip) is
    applied before the SGD step, so a step is lr*min(1, clip/||g||)*g (THEOREMS.md §2: eta_c = lr, gamma = clip)."""

    steps: int
    lr: float
    clip: float | None
    batch_size: int
    probe_every: int = 1
    probe_size: int = 32
    s_grid: tuple = DEFAULT_S_GRID
    momentum: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "probe_every", "probe_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be positive and finite, got {self.lr}")
        if self.clip is not None and not (self.clip > 0 and math.isfinite(self.clip)):
            raise ValueError(f"clip must be positive and finite, got {self.clip}")
        if not (0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")


@dataclass
class TrainResult:
    """Per-step records (dicts with the CSV columns), and a status: "finished" or "diverged" (non-finite loss or
    gradient: the run stops there, and the status says so rather than a NaN in a table)."""

    records: list = field(default_factory=list)
    status: str = "finished"
    seconds: float = 0.0

    COLUMNS = ("iteration", "train_loss", "train_grad_norm", "clipped", "step_norm",
               "probe_loss", "probe_grad_norm", "smoothness")


def _grad_norm(parameters):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in parameters])).item()


def train(model, loss_fn, examples, config, device, progress=None):
    """Train `model` in place on `examples` = (inputs, targets) (same first dimension) by SGD.

    The probe's fixed data subset is the first `probe_size` examples; every `probe_every` steps the probe measures
    L_hat at x_t along the step actually taken, x_{t+1} - x_t.  Mini-batches are drawn with a generator seeded by
    config.seed, so a clipped and an unclipped run with the same seed see the same batches.
    `progress(iteration)` is called after each step if given.
    """
    inputs, targets = examples
    if len(inputs) != len(targets) or len(inputs) < 1:
        raise ValueError(f"examples need equal, positive lengths, got {len(inputs)} inputs, {len(targets)} targets")
    model.to(device).train()
    parameters = list(model.parameters())
    optimizer = torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum)
    probe_batch = (inputs[: config.probe_size].to(device), targets[: config.probe_size].to(device))
    batches = torch.Generator().manual_seed(config.seed)
    result, start = TrainResult(), time.perf_counter()
    for iteration in range(config.steps):
        index = torch.randint(len(inputs), (config.batch_size,), generator=batches)
        probing = iteration % config.probe_every == 0
        before = parameters_of(model) if probing else None
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(inputs[index].to(device)), targets[index].to(device))
        loss.backward()
        if config.clip is None:
            grad_norm = _grad_norm(parameters)
        else:
            grad_norm = torch.nn.utils.clip_grad_norm_(parameters, config.clip).item()  # norm before clipping
        record = {"iteration": iteration, "train_loss": loss.item(), "train_grad_norm": grad_norm,
                  "clipped": config.clip is not None and grad_norm > config.clip}
        if not (math.isfinite(record["train_loss"]) and math.isfinite(grad_norm)):
            result.records.append(record)
            result.status = "diverged"
            break
        optimizer.step()
        if probing:
            direction = {name: p.detach() - before[name] for name, p in model.named_parameters()}
            probe = local_smoothness(model, loss_fn, probe_batch, direction, params=before, s_grid=config.s_grid)
            record.update(step_norm=probe.step_norm, probe_loss=probe.loss, probe_grad_norm=probe.grad_norm,
                          smoothness=probe.smoothness)
        result.records.append(record)
        if progress is not None:
            progress(iteration)
    result.seconds = time.perf_counter() - start
    return result
