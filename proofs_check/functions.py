"""Constructed functions (f_exp, f_s, the lower-bound pair of section 3.3), the certified (L0, L1) table and
Lemma 2. Constants the library uses are read from clipcheck.theory at call time; certificate constants are
compared as exact rationals (a float is its exact binary value)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp
from mpmath import iv

from clipcheck.theory import bounds, steps

from .core import I, Method, Proof, exact, fmt, is_nonneg, is_zero, item, lt, monotone_chain, rat
from .lemmas import check_fact_m_sharp
from .theorems import check_thm6_derived

L0, L1, M, a, x, D, eps, h, p, q = sp.symbols("L0 L1 M a x Delta epsilon h p q", positive=True)


# ---------------------------------------------------------------- f_exp, f_s, section 3.3

@item("§3.1-f_exp", Method.IDENTITY)
def check_fexp(l0_scale: float = 1.0, l1_scale: float = 1.0, h_coeff=None):
    """section 3.1: f_exp = (L0/L1^2)(e^{L1|x|} - L1|x| - 1) has f'' = L0 + L1|f'| exactly (so its
    certificate (l0_scale L0, l1_scale L1) is tight at 1, 1); h* = h_coeff log(1 + L1 M/L0)/(L1 M), h_coeff =
    steps.THM4_HSTAR = 2, makes x_bar <-> -x_bar a 2-cycle and every h > h* keeps |f'| >= M."""
    h_coeff = steps.THM4_HSTAR if h_coeff is None else h_coeff
    P = Proof(check_fexp, "f_exp: f'' = L0 + L1|f'|, start x_bar, Delta_exp, the 2-cycle at h*",
              l0_scale=l0_scale, l1_scale=l1_scale, h_coeff=h_coeff)
    f = L0 / L1**2 * (sp.exp(L1 * x) - L1 * x - 1)  # x >= 0; f is even
    f1, f2 = sp.diff(f, x), sp.diff(f, x, 2)
    P.step(is_zero(f2 - L0 - L1 * f1), "f'' = L0 + L1 f' on x > 0 (and by symmetry f'' = L0 + L1|f'|)")
    P.step(f.subs(x, 0) == 0 and f1.subs(x, 0) == 0 and f2.subs(x, 0) == L0,
           "f(0) = f'(0) = 0, f''(0) = L0: the even extension is C^2, convex, f* = 0")
    xb = sp.log(1 + L1 * M / L0) / L1
    P.step(is_zero(f1.subs(x, xb) - M) and is_zero(f.subs(x, xb) - (M / L1 - L0 / L1**2 * sp.log(1 + L1 * M / L0))),
           "f'(x_bar) = M and Delta_exp = f(x_bar) = M/L1 - (L0/L1^2) log(1 + L1 M/L0); f' > 0 on x > 0, so the "
           "sublevel set is [-x_bar, x_bar] and sup |f'| on it is M")
    hs = rat(h_coeff) * sp.log(1 + L1 * M / L0) / (L1 * M)
    P.step(is_zero(xb - hs * M + xb), f"x_bar - h* M = -x_bar with h* = {h_coeff} log(1 + L1 M/L0)/(L1 M): a 2-cycle")
    n = sp.simplify((x * f2 - f1) * L1 / L0)  # numerator of (f'/x)'
    P.step(not monotone_chain(n, x, 2),
           "f'(x)/x is increasing, so for |x| >= x_bar and h > h*: h f'(|x|) >= h* M |x|/x_bar = 2|x|, i.e. "
           "|x+| >= |x|: the iterates never enter (-x_bar, x_bar) and |f'| stays >= M > eps")
    # the certificate is an equality, so any smaller constant is beaten (L0 = L1 = 1)
    for xx in ("0", "20"):
        X = I(xx)
        f2v, f1v = iv.exp(X), iv.exp(X) - 1
        if lt(I(l0_scale) + I(l1_scale) * f1v, f2v):
            P.step(False, f"certificate ({l0_scale} L0, {l1_scale} L1) beaten at x = {xx} (L0 = L1 = 1): "
                          f"f'' = {fmt(f2v)} > {fmt(I(l0_scale) + I(l1_scale) * f1v)}")
            break
    else:
        P.step(exact(l0_scale) >= 1 and exact(l1_scale) >= 1,
               f"certificate ({l0_scale} L0, {l1_scale} L1) contains (L0, L1)")
    return P.done()


@item("§3.2-f_s", Method.IDENTITY)
def check_fs(mid=None, curv=None):
    """section 3.2: f_s = a(3x^2/4 - x^4/8) on |x| <= 1, a(|x| - 3/8) outside, is C^2, f'' in [0, curv a]
    (curv = bounds.THM4_FS_CURVATURE = 3/2), f_s(+-1) = mid a (mid = bounds.THM4_MID = 5/8), a-Lipschitz:
    T_eps >= (Delta - mid a)/(h a^2)."""
    mid = bounds.THM4_MID if mid is None else mid
    curv = bounds.THM4_FS_CURVATURE if curv is None else curv
    P = Proof(check_fs, "f_s is C^2 with 0 <= f'' <= 3a/2, f_s(+-1) = 5a/8, |f'| <= a", mid=mid, curv=curv)
    fin = a * (sp.Rational(3, 4) * x**2 - x**4 / 8)
    fout = a * (x - sp.Rational(3, 8))  # x >= 1; f is even
    P.step(all(is_zero(sp.diff(fin, x, k).subs(x, 1) - sp.diff(fout, x, k).subs(x, 1)) for k in range(3)),
           "value, slope and curvature agree at x = 1 (and at -1 by symmetry): C^2")
    f2 = sp.diff(fin, x, 2)
    P.step(is_zero(f2 - sp.Rational(3, 2) * a * (1 - x**2)), "f'' = (3a/2)(1 - x^2) on [-1, 1], 0 outside")
    P.step(rat(curv) >= sp.Rational(3, 2), f"f'' <= {curv} a needs {curv} >= 3/2 (f''(0) = 3a/2); the library "
                                           f"keeps f_s in the class by a <= L0/{curv}")
    P.step(is_zero(fin.subs(x, 1) - sp.Rational(5, 8) * a) and rat(mid) >= sp.Rational(5, 8),
           f"f(+-1) = 5a/8 <= {mid} a" + ("" if rat(mid) >= sp.Rational(5, 8) else ": the claimed value is too small"))
    P.step(is_zero(sp.diff(fin, x).subs(x, 1) - a),
           "f' increases on [-1, 1] (f'' >= 0) from -a to a, so |f'| <= a and |f'| < a only on |x| < 1, where f < 5a/8")
    P.note("each GD step changes f by <= a |x+ - x| = h a |f'| <= h a^2, and eps < a needs f < 5a/8 first: "
           "T_eps >= (Delta - 5a/8)/(h a^2); in the class when 3a/2 <= L0 and a <= M")
    return P.done()


def _delta_exp_interval(l0, l1, m):
    """Enclosure of Delta_exp = M/L1 - (L0/L1^2) log(1 + L1 M/L0) (THEOREMS.md section 3.3)."""
    l0, l1, m = I(l0), I(l1), I(m)
    return m / l1 - l0 / l1**2 * iv.log(1 + l1 * m / l0)


@item("ZHSJ-Thm4:derived", Method.IDENTITY)
def check_lower_bound_arithmetic(c_log=None, mid=None, h_coeff=None):
    """section 3.3: the pair (f_exp if h >= h*, else f_s) gives, for every h,
    T_eps >= L1 M (Delta - mid eps)/(c_log eps^2 log(1 + L1 M/L0)) when Delta >= Delta_exp
    (c_log = bounds.THM4_DERIVED = 2, mid = bounds.THM4_MID = 5/8, h* = steps.THM4_HSTAR log(...)/(L1 M))."""
    c_log = bounds.THM4_DERIVED if c_log is None else c_log
    mid = bounds.THM4_MID if mid is None else mid
    h_coeff = steps.THM4_HSTAR if h_coeff is None else h_coeff
    P = Proof(check_lower_bound_arithmetic, "lower-bound arithmetic of the constructive pair, with its hypothesis "
                                            "Delta >= Delta_exp", c_log=c_log, mid=mid, h_coeff=h_coeff)
    lg = sp.log(1 + L1 * M / L0)
    H, Ht = rat(h_coeff), f"{float(h_coeff):g}"  # exact value, and its short text
    hstar = H * lg / (L1 * M)
    Ts = (D - sp.Rational(5, 8) * a) / (h * a**2)  # f_s count at step h (check_fs)
    P.step(is_nonneg(-sp.diff(Ts.subs(D, sp.Rational(5, 8) * a + p), h)),
           "f_s's count (Delta - 5a/8)/(h a^2) decreases in h, so over h < h* it exceeds its value at h*")
    P.step(is_zero(Ts.subs(h, hstar) - L1 * M * (D - sp.Rational(5, 8) * a) / (H * a**2 * lg)),
           f"(Delta - 5a/8)/(h* a^2) = L1 M (Delta - 5a/8)/({Ht} a^2 log(1 + L1 M/L0))")
    P.step(is_zero(sp.limit(Ts.subs(h, hstar), a, eps) - L1 * M * (D - sp.Rational(5, 8) * eps) / (H * eps**2 * lg)),
           f"a -> eps+ gives L1 M (Delta - 5 eps/8)/({Ht} eps^2 log(1 + L1 M/L0)) (any h < h* is beaten by some a > eps)")
    # the hypothesis Delta >= Delta_exp: the f_exp member's own gap
    f = L0 / L1**2 * (sp.exp(L1 * x) - L1 * x - 1)
    P.step(is_zero(f.subs(x, lg / L1) - (M / L1 - L0 / L1**2 * lg)),
           "hypothesis: the f_exp member starts at x_bar with gap f(x_bar) - f* = Delta_exp = M/L1 - (L0/L1^2) "
           "log(1 + L1 M/L0), so it is in the class of gap Delta only when Delta >= Delta_exp")
    # the library states the hypothesis: its bound is vacuous (0) just below Delta_exp and positive at it
    samples = [(1.0, 1.0, 10.0, 0.1), (2.0, 3.0, 50.0, 0.5), (1.0, 100.0, 5.0, 0.05)]
    agree, enforced = True, True
    for l0, l1, m, e in samples:
        lib = float(bounds.delta_exp(l0, l1, m))
        enc = _delta_exp_interval(l0, l1, m)
        agree &= abs(I(lib) - enc).b <= enc.b * 1e-13  # 1e-13: a few roundings in the float evaluation
        enforced &= (float(bounds.zhsj_thm4_gd_lower(l0, l1, m, lib * (1 - 1e-12), e, "derived")) == 0.0
                     and float(bounds.zhsj_thm4_gd_lower(l0, l1, m, lib, e, "derived")) > 0.0)
    P.step(agree and enforced, "bounds.delta_exp agrees with the formula (interval enclosure, 1e-13 relative) and "
                               "bounds.zhsj_thm4_gd_lower('derived') is 0 below Delta_exp and positive at it "
                               f"(at (L0, L1, M, eps) = {samples})")
    P.note("h >= h*: f_exp from x_bar never reaches eps < M (check_fexp); f_s needs eps < a <= min(M, 2 L0/3), "
           "Delta > 5a/8; below Delta_exp see ZHSJ-Thm4:needs-Delta_exp")
    ok = rat(c_log) >= H and rat(mid) >= sp.Rational(5, 8)
    P.step(ok, f"claimed bound with c_log = {c_log}, mid = {mid} is "
               + (f"<= the derived one (needs c_log >= {Ht}, mid >= 5/8)" if ok else
                  f"above the derived one (needs c_log >= {Ht}, mid >= 5/8): not demonstrated by this pair"))
    r = rat(bounds.THM4_PAPER) / rat(c_log)
    P.note(f"vs the quoted L1 M (Delta - 5eps/8)/({bounds.THM4_PAPER} eps^2 (log M + 1)): the derived one is at least "
           f"as large iff log(1 + L1 M/L0) <= {r} (log M + 1), i.e. L1 <= L0 (e^{r} M^{r} - 1)/M")
    return P.done()


@item("ZHSJ-Thm4:needs-Delta_exp", Method.INSTANCE)
def check_thm4_needs_delta_exp(l0=1.0, l1=1.0, big_m=1e4, delta=10.0, eps=0.5):
    """Below Delta_exp the Thm 4 formula can be false: at (L0, L1, M, Delta, eps) = (1, 1, 1e4, 10, 0.5), with Delta
    read as a parameter of the class, fixed-step GD with the Thm 6 step for the sharp gradient bound needs fewer
    iterations than both the derived and the quoted Thm 4 formulas say every step size must."""
    P = Proof(check_thm4_needs_delta_exp, "the hypothesis Delta >= Delta_exp cannot be dropped: at one instance "
                                          "below it, some step size beats the Thm 4 formula on every f in the class",
              L0=l0, L1=l1, M=big_m, Delta=delta, eps=eps)
    d_exp = _delta_exp_interval(l0, l1, big_m)
    P.const(delta_exp=fmt(d_exp, 10))
    P.step(lt(I(delta), d_exp), f"Delta = {delta} < Delta_exp(L0, L1, M) = {fmt(d_exp, 10)}")
    fm, t6 = check_fact_m_sharp(), check_thm6_derived()
    P.step(fm.passed and t6.passed, f"uses FACT-M:sharp ({fm.verdict}) and ZHSJ-Thm6:derived ({t6.verdict})")
    m_eff = I(bounds.FACT_M_SHARP_L1) * I(l1) * I(delta) + iv.sqrt(I(bounds.FACT_M_SHARP_L0) * I(l0) * I(delta))
    P.const(M_sharp=fmt(m_eff, 10))
    P.note(f"FACT-M:sharp: every f in the class (gap Delta, (L0, L1) on its sublevel set) has ||grad f|| <= "
           f"L1 Delta + sqrt(2 L0 Delta) = {fmt(m_eff, 8)} < M on its sublevel set, so A4 holds with M' = that")
    upper = I(bounds.THM6_DERIVED) * (m_eff * I(l1) + I(l0)) * I(delta) / I(eps) ** 2
    excess = I(delta) - I(bounds.THM4_MID) * I(eps)
    derived = I(l1) * I(big_m) * excess / (I(bounds.THM4_DERIVED) * I(eps) ** 2 * iv.log(1 + I(l1) * I(big_m) / I(l0)))
    quoted = I(l1) * I(big_m) * excess / (I(bounds.THM4_PAPER) * I(eps) ** 2 * (iv.log(I(big_m)) + 1))
    P.const(thm6_upper=fmt(upper, 8), thm4_derived_formula=fmt(derived, 8), thm4_quoted_formula=fmt(quoted, 8))
    P.note(f"ZHSJ-Thm6:derived with M': GD with h' = 1/({steps.THM6_STEP_DIV} (M' L1 + L0)) needs T_eps <= "
           f"{bounds.THM6_DERIVED} (M' L1 + L0) Delta/eps^2 = {fmt(upper, 8)} on every f in the class")
    other = (lt(I(eps), I(l0) / I(bounds.THM4_FS_CURVATURE)) and lt(I(eps), I(big_m)) and l0 >= 1 and l1 >= 1
             and big_m > 1 and excess.a > 0)
    P.step(other, "the other hypotheses hold: eps < min(M, 2 L0/3), Delta > 5 eps/8, L0, L1 >= 1, M > 1")
    P.step(lt(upper, derived) and lt(upper, quoted),
           f"{fmt(upper, 8)} < derived formula {fmt(derived, 8)} and < quoted formula {fmt(quoted, 8)}: at h' no f "
           "in the class needs that many steps, so neither formula is a lower bound here")
    P.step(float(bounds.zhsj_thm4_gd_lower(l0, l1, big_m, delta, eps, "derived")) == 0.0,
           "bounds.zhsj_thm4_gd_lower('derived') is vacuous (0) at this instance")
    P.note("the quoted form holds if Delta is read as the gap of the chosen bad function (the f_exp member has its "
           "own Delta_exp); read as a class parameter, as clipcheck's bound functions do, it needs Delta >= Delta_exp "
           "too. tests/test_proofs_delta_exp.py runs GD at h' on the pair members (a direct run)")
    return P.done()


# ---------------------------------------------------------------- Lemma 2 and the certified table

def _poly(coeffs):
    """SymPy polynomial sum c_k x^k from coefficients (lowest degree first), each taken as an exact rational."""
    return sp.Poly(sum(rat(c) * x**k for k, c in enumerate(coeffs)), x)


def _candidates(coeffs, l1, nonneg_only=False):
    """Where q = |p''| - l1 |p'| can attain its supremum, with q there: q is a polynomial on each interval between
    real roots of p' p'', so its supremum is at such a root, at a root of p''' -+ l1 p'', or (for nonneg_only) at
    0; q -> -oo at infinity when l1 > 0. Returns [(value, x)], value a Fraction where the root is rational (SymPy
    isolates it exactly) and otherwise an interval enclosure from an isolating interval of width <= 1e-25."""
    Pp, L = _poly(coeffs), rat(l1)
    d1 = Pp.diff(x)
    d2 = d1.diff(x)
    d3 = d2.diff(x)

    def q_exact(X):
        return exact(abs(d2.eval(X)) - L * abs(d1.eval(X)))

    c1 = [I(c) for c in reversed(d1.all_coeffs())]
    c2 = [I(c) for c in reversed(d2.all_coeffs())]

    def ev(cs, X):
        return sum((c * X**k for k, c in enumerate(cs)), iv.mpf(0))

    out = [(q_exact(sp.Integer(0)), 0.0)]
    for poly in (d1, d2, d3 - L * d2, d3 + L * d2):
        if poly.is_zero or poly.degree() <= 0:
            continue
        for (lo, hi), _mult in poly.intervals(eps=sp.Rational(1, 10**25)):
            if nonneg_only and hi < 0:
                continue
            if lo == hi:
                out.append((q_exact(lo), float(lo)))
            else:
                X = iv.mpf([I(max(lo, 0) if nonneg_only else lo).a, I(hi).b])
                out.append((abs(ev(c2, X)) - I(L) * abs(ev(c1, X)), float(X.mid)))
    return out


def lemma2_min_l0(coeffs, l1, nonneg_only: bool = False):
    """ZHSJ-Lemma2 [derived]: the smallest L0 with |p''| <= L0 + l1 |p'| for the polynomial
    p = sum coeffs[k] x^k (lowest degree first), l1 > 0; returns (L0_min, argmax) as floats (the largest upper
    end of the candidates' enclosures; exact when the maximiser is rational). `nonneg_only` restricts to x >= 0."""
    if not exact(l1) > 0:
        raise ValueError("l1 must be > 0 (a polynomial of degree >= 3 is not L-smooth)")
    best, arg = I(0), None
    for value, at in _candidates(coeffs, l1, nonneg_only):
        if I(value).b > best.b:
            best, arg = I(value), at
    return float(best.b), arg


def _covers(l0, coeffs, l1, nonneg_only=False):
    """Is l0 (exact) >= q at every candidate? Returns (ok, the largest candidate as text). An enclosure that
    contains l0 does not decide, and counts as not shown (l0 could only equal an irrational value there)."""
    L0x = exact(l0)
    ok, worst, worst_txt = True, None, "0"
    for value, at in _candidates(coeffs, l1, nonneg_only):
        if isinstance(value, Fraction):
            ok &= L0x >= value
            txt = f"{value} (exact, at x = {at:g})"
        else:
            ok &= I(L0x).a >= value.b
            txt = f"{fmt(value, 12)} (at x = {at:.6g})"
        if worst is None or I(value).b > worst.b:
            worst, worst_txt = I(value), txt
    return ok, worst_txt


def _grid_sup(coeffs, l1, lo, hi, n=20001):
    """Independent check of lemma2_min_l0: max of q on a grid, plus the Lipschitz margin of q on [lo, hi]."""
    c = np.polynomial.Polynomial(np.array([float(v) for v in coeffs], float))
    xs = np.linspace(lo, hi, n)
    qv = np.abs(c.deriv(2)(xs)) - float(l1) * np.abs(c.deriv(1)(xs))
    R = max(abs(lo), abs(hi))
    lip = sum(abs(v) * R**k for k, v in enumerate(c.deriv(3).coef)) + float(l1) * sum(
        abs(v) * R**k for k, v in enumerate(c.deriv(2).coef))
    return max(0.0, qv.max()), lip * (hi - lo) / (n - 1) / 2


@item("ZHSJ-Lemma2", Method.INSTANCE)
def check_lemma2(coeffs=(0, 0, 0, 0, 1), l1=3, l0=Fraction(16, 9)):
    """ZHSJ-Lemma2 for one polynomial: l0 >= the smallest L0 at l1 (spec: x^4 at L1 = 3 needs exactly 16/9),
    compared exactly; a grid with a Lipschitz margin cross-checks the root-based value."""
    P = Proof(check_lemma2, "smallest L0 for a polynomial at a given L1 (root isolation, exact at rational roots)",
              coeffs=list(coeffs), l1=l1, l0=l0)
    need, arg = lemma2_min_l0(coeffs, l1)
    P.const(l0_needed=need, argmax=arg)
    R = 2 * max(1.0, abs(arg or 0)) + 1
    gmax, margin = _grid_sup(coeffs, l1, -R, R)
    P.step(gmax - 1e-9 <= need <= gmax + margin + 1e-9,  # 1e-9: float rounding of the grid values
           f"grid on [-{R:g}, {R:g}] gives sup in [{gmax:.10g}, {gmax + margin:.10g}] (Lipschitz margin), "
           f"roots give {need:.12g} at x = {arg}")
    if _poly(coeffs).degree() >= 3:
        P.note("degree >= 3: |p''| is unbounded, so p is not L-smooth (no finite L0 with L1 = 0)")
    ok, worst = _covers(l0, coeffs, l1)
    P.step(ok, f"l0 = {exact(l0)} {'>=' if ok else 'is not >='} smallest L0 = {worst}")
    return P.done()


def _cert_poly(P, coeffs, l0, l1, nonneg_only=False, label="p"):
    ok, worst = _covers(l0, coeffs, l1, nonneg_only)
    P.const(**{f"{label}_l0_needed": worst})
    P.step(ok, f"{label}: smallest L0 at L1 = {exact(l1)} is {worst}; claimed {exact(l0)}")
    return ok


@item("CERT:x^3", Method.IDENTITY)
def check_cert_x3(l0=3, l1=1):
    """Table: x^3 is (L0, L1)-smooth iff L0 L1 >= 3 (e.g. (3, 1)); not bounded below."""
    P = Proof(check_cert_x3, "x^3: any L0 L1 >= 3", l0=l0, l1=l1)
    # 6|x| <= L0 + 3 L1 x^2 for all x iff the quadratic in |x| has discriminant 36 - 12 L0 L1 <= 0
    P.step(is_zero(sp.discriminant(3 * L1 * x**2 - 6 * x + L0, x) - (36 - 12 * L0 * L1)),
           "6|x| <= L0 + 3 L1 x^2 for all x iff 36 - 12 L0 L1 <= 0")
    _cert_poly(P, (0, 0, 0, 1), l0, l1, label="x^3")
    return P.done()


@item("CERT:x^4", Method.IDENTITY)
def check_cert_x4(l0=Fraction(16, 9), l1=3):
    """Table: x^4 is (16/9, 3)-smooth and 16/9 is the smallest L0 at L1 = 3 (exact rational comparison)."""
    P = Proof(check_cert_x4, "x^4: (16/9, 3), smallest L0 at L1 = 3", l0=l0, l1=l1)
    P.step(is_zero(sp.Max(*[(12 * x**2 - 12 * x**3).subs(x, r) for r in sp.solve(24 * x - 36 * x**2, x)])
                   - sp.Rational(16, 9)),
           "sup_x>=0 (12 x^2 - 3 * 4 x^3) is at x = 2/3 and equals 16/9 exactly")
    _cert_poly(P, (0, 0, 0, 0, 1), l0, l1, label="x^4")
    return P.done()


@item("CERT:||x||^2n", Method.IDENTITY)
def check_cert_even_power(l0_scale=1, l1_scale=1, n_search: int = 2**20):
    """Table: ||x||^{2n} is (2n, 2n - 1)-smooth for every n >= 1 (radial lift; l0_scale, l1_scale scale the two
    constants). Closed form: with L1 = s1 (2n - 1) the sup of p'' - L1 p' is 2n r*^{2n-2}, r* = (2n-2)/(s1(2n-1))."""
    P = Proof(check_cert_even_power, "||x||^{2n}: (2n, 2n - 1) for every n >= 1", l0_scale=l0_scale,
              l1_scale=l1_scale)
    n = sp.symbols("n", positive=True, integer=True)
    r, s1 = sp.symbols("r s1", positive=True)
    pr = r ** (2 * n)
    d1, d2 = sp.diff(pr, r), sp.diff(pr, r, 2)
    P.step(is_zero(d2 - d1 / r - 4 * n * (n - 1) * r ** (2 * n - 2)) and bool((n - 1).is_nonnegative),
           "radial lift: Hessian eigenvalues p''(r) and p'(r)/r, and p'' - p'/r = 4n(n-1) r^{2n-2} >= 0, so "
           "||Hess|| = p'' and ||grad|| = p'")
    qf = d2 - s1 * (2 * n - 1) * d1
    P.step(is_zero(qf - 2 * n * (2 * n - 1) * r ** (2 * n - 2) * (1 - s1 * r)),
           "q(r) = p'' - s1 (2n-1) p' = 2n(2n-1) r^{2n-2} (1 - s1 r)")
    P.step(is_zero(sp.diff(qf, r) - 2 * n * (2 * n - 1) * r ** (2 * n - 3) * ((2 * n - 2) - s1 * (2 * n - 1) * r)),
           "q'(r) = 2n(2n-1) r^{2n-3} ((2n-2) - s1(2n-1) r): q rises to r* = (2n-2)/(s1(2n-1)) and falls after it")
    rs = (2 * n - 2) / (s1 * (2 * n - 1))
    P.step(is_zero(2 * n * (2 * n - 1) * (1 - s1 * rs) - 2 * n),
           "q(r*) = 2n(2n-1) r*^{2n-2} (1 - s1 r*) = 2n r*^{2n-2} (n = 1: r* = 0 and q(0) = 2 = 2n)")
    S0, S1 = exact(l0_scale), exact(l1_scale)
    if S1 >= 1 and S0 >= 1:
        P.step(True, f"s1 = {float(S1):g} >= 1: r* < 1 for n >= 2, so sup_n r*^(2n-2) = 1 (at n = 1); "
                     f"l0_scale = {float(S0):g} >= 1 covers every n")
        return P.done()
    if S0 < 1:  # n = 1: q(0) = 2 = 2n exceeds 2 l0_scale
        P.step(False, f"n = 1: sup q = 2 = 2n > {float(S0):g} x 2n")
        return P.done()
    nn = 1
    while nn <= n_search:  # s1 < 1: r*^{2n-2} -> e^{-1} s1^{-(2n-2)} -> oo, so some n beats l0_scale
        base = I(2 * nn - 2) / (I(S1) * I(2 * nn - 1))
        if (base ** (2 * nn - 2)).a > I(S0).b:
            P.step(False, f"n = {nn}: sup q = 2n r*^(2n-2) = 2n x {fmt(base ** (2 * nn - 2))} > {float(S0):g} x 2n "
                          f"(L1 = {float(S1):g} (2n - 1) is too small for large n)")
            return P.done()
        nn *= 2
    P.step(False, f"not shown: no witness n <= {n_search} found for s1 = {float(S1):g} < 1")
    return P.done()


@item("CERT:||x||^p/p", Method.IDENTITY)
def check_cert_pnorm(p_exp: float = 3.0, l1: float = 1.0, l0_scale: float = 1.0):
    """Table: ||x||^p/p (p > 2) is (((p - 2)/L1)^{p-2}, L1)-smooth for every L1 > 0 (tight)."""
    P = Proof(check_cert_pnorm, "||x||^p/p: (((p-2)/L1)^(p-2), L1)",
              p_exp=p_exp, l1=l1, l0_scale=l0_scale)
    pp = sp.symbols("p", positive=True)
    qf = (pp - 1) * x ** (pp - 2) - L1 * x ** (pp - 1)  # p'' - L1 p' for the profile r^p/p
    P.step(is_zero(sp.diff(qf, x) - (pp - 1) * x ** (pp - 3) * ((pp - 2) - L1 * x)),
           "(p'' - L1 p')' = (p-1) r^{p-3} (p - 2 - L1 r): the maximum is at r* = (p-2)/L1")
    P.step(is_zero(qf - x ** (pp - 2) * ((pp - 1) - L1 * x)) and is_zero(((pp - 1) - L1 * x).subs(x, (pp - 2) / L1) - 1),
           "p'' - L1 p' = r^{p-2} ((p-1) - L1 r), and (p-1) - L1 r* = 1: the maximum is ((p-2)/L1)^{p-2}; "
           "tangential eigenvalue r^{p-2} <= (p-1) r^{p-2}")
    need = (I(p_exp) - 2) ** (I(p_exp) - 2) / I(l1) ** (I(p_exp) - 2) if p_exp > 2 else None
    ok = exact(p_exp) > 2 and exact(l0_scale) >= 1
    P.step(ok, f"p = {p_exp}, L1 = {l1}: claimed L0 = {l0_scale} x {fmt(need) if need else '-'}"
           + ("" if ok else " is below the attained maximum"))
    return P.done()


@item("CERT:||Ax||^4", Method.IDENTITY)
def check_cert_matrix_quartic(A=((2.0, 1.0), (0.0, 1.0)), l0_scale: float = 1.0, l1_scale: float = 1.0):
    """Table: ||A x||^4 is (16||A||^2/9, 3||A||^2/sigma_min(A))-smooth."""
    P = Proof(check_cert_matrix_quartic, "||Ax||^4: (16||A||^2/9, 3||A||^2/sigma_min)",
              A=[list(r) for r in A], l0_scale=l0_scale, l1_scale=l1_scale)
    a11, a12, a21, a22, y1, y2 = sp.symbols("a11 a12 a21 a22 y1 y2", real=True)
    Am = sp.Matrix([[a11, a12], [a21, a22]])
    y = sp.Matrix([y1, y2])
    B = Am.T * Am
    qv = (y.T * B * y)[0]
    f = qv**2
    H = sp.hessian(f, (y1, y2))
    P.step(is_zero(H - (4 * qv * B + 8 * B * y * y.T * B)),
           "Hessian = 4 q B + 8 B x x^T B, B = A^T A, q = ||Ax||^2 (so ||H|| <= 12 ||A||^2 q)")
    P.step(all(is_zero(c) for c in (sp.Matrix([sp.diff(f, v) for v in (y1, y2)]) - 4 * qv * B * y)),
           "gradient = 4 q B x, ||B x|| = ||A^T (A x)|| >= sigma_min ||A x||, so ||grad|| >= 4 sigma_min q^{3/2}")
    # reduced: 12 n2 q - L1 4 s q^{3/2} <= L0 with L1 = l1_scale 3 n2/s: sup_q = 16 n2/(9 l1_scale^2)
    qq, k = sp.symbols("q k", positive=True)
    red = 12 * qq - 12 * k * qq ** sp.Rational(3, 2)
    crit = sp.solve(sp.diff(red, qq), qq)
    P.step(len(crit) == 1 and is_zero(red.subs(qq, crit[0]) - sp.Rational(16, 9) / k**2),
           "sup_q (12 q - 12 k q^{3/2}) = 16/(9 k^2) (units ||A||^2), k = L1 sigma_min/(3 ||A||^2)")
    sv = np.linalg.svd(np.array(A, float), compute_uv=False)
    ok = exact(l0_scale) * exact(l1_scale) ** 2 >= 1  # exact: the claimed constants are rational
    P.const(norm_A=float(sv[0]), sigma_min=float(sv[-1]))
    P.step(ok, f"claimed L0 = {l0_scale} x 16||A||^2/9 {'>=' if ok else '<'} needed 16||A||^2/(9 x {l1_scale}^2) "
               "(attained for A = I, where the two norm bounds are equalities)")
    return P.done()


@item("CERT:exp(a^T x)", Method.IDENTITY)
def check_cert_exp_linear(l1_scale: float = 1.0):
    """Table: e^{a^T x} is (0, ||a||)-smooth: ||Hessian|| = ||a|| ||grad|| exactly."""
    P = Proof(check_cert_exp_linear, "e^{a^T x}: (0, ||a||), tight", l1_scale=l1_scale)
    a1, a2, y1, y2 = sp.symbols("a1 a2 y1 y2", real=True)
    f = sp.exp(a1 * y1 + a2 * y2)
    H = sp.hessian(f, (y1, y2))
    na = sp.sqrt(a1**2 + a2**2)
    P.step(is_zero(H - sp.Matrix([[a1], [a2]]) * sp.Matrix([[a1, a2]]) * f)
           and is_zero(sp.Matrix([sp.diff(f, v) for v in (y1, y2)]).dot(
               sp.Matrix([sp.diff(f, v) for v in (y1, y2)])) - na**2 * f**2),
           "Hessian = a a^T f (norm ||a||^2 f) and ||grad|| = ||a|| f: ratio ||a|| everywhere")
    P.step(l1_scale >= 1, f"claimed L1 = {l1_scale} ||a||" + ("" if l1_scale >= 1 else " is beaten at every x"))
    return P.done()


@item("CERT:e^x+e^-x", Method.IDENTITY)
def check_cert_cosh(l0: float = 2.0, l1: float = 1.0):
    """Table: e^x + e^{-x} is (2, 1)-smooth: f'' - |f'| = 2 e^{-|x|} <= 2, tight at 0 and as |x| -> oo."""
    P = Proof(check_cert_cosh, "e^x + e^{-x}: (2, 1)", l0=l0, l1=l1)
    f = sp.exp(x) + sp.exp(-x)  # even; x >= 0
    P.step(is_zero(sp.diff(f, x, 2) - sp.diff(f, x) - 2 * sp.exp(-x)), "f'' - f' = 2 e^{-x} <= 2 on x >= 0")
    for xx in ("0", str(math.log(4 * max(l0, 1) / max(1e-12, 1 - l1)) if l1 < 1 else "0")):
        X = I(xx)
        lhs = iv.exp(X) + iv.exp(-X)
        rhs = I(l0) + I(l1) * (iv.exp(X) - iv.exp(-X))
        if lt(rhs, lhs):
            P.step(False, f"at x = {float(X.mid):.4g}: f'' = {fmt(lhs)} > {fmt(rhs)}")
            return P.done()
    P.step(l0 >= 2 and l1 >= 1, f"({l0}, {l1}) contains (2, 1)")
    return P.done()


@item("CERT:logistic", Method.IDENTITY)
def check_cert_logistic(l1_scale: float = 1.0):
    """Table: log(1 + e^{-a^T x}) is (0, ||a||)-smooth: f'' = s(1 - s) <= s = |f'|, tight as a^T x -> oo."""
    P = Proof(check_cert_logistic, "log(1 + e^{-a^T x}): (0, ||a||)", l1_scale=l1_scale)
    z = sp.symbols("z", real=True)
    f = sp.log(1 + sp.exp(-z))
    sg = 1 / (1 + sp.exp(z))
    P.step(is_zero(sp.diff(f, z) + sg) and is_zero(sp.diff(f, z, 2) - sg * (1 - sg)),
           "along a: f' = -s, f'' = s(1 - s), s = 1/(1 + e^z) in (0, 1), so f'' <= |f'| (times ||a||^2 vs ||a||)")
    if l1_scale < 1:
        Z = I(math.log(2 / (1 - l1_scale)))
        S = 1 / (1 + iv.exp(Z))
        P.step(not lt(I(l1_scale) * S, S * (1 - S)), f"claimed L1 = {l1_scale}||a||: at z = {float(Z.mid):.4g} "
                                                      f"f'' = {fmt(S * (1 - S))} > {fmt(I(l1_scale) * S)}")
    else:
        P.step(True, f"claimed L1 = {l1_scale} ||a|| >= ||a||")
    return P.done()


@item("CERT:log-sum-exp", Method.IDENTITY)
def check_cert_lse(l0: float = 0.0):
    """Table: log-sum-exp of a_i^T x is NOT (l0, max||a_i||)-smooth for l0 < ||a||^2 when a1 = -a2 = a
    (at x = 0: gradient 0, Hessian a a^T); the spec's entry is l0 = 0."""
    P = Proof(check_cert_lse, "log-sum-exp is NOT (0, max||a_i||)-smooth", l0=l0)
    a1, a2, y1, y2 = sp.symbols("a1 a2 y1 y2", real=True)
    z = a1 * y1 + a2 * y2
    f = sp.log(sp.exp(z) + sp.exp(-z))
    at0 = {y1: 0, y2: 0}
    grad0 = [sp.simplify(sp.diff(f, v).subs(at0)) for v in (y1, y2)]
    H0 = sp.simplify(sp.hessian(f, (y1, y2)).subs(at0))
    P.step(grad0 == [0, 0] and is_zero(H0 - sp.Matrix([[a1], [a2]]) * sp.Matrix([[a1, a2]])),
           "at x = 0: grad = 0 and Hessian = a a^T with norm ||a||^2 > 0 = L0 + L1 * 0")
    P.step(l0 < 1, f"with ||a|| = 1 the claimed L0 = {l0} < ||a||^2 = 1: counterexample to (L0, max||a_i||)"
           if l0 < 1 else f"claimed L0 = {l0} >= ||a||^2: no counterexample at x = 0")
    return P.done()
