"""gpu.train and gpu.experiment on tiny models: clipping as THEOREMS.md §2 defines it, fair pairs, divergence,
held-out loss, and no host sync on steps without a probe."""
import math

import pytest

torch = pytest.importorskip("torch")

from torch.overrides import TorchFunctionMode  # noqa: E402

from clipcheck.gpu import experiment, models  # noqa: E402
from clipcheck.gpu.train import TrainConfig, train  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _tiny_lm_examples(seed=0):
    tokens = torch.randint(0, 20, (16, 7), generator=torch.Generator().manual_seed(seed))
    return tokens[:, :-1], tokens[:, 1:]


def _tiny_lm(seed=0):
    torch.manual_seed(seed)
    return models.LSTMLanguageModel(20, 8)


def test_zhsj_clipped_gd_step_length_is_lr_times_clip():
    # Expected: THEOREMS.md §2 with eta_c = lr, gamma = clip: a clipped step has length gamma*eta_c (SGD without
    # momentum moves by lr * clipped gradient).  clip_grad_norm_ divides by ||g|| + 1e-6, and the step is
    # measured in float32: 1e-4 relative covers both.
    config = TrainConfig(steps=6, lr=0.5, clip=1e-3, batch_size=4, probe_every=1, probe_size=4)
    result = train(_tiny_lm(), models.language_model_loss, _tiny_lm_examples(), config, "cpu")
    assert result.status == "finished" and len(result.records) == 6 and result.clipped_fraction == 1.0
    for record in result.probes:
        assert record["step_norm"] == pytest.approx(config.lr * config.clip, rel=1e-4)


def test_unclipped_step_length_is_lr_times_gradient_norm():
    # Expected: plain SGD moves by lr * ||g||; same float32 tolerance.
    config = TrainConfig(steps=3, lr=0.5, clip=None, batch_size=4, probe_every=1, probe_size=4)
    result = train(_tiny_lm(), models.language_model_loss, _tiny_lm_examples(), config, "cpu")
    assert result.clipped_fraction == 0.0
    for record, probe in zip(result.records, result.probes):
        assert probe["step_norm"] == pytest.approx(config.lr * record["grad_norm"], rel=1e-4)


def test_clipped_and_unclipped_runs_share_start_and_batches():
    # Expected: one seed gives the same initial weights and the same first batch, so the first training losses are
    # equal; probes happen every probe_every steps only.
    settings = dict(steps=4, lrs=(1.0,), clips=(0.1,), batch_size=4, probe_every=2, probe_size=4, momentum=0.0,
                    hidden_size=8, embedding_size=8, num_layers=2, dropout_input=0.0, dropout_hidden=0.0,
                    dropout_output=0.0, mode="eval", heldout_every=2)
    runs = {}
    for spec in experiment.plan({"lstm": settings}, seeds=[3]):
        net, loss_fn = experiment.build_model("lstm", settings, {"vocabulary": 20}, spec.seed)
        config = TrainConfig(steps=4, lr=spec.lr, clip=spec.clip, batch_size=4, probe_every=2, probe_size=4, seed=3)
        runs[spec.clip] = train(net, loss_fn, _tiny_lm_examples(), config, "cpu")
    assert set(runs) == {None, 0.1}
    assert runs[None].records[0]["train_loss"] == runs[0.1].records[0]["train_loss"]
    assert [p["step"] for p in runs[0.1].probes] == [0, 2]


class _Exploding(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([1.0]))

    def forward(self, x):
        return self.w * x


def test_non_finite_divergence_is_a_status():
    # Expected: a run whose loss overflows stops with status "diverged" instead of logging NaN onwards; the steps
    # before it are finite.  Gradient 4w^3 of w^4: GD with lr 1 overflows float32 in a few steps.
    quartic = lambda m, b: (m(b[0]) ** 4).mean()  # noqa: E731
    config = TrainConfig(steps=50, lr=1.0, clip=None, batch_size=2, probe_every=1, probe_size=2)
    result = train(_Exploding(), quartic, (torch.ones(4, 1), torch.zeros(4)), config, "cpu")
    assert result.status == "diverged" and len(result.records) < 50
    assert all(math.isfinite(r["train_loss"]) for r in result.records[:result.diverged["step"]])


def test_finite_blow_up_is_divergence():
    # Expected (issue 11's acceptance): w' = w - lr * 2w = -3w with lr 2 on w^2: the loss grows 9x per step and
    # stays finite (float32 holds 9^40), yet crosses 100x its start at step 3 (9^3 = 729): diverged, stopped.
    # The mutation check: with the loss rule off, the same run finishes.
    square = lambda m, b: (m(b[0]) ** 2).mean()  # noqa: E731
    examples = (torch.ones(4, 1), torch.zeros(4))
    config = TrainConfig(steps=40, lr=2.0, clip=None, batch_size=2, probe_every=1, probe_size=2)
    result = train(_Exploding(), square, examples, config, "cpu")
    assert result.status == "diverged" and result.diverged["step"] == 3 and "above 100 x" in result.diverged["reason"]
    assert all(math.isfinite(r["train_loss"]) for r in result.records)
    config.divergence_factor = None
    assert train(_Exploding(), square, examples, config, "cpu").status == "finished"


_SYNCS = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__bool__, torch.Tensor.__float__,
          torch.Tensor.__int__, torch.Tensor.__index__, torch.Tensor.numpy, torch.Tensor.cpu}


class _SyncRecorder(TorchFunctionMode):
    """Notes every call that copies a tensor's value to the host (a device sync on a GPU)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in _SYNCS:
            self.calls.append(func.__name__)
        return func(*args, **(kwargs or {}))


def test_no_host_sync_on_steps_without_a_probe():
    # Expected: the loop reads the device only at probe steps (every 3rd: 0, 3, 6), after the 6th step (index 5,
    # held-out loss) and at the last one (7), so steps 1, 2 and 4 make no call that copies a value to the host.  The
    # recorder sees the syncs of the other steps, so it can see them at all.
    config = TrainConfig(steps=8, lr=0.1, clip=0.5, batch_size=4, probe_every=3, probe_size=4, heldout_every=6)
    synced_at, recorder = set(), _SyncRecorder()

    def progress(step):
        if recorder.calls:
            synced_at.add(step)
        recorder.calls.clear()

    with recorder:
        train(_tiny_lm(), models.language_model_loss, _tiny_lm_examples(), config, "cpu",
              heldout=_tiny_lm_examples(1), progress=progress)
    assert synced_at == {0, 3, 5, 6, 7}


def test_heldout_loss_recorded_and_amp_on_cpu_trains():
    # Expected: the held-out loss is evaluated before training and after 2 and 4 steps; under bfloat16 autocast the
    # probe still computes in float32, so its steps are finite; a fresh LSTM on 20 words starts near log(20) = 3.0 (0.3:
    # random logits of size 0.1).
    config = TrainConfig(steps=4, lr=0.5, clip=1.0, batch_size=4, probe_every=2, probe_size=4, heldout_every=2,
                         amp=True)
    result = train(_tiny_lm(), models.language_model_loss, _tiny_lm_examples(), config, "cpu",
                   heldout=_tiny_lm_examples(1))
    assert [h["step"] for h in result.heldout] == [0, 2, 4]
    assert result.heldout[0]["loss"] == pytest.approx(math.log(20), abs=0.3)
    assert all(math.isfinite(p["L_hat"]) for p in result.probes)


@pytest.mark.parametrize("field, value", [("steps", 0), ("lr", -1.0), ("clip", 0.0), ("momentum", 1.0),
                                          ("mode", "test"), ("s_grid", (2.0,)), ("heldout_every", 0)])
def test_train_config_rejects_bad_values(field, value):
    # Expected: DESIGN.md "validate at the boundary": a ValueError naming the field.
    kwargs = dict(steps=1, lr=0.1, clip=None, batch_size=1)
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        TrainConfig(**kwargs)
