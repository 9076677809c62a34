"""From the runs of the grid (gpu.experiment results) to the statements of `clipcheck probe`: per run, per
setting over seeds, and clipped against unclipped with the same seed and learning rate.  numpy only (no torch).

A diverged run is kept out of every rho, partial rho and envelope, and counted apart; a comparison needs both
runs of a seed to have finished, and says how many seeds it lost to divergence.
"""
import math

import numpy as np

from clipcheck.gpu import analysis


def run_summary(result, resamples=2000, envelope_resamples=200, seed=0):
    """analysis.summarise of one run's probes, with its status, clipped fraction and held-out loss."""
    summary = analysis.summarise(result["probes"], result["diverged"], resamples=resamples,
                                 envelope_resamples=envelope_resamples, seed=seed)
    held = [h["loss"] for h in result["heldout"]]
    summary.update(clipped_fraction=result["clipped_fraction"], steps_done=result["steps_done"],
                   seconds=result["seconds"], heldout_first=held[0] if held else math.nan,
                   heldout_last=held[-1] if held else math.nan)
    return summary


def setting_key(result):
    return result["model"], result["lr"], result["clip"]


def by_setting(results, summaries):
    """Per (model, lr, clip): seeds, diverged seeds, clipped fraction, and rho, partial rho and final held-out
    loss as mean over the finished seeds with a t-interval over seeds (analysis.across_seeds)."""
    groups = {}
    for result, summary in zip(results, summaries):
        groups.setdefault(setting_key(result), []).append((result, summary))
    rows = []
    for (model, lr, clip), members in groups.items():
        finished = [s for r, s in members if s["status"] == "finished"]
        row = {"model": model, "lr": lr, "clip": clip, "seeds": [r["seed"] for r, _ in members],
               "diverged_seeds": [r["seed"] for r, s in members if s["status"] == "diverged"],
               "clipped_fraction": float(np.mean([s["clipped_fraction"] for _, s in members]))}
        for key in ("rho", "rho_partial", "heldout_last"):
            mean, interval, n = analysis.across_seeds([s[key] for s in finished], bound=None if key ==
                                                      "heldout_last" else 1.0)
            row[key] = {"mean": mean, "ci": interval, "seeds": n, "per_seed": [s[key] for s in finished]}
        rows.append(row)
    return rows


def comparisons(results, resamples=2000, seed=0):
    """Clipped against unclipped, per (model, lr, clip) with a threshold: for each seed whose two runs finished,
    rho(clipped) - rho(unclipped) and the same for the partial rho, each with a paired moving-block bootstrap
    interval over the common probe steps; across seeds, the mean difference with a t-interval over seeds, and how
    many seeds are above zero with an interval that excludes zero."""
    unclipped = {(r["model"], r["lr"], r["seed"]): r for r in results if r["clip"] is None}
    groups = {}
    for r in results:
        if r["clip"] is not None:
            groups.setdefault(setting_key(r), []).append(r)
    rows = []
    for (model, lr, clip), clipped_runs in groups.items():
        row = {"model": model, "lr": lr, "clip": clip, "lost_to_divergence": []}
        per_key = {"rho": [], "rho_partial": []}
        for run in clipped_runs:
            partner = unclipped.get((model, lr, run["seed"]))
            if partner is None:
                continue
            lost = [name for name, r in (("clipped", run), ("unclipped", partner)) if r["status"] != "finished"]
            if lost:
                row["lost_to_divergence"].append({"seed": run["seed"], "diverged": lost})
                continue
            for key in per_key:
                difference, interval = analysis.paired_difference(run["probes"], partner["probes"], key,
                                                                  resamples, seed=seed)
                per_key[key].append({"seed": run["seed"], "difference": difference, "ci": interval})
        for key, per_seed in per_key.items():
            mean, interval, n = analysis.across_seeds([p["difference"] for p in per_seed], bound=2.0)
            row[key] = {"mean_difference": mean, "ci": interval, "seeds": n, "per_seed": per_seed,
                        "seeds_clipped_higher": sum(p["ci"][0] > 0 for p in per_seed),
                        "seeds_clipped_lower": sum(p["ci"][1] < 0 for p in per_seed)}
        rows.append(row)
    return rows
