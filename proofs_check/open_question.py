"""The open question of ZHSJ-Thm4: does the quoted lower bound L1 M (Delta - 5eps/8)/(8 eps^2 (log M + 1))
hold when L1 >> L0, where the constructive pair only gives 2 log(1 + L1 M/L0) in place of 8 (log M + 1)?

A lower bound cannot be violated by one function; it is demonstrated by exhibiting, for every step h, a bad
function in the class. f_s handles h <= 8 (log M + 1)/(L1 M); the question is whether GD can be made to fail
for every larger h. This module measures what the known pieces can and cannot do; its verdict is "finding".
"""
from __future__ import annotations

import math

import sympy as sp
from mpmath import iv

from .core import I, Proof, fmt, is_zero, phi

k, m, x, y, L0, L1, t = sp.symbols("k m x y L0 L1 t", positive=True)


def _cycle_threshold(rho):
    """Root w0 of w^2 = (w + rho) phi(w), rho = L0 h: by LEMMA-sharp a GD step with gradient norm g fails to
    decrease f only if w = L1 h g satisfies w^2 <= (w + rho) phi(w), i.e. w >= w0. Interval bisection."""
    lo, hi = iv.mpf("0.5"), iv.mpf(3)
    F = lambda v: (v + I(rho)) * phi(v) - v * v  # < 0 on (0.5, w0), > 0 on (w0, 3) for small rho
    for _ in range(60):
        mid = iv.mpf((lo.a + hi.b) / 2)
        if F(mid).b < 0:
            lo = mid
        else:
            hi = mid
    return iv.mpf([lo.a, hi.b])


def check_thm4_open_question(l0: float = 1.0, big_m: float = 10.0, l1_values=(10.0, 1e3, 1e5, 1e7)):
    """Probe of the quoted ZHSJ-Thm4 form for L1 >> L0 (THEOREMS.md section 3, the 'lead')."""
    P = Proof("ZHSJ-Thm4:open-question", "can the quoted (log M + 1) lower bound be demonstrated when L1 >> L0?",
              "interval", L0=l0, M=big_m)
    P.rec.verdict = "finding"
    # 1. where the constructive pair stops demonstrating the quoted form
    l1_star = l0 * (math.exp(4) * big_m**4 - 1) / big_m
    P.const(pair_demonstrates_quoted_up_to_L1=l1_star)
    P.note(f"1. pair (f_exp, f_s): demonstrates the quoted form iff 2 log(1 + L1 M/L0) <= 8 (log M + 1), i.e. "
           f"L1 <= L0 (e^4 M^4 - 1)/M = {l1_star:.4g} at L0 = {l0:g}, M = {big_m:g}")
    ratios = {}
    for l1 in l1_values:
        r = 8 * (math.log(big_m) + 1) / (2 * math.log(1 + l1 * big_m / l0))
        ratios[f"{l1:g}"] = round(r, 4)
    P.const(pair_over_quoted=ratios)
    P.note("   pair bound / quoted bound at L1 = " + ", ".join(f"{a}: {b}" for a, b in ratios.items()))
    # 2. in 1-D a 2-cycle needs the gradient to cross 0: Gronwall from m down to 0 takes log(1 + L1 m/L0)/L1
    G = (m + L0 / L1) * sp.exp(-L1 * t) - L0 / L1  # fastest decay g' = -(L0 + L1 g)
    ok1 = is_zero(sp.diff(G, t) + L0 + L1 * G) and is_zero(G.subs(t, sp.log(1 + L1 * m / L0) / L1))
    P.note(f"2. {'ok' if ok1 else 'NOT SHOWN'}: in 1-D the fastest fall of |f'| from m to 0 takes distance "
           "log(1 + L1 m/L0)/L1 (and the same to climb back), so a 1-D 2-cycle needs h m >= 2 log(1 + L1 m/L0)/L1, "
           "i.e. h >= h*(m) >= h*(M): no 1-D function beats f_exp")
    # 3. in any dimension a 2-cycle needs one step that does not decrease f
    v00, v01 = _cycle_threshold(0), _cycle_threshold("0.01")
    P.const(cycle_threshold_v=fmt(v00, 6))
    P.note(f"3. any dimension: in a 2-cycle one of the two steps does not decrease f; by LEMMA-sharp that step's "
           f"w = L1 h g (g <= M) has w^2 <= (w + L0 h) phi(w), so L1 h M >= w0(L0 h) = {fmt(v00, 6)} as L0 h -> 0 "
           f"({fmt(v01, 6)} at L0 h = 0.01). No log: the descent lemma alone does not force the log factor")
    # 4. the 2-D rotating gadget: harmonic f = -(m/k) sin(kx) e^{ky}
    f = -(m / k) * sp.sin(k * x) * sp.exp(k * y)
    gr = sp.Matrix([sp.diff(f, v) for v in (x, y)])
    H = sp.hessian(f, (x, y))
    hn2 = sp.simplify((H.T * H)[0, 0])  # H is symmetric with H^2 = (mk e^{ky})^2 I
    ok4 = (is_zero(H.T * H - hn2 * sp.eye(2)) and is_zero(hn2 - k**2 * gr.dot(gr))
           and is_zero(gr.subs({x: 0, y: 0}) - sp.Matrix([-m, 0])) and is_zero(gr.subs({x: sp.pi / k, y: 0}) - sp.Matrix([m, 0])))
    P.note(f"4. {'ok' if ok4 else 'NOT SHOWN'}: f = -(m/k) sin(kx) e^(ky) has ||Hess f|| = k ||grad f|| exactly "
           "((0, k)-smooth) and GD with h = pi/(k m) cycles (0,0) <-> (pi/k, 0): L1 h m = pi, no log. But it is "
           "unbounded below and sup ||grad f|| on {f <= 0} is infinite (m e^(ky)), so it is not in the class")
    # 5. one-mode completion f = -a(y) sin(kx) + b(y) is impossible when L0 < m k
    a, b = sp.Function("a")(y), sp.Function("b")(y)
    F = -a * sp.sin(k * x) + b
    ok5 = True
    for th, sgn in ((sp.pi / 2, -1), (-sp.pi / 2, 1)):  # crest and trough
        pt = {x: th / k}
        Hc = sp.hessian(F, (x, y)).subs(pt)
        gc = sp.Matrix([sp.diff(F, v) for v in (x, y)]).subs(pt)
        ok5 &= is_zero(Hc[0, 1]) and is_zero(Hc[0, 0] + sgn * a * k**2) and is_zero(gc[0]) \
            and is_zero(gc[1] - (sp.diff(b, y) + sgn * sp.diff(a, y)))
    P.note(f"5. {'ok' if ok5 else 'NOT SHOWN'}: completing with one Fourier mode, f = -a(y) sin(kx) + b(y), "
           "the crest/trough lines have Hessian entry a k^2 and gradient |b' -+ a'|, so (L0, L1) forces "
           "| |a'| - |b'| | >= (a k^2 - L0)/L1. The rotation at y = 0 needs a' = m > 0 = b'; while a' > |b'| the "
           "crest value b - a falls, a >= m/k grows, so either |a'| = |b'| is reached with a k^2 >= m k > L0 "
           "(violates (L0, L1)) or the crest falls without bound with gradient -> oo (violates A1/A4). "
           "So this family cannot complete the gadget")
    P.note("conclusion: OPEN. Not refuted, not established. The pair cannot demonstrate the quoted form for "
           f"L1 > {l1_star:.3g} (L0 = {l0:g}, M = {big_m:g}); 2-cycles in d >= 2 are not excluded by the descent "
           "lemma below L1 h M ~ 1.26, the rotating gadget reaches L1 h m = pi, but no completion into the class "
           "was found; one-mode completions are impossible. Multi-mode or non-separable completions remain untried")
    return P.done()
