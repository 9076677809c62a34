"""Local smoothness along a training step (THEOREMS.md §6, after ZHSJ-Def1), for any torch training loop.

For the step d = x_{t+1} - x_t and the loss f of the model on one fixed probe batch, one probe records:

- ``L_hat``: max_j ||grad f(x_t + s_j d) - grad f(x_t)|| / (s_j ||d||) over the grid s_j in (0, 1] (the paper's
  estimator; the authors' code used s = 1/2 only).  Each ratio is the average of the directional curvature
  H(x_t + u d) d / ||d|| over u in [0, s_j], so L_hat is a *lower* estimate of max ||Hess f|| on the segment, and
  only in the direction d: it is not the constant L0 + L1 ||grad f|| of ZHSJ-Def1, which bounds the curvature in
  every direction.
- ``secants``: ||grad f(x_t + s_j d) - grad f(x_t + s_{j-1} d)|| / ((s_j - s_{j-1}) ||d||) between neighbouring grid
  points (s_0 = 0), from the same gradients at no extra cost.  Every ratio is a weighted mean of the secants before
  it (triangle inequality), so ``secant_max`` >= ``L_hat``: a sharper lower estimate of the same maximum, which
  sees curvature peaks that the averages from x_t wash out.
- ``hvp`` (optional, ``hvp=True``): the exact directional curvature ||H(x_t) d|| / ||d|| at x_t by a Hessian-vector
  product (reverse over reverse mode; one extra backward pass).  On ReLU networks the Hessian exists only between
  kinks: hvp is that piecewise curvature, while L_hat and the secants also see the jumps of the gradient at the
  kinks, which is why they grow as the step shrinks there.
- ``step_norm`` ||d||, ``grad_norm`` ||grad f(x_t)||, ``loss`` f(x_t).
- ``noise_floor``: True when some gradient difference is within the rounding of the gradients themselves, below
  NOISE_FACTOR * u * ||grad f(x_t)|| (u the unit roundoff of the parameters' dtype), or when the shortest move
  s_1 ||d|| is below NOISE_FACTOR * u * ||x_t||, where rounding x_t + s_1 d loses the step.  Such a record's
  ratios measure rounding, not curvature.

Every gradient is computed by one function on one batch with one reduction (the authors' code summed one and
averaged the other), at the parameters' precision with autocast off.  The model is never modified: parameters go
to ``torch.func.functional_call`` as other tensors and buffers (BatchNorm statistics) as clones.

Dropout: with ``mode="eval"`` (the default) the probe runs the model in eval mode, so dropout is off and every
gradient is of one deterministic function (BatchNorm then uses its running statistics).  With ``mode="train"`` the
training flags stay as they are and the random generators are forked and reseeded identically before every
gradient, so all gradients of one probe see the same dropout mask (BatchNorm uses batch statistics, as in
training).  Without either, each gradient sees another mask and the differences measure the masks (issue 11: 57
against 1.85 on a small MLP).  One fixed mask is a different function from the network without dropout: with p =
0.1 its L_hat is 4-12% below the eval-mode one on small MLPs.
"""
import math
import warnings
from contextlib import contextmanager, nullcontext

import torch
from torch import nn
from torch.func import functional_call

# The authors' code used the midpoint only; more points along the step catch curvature that peaks elsewhere.
DEFAULT_S_GRID = (0.1, 0.25, 0.5, 0.75, 1.0)
MODES = ("eval", "train")
# float32 gradients of the LSTM, ResNet-20 and an MLP differ from float64 ones by 1.3 to 2.7 u ||g|| (measured,
# tests/test_gpu_probe.py checks it on an MLP); differences below 10 u ||g|| carry 10-30 % rounding error or more.
NOISE_FACTOR = 10.0


def check_s_grid(s_grid):
    """The grid as a tuple of floats, strictly increasing in (0, 1]; ValueError naming s_grid otherwise."""
    try:
        grid = tuple(float(s) for s in s_grid)
    except (TypeError, ValueError):
        raise ValueError(f"s_grid must be a sequence of numbers in (0, 1], got {s_grid!r}") from None
    if not grid or any(not (0.0 < s <= 1.0) for s in grid) or any(b <= a for a, b in zip(grid, grid[1:])):
        raise ValueError(f"s_grid must be a nonempty, strictly increasing sequence in (0, 1], got {s_grid!r}")
    return grid


def unwrap(model):
    """The module inside DistributedDataParallel / DataParallel: the probe's passes must not trigger their hooks."""
    return model.module if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else model


def trainable_parameters(model):
    """The parameters that training moves, by name (tied weights once)."""
    return {name: p for name, p in unwrap(model).named_parameters() if p.requires_grad}


def snapshot(model, device=None):
    """Detached copies of the trainable parameters (on `device`, default: where they are)."""
    return {name: p.detach().to(device if device is not None else p.device, copy=True)
            for name, p in trainable_parameters(model).items()}


def move_to(batch, device):
    """`batch` (a tensor, or tuples, lists and dicts of them) with every tensor on `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: move_to(value, device) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(value, device) for value in batch)
    return batch


class _LossOf(nn.Module):
    """loss_fn(model, batch) as a module, so functional_call can substitute the model's parameters inside it."""

    def __init__(self, model, loss_fn):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, batch):
        return self.loss_fn(self.model, batch)


def _distributed_world(distributed):
    """World size to average over: 1 unless torch.distributed is initialised (and `distributed` is not False)."""
    if distributed is False or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        if distributed is True:
            raise ValueError("distributed=True but torch.distributed is not initialised")
        return 1
    return torch.distributed.get_world_size()


class _Segment:
    """Gradients of f on the probe batch at points of the segment [x_t, x_{t+1}], and their norms (on device)."""

    def __init__(self, model, loss_fn, batch, mode, seed, world):
        self.model = unwrap(model)
        self.wrapper = _LossOf(self.model, loss_fn)
        self.batch, self.mode, self.seed, self.world = batch, mode, seed, world
        self.device = next(self.model.parameters()).device
        self.frozen = {"model." + n: p.detach() for n, p in self.model.named_parameters() if not p.requires_grad}

    def gradient(self, params, direction=None):
        """(loss, [gradient tensors]) at `params`, and with `direction` also [H d tensors]; averaged over ranks."""
        if self.mode == "train":  # one dropout mask for every gradient of this probe
            torch.random.default_generator.manual_seed(self.seed)
            if self.device.type == "cuda":
                torch.cuda.manual_seed(self.seed)  # the current device: the one fork_rng restores
        leaves = {"model." + n: v.detach().requires_grad_(True) for n, v in params.items()}
        buffers = {"model." + n: b.clone() for n, b in self.model.named_buffers()}  # BatchNorm updates the clones
        with torch.autocast(self.device.type, enabled=False), warnings.catch_warnings():
            # cuDNN warns on every call that substituted LSTM weights are not one contiguous block; it only costs a copy
            warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
            loss = functional_call(self.wrapper, ({**leaves, **self.frozen}, buffers), (self.batch,))
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar tensor, got shape {tuple(loss.shape)}")
        inputs = list(leaves.values())
        grads = torch.autograd.grad(loss, inputs, create_graph=direction is not None, allow_unused=True)
        grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]
        hd = None
        if direction is not None:
            linked = [(g, direction[n]) for g, n in zip(grads, params) if g.requires_grad]  # zeros have no graph
            hd = torch.autograd.grad([g for g, _ in linked], inputs, grad_outputs=[d for _, d in linked],
                                     allow_unused=True) if linked else [None] * len(inputs)
            hd = [torch.zeros_like(x) if h is None else h for x, h in zip(inputs, hd)]
            grads = [g.detach() for g in grads]
        loss = loss.detach()
        if self.world > 1:  # f = mean over ranks of each rank's loss, so every gradient is the mean too
            loss, grads, hd = self._mean_over_ranks(loss, grads, hd)
        return loss, grads, hd

    def _mean_over_ranks(self, loss, grads, hd):
        parts = [loss.reshape(1)] + grads + (hd or [])
        flat = torch.cat([p.reshape(-1) for p in parts])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        pieces = list(torch.split(flat, [p.numel() for p in parts]))
        shaped = [piece.view_as(p) for piece, p in zip(pieces, parts)]
        return shaped[0].reshape(()), shaped[1:1 + len(grads)], (shaped[1 + len(grads):] if hd else None)


def _norm(tensors):
    """Euclidean norm of a list of tensors taken as one vector, as a 0-d tensor on their device (no sync)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors]))


def _difference_norm(a, b):
    """||a - b|| with one tensor's difference alive at a time (not a third parameter-sized copy)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(x - y) for x, y in zip(a, b)]))


def measure(model, loss_fn, batch, before, *, s_grid=DEFAULT_S_GRID, hvp=False, mode="eval", seed=0,
            distributed=None):
    """The estimates of this module along the step from `before` (x_t) to the model's current parameters.

    `before`: the trainable parameters at x_t by name (from `snapshot`, on any device); `loss_fn(model, batch)`
    returns a scalar tensor.  Returns a dict: loss, grad_norm, step_norm, param_norm, L_hat, ratios, secants,
    secant_max, hvp (nan unless hvp=True), noise_floor, skipped (True when the step is zero: no estimate, nan).
    Under torch.distributed every gradient is averaged over the ranks first, so all ranks return the same record
    (`distributed=False` keeps each rank's own).  One host sync at the end (and one for ||d||).
    """
    grid = check_s_grid(s_grid)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    after = trainable_parameters(model)
    if set(before) != set(after):
        raise ValueError("before must hold one tensor per trainable parameter of the model (see snapshot)")
    segment = _Segment(model, loss_fn, batch, mode, seed, _distributed_world(distributed))
    dtype = next(iter(after.values())).dtype
    with _probe_context(segment):
        start = {n: before[n].to(segment.device) for n in after}  # a copy only when the snapshot lives elsewhere
        step_norm = _difference_norm([after[n].detach() for n in after], [start[n] for n in after])
        param_norm = _norm(list(start.values()))
        skipped = step_norm.item() == 0.0  # a skipped step (GradScaler found inf): nothing to estimate
        direction = {n: after[n].detach() - start[n] for n in after} if hvp and not skipped else None
        loss, g0, hd = segment.gradient(start, direction)
        del direction, start  # from here on x_t is read tensor by tensor from the snapshot
        norms = [loss, _norm(g0), step_norm, param_norm,
                 _norm(hd) if hd is not None else torch.zeros((), device=segment.device)]
        differences, secant_differences = [], []
        previous = g0
        for s in ([] if skipped else grid):
            point = after if s == 1.0 else {n: torch.lerp(before[n].to(segment.device), after[n].detach(), s)
                                             for n in after}
            _, g_s, _ = segment.gradient(point)
            del point  # before the next point is made: one moved copy at a time
            differences.append(_difference_norm(g_s, g0))
            secant_differences.append(_difference_norm(g_s, previous))
            previous = g_s
        values = torch.stack([v.to(torch.float64).reshape(()) for v in norms + differences + secant_differences])
    values = values.tolist()  # the one sync of the estimates
    loss, grad_norm, step_norm, param_norm, hd_norm = values[:5]
    differences, secant_differences = values[5:5 + len(grid)], values[5 + len(grid):]
    return _record(grid, loss, grad_norm, step_norm, param_norm, hd_norm if hvp else math.nan, differences,
                   secant_differences, skipped, torch.finfo(dtype).eps)


@contextmanager
def _probe_context(segment):
    """Eval mode (mode "eval") or a forked random generator (mode "train") for the probe's passes; the model's
    training flags and the caller's random state are as before afterwards."""
    model = segment.model
    flags = [(m, m.training) for m in model.modules()]
    devices = [segment.device] if segment.device.type == "cuda" else []
    if segment.mode == "eval":
        model.eval()
    try:
        with torch.random.fork_rng(devices=devices) if segment.mode == "train" else nullcontext():
            yield
    finally:
        for module, training in flags:
            module.training = training


def _finite_max(values):
    """max(values), or nan when one is not finite (Python's max would skip a nan, depending on its position)."""
    return max(values) if all(math.isfinite(v) for v in values) else math.nan


def _record(grid, loss, grad_norm, step_norm, param_norm, hvp, differences, secant_differences, skipped, unit):
    if skipped:
        ratios = secants = [math.nan] * len(grid)
    else:
        ratios = [diff / (s * step_norm) for s, diff in zip(grid, differences)]
        widths = [b - a for a, b in zip((0.0,) + grid, grid)]
        secants = [diff / (w * step_norm) for w, diff in zip(widths, secant_differences)]
    floor = not skipped and (min(differences) < NOISE_FACTOR * unit * grad_norm
                             or grid[0] * step_norm < NOISE_FACTOR * unit * param_norm)
    return {"loss": loss, "grad_norm": grad_norm, "step_norm": step_norm, "param_norm": param_norm,
            "L_hat": _finite_max(ratios), "ratios": ratios, "secants": secants, "secant_max": _finite_max(secants),
            "hvp": hvp / step_norm if not skipped and math.isfinite(hvp) else math.nan,
            "noise_floor": bool(floor), "skipped": skipped}
