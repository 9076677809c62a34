"""Numbers attached to a smoothness-vs-gradient-norm scatter, with bootstrap intervals (numpy/scipy, no torch).

- Spearman rho of (||grad f(x_t)||, L_hat_t) over the probes of one run;
- the partial rho with the step t held fixed: when both quantities trend with training time, rho alone mostly
  measures the trend;
- the fitted (L0, L1) envelope at quantiles 0.95 and 1 (clipcheck.theory.envelope, ZHSJ-Def1): at quantile 1 a
  few early blow-up points set the line, so both are reported;
- the paired comparison of two runs with the same seed (clipped against unclipped), and a t-interval over seeds.

The probes form a trajectory, so neighbours are correlated; resampling single points would understate the
uncertainty.  Every interval is a percentile interval from a moving-block bootstrap (blocks of about n^(1/3)
consecutive probes), which keeps short-range dependence.  rho is rank-based, so rho(log x, log y) = rho(x, y).
"""
import math

import numpy as np
from scipy.stats import rankdata, spearmanr, t as student_t

from clipcheck.theory.envelope import fit_envelope


def block_indices(n, resamples, seed=0):
    """(resamples, n) indices of moving-block bootstrap resamples of n consecutive points."""
    rng = np.random.default_rng(seed)
    block = max(1, round(n ** (1 / 3)))
    starts = rng.integers(0, n - block + 1, size=(resamples, -(-n // block)))
    return (starts[:, :, None] + np.arange(block)).reshape(resamples, -1)[:, :n]


def _row_correlations(a, b):
    """Pearson correlation of each row of a with the same row of b (nan for a constant row)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def _partial(r_xy, r_xz, r_yz):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz**2) * (1 - r_yz**2))


def _rank_statistics(x, y, z):
    """(rho(x, y), partial rho(x, y | z)) per row: Pearson correlations of average ranks within each row."""
    rx, ry, rz = (rankdata(v, axis=1) for v in (x, y, z))
    r_xy = _row_correlations(rx, ry)
    return r_xy, _partial(r_xy, _row_correlations(rx, rz), _row_correlations(ry, rz))


def _interval(values, level):
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [math.nan, math.nan]
    tail = (1 - level) / 2
    return [float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))]


def spearman_interval(x, y, resamples=2000, level=0.95, seed=0):
    """Spearman rho of (x, y) and its moving-block bootstrap interval at `level`: (rho, low, high).

    All nan for fewer than 3 points or a constant coordinate; low = high = nan when resamples = 0.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    rho = float(spearmanr(x, y).statistic)
    if resamples == 0:
        return rho, math.nan, math.nan
    index = block_indices(x.size, resamples, seed)
    low, high = _interval(_row_correlations(rankdata(x[index], axis=1), rankdata(y[index], axis=1)), level)
    return rho, low, high


def partial_spearman(x, y, z):
    """Spearman correlation of x and y with z held fixed: the partial correlation of their ranks,
    (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2)); nan when undefined."""
    arrays = [np.asarray(v, dtype=float)[None, :] for v in (x, y, z)]
    if arrays[0].size < 4:
        return math.nan
    return float(_rank_statistics(*arrays)[1][0])


def probe_points(records):
    """(steps, grad_norms, L_hat) of the records that carry an estimate: finite and positive, not a skipped
    step, not at the float noise floor."""
    rows = [(r["step"], r["grad_norm"], r["L_hat"]) for r in records
            if not r["skipped"] and not r["noise_floor"]
            and all(math.isfinite(v) and v > 0 for v in (r["grad_norm"], r["L_hat"]))]
    array = np.array(rows, dtype=float).reshape(-1, 3)
    return array[:, 0].astype(int), array[:, 1], array[:, 2]


def _median(records, key):
    values = [r[key] for r in records if math.isfinite(r.get(key, math.nan))]
    return float(np.median(values)) if values else math.nan


def summarise(records, diverged=None, resamples=2000, envelope_resamples=200, quantiles=(0.95, 1.0), level=0.95,
              seed=0):
    """Summary of one run's probe records (dicts with step, grad_norm, L_hat, secant_max, hvp, skipped,
    noise_floor).

    Keys: status ("finished" or "diverged"), diverged_at, divergence_reason, probes, points (records with an
    estimate), noise_floor_probes and skipped_probes (left out), rho and rho_ci, rho_partial and rho_partial_ci
    (the step held fixed), L0 and L1 (the envelope at quantile 1, covering every point), envelope (per quantile:
    L0, L1 and their intervals), medians of L_hat, secant_max and hvp, and interval_note.  A diverged run keeps its
    counts but every statistic is nan: its points are not evidence about smoothness along a training trajectory.
    """
    for name, value in (("resamples", resamples), ("envelope_resamples", envelope_resamples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not quantiles or any(not (0 < q <= 1) for q in quantiles):
        raise ValueError(f"quantiles must be values in (0, 1], got {quantiles!r}")
    steps, g, L = probe_points(records)
    nan_pair = [math.nan, math.nan]
    out = {"status": "finished" if diverged is None else "diverged",
           "diverged_at": None if diverged is None else diverged["step"],
           "divergence_reason": None if diverged is None else diverged["reason"],
           "probes": len(records), "points": int(g.size),
           "noise_floor_probes": sum(bool(r["noise_floor"]) for r in records),
           "skipped_probes": sum(bool(r["skipped"]) for r in records),
           "rho": math.nan, "rho_ci": nan_pair, "rho_partial": math.nan, "rho_partial_ci": nan_pair,
           "L0": math.nan, "L1": math.nan,
           "envelope": {str(q): {"L0": math.nan, "L1": math.nan, "L0_ci": nan_pair, "L1_ci": nan_pair}
                        for q in quantiles},
           "medians": {key: _median(records, key) for key in ("L_hat", "secant_max", "hvp")},
           "interval_note": f"{level:.0%} percentile intervals, moving-block bootstrap over consecutive probes "
                            f"(blocks of about n^(1/3)), {resamples} resamples ({envelope_resamples} for the "
                            "envelope)"}
    if diverged is not None or g.size < 4:
        return out
    if np.ptp(g) > 0 and np.ptp(L) > 0:
        out["rho"] = float(spearmanr(g, L).statistic)
        out["rho_partial"] = partial_spearman(g, L, steps)
    if resamples:
        index = block_indices(g.size, resamples, seed)
        rhos, partials = _rank_statistics(g[index], L[index], steps[index])
        out["rho_ci"], out["rho_partial_ci"] = _interval(rhos, level), _interval(partials, level)
    for q in quantiles:
        L0, L1 = fit_envelope(g, L, q)
        entry = {"L0": L0, "L1": L1, "L0_ci": nan_pair, "L1_ci": nan_pair}
        if envelope_resamples:
            fits = np.array([fit_envelope(g[i], L[i], q) for i in block_indices(g.size, envelope_resamples, seed)])
            entry["L0_ci"], entry["L1_ci"] = _interval(fits[:, 0], level), _interval(fits[:, 1], level)
        out["envelope"][str(q)] = entry
        if q == 1.0:
            out["L0"], out["L1"] = L0, L1
    return out


def paired_difference(records_a, records_b, key="rho", resamples=2000, level=0.95, seed=0):
    """rho(a) - rho(b) (key "rho") or rho_partial(a) - rho_partial(b) (key "rho_partial") for two runs probed at
    the same steps (same seed, same batches), with an interval from one moving-block bootstrap over the common
    steps applied to both runs.  Returns (difference, [low, high]); nan when fewer than 4 common steps."""
    if key not in ("rho", "rho_partial"):
        raise ValueError(f"key must be 'rho' or 'rho_partial', got {key!r}")
    pick = 0 if key == "rho" else 1
    steps_a, g_a, L_a = probe_points(records_a)
    steps_b, g_b, L_b = probe_points(records_b)
    common, ia, ib = np.intersect1d(steps_a, steps_b, return_indices=True)
    if common.size < 4:
        return math.nan, [math.nan, math.nan]
    z = common[None, :].astype(float)
    estimate = (_rank_statistics(g_a[ia][None, :], L_a[ia][None, :], z)[pick][0]
                - _rank_statistics(g_b[ib][None, :], L_b[ib][None, :], z)[pick][0])
    if resamples == 0:
        return float(estimate), [math.nan, math.nan]
    index = block_indices(common.size, resamples, seed)
    zs = common[index].astype(float)
    diffs = (_rank_statistics(g_a[ia][index], L_a[ia][index], zs)[pick]
             - _rank_statistics(g_b[ib][index], L_b[ib][index], zs)[pick])
    return float(estimate), _interval(diffs, level)


def across_seeds(values, level=0.95, bound=None):
    """Mean of per-seed values and its Student t interval over seeds: (mean, [low, high], n).  The seeds are
    independent replicates, so this interval includes seed-to-seed variation (wide for few seeds); nan interval
    for fewer than 2 finite values.  `bound` b cuts the interval to [-b, b], the range of the quantity (1 for a
    correlation, 2 for a difference of two)."""
    values = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if values.size == 0:
        return math.nan, [math.nan, math.nan], 0
    mean = float(values.mean())
    if values.size < 2:
        return mean, [math.nan, math.nan], 1
    half = student_t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    low, high = mean - half, mean + half
    if bound is not None:
        low, high = max(low, -bound), min(high, bound)
    return mean, [float(low), float(high)], int(values.size)
