"""gpu.probe.local_smoothness: the estimator of THEOREMS.md §6 on functions whose curvature is known."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clipcheck.gpu import models  # noqa: E402
from clipcheck.gpu.probe import DEFAULT_S_GRID, local_smoothness, parameters_of  # noqa: E402

# float64 gradients of these small closed forms are exact to a few dozen roundings: 1e-12 relative is ample.
ROUNDING = 1e-12


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


class Point(torch.nn.Module):
    """A "model" whose output is its own parameter x, so loss_fn(x, _) is any function of x."""

    def __init__(self, x):
        super().__init__()
        self.x = torch.nn.Parameter(torch.as_tensor(x, dtype=torch.float64))

    def forward(self, _inputs):
        return self.x


NO_DATA = (torch.zeros(1), torch.zeros(1))


def test_zhsj_def1_quadratic_curvature_exact():
    # Expected: for f = x'Ax/2, grad f(x + s d) - grad f(x) = s A d, so every ratio is ||A d||/||d|| (computed by
    # numpy), and along an eigenvector it is the eigenvalue.
    rng = np.random.default_rng(0)
    root = rng.standard_normal((5, 5))
    A = root @ root.T
    A_t = torch.from_numpy(A)
    model = Point(rng.standard_normal(5))
    quadratic = lambda x, _: 0.5 * x @ A_t @ x  # noqa: E731
    d = rng.standard_normal(5)
    result = local_smoothness(model, quadratic, NO_DATA, {"x": torch.from_numpy(d)})
    assert result.ratios == pytest.approx([np.linalg.norm(A @ d) / np.linalg.norm(d)] * len(DEFAULT_S_GRID),
                                          rel=ROUNDING)
    eigenvalues, eigenvectors = np.linalg.eigh(A)
    along = local_smoothness(model, quadratic, NO_DATA, {"x": torch.from_numpy(eigenvectors[:, -1])})
    assert along.smoothness == pytest.approx(eigenvalues[-1], rel=ROUNDING)
    assert along.grad_norm == pytest.approx(np.linalg.norm(A @ model.x.detach().numpy()), rel=ROUNDING)


def _f_exp(L0, L1):
    """THEOREMS.md §3.1 f_exp lifted radially to R^d: f(x) = (L0/L1^2)(e^{L1|x|} - L1|x| - 1)."""
    def loss(x, _):
        r = torch.linalg.vector_norm(x)
        return L0 / L1**2 * (torch.exp(L1 * r) - L1 * r - 1)
    return loss


L0, L1, M = 2.0, 3.0, 50.0
X_BAR = math.log(1 + L1 * M / L0) / L1  # §3.1: |f'(x_bar)| = M


def test_zhsj_def1_f_exp_gradient_step_within_certificate():
    # Expected: the certificate L0 + L1*||grad f(x0)|| (f_exp is (L0, L1)-smooth with equality, §3.1).  A GD step
    # that moves 1.5 radii towards the origin keeps ||x|| <= ||x0|| on the segment, so ||grad f|| <= M there and the
    # averaged Hessian along it cannot exceed L0 + L1*M.
    x0 = X_BAR * np.array([0.6, 0.0, 0.8])
    model = Point(x0)
    loss = _f_exp(L0, L1)
    step = {"x": torch.from_numpy(-1.5 * x0)}  # = -h grad f(x0) with h = 1.5*x_bar/M
    result = local_smoothness(model, loss, NO_DATA, step)
    assert result.grad_norm == pytest.approx(M, rel=ROUNDING)
    assert result.smoothness <= (L0 + L1 * result.grad_norm) * (1 + ROUNDING)
    # ... and the certificate is attained in the limit of a short step (f'' = L0 + L1|f'| exactly), to first order
    # in the step length 1e-6*x_bar: 1e-4 relative covers L1 * 1e-6 * x_bar plus rounding of a 1e-6 difference.
    tiny = local_smoothness(model, loss, NO_DATA, {"x": torch.from_numpy(-1e-6 * x0)}, s_grid=(1.0,))
    assert tiny.smoothness == pytest.approx(L0 + L1 * M, rel=1e-4)


def test_lemma_sharp_f_exp_any_direction():
    # Expected: LEMMA-sharp, ||grad f(y) - grad f(x)|| <= (L0 + L1||grad f(x)||)(e^{L1 r} - 1)/L1 with r = ||y - x||,
    # which holds in any direction (also outwards, where the gradient grows); the ratio at s is at most that
    # over s*||d||, increasing in r, so the bound at s = 1 covers the maximum.
    rng = np.random.default_rng(1)
    loss = _f_exp(L0, L1)
    for _ in range(5):
        model = Point(rng.standard_normal(3))
        d = rng.standard_normal(3) * 0.3
        result = local_smoothness(model, loss, NO_DATA, {"x": torch.from_numpy(d)})
        r = np.linalg.norm(d)
        bound = (L0 + L1 * result.grad_norm) * math.expm1(L1 * r) / (L1 * r)
        assert result.smoothness <= bound * (1 + ROUNDING)


def _snapshot(model):
    return {name: value.clone() for name, value in model.state_dict().items()}


@pytest.mark.parametrize("build", ["lstm", "resnet20"])
def test_probe_leaves_model_bit_identical(build):
    # Expected: the probe passes fresh parameter tensors and cloned buffers to functional_call, so every entry of
    # the state dict (parameters and BatchNorm running statistics) is bitwise unchanged, and so is the train flag.
    torch.manual_seed(0)
    if build == "lstm":
        model, loss_fn = models.LSTMLanguageModel(20, 8), models.language_model_loss
        tokens = torch.randint(0, 20, (3, 6))
        batch = (tokens[:, :-1], tokens[:, 1:])
    else:
        model, loss_fn = models.ResNet20(), models.classification_loss
        batch = (torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3]))
    model.train()
    before = _snapshot(model)
    direction = {name: torch.randn_like(p) * 1e-2 for name, p in model.named_parameters()}
    result = local_smoothness(model, loss_fn, batch, direction)
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert model.training
    assert math.isfinite(result.smoothness) and result.smoothness > 0


def test_probe_tied_weights_counted_once():
    # Expected: the LSTM's decoder weight is the embedding (tied), so the probe sees one tensor for both.
    model = models.LSTMLanguageModel(20, 8)
    names = parameters_of(model)
    assert "embedding.weight" in names and "decoder.weight" not in names
    assert model.decoder.weight is model.embedding.weight


def test_probe_zero_step_has_no_estimate_and_bad_grid_is_rejected():
    # Expected: L_hat divides by s*||d||, undefined for d = 0 (nan, not a number pretending to be one); s must lie
    # in (0, 1] by the definition in THEOREMS.md §6; the direction must name the model's parameters.
    model = Point(np.ones(2))
    quadratic = lambda x, _: 0.5 * x @ x  # noqa: E731
    assert math.isnan(local_smoothness(model, quadratic, NO_DATA, {"x": torch.zeros(2, dtype=torch.float64)})
                      .smoothness)
    with pytest.raises(ValueError, match="s_grid"):
        local_smoothness(model, quadratic, NO_DATA, {"x": torch.ones(2, dtype=torch.float64)}, s_grid=(0.0, 1.0))
    with pytest.raises(ValueError, match="direction"):
        local_smoothness(model, quadratic, NO_DATA, {"y": torch.ones(2, dtype=torch.float64)})
