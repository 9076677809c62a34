"""Estimate local smoothness along a training step (THEOREMS.md §6, after ZHSJ-Def1).

    L_hat(x, d) = max_j ||grad f(x + s_j d) - grad f(x)|| / (s_j ||d||),   s_j in (0, 1],

where f is the loss of `model` on one fixed batch.  Every gradient is computed by the same function on the same
batch with the same reduction, so differences are differences of one function's gradient.  The model is never
modified: parameters are passed to `torch.func.functional_call` as fresh tensors, and buffers (BatchNorm running
statistics) as clones, so a probe in training mode updates only the clones.
"""
import warnings
from dataclasses import dataclass

import torch
from torch.func import functional_call

# The authors' code used only the midpoint; four more points along the step catch curvature that peaks elsewhere.
DEFAULT_S_GRID = (0.1, 0.25, 0.5, 0.75, 1.0)


@dataclass
class ProbeResult:
    """One estimate: loss and gradient norm at x on the probe batch, L_hat, and the ratio for each s."""

    loss: float
    grad_norm: float
    smoothness: float
    step_norm: float
    ratios: tuple

    def to_dict(self):
        return {"loss": self.loss, "grad_norm": self.grad_norm, "smoothness": self.smoothness,
                "step_norm": self.step_norm, "ratios": list(self.ratios)}


def parameters_of(model):
    """Detached copies of the model's parameters by name (tied weights appear once)."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def loss_and_gradient(model, loss_fn, batch, params):
    """Loss of `model` with parameters `params` on `batch` = (inputs, targets), and its gradient by name."""
    inputs, targets = batch
    leaves = {name: value.detach().requires_grad_(True) for name, value in params.items()}
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    with warnings.catch_warnings():
        # cuDNN warns on every call that substituted LSTM weights are not one contiguous block; it only costs a copy
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        loss = loss_fn(functional_call(model, (leaves, buffers), (inputs,)), targets)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads))


def _norm(tensors):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors]))


def local_smoothness(model, loss_fn, batch, direction, params=None, s_grid=DEFAULT_S_GRID):
    """L_hat along `direction` (a dict name -> tensor, usually x_{t+1} - x_t) from `params` (default: the model's).

    `loss_fn(outputs, targets)` must return a scalar.  Returns a ProbeResult; smoothness is nan when the direction
    is zero (no step, no estimate).
    """
    if not s_grid or any(not (0.0 < s <= 1.0) for s in s_grid):
        raise ValueError(f"s_grid must be a nonempty sequence of values in (0, 1], got {s_grid}")
    if params is None:
        params = parameters_of(model)
    if set(direction) != set(params):
        raise ValueError("direction must have one tensor per named parameter of the model")
    loss, grad = loss_and_gradient(model, loss_fn, batch, params)
    step_norm = _norm(list(direction.values())).item()
    ratios = []
    for s in s_grid:
        moved = {name: params[name] + s * direction[name] for name in params}
        _, grad_s = loss_and_gradient(model, loss_fn, batch, moved)
        change = _norm([grad_s[name] - grad[name] for name in params]).item()
        ratios.append(change / (s * step_norm) if step_norm > 0 else float("nan"))
    smoothness = max(ratios) if step_norm > 0 else float("nan")
    return ProbeResult(loss=loss.item(), grad_norm=_norm(list(grad.values())).item(),
                       smoothness=smoothness, step_norm=step_norm, ratios=tuple(ratios))
