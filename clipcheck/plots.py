"""Figures from the data the claims computed. Every function takes (data, folder) and returns a file name."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, folder, name):
    fig.tight_layout()
    fig.savefig(Path(folder) / name, dpi=120)
    plt.close(fig)
    return name


def _arr(values):
    return np.array([np.inf if v is None else v for v in values], float)


def remark5(data, folder):
    fig, ax = plt.subplots(figsize=(7, 5))
    M = np.array(data["M"])
    ax.loglog(M, data["gd"], "o-", color="C3", label="fixed-step GD, best step of the grid")
    ax.loglog(M, data["clipped"], "s-", color="C0", label="clipped GD (Thm 3 parameters)")
    ax.loglog(M, data["normalized"], "^-", color="C2", label="normalized GD (NGD parameters)")
    ax.loglog(M, data["thm4_derived"], "--", color="C3", alpha=0.7, label="Thm 4 lower bound (derived)")
    ax.loglog(M, data["thm4_paper"], ":", color="C3", alpha=0.7, label="Thm 4 lower bound (paper's constant)")
    ax.loglog(M, data["thm3_derived"], "--", color="C0", alpha=0.7, label="Thm 3 upper bound (derived)")
    ax.loglog(M, data["thm3_paper"], ":", color="C0", alpha=0.7, label="Thm 3 upper bound (paper's constant)")
    if "ngd_bound" in data:
        ax.loglog(M, data["ngd_bound"], "--", color="C2", alpha=0.7, label="NGD upper bound (derived)")
    ax.set_xlabel("M = ||grad f(x0)|| (sup over the sublevel set)")
    ax.set_ylabel("iterations to ||grad f|| <= eps (worst of the 3.3 pair)")
    ax.set_title("Remark 5: clipping vs the best fixed step, as M grows")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder, "remark5.png")


def upper(claim_id):
    """Measured T against the bound for every instance; points under the diagonal respect the bound."""
    def plot(data, folder):
        fig, ax = plt.subplots(figsize=(6, 5))
        meas = np.array(data["measured"], float)
        fams = np.array(data["family"])
        markers = {"paper": "o", "derived": "x", "standard": "o"}
        for constants, bnd in data["bounds"].items():
            bnd = np.array(bnd, float)
            for j, fam in enumerate(sorted(set(fams))):
                sel = fams == fam
                ax.loglog(bnd[sel], np.maximum(meas[sel], 0.5), markers.get(constants, "o"), color=f"C{j % 10}",
                          mfc="none" if constants != "derived" else None,
                          label=f"{fam}" if constants == list(data["bounds"])[0] else None)
        lo = max(0.5, min(np.min(np.maximum(meas, 0.5)), min(min(v) for v in data["bounds"].values())))
        hi = max(np.max(meas), max(max(v) for v in data["bounds"].values()))
        ax.loglog([lo, hi], [lo, hi], "k--", lw=1, label="measured = bound")
        ax.set_xlabel("bound (" + ", ".join(f"{markers.get(c, 'o')}: {c}" for c in data["bounds"]) + ")")
        ax.set_ylabel("measured T_eps (0 drawn at 0.5)")
        ax.set_title(f"{claim_id}: measured vs bound")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
        return _save(fig, folder, f"{claim_id.lower().replace('-', '_')}.png")
    return plot


def thm4(data, folder):
    settings = data["settings"]
    cols = min(2, len(settings))
    rows = -(-len(settings) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.6 * rows), squeeze=False)
    for ax in axes.flat[len(settings):]:
        ax.set_visible(False)
    for ax, s in zip(axes.flat, settings):
        p = s["params"]
        h = np.array(s["h"])
        t_exp, t_slow = _arr(s["t_exp"]), _arr(s["t_slow"])
        censor = p["budget"] + 1
        top = censor * 3
        for t, style, name in ((t_exp, "o", "f_exp from x_bar"), (t_slow, "s", "f_slow (slope a)")):
            finite = np.isfinite(t) & (t < censor)
            ax.loglog(h[finite], t[finite], style, mfc="none", ms=4, label=name)
            cens = ~finite
            ax.loglog(h[cens], np.full(cens.sum(), top), style, ms=4, alpha=0.5,
                      label=f"{name}: diverged or > {censor:.3g} (drawn at top)")
        ax.axvline(p["h_star"], color="k", lw=0.8, ls=":", label="h* (2-cycle of f_exp)")
        ax.axhline(s["bounds"]["derived"], color="C3", ls="--", label="Thm 4 derived")
        if s["bounds"]["paper"] > 0:
            ax.axhline(s["bounds"]["paper"], color="C3", ls=":", label="Thm 4 paper's constant")
        ax.set_xlabel("fixed step h")
        ax.set_ylabel("T_eps")
        ax.set_title(f"L0={p['L0']:g}, L1={p['L1']:g}, M={p['M']:g}, eps={p['eps']:g}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("ZHSJ-Thm4: every fixed step meets a member of the pair that needs at least the bound")
    return _save(fig, folder, "zhsj_thm4.png")


def lemma_sharp(data, folder):
    """left side / right side of both inequalities for every sampled pair: at most 1, and near 1 where tight."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, part in zip(axes, ("gradient", "value")):
        for j, s in enumerate(data[part]):
            lhs, rhs = np.array(s["lhs"]), np.array(s["rhs"])
            keep = rhs > 0
            ax.semilogx(rhs[keep], lhs[keep] / rhs[keep], ls="none", ms=2, color=f"C{j % 10}",
                        marker="o^sv"[j // 10 % 4], label=s["family"])
        ax.axhline(1.0, color="k", ls="--", lw=1)
        ax.set_xlabel("right side (the LEMMA-sharp bound)")
        ax.set_title(f"LEMMA-sharp, {part} part: measured / bound")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("left side / right side (<= 1 holds)")
    axes[1].legend(fontsize=6, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, folder, "lemma_sharp.png")
