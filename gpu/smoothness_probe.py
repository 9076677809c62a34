"""SmoothnessProbe: local smoothness against gradient norm along any torch training loop (THEOREMS.md §6).

    probe = SmoothnessProbe(model, probe_batch, loss_fn, every=50)
    for step, batch in enumerate(loader):
        ...                                   # forward, backward, clipping, GradScaler: as usual
        with probe.around_step(step):
            optimizer.step()
    probe.records, probe.summary()

On a step with step % every == 0 the probe copies the trainable parameters before the optimizer's step, and after
it measures the estimates of `clipcheck.gpu.probe` along the step actually taken, on the fixed `probe_batch`.
Other steps touch no tensor, so they make no host sync.  What each estimate bounds: see `clipcheck.gpu.probe`.
"""
import math
from contextlib import contextmanager

from clipcheck.gpu import analysis
from clipcheck.gpu.probe import DEFAULT_S_GRID, MODES, check_s_grid, measure, move_to, snapshot, unwrap

# A loss above 100 times its value at the first probe is a run that has left the basin: cross-entropy at
# initialisation is about log(classes), and a healthy run's spikes (catapults at large learning rates) stay well
# below 100x; the unclipped LSTM that the issue reports went from 7.6 to 3.9e6.
DIVERGENCE_FACTOR = 100.0


class SmoothnessProbe:
    """Probe local smoothness every `every` optimizer steps of a training loop.

    model        the module being trained (DistributedDataParallel and DataParallel are unwrapped for the probe).
    probe_batch  anything `loss_fn` accepts: a tensor, a tuple or a dict (for `model(**batch)`); its tensors are
                 moved to the model's device once.  The same batch for every probe, so all estimates are of one
                 function f.
    loss_fn      loss_fn(model, batch) -> scalar tensor, e.g. ``lambda m, b: m(**b).loss``.
    every        probe on steps with step % every == 0.
    s_grid       fractions of the step at which gradients are compared (strictly increasing, in (0, 1]).
    hvp          also measure the exact directional curvature ||H d||/||d|| at x_t (one extra backward).
    mode         "eval": the probe's passes run in eval mode (dropout off; BatchNorm on running statistics).
                 "train": training flags kept; every gradient of one probe sees the same dropout mask (forked
                 random generator reseeded with seed + step); BatchNorm on batch statistics.
    snapshot_device  where the copy of x_t lives between the snapshot and the measurement ("cpu" saves one
                 parameter-sized copy of device memory, at the cost of two transfers per probe).
    divergence_factor  the run counts as diverged at the first probe whose loss or gradient is not finite, or whose
                 loss exceeds this multiple of the first probe's loss (None: only non-finite values).  After that
                 the probe stops probing, `diverged` says where and why, and summary() leaves the run out.
    seed         seed of the dropout masks in mode "train".
    distributed  None: average every gradient over the ranks when torch.distributed is initialised, so all ranks
                 hold the same records (every rank must then call around_step on the same steps, as it calls the
                 optimizer); False: each rank its own.

    AMP: the probe computes in the parameters' precision with autocast off, wherever `around_step` is entered.
    Gradient accumulation: call `around_step` around the optimizer step only; `step` counts optimizer steps.
    A step that GradScaler skips has d = 0: its record has skipped=True and no estimate.
    """

    def __init__(self, model, probe_batch, loss_fn, every=50, *, s_grid=DEFAULT_S_GRID, hvp=False, mode="eval",
                 snapshot_device=None, divergence_factor=DIVERGENCE_FACTOR, seed=0, distributed=None):
        if not callable(loss_fn):
            raise ValueError(f"loss_fn must be callable as loss_fn(model, batch), got {loss_fn!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if divergence_factor is not None and not (divergence_factor > 1 and math.isfinite(divergence_factor)):
            raise ValueError(f"divergence_factor must be a finite number > 1 or None, got {divergence_factor!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        parameters = [p for p in unwrap(model).parameters() if p.requires_grad]
        if not parameters:
            raise ValueError("model has no trainable parameters")
        self.model, self.loss_fn, self.every = model, loss_fn, every
        self.s_grid, self.hvp, self.mode, self.seed = check_s_grid(s_grid), bool(hvp), mode, seed
        self.snapshot_device, self.divergence_factor, self.distributed = snapshot_device, divergence_factor, \
            distributed
        self.batch = move_to(probe_batch, parameters[0].device)
        self.records = []
        self.diverged = None  # {"step": ..., "reason": ...} once the run has diverged

    def probes_at(self, step):
        """True when `around_step(step)` measures (the run has not diverged and step % every == 0)."""
        return self.diverged is None and step % self.every == 0

    @contextmanager
    def around_step(self, step):
        """Wrap the optimizer's step; on probe steps, snapshot before it and measure after it."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an integer >= 0, got {step!r}")
        if not self.probes_at(step):
            yield  # no tensor is touched: no host sync on steps without a probe
            return
        before = snapshot(self.model, self.snapshot_device)
        yield
        record = measure(self.model, self.loss_fn, self.batch, before, s_grid=self.s_grid, hvp=self.hvp,
                         mode=self.mode, seed=self.seed + step, distributed=self.distributed)
        del before
        self.records.append({"step": step, **record})
        self._check_divergence(self.records[-1])

    def _check_divergence(self, record):
        reason = None
        if not (math.isfinite(record["loss"]) and math.isfinite(record["grad_norm"])):
            reason = "non-finite loss or gradient at x_t"
        elif not record["skipped"] and not math.isfinite(record["L_hat"]):
            reason = "non-finite gradient along the step"
        elif self.divergence_factor is not None:
            start = self.records[0]["loss"]
            if start > 0 and record["loss"] > self.divergence_factor * start:
                reason = f"loss {record['loss']:.3g} above {self.divergence_factor:g} x its first value {start:.3g}"
        if reason is not None:
            self.diverged = {"step": record["step"], "reason": reason}

    def summary(self, resamples=2000, envelope_resamples=200, quantiles=(0.95, 1.0), level=0.95, seed=0):
        """Spearman rho of (grad_norm, L_hat), the partial rho with the step held fixed, and the (L0, L1) envelope
        at each quantile, with moving-block bootstrap intervals; see `clipcheck.gpu.analysis.summarise`.
        A diverged run has status "diverged" and nan in place of every statistic."""
        return analysis.summarise(self.records, self.diverged, resamples=resamples,
                                  envelope_resamples=envelope_resamples, quantiles=quantiles, level=level, seed=seed)
