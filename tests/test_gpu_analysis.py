"""gpu.analysis: Spearman rho, partial rho and the envelope with block-bootstrap intervals, the per-run summary,
paired and across-seed comparisons.  Needs no torch."""
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from scipy.stats import t as student_t

from clipcheck.gpu.analysis import (across_seeds, paired_difference, partial_spearman, probe_points,
                                     spearman_interval, summarise)


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


def _record(step, g, L, **extra):
    return {"step": step, "grad_norm": g, "L_hat": L, "secant_max": L, "hvp": math.nan, "loss": 1.0,
            "skipped": False, "noise_floor": False, **extra}


def test_summary_of_records_with_a_known_envelope():
    # Expected: the records' points lie on L = 1 + 2 g exactly, so the envelope at every quantile is (1, 2) (LP
    # tolerance 1e-7), rho = 1 and every bootstrap resample has rho = 1; a skipped step, a record at the noise floor
    # and a non-finite one are left out of the points and counted.
    g = np.geomspace(0.1, 10, 30)
    records = [_record(i, gi, 1 + 2 * gi) for i, gi in enumerate(g)]
    records += [_record(30, 1.0, math.nan, skipped=True), _record(31, 1.0, 50.0, noise_floor=True),
                _record(32, math.nan, 1.0)]
    steps, _, _ = probe_points(records)
    assert steps.tolist() == list(range(30))
    s = summarise(records, resamples=100, envelope_resamples=10)
    assert s["status"] == "finished" and s["probes"] == 33 and s["points"] == 30
    assert s["skipped_probes"] == 1 and s["noise_floor_probes"] == 1
    assert (s["L0"], s["L1"]) == pytest.approx((1.0, 2.0), rel=1e-7)
    for q in ("0.95", "1.0"):
        entry = s["envelope"][q]
        assert (entry["L0"], entry["L1"]) == pytest.approx((1.0, 2.0), rel=1e-7)
        assert entry["L1_ci"] == pytest.approx([2.0, 2.0], rel=1e-7)
    assert s["rho"] == pytest.approx(1.0) and s["rho_ci"] == pytest.approx([1.0, 1.0])


def test_envelope_quantile_095_ignores_outliers_quantile_1_does_not():
    # Expected (the finding on the envelope): two early blow-up points far above the line L = 1 + 2 g set
    # the quantile-1 envelope (it must cover them), while at quantile 0.95 at most 5% of 60 points (3) may lie above,
    # so two outliers leave the fit on the line (LP tolerance 1e-6).
    g = np.geomspace(0.1, 10, 60)
    L = 1 + 2 * g
    L[:2] = 500.0
    records = [_record(i, gi, Li) for i, (gi, Li) in enumerate(zip(g, L))]
    s = summarise(records, resamples=0, envelope_resamples=0)
    assert (s["envelope"]["0.95"]["L0"], s["envelope"]["0.95"]["L1"]) == pytest.approx((1.0, 2.0), rel=1e-6)
    assert s["L0"] + s["L1"] * g[1] >= 500.0 * (1 - 1e-9)


def test_partial_spearman_matches_residual_ranks_and_removes_a_common_trend():
    # Expected: (1) the formula equals an independent computation, the Pearson correlation of the residuals of the
    # ranks of x and of y after a least-squares fit on the ranks of z (numpy lstsq); (2) x and y that both follow the
    # step z plus independent noise have a large rho (their correlation is var z/(var z + 60^2) = 0.79; > 0.6
    # leaves 4 sd) but a partial rho near 0 (|.| < 0.15: the sampling sd of a correlation at n = 400 is about
    # 0.05, so 3 sd), and the bootstrap interval of the partial rho contains 0.
    rng = np.random.default_rng(5)
    z = np.arange(400.0)
    x = z + rng.normal(scale=60, size=400)
    y = z + rng.normal(scale=60, size=400)
    from scipy.stats import rankdata

    rz = np.column_stack([np.ones(400), rankdata(z)])
    resid_x = rankdata(x) - rz @ np.linalg.lstsq(rz, rankdata(x), rcond=None)[0]
    resid_y = rankdata(y) - rz @ np.linalg.lstsq(rz, rankdata(y), rcond=None)[0]
    assert partial_spearman(x, y, z) == pytest.approx(np.corrcoef(resid_x, resid_y)[0, 1], rel=1e-10)
    records = [_record(int(i), float(xi), float(yi)) for i, xi, yi in zip(z, np.exp(x / 100), np.exp(y / 100))]
    s = summarise(records, resamples=300, envelope_resamples=0)
    assert s["rho"] > 0.6 and abs(s["rho_partial"]) < 0.15
    assert s["rho_partial_ci"][0] < 0 < s["rho_partial_ci"][1]


def test_diverged_run_is_left_out():
    # Expected: a diverged run keeps its counts but no statistic: its points say nothing about a training
    # trajectory (issue 11), even when they would give a perfect rho.
    records = [_record(i, g, 1 + 2 * g) for i, g in enumerate(np.geomspace(0.1, 10, 20))]
    s = summarise(records, {"step": 19, "reason": "loss above 100 x its first value"}, resamples=50)
    assert s["status"] == "diverged" and s["diverged_at"] == 19 and s["probes"] == 20
    assert math.isnan(s["rho"]) and math.isnan(s["rho_partial"]) and math.isnan(s["L0"])
    assert summarise(records, None, resamples=0)["rho"] == pytest.approx(1.0)  # the same points, not diverged


def test_paired_difference_of_a_run_with_itself_is_zero():
    # Expected (identity): the same block indices are applied to both runs, so every resample's difference is 0.
    rng = np.random.default_rng(6)
    records = [_record(i, float(g), float(g * rng.lognormal())) for i, g in enumerate(rng.lognormal(size=50))]
    for key in ("rho", "rho_partial"):
        difference, interval = paired_difference(records, records, key, resamples=200)
        assert difference == 0.0 and interval == [0.0, 0.0]


def test_paired_difference_sees_a_real_difference():
    # Expected: run a has L = g exactly (rho 1), run b has L independent of g (rho near 0): the difference is
    # about 1, and its 95% interval lies above 0 (the sd of rho_b at n = 80 is about 0.11).
    rng = np.random.default_rng(7)
    g = rng.lognormal(size=80)
    a = [_record(i, float(gi), float(gi)) for i, gi in enumerate(g)]
    b = [_record(i, float(gi), float(rng.lognormal())) for i, gi in enumerate(g)]
    difference, interval = paired_difference(a, b, "rho", resamples=500)
    assert difference > 0.6 and interval[0] > 0


def test_across_seeds_is_the_student_t_interval():
    # Expected: scipy.stats.t.interval around the mean with the standard error (an independent implementation);
    # `bound` cuts it to the range of a correlation; one value has no interval.
    values = [0.6, 0.7, 0.9]
    mean, interval, n = across_seeds(values)
    expected = student_t.interval(0.95, 2, loc=np.mean(values), scale=np.std(values, ddof=1) / math.sqrt(3))
    assert n == 3 and mean == pytest.approx(np.mean(values)) and interval == pytest.approx(list(expected))
    assert across_seeds(values, bound=1.0)[1][1] == 1.0
    assert math.isnan(across_seeds([0.5])[1][0]) and across_seeds([math.nan, 0.5])[2] == 1


@pytest.mark.parametrize("kwargs, named", [({"resamples": -1}, "resamples"), ({"level": 1.0}, "level"),
                                           ({"quantiles": (0.0,)}, "quantiles"),
                                           ({"envelope_resamples": 1.5}, "envelope_resamples")])
def test_summary_names_bad_arguments(kwargs, named):
    with pytest.raises(ValueError, match=named):
        summarise([], **kwargs)


BLOCK_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError("torch blocked for this test", name=name)
sys.meta_path.insert(0, NoTorch())
"""


def test_gpu_and_probe_command_work_without_torch():
    # Expected: torch is an optional extra: clipcheck.gpu, its torch-free analysis and findings and the CLI module
    # import without it, and `clipcheck probe` prints one line with the install commands and returns 2.
    code = BLOCK_TORCH + (
        "import argparse, clipcheck.gpu, clipcheck.gpu.analysis, clipcheck.gpu.findings, clipcheck.gpu.presets\n"
        "from clipcheck import cmd_probe\n"
        "parser = argparse.ArgumentParser(); cmd_probe.configure(parser)\n"
        "sys.exit(cmd_probe.run(parser.parse_args([])))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "pip install -e '.[torch]'" in lines[0] and "pip install torch==2.13.0" in lines[0]
