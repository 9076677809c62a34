"""gpu.analysis: Spearman rho with a block-bootstrap interval, and the per-run summary.  Needs no torch."""
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from clipcheck.gpu.analysis import probe_points, spearman_interval, summarise


def test_spearman_monotone_is_one_with_degenerate_interval():
    # Expected: rho = 1 for any increasing relation, and every resample of an increasing relation is increasing.
    g = np.geomspace(0.1, 10, 40)
    rho, low, high = spearman_interval(g, 3 + 2 * g**1.5, resamples=200)
    assert (rho, low, high) == pytest.approx((1.0, 1.0, 1.0))


def test_spearman_matches_scipy_and_interval_brackets_it():
    # Expected: rho equals scipy.stats.spearmanr (an independent implementation); the 95% bootstrap interval of a
    # noisy positive relation contains its point estimate (a percentile interval nearly always does at n = 200).
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=200)
    y = x * rng.lognormal(sigma=1.0, size=200)
    rho, low, high = spearman_interval(x, y, resamples=500, seed=1)
    assert rho == pytest.approx(spearmanr(x, y).statistic, rel=1e-12)
    assert low < rho < high and 0 < low


def test_spearman_degenerate_inputs_are_nan():
    # Expected: rank correlation is undefined for fewer than 3 points or a constant coordinate.
    assert all(math.isnan(v) for v in spearman_interval([1.0, 2.0], [1.0, 2.0]))
    assert all(math.isnan(v) for v in spearman_interval([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))


def test_summary_of_records_with_a_known_envelope():
    # Expected: the records' probe points lie on L = 1 + 2 g exactly, so the envelope is (1, 2) (LP tolerance
    # 1e-7) and rho = 1; non-probe steps and a non-finite probe are left out of the points.
    records = [{"iteration": i, "train_loss": 1.0, "train_grad_norm": 1.0, "clipped": i % 2 == 0} for i in range(6)]
    for i, g in ((0, 0.5), (2, 1.0), (4, 3.0)):
        records[i].update(probe_loss=1.0 / (i + 1), probe_grad_norm=g, smoothness=1 + 2 * g, step_norm=0.1)
    records[5].update(probe_loss=0.1, probe_grad_norm=float("nan"), smoothness=1.0, step_norm=0.1)
    iterations, g, _ = probe_points(records)
    assert iterations.tolist() == [0, 2, 4]
    s = summarise(records, resamples=100)
    assert (s["L0"], s["L1"]) == pytest.approx((1.0, 2.0), rel=1e-7)
    assert s["spearman_rho"] == pytest.approx(1.0) and s["probes"] == 3 and s["clipped_fraction"] == 0.5
    assert s["first_probe_loss"] == 1.0 and s["last_probe_loss"] == 0.1


BLOCK_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError("torch blocked for this test", name=name)
sys.meta_path.insert(0, NoTorch())
"""


def test_gpu_and_probe_command_work_without_torch():
    # Expected: torch is an optional extra: gpu, its torch-free analysis and the CLI module import without it,
    # and `clipcheck probe` prints one line with the install commands and returns 2.
    code = BLOCK_TORCH + (
        "import argparse, gpu, gpu.analysis\n"
        "from clipcheck import cmd_probe\n"
        "parser = argparse.ArgumentParser(); cmd_probe.configure(parser)\n"
        "sys.exit(cmd_probe.run(parser.parse_args([])))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "pip install -e '.[torch]'" in lines[0] and "pip install torch==2.13.0" in lines[0]
