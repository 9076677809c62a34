"""gpu.train and gpu.experiment on tiny models: clipping as THEOREMS.md §2 defines it, fair pairs, divergence."""
import math

import pytest

torch = pytest.importorskip("torch")

from clipcheck.gpu import experiment, models  # noqa: E402
from clipcheck.gpu.train import TrainConfig, train  # noqa: E402


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
    assert result.status == "finished" and len(result.records) == 6
    for record in result.records:
        assert record["clipped"]  # the threshold is far below any gradient norm of a fresh LSTM
        assert record["step_norm"] == pytest.approx(config.lr * config.clip, rel=1e-4)


def test_unclipped_step_length_is_lr_times_gradient_norm():
    # Expected: plain SGD moves by lr * ||g||; same float32 tolerance.
    config = TrainConfig(steps=3, lr=0.5, clip=None, batch_size=4, probe_every=1, probe_size=4)
    result = train(_tiny_lm(), models.language_model_loss, _tiny_lm_examples(), config, "cpu")
    for record in result.records:
        assert not record["clipped"]
        assert record["step_norm"] == pytest.approx(config.lr * record["train_grad_norm"], rel=1e-4)


def test_clipped_and_unclipped_runs_share_start_and_batches():
    # Expected: one seed gives the same initial weights and the same first batch, so the first training losses are
    # equal; probes happen every probe_every steps only.
    examples = _tiny_lm_examples()
    settings = dict(steps=4, lr=1.0, clip=0.1, batch_size=4, probe_every=2, probe_size=4, momentum=0.0,
                    hidden_size=8, num_layers=2, s_grid=[0.5, 1.0])
    runs = experiment.run_pair("lstm", settings, examples, {"vocabulary": 20}, seed=3, device="cpu")
    assert runs["clipped"].records[0]["train_loss"] == runs["unclipped"].records[0]["train_loss"]
    assert [("smoothness" in r) for r in runs["clipped"].records] == [True, False, True, False]


def test_divergence_is_a_status():
    # Expected: a run whose loss overflows stops with status "diverged" instead of logging NaN onwards.
    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor([1.0]))

        def forward(self, x):
            return self.w * x

    quartic = lambda out, _: (out**4).mean()  # noqa: E731  gradient 4w^3: GD with lr 1 overflows in a few steps
    examples = (torch.ones(4, 1), torch.zeros(4))
    config = TrainConfig(steps=50, lr=1.0, clip=None, batch_size=2, probe_every=1, probe_size=2)
    result = train(Exploding(), quartic, examples, config, "cpu")
    assert result.status == "diverged" and len(result.records) < 50
    assert all(math.isfinite(r["train_loss"]) for r in result.records[:-1])


@pytest.mark.parametrize("field, value", [("steps", 0), ("lr", -1.0), ("clip", 0.0), ("momentum", 1.0)])
def test_train_config_rejects_bad_values(field, value):
    # Expected: DESIGN.md "validate at the boundary": a ValueError naming the field.
    kwargs = dict(steps=1, lr=0.1, clip=None, batch_size=1)
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        TrainConfig(**kwargs)
