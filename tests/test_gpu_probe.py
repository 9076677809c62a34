"""gpu.probe.measure: the estimates of THEOREMS.md §6 on functions whose curvature is known, against an
independent float64 implementation, and the guards (noise floor, dropout, model untouched)."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clipcheck.gpu import models, probe  # noqa: E402
from clipcheck.gpu.probe import DEFAULT_S_GRID, NOISE_FACTOR, measure, snapshot  # noqa: E402

# float64 gradients of these small closed forms are exact to a few dozen roundings: 1e-12 relative is ample.
ROUNDING = 1e-12


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


class Point(torch.nn.Module):
    """A "model" whose output is its own parameter x, so loss_fn(model, _) is any function of x."""

    def __init__(self, x):
        super().__init__()
        self.x = torch.nn.Parameter(torch.as_tensor(x, dtype=torch.float64).clone())

    def forward(self):
        return self.x


def along(loss_of_x, x, d, **options):
    """measure() for the step from x to x + d of f(x) = loss_of_x(x)."""
    model = Point(np.asarray(x) + np.asarray(d))
    before = {"x": torch.as_tensor(np.asarray(x, dtype=float))}
    return measure(model, lambda m, _: loss_of_x(m()), None, before, **options)


def test_zhsj_def1_quadratic_curvature_exact():
    # Expected: for f = x'Ax/2, grad f(x + s d) - grad f(x) = s A d, so every ratio and every secant is
    # ||A d||/||d|| (computed by numpy), and so is the Hessian-vector curvature; along an eigenvector all are the
    # eigenvalue.
    rng = np.random.default_rng(0)
    root = rng.standard_normal((5, 5))
    A = root @ root.T
    A_t = torch.from_numpy(A)
    quadratic = lambda x: 0.5 * x @ A_t @ x  # noqa: E731
    x, d = rng.standard_normal(5), rng.standard_normal(5)
    result = along(quadratic, x, d, hvp=True)
    expected = np.linalg.norm(A @ d) / np.linalg.norm(d)
    assert result["ratios"] == pytest.approx([expected] * len(DEFAULT_S_GRID), rel=ROUNDING)
    assert result["secants"] == pytest.approx([expected] * len(DEFAULT_S_GRID), rel=ROUNDING)
    assert result["hvp"] == pytest.approx(expected, rel=ROUNDING)
    eigenvalues, eigenvectors = np.linalg.eigh(A)
    top = along(quadratic, x, eigenvectors[:, -1])
    assert top["L_hat"] == pytest.approx(eigenvalues[-1], rel=ROUNDING)
    assert top["grad_norm"] == pytest.approx(np.linalg.norm(A @ x), rel=ROUNDING)
    assert top["step_norm"] == pytest.approx(1.0, rel=ROUNDING) and not top["noise_floor"]


def _f_exp(L0, L1):
    """THEOREMS.md §3.1 f_exp lifted radially to R^d: f(x) = (L0/L1^2)(e^{L1|x|} - L1|x| - 1)."""
    def loss(x):
        r = torch.linalg.vector_norm(x)
        return L0 / L1**2 * (torch.exp(L1 * r) - L1 * r - 1)
    return loss


L0, L1, M = 2.0, 3.0, 50.0
X_BAR = math.log(1 + L1 * M / L0) / L1  # §3.1: |f'(x_bar)| = M


def test_zhsj_def1_f_exp_gradient_step_within_certificate():
    # Expected: the certificate L0 + L1*||grad f(x0)|| (f_exp is (L0, L1)-smooth with equality, §3.1).  A GD step
    # that moves 1.5 radii towards the origin keeps ||x|| <= ||x0|| on the segment, so ||grad f|| <= M there and the
    # averaged Hessian along it cannot exceed L0 + L1*M; nor can a secant (an average over a sub-segment).
    x0 = X_BAR * np.array([0.6, 0.0, 0.8])
    result = along(_f_exp(L0, L1), x0, -1.5 * x0)  # = -h grad f(x0) with h = 1.5*x_bar/M
    assert result["grad_norm"] == pytest.approx(M, rel=ROUNDING)
    assert result["L_hat"] <= (L0 + L1 * M) * (1 + ROUNDING)
    assert result["secant_max"] <= (L0 + L1 * M) * (1 + ROUNDING)
    # ... and the certificate is attained in the limit of a short radial step (f'' = L0 + L1|f'| exactly), to first
    # order in the step 1e-6*x_bar: 1e-4 relative covers L1 * 1e-6 * x_bar plus rounding of a 1e-6 difference; the
    # exact curvature at x0 along the radius is f''(x_bar) = L0 + L1*M exactly (hvp: rounding only).
    tiny = along(_f_exp(L0, L1), x0, -1e-6 * x0, s_grid=(1.0,), hvp=True)
    assert tiny["L_hat"] == pytest.approx(L0 + L1 * M, rel=1e-4)
    assert tiny["hvp"] == pytest.approx(L0 + L1 * M, rel=ROUNDING)


def test_lemma_sharp_f_exp_any_direction():
    # Expected: LEMMA-sharp, ||grad f(y) - grad f(x)|| <= (L0 + L1||grad f(x)||)(e^{L1 r} - 1)/L1 with r = ||y - x||,
    # which holds in any direction (also outwards, where the gradient grows); the ratio at s is at most that
    # over s*||d||, increasing in r, so the bound at s = 1 covers the maximum.
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, d = rng.standard_normal(3), rng.standard_normal(3) * 0.3
        result = along(_f_exp(L0, L1), x, d)
        r = np.linalg.norm(d)
        bound = (L0 + L1 * result["grad_norm"]) * math.expm1(L1 * r) / (L1 * r)
        assert result["L_hat"] <= bound * (1 + ROUNDING)


def test_secant_max_at_least_L_hat():
    # Expected (triangle inequality, an identity of the definitions): the ratio at s_j is a weighted mean of the
    # secants up to s_j, so secant_max >= L_hat, with equality at the first grid point's ratio = first secant.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    batch = (torch.randn(32, 4, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64))
    loss_fn = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()  # noqa: E731
    for _ in range(5):
        before = snapshot(model)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.3)
        result = measure(model, loss_fn, batch, before)
        assert result["secant_max"] >= result["L_hat"] * (1 - ROUNDING)
        assert result["secants"][0] == result["ratios"][0]


# ---- an independent float64 implementation: numpy backpropagation, Hessian-vector products by complex step ----

def _numpy_mlp_gradient(W1, b1, W2, b2, x, y):
    """Gradient of mean((tanh(x W1' + b1) W2' + b2 - y)^2) by hand-written backpropagation (complex-safe: no conj,
    no abs, so it is analytic in the parameters and the complex step applies)."""
    a = np.tanh(x @ W1.T + b1)
    residual = a @ W2.T + b2 - y
    d_out = 2 * residual / residual.size
    d_z = (d_out @ W2) * (1 - a * a)
    return [d_z.T @ x, d_z.sum(0), d_out.T @ a, d_out.sum(0)]


def _flat(parts):
    return np.concatenate([np.ravel(p) for p in parts])


def test_secants_and_hvp_match_independent_float64():
    # Expected: gradients by numpy backpropagation, and H d by the complex step Im(grad(x + i h d))/h with
    # h = 1e-30 (no subtraction, exact to rounding; Squire & Trapp 1998) -- no torch in either.  The issue's
    # tolerance 1e-8 relative; float64 differences of gradients that differ by O(1e-2) lose about 2 digits, so
    # the agreement expected is about 1e-13.
    rng = np.random.default_rng(3)
    W1, b1, W2, b2 = rng.normal(size=(12, 3)), rng.normal(size=12), rng.normal(size=(2, 12)), rng.normal(size=2)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    d = [0.2 * rng.normal(size=p.shape) for p in (W1, b1, W2, b2)]
    model = torch.nn.Sequential(torch.nn.Linear(3, 12), torch.nn.Tanh(), torch.nn.Linear(12, 2)).double()
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = {n: torch.from_numpy(p.copy()) for n, p in zip(names, (W1, b1, W2, b2))}
    with torch.no_grad():
        for n, p, step in zip(names, (W1, b1, W2, b2), d):
            model.get_parameter(n).copy_(torch.from_numpy(p + step))
    batch = (torch.from_numpy(x), torch.from_numpy(y))
    grid = (0.1, 0.25, 0.5, 0.75, 1.0)
    result = measure(model, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), batch, before, s_grid=grid, hvp=True)

    point = [W1, b1, W2, b2]
    g = [_flat(_numpy_mlp_gradient(*[p + s * q for p, q in zip(point, d)], x, y)) for s in (0.0,) + grid]
    length = np.linalg.norm(_flat(d))
    ratios = [np.linalg.norm(g[j] - g[0]) / (s * length) for j, s in enumerate(grid, start=1)]
    secants = [np.linalg.norm(g[j] - g[j - 1]) / ((s - s_prev) * length)
               for j, (s_prev, s) in enumerate(zip((0.0,) + grid, grid), start=1)]
    h = 1e-30
    hd = _flat(_numpy_mlp_gradient(*[p + 1j * h * q for p, q in zip(point, d)], x, y)).imag / h
    assert result["ratios"] == pytest.approx(ratios, rel=1e-8)
    assert result["secants"] == pytest.approx(secants, rel=1e-8)
    assert result["hvp"] == pytest.approx(np.linalg.norm(hd) / length, rel=1e-8)
    assert result["grad_norm"] == pytest.approx(np.linalg.norm(g[0]), rel=1e-8)


# ---- the float noise floor ----

def _mlp32():
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                                torch.nn.Linear(64, 3))
    batch = (torch.randn(64, 10), torch.randint(0, 3, (64,)))
    return model, batch, lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1])


def _gradient_vector(model, batch, loss_fn):
    model.zero_grad()
    loss_fn(model, batch).backward()
    return torch.cat([p.grad.flatten().double() for p in model.parameters()])


def test_noise_floor_covers_float32_rounding():
    # Expected: the floor NOISE_FACTOR * u * ||g|| lies above the actual rounding error of float32 gradients,
    # measured against the same network in float64 (an independent computation at 2^29 times finer rounding), so a
    # difference below the floor cannot be told from rounding.
    model, batch, loss_fn = _mlp32()
    g32 = _gradient_vector(model, batch, loss_fn)
    g64 = _gradient_vector(model.double(), (batch[0].double(), batch[1]), loss_fn)
    rounding = torch.linalg.vector_norm(g32 - g64).item()
    assert rounding < NOISE_FACTOR * torch.finfo(torch.float32).eps * torch.linalg.vector_norm(g64).item()


def test_noise_floor_flags_a_step_lost_in_rounding():
    # Expected: a step of 1e-6 relative to the weights is below NOISE_FACTOR * u ~ 1.2e-6 of float32, so rounding
    # x + s d swallows it: flagged.  An SGD step of lr 0.1 moves the weights by about 1e-2 relative: not flagged.
    model, batch, loss_fn = _mlp32()
    weights = snapshot(model)
    for scale, flagged in ((1e-6, True), (None, False)):
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(weights[name])
        model.zero_grad()
        loss_fn(model, batch).backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(0.1 * p.grad if scale is None else scale * p.detach().abs().mean() * torch.sign(p.grad))
        assert measure(model, loss_fn, batch, weights)["noise_floor"] is flagged


# ---- dropout: one function for every gradient of a probe ----

def _dropout_mlp(p):
    return torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.Dropout(p), torch.nn.Tanh(),
                               torch.nn.Linear(64, 64), torch.nn.Dropout(p), torch.nn.Tanh(), torch.nn.Linear(64, 1))


def _dropout_step(seed):
    """A model with dropout 0.1 in train mode after one SGD step (taken with dropout), the same weights without
    dropout, the weights before the step, the batch and the loss."""
    torch.manual_seed(seed)
    batch = {"x": torch.randn(256, 10), "y": torch.randn(256, 1)}
    loss_fn = lambda m, b: ((m(b["x"]) - b["y"]) ** 2).mean()  # noqa: E731
    dropped = _dropout_mlp(0.1).train()
    before = snapshot(dropped)
    optimizer = torch.optim.SGD(dropped.parameters(), lr=0.3)
    loss_fn(dropped, batch).backward()
    optimizer.step()
    plain = _dropout_mlp(0.0).train()
    plain.load_state_dict(dropped.state_dict())
    return dropped, plain, before, batch, loss_fn


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropout_estimate_matches_dropout_off(seed):
    # Expected: the acceptance, within 5%.  In mode "eval" dropout is the identity, so the estimate along
    # the same step is that of the network without dropout (equal up to float32 rounding of identical passes).
    dropped, plain, before, batch, loss_fn = _dropout_step(seed)
    with_dropout = measure(dropped, loss_fn, batch, before)["L_hat"]
    without = measure(plain, loss_fn, batch, before)["L_hat"]
    assert with_dropout == pytest.approx(without, rel=0.05)
    assert dropped.training and all(m.training for m in dropped.modules())  # flags restored


def test_dropout_fresh_masks_would_fail_the_check():
    # Expected (negative control: the check above can fail): if the probe's passes stayed in train mode with a new
    # mask for each gradient (the old behaviour), differences of gradients would measure the masks, far beyond 5%.
    dropped, plain, before, batch, loss_fn = _dropout_step(0)
    dropped.eval = lambda: dropped  # the probe's switch to eval mode now does nothing
    fresh_masks = measure(dropped, loss_fn, batch, before)["L_hat"]
    without = measure(plain, loss_fn, batch, before)["L_hat"]
    assert abs(fresh_masks - without) > 0.05 * without


def test_train_mode_shares_one_mask_and_restores_the_random_state():
    # Expected: mode "train" reseeds the forked generator identically before every gradient, so the same seed gives
    # the same estimate (deterministic passes), and the caller's random stream continues as if no probe had run.
    dropped, _, before, batch, loss_fn = _dropout_step(0)
    torch.manual_seed(123)
    first = measure(dropped, loss_fn, batch, before, mode="train", seed=7)
    after_probe = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(after_probe, torch.rand(3))
    assert measure(dropped, loss_fn, batch, before, mode="train", seed=7)["L_hat"] == first["L_hat"]


def test_train_mode_gradients_see_one_mask():
    # Expected: if every gradient of a probe sees the same mask, the probe differentiates one smooth function, so
    # for a step of 1e-6 the quotient at s = 1 is that function's directional curvature ||H d||/||d|| at x_t,
    # which hvp computes on the same mask (to first order in the step: 1e-4 relative covers the third derivative
    # times 1e-6 and float64 rounding of a 1e-6 difference).  With a new mask per gradient the gradients would
    # differ by O(1) and the quotient would be O(1e6) times larger.
    torch.manual_seed(5)
    model = _dropout_mlp(0.1).double().train()
    batch = {"x": torch.randn(64, 10, dtype=torch.float64), "y": torch.randn(64, 1, dtype=torch.float64)}
    loss_fn = lambda m, b: ((m(b["x"]) - b["y"]) ** 2).mean()  # noqa: E731
    before = snapshot(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1e-6 * torch.randn_like(p))
    result = measure(model, loss_fn, batch, before, mode="train", s_grid=(1.0,), hvp=True, seed=3)
    assert result["L_hat"] == pytest.approx(result["hvp"], rel=1e-4)


# ---- the model is never modified ----

def _snapshot_state(model):
    return {name: value.clone() for name, value in model.state_dict().items()}


@pytest.mark.parametrize("build", ["lstm", "resnet20"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_probe_leaves_model_bit_identical(build, mode):
    # Expected: the probe passes other parameter tensors and cloned buffers to functional_call, so every entry of
    # the state dict (parameters and BatchNorm running statistics) is bitwise unchanged, and so are the flags.
    torch.manual_seed(0)
    if build == "lstm":
        model, loss_fn = models.LSTMLanguageModel(20, 8, dropout_hidden=0.2), models.language_model_loss
        tokens = torch.randint(0, 20, (3, 6))
        batch = (tokens[:, :-1], tokens[:, 1:])
    else:
        model, loss_fn = models.ResNet20(), models.classification_loss
        batch = (torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3]))
    model.train()
    before = snapshot(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 1e-2)
    state = _snapshot_state(model)
    result = measure(model, loss_fn, batch, before, mode=mode, hvp=True)
    after = model.state_dict()
    assert all(torch.equal(state[name], after[name]) for name in state)
    assert all(m.training for m in model.modules())
    assert math.isfinite(result["L_hat"]) and result["L_hat"] > 0 and math.isfinite(result["hvp"])


def test_probe_tied_weights_counted_once():
    # Expected: the LSTM's decoder weight is the embedding (tied), so the probe sees one tensor for both.
    model = models.LSTMLanguageModel(20, 8)
    names = snapshot(model)
    assert "embedding.weight" in names and "decoder.weight" not in names
    assert model.decoder.weight is model.embedding.weight


def test_zero_step_is_skipped_and_bad_input_is_named():
    # Expected: L_hat divides by s*||d||, undefined for d = 0 (a step GradScaler skipped): nan and skipped=True,
    # not a number pretending to be one; s must lie in (0, 1] and increase (THEOREMS.md §6); `before` must name the
    # model's parameters; the loss must be a scalar.
    square = lambda x: 0.5 * x @ x  # noqa: E731
    zero = along(square, np.ones(2), np.zeros(2))
    assert zero["skipped"] and math.isnan(zero["L_hat"]) and math.isnan(zero["secant_max"])
    assert zero["grad_norm"] == pytest.approx(math.sqrt(2), rel=ROUNDING)
    for grid in ((0.0, 1.0), (0.5, 0.25), (), (1.5,)):
        with pytest.raises(ValueError, match="s_grid"):
            along(square, np.ones(2), np.ones(2), s_grid=grid)
    with pytest.raises(ValueError, match="before"):
        measure(Point(np.ones(2)), lambda m, _: square(m()), None, {"y": torch.ones(2)})
    with pytest.raises(ValueError, match="loss_fn"):
        along(lambda x: x * 2, np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="mode"):
        along(square, np.ones(2), np.ones(2), mode="inference")


def test_move_to_reaches_nested_batches():
    # Expected: every tensor in tuples, lists and dicts is moved, other values pass through unchanged.
    batch = {"ids": torch.ones(2), "extra": [torch.zeros(1), "text"], "pair": (torch.ones(1), 3)}
    moved = probe.move_to(batch, "cpu")
    assert torch.equal(moved["ids"], batch["ids"]) and moved["extra"][1] == "text" and moved["pair"][1] == 3
