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

from clipcheck.theory import bounds

from . import valley
from .core import I, Method, Proof, fmt, is_zero, item, phi

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


@item("ZHSJ-Thm4:open-question", Method.INSTANCE)
def check_thm4_open_question(l0: float = 1.0, big_m: float = 10.0, l1_values=(10.0, 1e3, 1e5, 1e7)):
    """Probe of the quoted ZHSJ-Thm4 form for L1 >> L0 (THEOREMS.md section 3, the 'lead')."""
    P = Proof(check_thm4_open_question, "can the quoted (log M + 1) lower bound be demonstrated when L1 >> L0?",
              L0=l0, M=big_m)
    P.rec.verdict = "finding"
    # 1. where the constructive pair stops demonstrating the quoted form
    c_p, c_d = bounds.THM4_PAPER, bounds.THM4_DERIVED
    rr = c_p / c_d  # 4 with the spec's constants
    l1_star = l0 * (math.exp(rr) * big_m**rr - 1) / big_m
    P.const(pair_demonstrates_quoted_up_to_L1=l1_star)
    P.note(f"1. pair (f_exp, f_s): demonstrates the quoted form iff {c_d:g} log(1 + L1 M/L0) <= {c_p:g} (log M + 1), "
           f"i.e. L1 <= L0 (e^{rr:g} M^{rr:g} - 1)/M = {l1_star:.4g} at L0 = {l0:g}, M = {big_m:g}")
    ratios = {}
    for l1 in l1_values:
        r = c_p * (math.log(big_m) + 1) / (c_d * math.log(1 + l1 * big_m / l0))
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
    for th, sgn in ((sp.pi / 2, -1), (-sp.pi / 2, 1)):  # the lines kx = pi/2 and -pi/2
        pt = {x: th / k}
        Hc = sp.hessian(F, (x, y)).subs(pt)
        gc = sp.Matrix([sp.diff(F, v) for v in (x, y)]).subs(pt)
        ok5 &= is_zero(Hc[0, 1]) and is_zero(Hc[0, 0] + sgn * a * k**2) and is_zero(gc[0]) \
            and is_zero(gc[1] - (sp.diff(b, y) + sgn * sp.diff(a, y)))
    P.note(f"5. {'ok' if ok5 else 'NOT SHOWN'}: completing with one Fourier mode, f = -a(y) sin(kx) + b(y), "
           "the lines kx = +-pi/2 have Hessian entry a k^2 and gradient |b' -+ a'|, so (L0, L1) forces "
           "| |a'| - |b'| | >= (a k^2 - L0)/L1. The rotation at y = 0 needs a' = m > 0 = b'; while a' > |b'| the "
           "value b - a on kx = pi/2 falls, a >= m/k grows, so either |a'| = |b'| is reached with a k^2 >= m k > L0 "
           "(violates (L0, L1)) or that line falls without bound with gradient -> oo (violates A1/A4). "
           "So this family cannot complete the gadget")
    # 6. a descending valley: exact 2-cycle, certified on the sublevel set, fails on the A3 neighbourhood
    vc = valley.certify(valley.Valley(), L1=4.2, M=0.59, R=0.0)
    ok6 = valley.cycle_is_exact() and vc["ok"]
    L1v = vc["L1"]
    R_open = (math.exp(rr) - 1) / L1v  # open regime: L1 > (e^4 M^4 - 1) L0/M >= e^4 - 1 (L0 >= 1, M > 1)
    wit = valley.wide_witness(valley.Valley(), R=math.floor(R_open))
    P.const(valley_L1=L1v, valley_M=vc["M"], valley_h=round(vc["h"], 6), valley_c=round(vc["c"], 4),
            valley_cycle_grad=round(vc["m"], 6), valley_boxes=vc["boxes_L1"] + vc["boxes_M"],
            valley_witness_R=wit["R"], valley_witness_ratio=round(wit["ratio_lower"], 2))
    P.note(f"6. {'ok' if ok6 else 'NOT SHOWN'}: valley f = V(y) + W(y) log cosh x, V = (A/0.15) e^(-0.15 y), "
           "W = 1/(e^(0.35 y) + e^(-2 y)), A = W'(0) log cosh 1: GD with h = 2/(W(0) tanh 1) = "
           f"{vc['h']:.4f} cycles (-1, 0) <-> (1, 0) exactly (SymPy); f >= 0 = inf f; interval branch and bound "
           f"({vc['boxes_L1'] + vc['boxes_M']} boxes + a tail in e^(-2.35 y)) certifies (0, {L1v})-smoothness and "
           f"||grad f|| <= {vc['M']} on the sublevel set: L1 h M <= {vc['c']:.2f}, no log")
    P.note(f"   but A3 asks for (L0, L1) on the radius-1 neighbourhood, which in the open regime (L1 > e^{rr:g} - 1 "
           f"= {math.exp(rr) - 1:.1f} for L0 >= 1) is >= {R_open:.1f} valley units wide; certified witness: a point "
           f"within {wit['R']:g} of the sublevel set has ||H||/||grad f|| >= {wit['ratio_lower']:.1f} "
           f"({'ok' if wit['ok'] else 'NOT SHOWN'}). So this valley is not in the class where the question is open")
    P.note("7. why: for any f = V(y) + W(y) L(x) with unbounded walls L (like log cosh), (L0, L1) as |x| -> oo "
           "forces |W''| <= L1 |W'|, so W' never changes sign; the cycle needs W'(0) > 0, hence W >= W(0) "
           "downstream, the floor needs L1 |V'| >= W - L0 > 0, and f(0, y) = V(y) -> -oo. A valley whose walls "
           "level off (bounded L) escapes this argument; a brief float search over a sigmoid-shaped W, V found "
           "ratios ~40 where the plateau V + W L(oo) turns in y (not certified, not in this module): the plateau "
           "must be designed to cross zero slope at rate <= L1, which was not done")
    P.note("conclusion: OPEN. Not refuted, not established. The pair cannot demonstrate the quoted form for "
           f"L1 > {l1_star:.3g} (L0 = {l0:g}, M = {big_m:g}). In d = 2 an exact 2-cycle at L1 h M ~ "
           f"{vc['c']:.0f} exists on a certified (0, L1)-smooth valley near its sublevel set, but not in the "
           "class (A3's neighbourhood is too wide); no separable valley with unbounded walls is globally (L0, L1)-smooth (item 7). "
           "If a bounded-wall valley works, the lower bound becomes Omega(L1 M Delta/eps^2) with no log, which "
           "implies the quoted form once 8 (log M + 1) >= its constant")
    return P.done()
