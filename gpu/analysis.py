"""Numbers attached to a smoothness-vs-gradient-norm scatter: Spearman rho with a bootstrap interval, and the
fitted (L0, L1) upper envelope.  numpy/scipy only (no torch), so a saved CSV can be analysed anywhere."""
import math

import numpy as np
from scipy.stats import rankdata, spearmanr

from clipcheck.theory.envelope import fit_envelope


def spearman_interval(x, y, resamples=2000, level=0.95, seed=0):
    """Spearman rho of (x, y) and a percentile bootstrap interval at `level`.

    The points form a trajectory, so neighbours are correlated; resampling single points would understate the
    uncertainty.  A moving-block bootstrap (blocks of about n^(1/3) consecutive points) keeps short-range
    dependence.  rho is rank-based, so rho(log x, log y) = rho(x, y).  Returns (rho, low, high); all nan when
    there are fewer than 3 points or a constant coordinate; low = high = nan when resamples = 0.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.size
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    rho = float(spearmanr(x, y).statistic)
    if resamples == 0:
        return rho, math.nan, math.nan
    rng = np.random.default_rng(seed)
    block = max(1, round(n ** (1 / 3)))
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(resamples, blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(resamples, -1)[:, :n]
    rx, ry = rankdata(x[index], axis=1), rankdata(y[index], axis=1)  # average ranks: resamples repeat points
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample may be constant: its rho is nan
        rhos = (rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    rhos = rhos[np.isfinite(rhos)]
    if rhos.size == 0:
        return rho, math.nan, math.nan
    tail = (1 - level) / 2
    return rho, float(np.quantile(rhos, tail)), float(np.quantile(rhos, 1 - tail))


def probe_points(records):
    """(iterations, gradient norms, smoothness) of the probed steps with finite, positive values."""
    rows = [(r["iteration"], r["probe_grad_norm"], r["smoothness"]) for r in records if "smoothness" in r
            and all(math.isfinite(v) and v > 0 for v in (r["probe_grad_norm"], r["smoothness"]))]
    array = np.array(rows, dtype=float).reshape(-1, 3)
    return array[:, 0].astype(int), array[:, 1], array[:, 2]


def summarise(records, quantile=1.0, resamples=2000, seed=0):
    """Summary of one run: number of probes, Spearman rho [interval], envelope (L0, L1), share of clipped steps,
    and the probe-set loss at the first and last probe."""
    _, grad_norms, smoothness = probe_points(records)
    rho, low, high = spearman_interval(grad_norms, smoothness, resamples, seed=seed)
    L0 = L1 = math.nan
    if grad_norms.size >= 2:
        L0, L1 = fit_envelope(grad_norms, smoothness, quantile)
    probes = [r for r in records if "probe_loss" in r]
    return {
        "probes": int(grad_norms.size),
        "spearman_rho": rho,
        "spearman_interval": [low, high],
        "spearman_interval_note": f"95% percentile interval, moving-block bootstrap, {resamples} resamples",
        "envelope_quantile": quantile,
        "L0": L0,
        "L1": L1,
        "clipped_fraction": float(np.mean([r["clipped"] for r in records])) if records else math.nan,
        "first_probe_loss": probes[0]["probe_loss"] if probes else math.nan,
        "last_probe_loss": probes[-1]["probe_loss"] if probes else math.nan,
    }
