"""Figures of the stochastic and later-rule claims: (data, folder) -> file name, like plots.py.
Stochastic curves show the median and the interquartile band over seeds against gradient evaluations (one
oracle call per iteration)."""
import numpy as np

from .plots import _save, plt


def thm7(data, folder, most=8):
    """The `most` instances closest to failing (largest min_t mean ||grad f|| / eps), so full mode stays legible."""
    inst = sorted(data["instances"], key=lambda s: -s["min_mean"] / s["eps"])[:most]
    fig, ax = plt.subplots(figsize=(8, 5))
    for j, s in enumerate(inst):
        t = np.maximum(np.array(s["checkpoints"], float), 1.0)  # x0 (t = 0) drawn at 1 on the log axis
        col = f"C{j % 10}"
        ax.loglog(t, s["q50"], color=col, lw=1.2, label=f"{s['label']} (T = {s['T']})")
        ax.fill_between(t, s["q25"], s["q75"], color=col, alpha=0.2, lw=0)
        ax.loglog(t, s["mean"], ":", color=col, lw=1)
        ax.axvline(s["T"], color=col, lw=0.6, ls="--")
    for eps in sorted({s["eps"] for s in inst}):
        ax.axhline(eps, color="k", lw=0.8, ls="--")
    ax.set_xlabel("gradient evaluations t (x0 drawn at 1); dashed verticals: the Thm 7 horizon T")
    ax.set_ylabel("||grad f(x_t)||: median, IQR band, mean (dotted)")
    ax.set_title(f"ZHSJ-Thm7: clipped SGD, {len(inst)} of {len(data['instances'])} instances (closest to eps); "
                 "horizontal: eps", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    return _save(fig, folder, "zhsj_thm7.png")


def thm8(data, folder):
    fig, ax = plt.subplots(figsize=(7, 5))
    for j, (role, c) in enumerate(data["curves"].items()):
        eps = np.array(c["eps"])
        need = np.array([np.nan if v is None else v for v in c["needed"]], float)
        shape = np.array(c["shape"])
        ax.loglog(1 / eps, need, "o-", color=f"C{j}", label=f"{role}: horizon needed (P >= 1/2)")
        scale = np.nanmax(need / shape) if np.any(np.isfinite(need)) else 1.0
        ax.loglog(1 / eps, shape * scale, "--", color=f"C{j}", alpha=0.7,
                  label=f"shape x {scale:.2g} (largest implied constant)")
    ax.set_xlabel("1/eps")
    ax.set_ylabel("gradient evaluations (horizon T)")
    ax.set_title("ZHSJ-Thm8: SGD with h = min{1/sqrt(T), 1/(L1(M + tau))} against the shape", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, folder, "zhsj_thm8.png")


def koloskova(data, folder):
    fig, (ax, tr) = plt.subplots(1, 2, figsize=(13, 5))
    c = np.array(data["c"])
    order = np.array(data["order"])
    ax.loglog(c, data["floor"], "o", label="measured floor: median over seeds of mean ||grad f|| (2nd half)")
    ax.loglog(c, data["mean_field"], "s", mfc="none", label="mean-field stationary ||grad f||")
    ax.loglog(c, order, ":", color="k", label="min{sigma, sigma^2/c}")
    ax.loglog(c, data["K"] * order ** data["b"], "--", color="C0",
              label=f"fit K min{{sigma, sigma^2/c}}^b: K = {data['K']:.3g}, b = {data['b']:.3f}")
    ax.loglog(c, data["sgd_floor"], "v", color="C3", label="unclipped SGD, same noise (the noise's own floor)")
    ax.set_xlabel("clipping threshold c (noise variance sigma^2 fixed)")
    ax.set_ylabel("||grad f|| where the run stalls")
    ax.set_title("floor against the threshold", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    t = np.array(data["checkpoints"], float)
    for j, (band, name) in enumerate(zip(data["bands"], [f"c = {v:.3g}" for v in c])):
        col = plt.cm.viridis(j / max(1, len(c) - 1))
        tr.loglog(t, band[1], color=col, lw=1.2, label=name)
        tr.fill_between(t, band[0], band[2], color=col, alpha=0.2, lw=0)
    tr.set_xlabel("gradient evaluations t")
    tr.set_ylabel("||grad f(x_t)||: median and IQR band over seeds")
    tr.set_title("trajectories of clipped SGD", fontsize=10)
    tr.grid(True, which="both", alpha=0.3)
    tr.legend(fontsize=7, ncol=2)
    fig.suptitle("KOLOSKOVA-bias: fixed-threshold clipping is biased by the order of min{sigma, sigma^2/c}")
    return _save(fig, folder, "koloskova_bias.png")


def finished_segments(x, t, budget):
    """The runs of consecutive finished points (t <= budget) as (x, t) arrays, and the unfinished points (censored
    or diverged) apart: lines join only finished neighbours, never a censored value."""
    x, t = np.asarray(x, float), np.asarray(t, float)
    done = t <= budget
    segments, start = [], None
    for i in range(len(t) + 1):
        if i < len(t) and done[i]:
            start = i if start is None else start
        elif start is not None:
            segments.append((x[start:i], t[start:i]))
            start = None
    return segments, x[~done]


def head_to_head(data, folder):
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5), sharey=True)
    budget = data["budget"]
    top = budget * 2
    for ax, (table, title) in zip(axes, ((data["table"], "worse member of the pair"),
                                         (data["members"]["f_exp"], "f_exp member (curved: momentum != gradient)"))):
        for j, (name, ts) in enumerate(table.items()):
            color = plt.cm.tab20(j % 20)
            marker = "os^vDPX"[j % 7]
            segments, out = finished_segments(data["M"], ts, budget)
            for k, (xs, ys) in enumerate(segments):
                ax.loglog(xs, ys, "-" + marker, color=color, ms=5 + (j % 3), mfc="none" if j % 2 else None,
                          label=name if k == 0 else None)  # rules with equal counts overlap: sizes differ
            if out.size:
                ax.loglog(out, np.full(out.size, top), marker, color=color, ms=5 + (j % 3), ls="none",
                          label=None if segments else name)
        ax.axhline(top, color="k", lw=0.6, ls=":", label=f"> budget {budget} or diverged (drawn here, not joined)")
        ax.set_xlabel("M = ||grad f(x0)||")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("gradient evaluations to eps (median over seeds)")
    axes[1].legend(fontsize=6, ncol=2)
    fig.suptitle(f"HEAD-TO-HEAD on the Remark 5 pair (eps = {data['eps']:g}, tau = {data['tau']:g})")
    return _save(fig, folder, "head_to_head.png")
