"""Per-step decrease and iteration constants of ZHSJ-Thm3, ZHSJ-Thm6, NGD-equiv, the NGD bound and
LI-constant-step.

Every decrease below starts from LEMMA-sharp with phi(v) = kappa(v) v^2/2:
    f(x - h grad f) <= f(x) - D,   D = h g^2 (1 - K P/2),   K = kappa(L1 h g),   P = (L0 + L1 g) h,
so the main chain is: L1 h g <= u_max and P <= p_max (SymPy, per case), hence K <= kappa(u_max) (kappa is
increasing) and D >= h g^2 (1 - kappa(u_max) p_max/2) (an inequality SymPy checks from 0 <= K <= K_max,
0 <= P <= p_max), with kappa(u_max) enclosed by intervals. Then the summation: each of the T_eps steps before
the target loses at least a known amount, and those losses add up to at most Delta.

The step constants come from clipcheck.theory.steps and the claimed constants from clipcheck.theory.bounds, read
at call time, so moving either changes what is checked. Case splits are written with positive symbols so that
SymPy can read off signs: L1 >= 1/G as L1 = (1+p)/G, L1 <= 1/G as L1 = 1/(G(1+p)), g <= gamma as gamma/(1+q).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from mpmath import iv

from clipcheck.theory import bounds, steps

from .core import I, Method, Proof, compare_upper, exact, fmt, is_nonneg, is_zero, item, kappa, rat

L0, L1, g, M, K, p, q, s = sp.symbols("L0 L1 g M K p q s", positive=True)


def _decrease(h, gg):
    """The LEMMA-sharp decrease of a step h at gradient norm gg, with K standing for kappa(L1 h gg)."""
    return h * gg**2 - (L0 + L1 * gg) * K * (h * gg) ** 2 / 2


@lru_cache(maxsize=None)
def _chain_monotone() -> bool:
    """1 - K P/2 >= 1 - K_max p_max/2 whenever 0 <= K <= K_max and 0 <= P <= p_max (K = K_max/(1+a), P = p_max/(1+b))."""
    km, pm, a, b = sp.symbols("K_max p_max a b", positive=True)
    return is_nonneg(km * pm - (km / (1 + a)) * (pm / (1 + b)))


def _chain(h, gg, u_max, p_max, case):
    """The main chain for a step h at gradient gg under the substitution `case`; returns (ok, message)."""
    P_expr = ((L0 + L1 * gg) * h).subs(case)
    ok = (is_zero(_decrease(h, gg) - h * gg**2 * (1 - K * (L0 + L1 * gg) * h / 2))
          and is_nonneg(u_max - (L1 * h * gg).subs(case)) and is_nonneg(p_max - P_expr) and _chain_monotone())
    return ok, (f"D = h g^2 (1 - K P/2), L1 h g <= {u_max}, P = (L0 + L1 g) h <= {p_max}, so "
                f"D >= h g^2 (1 - kappa({u_max}) {p_max}/2)")


def _sum_steps() -> bool:
    """N_u a + N_c b <= Delta (a, b > 0 the per-step losses) implies N_u + N_c <= Delta/a + Delta/b."""
    nu, nc, a, b, slack = sp.symbols("N_u N_c a b sigma", positive=True)
    Dl = nu * a + nc * b + slack
    return is_nonneg(Dl / a + Dl / b - nu - nc)


def _floor_lemma(P, c, floor, c_clip, base_floor, what):
    """c max{floor, x} >= c_clip max{base_floor, x} for every x = L1^2 >= 0. Both sides are piecewise linear in x
    with kinks at floor and base_floor only, so it suffices to compare at x = 0, at the kinks and the slopes."""
    c, floor, base = I(c), I(floor), I(base_floor)

    def gap(x):
        return c * iv.mpf([max(floor.a, x.a), max(floor.b, x.b)]) - c_clip * iv.mpf([max(base.a, x.a), max(base.b, x.b)])

    points = {"0": I(0), "floor": floor, "base floor": base}
    bad = [name for name, x in points.items() if gap(x).a < 0]
    slope_ok = c.a >= c_clip.b
    ok = not bad and slope_ok
    P.step(ok, f"{what}: c max({fmt(floor)}, L1^2) >= {fmt(c_clip, 10)} max({fmt(base, 6)}, L1^2) for all L1 "
               f"(checked at L1^2 = 0, both kinks, and the slope c >= {fmt(c_clip, 10)})"
           + ("" if ok else f": fails at {', '.join(bad + ([] if slope_ok else ['L1 -> oo']))}"))
    return ok


# ---------------------------------------------------------------- ZHSJ-Thm3

@lru_cache(maxsize=None)
def _thm3_derivation(A: sp.Rational, G: sp.Rational):
    """The SymPy part of Thm 3 for eta_c = 1/(A L0), gamma = min{1/eta_c, 1/(G L1 eta_c)}: a list of
    (ok, message) steps, the same for every Thm 3 item (cached: SymPy is the slow part)."""
    out = []
    eta = 1 / (A * L0)
    u_max, p_max = 1 / G, 1 / A + 1 / G
    for name, case, gamma in (("L1 >= 1/G", {L1: (1 + p) / G}, A * L0 / (G * L1)),
                              ("L1 <= 1/G", {L1: 1 / (G * (1 + p))}, A * L0)):
        other = (A * L0 if gamma != A * L0 else A * L0 / (G * L1)).subs(case)
        gam = gamma.subs(case)
        out.append((is_nonneg(other - gam), f"[{name}] gamma = {gamma} is the min of 1/eta_c = A L0 and 1/(G L1 eta_c)"))
        out.append((is_nonneg(1 - gam * eta), f"[{name}] step length <= gamma eta_c <= 1: the segment stays within "
                                               "1 of the sublevel set (in S), and f decreases, so x+ stays in it"))
        # unclipped: g <= gamma, h = eta_c
        ok, msg = _chain(eta, gam / (1 + q), u_max, p_max, case)
        out.append((ok, f"[{name}, unclipped g <= gamma, h = eta_c] " + msg))
        # clipped: g >= gamma, h = gamma eta_c/g: D(g) = D(gamma) + (g - gamma) gamma eta_c (1 - K L1 gamma eta_c/2)
        gc = gam * (1 + q)
        r = gam * eta
        lin = _decrease(r / gc, gc) - _decrease(eta, gam) - (gc - gam) * r * (1 - K * L1 * r / 2)
        out.append((is_zero(lin.subs(case)) and is_nonneg(u_max - (L1 * r).subs(case)),
                    f"[{name}, clipped g >= gamma] D(g) = D(gamma) + (g - gamma) gamma eta_c (1 - K L1 gamma eta_c/2) "
                    f"with L1 gamma eta_c <= {u_max}, so D(g) >= D(gamma) (slope checked below)"))
        mx = sp.Rational(1) / G**2 if name == "L1 <= 1/G" else L1**2
        out.append((is_zero((1 / (gam**2 * eta) - G**2 / A * mx / L0).subs(case))
                    and is_nonneg((mx - (L1**2 if name == "L1 <= 1/G" else 1 / G**2)).subs(case)),
                    f"[{name}] 1/(gamma^2 eta_c) = (G^2/A) max(1/G^2, L1^2)/L0"))
    out.append((_sum_steps(), "summation: N_u unclipped steps lose > eps^2/(c_u L0) each, N_c clipped ones "
                              ">= L0/(c_clip max(1/G^2, L1^2)), all <= Delta: T_eps = N_u + N_c <= "
                              "c_u L0 Delta/eps^2 + c_clip max(1/G^2, L1^2) Delta/L0"))
    return tuple(out)


def _thm3(P):
    """Replay the Thm 3 derivation for the step constants of clipcheck.theory.steps; returns (Q, c_u, c_clip, G)
    with Q = 1 - kappa(1/G)(1/A + 1/G)/2 the per-step factor, c_u = A/Q and c_clip = G^2/(A Q)."""
    A, G = rat(steps.THM3_ETA_DIV), rat(steps.THM3_GAMMA_DIV)
    P.const(eta_div=steps.THM3_ETA_DIV, gamma_div=steps.THM3_GAMMA_DIV)
    P.note(f"steps: eta_c = 1/(A L0), gamma = min(1/eta_c, 1/(G L1 eta_c)) with A = {float(A):g}, "
           f"G = {float(G):g} (clipcheck.theory.steps)")
    for ok, msg in _thm3_derivation(A, G):
        P.step(ok, msg)
    Q, c_u, c_clip = _thm3_numbers(A, G)
    slope = 1 - kappa(1 / I(G)) / (2 * I(G))
    P.step(Q.a > 0 and slope.a > 0,
           f"Q = 1 - kappa(1/G)(1/A + 1/G)/2 = {fmt(Q, 10)} > 0 and the clipped slope factor "
           f"1 - kappa(1/G)/(2G) = {fmt(slope)} > 0: unclipped steps lose >= g^2 Q/(A L0), clipped "
           "ones >= Q gamma^2 eta_c")
    return Q, c_u, c_clip, G


def _thm3_numbers(A, G):
    """Q = 1 - kappa(1/G)(1/A + 1/G)/2, c_u = A/Q, c_clip = G^2/(A Q) (enclosures)."""
    Q = 1 - kappa(1 / I(G)) * (1 / I(A) + 1 / I(G)) / 2
    return Q, I(A) / Q, I(G) ** 2 / (I(A) * Q)


@item("ZHSJ-Thm3:decrease-unclipped", Method.INTERVAL)
def check_thm3_decrease_unclipped(c_u=None):
    """ZHSJ-Thm3 (derived): an unclipped step (g <= gamma) decreases f by >= g^2/(c_u L0),
    c_u = bounds.THM3_DECREASE_UNCLIPPED = 11.16."""
    c_u = bounds.THM3_DECREASE_UNCLIPPED if c_u is None else c_u
    P = Proof(check_thm3_decrease_unclipped, "clipped GD, unclipped step: f decreases by >= g^2/(11.16 L0)", c_u=c_u)
    _, need, _, _ = _thm3(P)
    compare_upper(P, "c_u", c_u, need)
    return P.done()


@item("ZHSJ-Thm3:decrease-clipped", Method.INTERVAL)
def check_thm3_decrease_clipped(c_c=None):
    """ZHSJ-Thm3 (derived): a clipped step (g > gamma) decreases f by >= c_c gamma^2 eta_c,
    c_c = bounds.THM3_DECREASE_CLIPPED = 0.8965."""
    c_c = bounds.THM3_DECREASE_CLIPPED if c_c is None else c_c
    P = Proof(check_thm3_decrease_clipped, "clipped GD, clipped step: f decreases by >= 0.8965 gamma^2 eta_c", c_c=c_c)
    Q, _, _, _ = _thm3(P)
    P.const(c_c_needed=fmt(Q, 10), c_c_slack=float((Q.a / I(c_c) - 1).mid))
    ok = I(c_c).b <= Q.a
    P.step(ok, f"c_c = {c_c} {'<=' if ok else '>'} Q = {fmt(Q, 10)}"
           + ("" if ok else ": does not follow from the derivation"))
    return P.done()


def _thm3_bound(P, c, floor):
    Q, c_u, c_clip, G = _thm3(P)
    P.const(c_u_needed=fmt(c_u, 10), c_clip_needed=fmt(c_clip, 10))
    compare_upper(P, "c", c, c_u if c_u.b >= c_clip.b else c_clip)
    _floor_lemma(P, c, floor, c_clip, sp.Rational(1) / G**2, "clipped steps")


@item("ZHSJ-Thm3:derived", Method.INTERVAL)
def check_thm3_derived(c=None, floor=None):
    """ZHSJ-Thm3 [derived]: T_eps <= c L0 Delta/eps^2 + c max(floor, L1^2) Delta/L0 with c = bounds.THM3_DERIVED
    = 11.16 and floor = bounds.THM3_L1_FLOOR['derived'] = 0.01."""
    c = bounds.THM3_DERIVED if c is None else c
    floor = bounds.THM3_L1_FLOOR["derived"] if floor is None else floor
    P = Proof(check_thm3_derived, "clipped GD: T_eps <= 11.16 L0 Delta/eps^2 + 11.16 max(0.01, L1^2) Delta/L0",
              c=c, floor=floor)
    _thm3_bound(P, c, floor)
    return P.done()


@item("ZHSJ-Thm3:quoted", Method.INTERVAL)
def check_thm3_quoted(c=None, floor=None):
    """ZHSJ-Thm3 [paper-shape]: the quoted 20 L0 Delta/eps^2 + 20 max(1, L1^2) Delta/L0 (bounds.THM3_PAPER,
    THM3_L1_FLOOR['paper']) follows from the same derivation."""
    c = bounds.THM3_PAPER if c is None else c
    floor = bounds.THM3_L1_FLOOR["paper"] if floor is None else floor
    P = Proof(check_thm3_quoted, "the quoted constants 20 and max(1, L1^2) follow from the derivation", c=c, floor=floor)
    P.note("the quoted form is not the paper's own derivation; it is implied by the derived one with the slack shown")
    _thm3_bound(P, c, floor)
    return P.done()


# ---------------------------------------------------------------- ZHSJ-Thm6

@lru_cache(maxsize=None)
def _thm6_derivation(H: sp.Rational):
    out = []
    h = 1 / (H * (M * L1 + L0))
    gg = M / (1 + q)  # g <= M on the sublevel set (A4)
    ok, msg = _chain(h, gg, 1 / H, 1 / H, {})
    out.append((ok, "[every L1 >= 0, g <= M] " + msg))
    lim = sp.limit((L0 + L1 * M) * h, L0, 0) * H + sp.limit(L1 * M * h, L0, 0) * H
    out.append((lim == 2, "both bounds are attained as L0/(L1 M) -> 0 at g = M, so the derivation cannot do better"))
    # the step stays in the sublevel set for every L1 (THEOREMS.md section 3, Thm 6)
    b = -s * g + (L0 + L1 * g) * (sp.exp(L1 * s) - L1 * s - 1) / L1**2
    r = h * g
    out.append((is_zero(b.subs(s, 0)) and is_zero(sp.diff(b, s, 2) - (L0 + L1 * g) * sp.exp(L1 * s)),
                "b(s) = -s g + (L0 + L1 g) phi(L1 s)/L1^2 has b(0) = 0 and b'' = (L0 + L1 g) e^{L1 s} > 0: convex"))
    D_phi = h * g**2 - (L0 + L1 * g) * (sp.exp(L1 * r) - L1 * r - 1) / L1**2
    out.append((is_zero(b.subs(s, r) + D_phi), "b(r) = -D at the step length r = h g, and D > 0 below, so b(r) < 0; "
                                               "convexity gives b(s) <= (s/r) b(r) <= 0 on [0, r]"))
    Dl, e = sp.symbols("Delta epsilon", positive=True)
    Qs = sp.symbols("Q", positive=True)
    out.append((is_zero(Dl / (h * e**2 * Qs) - H * (M * L1 + L0) * Dl / (e**2 * Qs)),
                "summation: each step before T_eps loses > h eps^2 Q, so T_eps <= Delta/(h eps^2 Q) = "
                "H (M L1 + L0) Delta/(eps^2 Q)"))
    return tuple(out)


def _thm6(P):
    H = rat(steps.THM6_STEP_DIV)
    P.const(step_div=steps.THM6_STEP_DIV)
    P.note(f"step: h = 1/(H (M L1 + L0)) with H = {float(H):g} (clipcheck.theory.steps)")
    for ok, msg in _thm6_derivation(H):
        P.step(ok, msg)
    Q = 1 - kappa(1 / I(H)) / (2 * I(H))
    P.step(Q.a > 0, f"Q = 1 - kappa(1/H)/(2H) = {fmt(Q, 10)} > 0: each step loses >= h g^2 Q > 0")
    P.note("continuation (every L1, including L1 < 1/2 with M > 2 L0): let s' be the sup of the s <= r for which "
           "the segment [x, x - s grad f/g] lies in S. On it LEMMA-sharp applies, so f(x - s grad f/g) <= f(x) + b(s) "
           "<= f(x): the segment stays in the sublevel set, whose 1-neighbourhood is S, so s' cannot stop before r")
    return I(H) / Q


@item("ZHSJ-Thm6:derived", Method.INTERVAL)
def check_thm6_derived(c=None):
    """ZHSJ-Thm6 [derived]: GD with h = 1/(H(M L1 + L0)), H = steps.THM6_STEP_DIV = 2, stays in the sublevel set
    for every L1 and has T_eps <= c (M L1 + L0) Delta/eps^2, c = bounds.THM6_DERIVED = 2.85."""
    c = bounds.THM6_DERIVED if c is None else c
    P = Proof(check_thm6_derived, "fixed-step GD: the step stays in S for every L1, T_eps <= 2.85 (M L1 + L0) Delta/eps^2",
              c=c)
    compare_upper(P, "c", c, _thm6(P))
    return P.done()


@item("ZHSJ-Thm6:quoted", Method.INTERVAL)
def check_thm6_quoted(c=None):
    """ZHSJ-Thm6 [paper-shape]: the quoted 4 (M L1 + L0) Delta/eps^2 (bounds.THM6_PAPER) follows from the same
    derivation."""
    c = bounds.THM6_PAPER if c is None else c
    P = Proof(check_thm6_quoted, "the quoted constant 4 follows from the derivation", c=c)
    compare_upper(P, "c", c, _thm6(P))
    return P.done()


# ---------------------------------------------------------------- NGD

@item("NGD-equiv", Method.IDENTITY)
def check_ngd_equiv(lower: float = 0.5, upper: float = 1.0):
    """NGD-equiv: eta_c = eta_n/beta, gamma eta_c = eta_n give lower h_c <= h_n <= upper h_c (spec 1/2, 1)."""
    P = Proof(check_ngd_equiv, "normalized vs clipped step: h_c/2 <= h_n <= h_c", lower=lower, upper=upper)
    en, beta = sp.symbols("eta_n beta", positive=True)
    for name, gg in (("g <= beta", beta / (1 + q)), ("g >= beta", beta * (1 + q))):
        hc = sp.Min(en / beta, en / gg)  # min(eta_c, gamma eta_c/g)
        rho = sp.simplify((en / (gg + beta)) / hc)
        P.step(is_zero(rho - (1 + q) / (2 + q)), f"[{name}] h_n/h_c = (1+q)/(2+q), q >= 0")
    rho = (1 + q) / (2 + q)
    P.step(is_nonneg(rho - sp.Rational(1, 2)) and is_nonneg(1 - rho) and sp.limit(rho, q, sp.oo) == 1,
           "(1+q)/(2+q) in [1/2, 1): 1/2 attained at g = beta, 1 approached as g -> 0 or oo")
    P.step(exact(lower) <= sp.Rational(1, 2), f"lower = {lower} {'<=' if exact(lower) <= 0.5 else '>'} 1/2 "
                                              "(attained at g = beta)")
    if exact(upper) < 1:
        qq = (2 * I(upper) - 1) / (1 - I(upper)) + 1
        P.step(False, f"upper = {upper} < 1: at q = {fmt(qq)} the ratio is {fmt((1 + qq) / (2 + qq))}")
    else:
        P.step(True, f"upper = {upper} >= 1")
    return P.done()


@lru_cache(maxsize=None)
def _ngd_derivation(A: sp.Rational, G: sp.Rational):
    out = []
    p_max = max(sp.Integer(1), A / G) / A
    for name, case, beta, eta_n, mx in (
            ("L1 >= 1/G", {L1: (1 + p) / G}, A * L0 / (G * L1), 1 / (G * L1), L1**2),
            ("L1 <= 1/G", {L1: 1 / (G * (1 + p))}, A * L0, sp.Integer(1), 1 / G**2)):
        b, en = beta.subs(case), eta_n.subs(case)
        gg, h = s * b, en / (s * b + b)
        ok, msg = _chain(h, gg, 1 / G, p_max, case)
        out.append((ok, f"[{name}, g = s beta] " + msg))
        out.append((is_zero((h * gg**2 - en * b * s**2 / (1 + s)).subs(case))
                    and is_zero((en * b - A * L0 / (G**2 * mx)).subs(case)),
                    f"[{name}] h g^2 = eta_n beta s^2/(1+s) and eta_n beta = A L0/(G^2 max(1/G^2, L1^2)) (= gamma^2 eta_c)"))
    out.append((is_nonneg((s**2 / (1 + s) - s**2 / 2).subs(s, 1 / (1 + q)))
                and is_nonneg((s**2 / (1 + s) - sp.Rational(1, 2)).subs(s, 1 + q)),
                "s^2/(1+s) >= s^2/2 for s <= 1 (g <= beta: D >= g^2 Q/(2 A L0)) and >= 1/2 for s >= 1 "
                "(g >= beta: D >= A L0 Q/(2 G^2 max(1/G^2, L1^2)))"))
    out.append((_sum_steps(), "summation as in Thm 3: T_eps <= c_u L0 Delta/eps^2 + c_clip max(1/G^2, L1^2) Delta/L0, "
                              "c_u = 2A/Q, c_clip = 2G^2/(A Q)"))
    return tuple(out), p_max


@item("NGD-bound", Method.INTERVAL)
def check_ngd_constant(c=None, floor=None):
    """NGD bound [derived by the direct per-step calculation]: eta_n = min(1, 1/(G L1)), beta = min(A L0, A L0/(G L1))
    (the NGD-equiv image of the Thm 3 steps, A = G = 10) give T_eps <= c L0 Delta/eps^2 + c max(floor, L1^2) Delta/L0
    with c = bounds.NGD_DERIVED = 22.3, floor = bounds.NGD_L1_FLOOR = 0.01."""
    c = bounds.NGD_DERIVED if c is None else c
    floor = bounds.NGD_L1_FLOOR if floor is None else floor
    P = Proof(check_ngd_constant, "normalized GD, direct per-step calculation: T_eps <= 22.3 L0 Delta/eps^2 + "
                                  "22.3 max(0.01, L1^2) Delta/L0", c=c, floor=floor)
    A, G = rat(steps.THM3_ETA_DIV), rat(steps.THM3_GAMMA_DIV)
    P.note(f"route: the direct per-step calculation below (THEOREMS.md, NGD bound), with the parameters of "
           f"steps.ngd_params (A = {float(A):g}, G = {float(G):g})")
    derivation, p_max = _ngd_derivation(A, G)
    for ok, msg in derivation:
        P.step(ok, msg)
    Q = 1 - kappa(1 / I(G)) * I(p_max) / 2
    P.step(Q.a > 0, f"Q = 1 - kappa(1/G) {p_max}/2 = {fmt(Q, 10)} > 0")
    c_u, c_clip = 2 * I(A) / Q, 2 * I(G) ** 2 / (I(A) * Q)
    P.const(c_u_needed=fmt(c_u, 10), c_clip_needed=fmt(c_clip, 10))
    compare_upper(P, "c", c, c_u if c_u.b >= c_clip.b else c_clip)
    _floor_lemma(P, c, floor, c_clip, sp.Rational(1) / G**2, "steps with g > beta")
    _, thm3_cu, _ = _thm3_numbers(A, G)
    via_equiv = 2 * thm3_cu
    P.const(ngd_equiv_route_needed=fmt(via_equiv, 10))
    P.note(f"not the route: through NGD-equiv (h_n >= h_c/2, halving the Thm 3 decrease) the constant would have to "
           f"be 2 x {fmt(thm3_cu, 8)} = {fmt(via_equiv, 8)}, "
           + ("above" if via_equiv.a > I(c).b else "not above") + f" c = {c}; the direct calculation needs {fmt(c_u, 8)}")
    return P.done()


# ---------------------------------------------------------------- LI-constant-step

@item("LI-constant-step", Method.INTERVAL)
def check_li_constant_step(c=None, d=None, t0: str = "0.1", n_grid: int = 4000):
    """LI-constant-step [later; constant derived here]: with G >= ||grad f|| on the sublevel set and
    h = 1/(L0 + c L1 G), every step decreases f by >= d h g^2, hence T_eps <= (1/d)(L0 + c L1 G) Delta/eps^2
    (c = steps.LI_STEP_L1 = 3/2, 1/d = bounds.LI_DERIVED = 2). Constants are taken as exact rationals (a float
    4/3 is below 4/3)."""
    c = steps.LI_STEP_L1 if c is None else c
    d = 1 / exact(bounds.LI_DERIVED) if d is None else d
    P = Proof(check_li_constant_step, "GD with h = 1/(L0 + 1.5 L1 G) loses >= h g^2/2 per step", c=c, d=d)
    # LEMMA-sharp: D >= h g^2 (1 - (L0 + L1 g) kappa(u) h / 2), u = L1 g h. With t = L1 g/(L0 + c L1 g) in
    # [0, 1/c], h <= 1/(L0 + c L1 g) gives (L0 + L1 g) h <= 1 - (c - 1) t and u <= t (both grow with h, and
    # kappa increases), so it suffices that F(t) = (1 - (c - 1) t) kappa(t) <= 2 (1 - d) on [0, 1/c].
    P.note("D >= h g^2 (1 - F(t)/2), F(t) = (1 - (c-1) t) kappa(t), t = L1 g/(L0 + c L1 g) in [0, 1/c]")
    c_x, d_x = exact(c), exact(d)
    cap, c_iv, t_end = 2 * (1 - I(d_x)), I(c_x), 1 / I(c_x)
    # F(0) = 1: the constant d cannot exceed 1/2 (the limit g -> 0 is the classical descent lemma)
    if not P.step(2 * (1 - d_x) >= 1, f"F(0) = 1 <= 2 (1 - d) = {2 * (1 - d_x)} (exact)"):
        return P.done()
    # near 0: kappa(t) <= 1 + t/3 + t^2 e^t/12 (series tail: 2/(k+2)! <= 1/(12 (k-2)!) for k >= 2), so for c >= 1
    # F(t) - 1 <= t lin + t^2 quad with lin = 1/3 - (c-1) (exact) and quad = e^{t0}/12 - (c-1)/3 (t^3 term <= 0)
    lin = 1 / exact(3) - (c_x - 1)
    quad = iv.exp(I(t0)) / 12 - (c_iv - 1) / 3
    near_max = 1 + I(t0) * I(max(lin, 0)) + I(t0) ** 2 * max(quad.b, 0)  # F(t) on [0, t0]
    P.step(c_x >= 1 and near_max.b <= cap.a,
           f"[0, {t0}]: F(t) <= 1 + t ({lin}) + t^2 {fmt(quad)} <= {fmt(near_max, 8)} <= 2 (1 - d) "
           "(at d = 1/2 this needs c >= 4/3, i.e. 1/3 - (c - 1) <= 0 exactly)")
    # [t0, 1/c]: F is a product of a decreasing and an increasing factor; on [a, b] F <= (1 - (c-1) a) kappa(b)
    worst, edges = iv.mpf(0), [I(t0) + (t_end - I(t0)) * I(k) / n_grid for k in range(n_grid + 1)]
    for a, b in zip(edges, edges[1:]):
        bound = (1 - (c_iv - 1) * a) * kappa(I(b.b))
        worst = bound if bound.b > worst.b else worst
    P.step(worst.b <= cap.a, f"[{t0}, 1/c]: F <= {fmt(worst, 8)} <= 2 (1 - d) = {fmt(cap)} "
                             f"({n_grid} cells, monotone factors)")
    P.note(f"per step D >= d h g^2 >= d h eps^2 until ||grad f|| <= eps, so T_eps <= Delta/(d h eps^2) = "
           f"{1 / d_x} (L0 + c L1 G) Delta/eps^2")
    return P.done()
