"""Figures from the data the claims computed. Every function takes (data, folder) and returns a file name."""
import math
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
    ax.loglog(M, data["gd"], "o-", color="C3", label="fixed-step GD, best step (grid, then 1-D search near h*)")
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
    """Measured T against the bound for every instance of every row (points under the diagonal respect the bound;
    the adversary's instances drawn apart); when the adversary searched, its worst instance: the profile with the
    iterates on it, and the gradient norm against t."""
    def plot(data, folder):
        adv = data.get("adversary")
        fig, axes = plt.subplots(1, 3 if adv else 1, figsize=(17 if adv else 6, 5), squeeze=False)
        _measured_vs_bound(axes[0, 0], claim_id, data["rows"])
        if adv:
            _adversary_profile(axes[0, 1], adv)
            _adversary_gradient(axes[0, 2], adv)
        return _save(fig, folder, f"{claim_id.lower().replace('-', '_')}.png")
    return plot


def _measured_vs_bound(ax, claim_id, rows):
    markers = "oxs^vD"
    families = sorted({f for r in rows.values() for f in r["family"]})
    lo, hi = math.inf, 0.0
    for k, (row_id, r) in enumerate(rows.items()):
        meas = np.maximum(np.array(r["measured"], float), 0.5)
        bnd = np.array(r["bound"], float)
        fams = np.array(r["family"])
        for j, fam in enumerate(families):
            sel = fams == fam
            if sel.any():
                ax.loglog(bnd[sel], meas[sel], markers[k % len(markers)], color=f"C{j % 10}",
                          mfc="none" if k % 2 == 0 else None, label=fam if k == 0 else None)
        finite = np.isfinite(bnd) & (bnd > 0)
        lo = min(lo, meas.min(), bnd[finite].min() if finite.any() else lo)
        hi = max(hi, meas.max(), bnd[finite].max() if finite.any() else hi)
    lo = max(lo, 0.5)
    ax.loglog([lo, hi], [lo, hi], "k--", lw=1, label="measured = bound")
    ax.set_xlabel("bound (" + ", ".join(f"{markers[k % len(markers)]}: {rid.split(':')[-1]}"
                                        for k, rid in enumerate(rows)) + ")")
    ax.set_ylabel("measured T_eps (0 drawn at 0.5)")
    ax.set_title(f"{claim_id}: measured vs bound")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")


def _adversary_profile(ax, adv):
    ax.plot(adv["x"], adv["p"], color="k", lw=1, label="p(x) - p*")
    stride = adv["iterate_stride"]
    xs = np.array(adv["iterates"])[::stride]
    sc = ax.scatter(xs, adv["f_iterates"], c=np.arange(xs.size) * stride, cmap="viridis", s=8, zorder=3,
                    label="iterates x_t")
    plt.colorbar(sc, ax=ax, label="t")
    ax.set_xlabel("x")
    ax.set_ylabel("p(x) - p*")
    ax.set_title(f"worst adversarial instance ({adv['row']}, {adv['rule']}): ratio {adv['ratio']:.4f}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    if len(adv.get("zoom_x", [])) > 1:  # p' over three steps mid-run: the shape the adversary found
        inset = ax.inset_axes([0.55, 0.08, 0.42, 0.36])
        inset.plot(adv["zoom_x"], adv["zoom_dp"], color="k", lw=1)
        inset.plot(adv["zoom_iterates"], adv["zoom_iterates_dp"], "o", color="C1", ms=4)
        inset.axhline(adv["eps"], color="k", ls="--", lw=0.6)
        inset.set_title("p'(x) over three steps mid-run", fontsize=7)
        inset.tick_params(labelsize=6)


def _adversary_gradient(ax, adv):
    t = np.maximum(np.array(adv["t"][:len(adv["grad_norm"])], float), 0.5)
    ax.loglog(t, adv["grad_norm"], color="C3", lw=1, label="|p'(x_t)|")
    ax.axhline(adv["eps"], color="k", ls="--", lw=1, label="eps")
    ax.set_xlabel("t (x0 drawn at 0.5)")
    ax.set_ylabel("gradient norm")
    ax.set_title(f"T_eps = {adv['measured']:.0f} against the bound {adv['bound']:.4g} (L0, L1 = "
                 f"{adv['class'][0]:g}, {adv['class'][1]:g}; D = {adv['delta']:.3g})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


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
