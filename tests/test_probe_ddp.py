"""SmoothnessProbe under DistributedDataParallel: two CPU processes (gloo) each hold half of the probe batch; the
all-reduced records equal those of one process holding the whole batch."""
import json
import os
import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("torch.distributed is not available", allow_module_level=True)

from clipcheck.gpu import SmoothnessProbe  # noqa: E402

RANK_SCRIPT = r"""
import json, os, sys
import torch
from clipcheck.gpu import SmoothnessProbe
sys.path.insert(0, os.environ["TEST_DIR"])
from test_probe_ddp import setup

torch.set_num_threads(1)
torch.distributed.init_process_group("gloo")
rank = torch.distributed.get_rank()
model, train_batch, probe_batch, loss_fn = setup()
half = slice(rank * 16, (rank + 1) * 16)
ddp = torch.nn.parallel.DistributedDataParallel(model)
own = {key: value[half] for key, value in probe_batch.items()}
probes = [SmoothnessProbe(ddp, own, loss_fn, every=2), SmoothnessProbe(ddp, own, loss_fn, every=2, distributed=False)]
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.3)
for step in range(4):
    optimizer.zero_grad()
    loss_fn(ddp, {key: value[half] for key, value in train_batch.items()}).backward()  # DDP averages the halves
    with probes[0].around_step(step), probes[1].around_step(step):
        optimizer.step()
print(json.dumps([probes[0].records, probes[1].records]))
torch.distributed.destroy_process_group()
"""


def setup():
    """The same float64 model and batches in every process (32 examples: two halves of 16)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    train_batch = {"x": torch.randn(32, 4, dtype=torch.float64), "y": torch.randn(32, 1, dtype=torch.float64)}
    probe_batch = {"x": torch.randn(32, 4, dtype=torch.float64), "y": torch.randn(32, 1, dtype=torch.float64)}
    return model, train_batch, probe_batch, lambda m, b: ((m(b["x"]) - b["y"]) ** 2).mean()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("one_torch_thread")
def test_ddp_records_are_all_reduced():
    # Expected: a mean loss over two equal halves is the mean of the halves' means, so the averaged gradients of
    # the two ranks are the gradients of the whole probe batch: every record equals the single-process one up to
    # float64 rounding of the different summation order (1e-9 relative: the differences of gradients lose at most
    # a few digits).  With distributed=False each rank keeps its own half's numbers, which differ (the control).
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "2",
           "TEST_DIR": os.path.dirname(__file__)}
    ranks = [subprocess.Popen([sys.executable, "-c", RANK_SCRIPT], env={**env, "RANK": str(rank)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(2)]
    outputs = [rank.communicate(timeout=300) for rank in ranks]
    assert all(rank.returncode == 0 for rank in ranks), outputs[0][1][-2000:] + outputs[1][1][-2000:]
    (reduced0, own0), (reduced1, own1) = (json.loads(out.strip().splitlines()[-1]) for out, _ in outputs)

    model, train_batch, probe_batch, loss_fn = setup()
    single = SmoothnessProbe(model, probe_batch, loss_fn, every=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    for step in range(4):
        optimizer.zero_grad()
        loss_fn(model, train_batch).backward()
        with single.around_step(step):
            optimizer.step()
    keys = ("loss", "grad_norm", "step_norm", "L_hat", "secant_max")
    for reduced in (reduced0, reduced1):
        assert [r["step"] for r in reduced] == [0, 2]
        for got, want in zip(reduced, single.records):
            assert [got[k] for k in keys] == pytest.approx([want[k] for k in keys], rel=1e-9)
            assert got["secants"] == pytest.approx(want["secants"], rel=1e-9)
    assert own0[0]["grad_norm"] != pytest.approx(own1[0]["grad_norm"], rel=1e-3)
