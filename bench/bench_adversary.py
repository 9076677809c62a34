"""Adversarial worst ratios T_eps / bound for the upper bounds of issue 9, and whether a quick search rejects the
false constants of its acceptance list. Run on demand: python bench/bench_adversary.py [budget_s]

For each (bound, class) it prints the certified worst ratio with the true constant, the smallest constant this
search would reject ((measured / bound) x constant), and the ratio with the false constant (> 1: rejected).
"""
import sys
import time

from clipcheck.adversary import worst_case
from clipcheck.theory import bounds, steps

BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


def classic(L0, L1, eps, c):
    return dict(rule="gd", h=steps.classic_gd_step(L0)), lambda d: c * L0 * d / eps**2


def thm3(L0, L1, eps, c):
    eta_c, gamma = steps.zhsj_thm3_params(L0, L1)
    return (dict(rule="clipped", eta_c=eta_c, gamma=gamma),
            lambda d: c * L0 * d / eps**2 + c * max(0.01, L1**2) * d / L0)


def thm6(L0, L1, eps, c, M):
    return dict(rule="gd-thm6", M=M), lambda d: c * (M * L1 + L0) * d / eps**2


def ngd(L0, L1, eps, c):
    eta_n, beta = steps.ngd_params(L0, L1)
    return (dict(rule="normalized", eta_n=eta_n, beta=beta),
            lambda d: c * L0 * d / eps**2 + c * max(0.01, L1**2) * d / L0)


# (name, maker, true constant, false constant, classes (L0, L1, eps[, M]), extra search settings)
CASES = [
    ("CLASSIC-GD", classic, 2.0, 1.30, [(1.0, 0.0, 0.01)], {}),
    ("CLASSIC-GD long runs (Delta >= 100 eps^2/L)", classic, 2.0, 1.30, [(1.0, 0.0, 0.01)],
     {"min_delta": 100 * 0.01**2, "horizon": 200}),
    ("ZHSJ-Thm3 derived", thm3, bounds.THM3_DERIVED, 10.2,
     [(1.0, 0.0, 0.01), (1.0, 0.05, 0.01), (1.0, 1.0, 0.1)], {"horizon": 1000}),
    ("ZHSJ-Thm6 derived", thm6, bounds.THM6_DERIVED, 2.25,
     [(1.0, 0.01, 0.01, 0.0101), (1.0, 1.0, 0.1, 0.101), (1.0, 1.0, 0.5, 1.0)], {"horizon": 300}),
    ("NGD", ngd, bounds.NGD_DERIVED, 12.0,
     [(1.0, 0.0, 0.01), (1.0, 1.0, 0.2), (1.0, 1.0, 0.414), (1.0, 1.0, 0.7)], {"horizon": 300}),
]


def main():
    print(f"budget {BUDGET:g} s per search; ratio > 1 with the false constant = rejected")
    for name, maker, c_true, c_false, classes, settings in CASES:
        for cls in classes:
            L0, L1, eps = cls[:3]
            extra = cls[3:]
            row = []
            for c in (c_true, c_false):
                rule, bound = maker(L0, L1, eps, c, *extra)
                t = time.perf_counter()
                wc = worst_case(rule.pop("rule"), L0, L1, eps=eps, bound=bound, budget_s=BUDGET, **settings, **rule)
                row.append((wc, time.perf_counter() - t))
            (wt, tt), (wf, tf) = row
            print(f"{name:45s} L0={L0:g} L1={L1:g} eps={eps:g} {'M=' + format(extra[0], 'g') if extra else '':8s}"
                  f" ratio {wt.value:.4f} (T={wt.iterations}, certified={wt.certified}, {tt:.1f} s)"
                  f"  needed constant {wt.value * c_true:.3f}  false {c_false:g}: ratio {wf.value:.4f}"
                  f" {'REJECTED' if wf.value > 1 and wf.certified else 'not rejected'} ({tf:.1f} s)")


def beyond_one_dimension():
    """THEOREMS.md 4c: GD on L-smooth f (L1 = 0) with h > 1/L. The 1-D search meets the 1-D V-chain value
    1/(n h (1 - hL/4) + 1/(2L)); the planar zigzag loses only h (1 - h^2 L^2 / 4) g^2 a step, so with the same
    tail it reaches 1/(n h (1 - h^2 L^2/4) + 1/(2L)), which no 1-D profile can."""
    print("GD, L = 1, steps measure: 1-D adversary vs the 1-D V-chain and the planar (d = 2) per-step loss")
    for hL in (1.0, 1.5, 1.8):
        for n in (5, 10, 20):
            wc = worst_case("gd", 1.0, 0.0, steps=n, h=hL, budget_s=BUDGET)
            chain = 1 / (n * hL * (1 - hL / 4) + 0.5)
            planar = 1 / (n * hL * (1 - hL**2 / 4) + 0.5)
            print(f"  hL={hL:g} n={n:2d}: adversary {wc.value:.5f}  V-chain {chain:.5f}  planar {planar:.5f}"
                  f"  adversary/planar {wc.value / planar:.3f}")


if __name__ == "__main__":
    main()
    beyond_one_dimension()
