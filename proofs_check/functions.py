"""Constructed functions (f_exp, f_s, the lower-bound pair), the certified (L0, L1) table and Lemma 2."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from mpmath import iv

from .core import I, Proof, fmt, is_nonneg, is_zero, lt, monotone_chain, rat

L0, L1, M, a, x, D, eps, h, p, q = sp.symbols("L0 L1 M a x Delta epsilon h p q", positive=True)


# ---------------------------------------------------------------- f_exp, f_s, section 3.3

def check_fexp(l0_scale: float = 1.0, l1_scale: float = 1.0, h_coeff: float = 2.0):
    """section 3.1: f_exp = (L0/L1^2)(e^{L1|x|} - L1|x| - 1) has f'' = L0 + L1|f'| exactly (so its
    certificate (l0_scale L0, l1_scale L1) is tight at 1, 1); h* = h_coeff log(1 + L1 M/L0)/(L1 M), h_coeff = 2,
    makes x_bar <-> -x_bar a 2-cycle and every h > h* keeps |f'| >= M."""
    P = Proof("§3.1-f_exp", "f_exp: f'' = L0 + L1|f'|, start x_bar, Delta, the 2-cycle at h*", "sympy-identity",
              l0_scale=l0_scale, l1_scale=l1_scale, h_coeff=h_coeff)
    f = L0 / L1**2 * (sp.exp(L1 * x) - L1 * x - 1)  # x >= 0; f is even
    f1, f2 = sp.diff(f, x), sp.diff(f, x, 2)
    P.step(is_zero(f2 - L0 - L1 * f1), "f'' = L0 + L1 f' on x > 0 (and by symmetry f'' = L0 + L1|f'|)")
    P.step(f.subs(x, 0) == 0 and f1.subs(x, 0) == 0 and f2.subs(x, 0) == L0,
           "f(0) = f'(0) = 0, f''(0) = L0: the even extension is C^2, convex, f* = 0")
    xb = sp.log(1 + L1 * M / L0) / L1
    P.step(is_zero(f1.subs(x, xb) - M) and is_zero(f.subs(x, xb) - (M / L1 - L0 / L1**2 * sp.log(1 + L1 * M / L0))),
           "f'(x_bar) = M and Delta = f(x_bar) = M/L1 - (L0/L1^2) log(1 + L1 M/L0); f' > 0 on x > 0, so the "
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
        P.step(l0_scale >= 1 and l1_scale >= 1, f"certificate ({l0_scale} L0, {l1_scale} L1) contains (L0, L1)")
    return P.done()


def check_fs(mid: float = 0.625, curv: float = 1.5):
    """section 3.2: f_s = a(3x^2/4 - x^4/8) on |x| <= 1, a(|x| - 3/8) outside, is C^2, f'' in [0, curv a]
    (spec curv = 3/2), f_s(+-1) = mid a (spec mid = 5/8), a-Lipschitz: T_eps >= (Delta - mid a)/(h a^2)."""
    P = Proof("§3.2-f_s", "f_s is C^2 with 0 <= f'' <= 3a/2, f_s(+-1) = 5a/8, |f'| <= a", "sympy-identity",
              mid=mid, curv=curv)
    fin = a * (sp.Rational(3, 4) * x**2 - x**4 / 8)
    fout = a * (x - sp.Rational(3, 8))  # x >= 1; f is even
    P.step(all(is_zero(sp.diff(fin, x, k).subs(x, 1) - sp.diff(fout, x, k).subs(x, 1)) for k in range(3)),
           "value, slope and curvature agree at x = 1 (and at -1 by symmetry): C^2")
    f2 = sp.diff(fin, x, 2)
    P.step(is_zero(f2 - sp.Rational(3, 2) * a * (1 - x**2)), "f'' = (3a/2)(1 - x^2) on [-1, 1], 0 outside")
    P.step(rat(curv) >= sp.Rational(3, 2), f"f'' <= {curv} a needs {curv} >= 3/2 (f''(0) = 3a/2)")
    P.step(is_zero(fin.subs(x, 1) - sp.Rational(5, 8) * a) and rat(mid) >= sp.Rational(5, 8),
           f"f(+-1) = 5a/8 <= {mid} a" + ("" if rat(mid) >= sp.Rational(5, 8) else ": the claimed value is too small"))
    P.step(is_zero(sp.diff(fin, x).subs(x, 1) - a),
           "f' increases on [-1, 1] (f'' >= 0) from -a to a, so |f'| <= a and |f'| < a only on |x| < 1, where f < 5a/8")
    P.note("each GD step changes f by <= a |x+ - x| = h a |f'| <= h a^2, and eps < a needs f < 5a/8 first: "
           "T_eps >= (Delta - 5a/8)/(h a^2); in the class when 3a/2 <= L0 and a <= M")
    return P.done()


def check_lower_bound_arithmetic(c_log: float = 2.0, mid: float = 0.625):
    """section 3.3: the pair (f_exp if h >= h*, else f_s) gives, for every h,
    T_eps >= L1 M (Delta - mid eps)/(c_log eps^2 log(1 + L1 M/L0)) (spec c_log = 2, mid = 5/8)."""
    P = Proof("ZHSJ-Thm4:derived", "lower-bound arithmetic of the constructive pair", "sympy-inequality",
              c_log=c_log, mid=mid)
    lg = sp.log(1 + L1 * M / L0)
    hstar = 2 * lg / (L1 * M)
    Ts = (D - sp.Rational(5, 8) * a) / (h * a**2)  # f_s count at step h (check_fs)
    P.step(is_nonneg(-sp.diff(Ts.subs(D, sp.Rational(5, 8) * a + p), h)),
           "f_s's count (Delta - 5a/8)/(h a^2) decreases in h, so over h < h* it exceeds its value at h*")
    P.step(is_zero(Ts.subs(h, hstar) - L1 * M * (D - sp.Rational(5, 8) * a) / (2 * a**2 * lg)),
           "(Delta - 5a/8)/(h* a^2) = L1 M (Delta - 5a/8)/(2 a^2 log(1 + L1 M/L0))")
    P.step(is_zero(sp.limit(Ts.subs(h, hstar), a, eps) - L1 * M * (D - sp.Rational(5, 8) * eps) / (2 * eps**2 * lg)),
           "a -> eps+ gives L1 M (Delta - 5 eps/8)/(2 eps^2 log(1 + L1 M/L0)) (any h < h* is beaten by some a > eps)")
    P.note("h >= h*: f_exp from x_bar never reaches eps < M (check_fexp); f_s needs eps < a <= min(M, 2 L0/3), "
           "Delta > 5a/8")
    ok = rat(c_log) >= 2 and rat(mid) >= sp.Rational(5, 8)
    P.step(ok, f"claimed bound with c_log = {c_log}, mid = {mid} is "
               + ("<= the derived one" if ok else "above the derived one: not demonstrated by this pair"))
    P.note("vs the quoted L1 M (Delta - 5eps/8)/(8 eps^2 (log M + 1)): the derived one is at least as large iff "
           "log(1 + L1 M/L0) <= 4 (log M + 1), i.e. L1 <= L0 (e^4 M^4 - 1)/M")
    return P.done()


# ---------------------------------------------------------------- Lemma 2 and the certified table

def _poly(coeffs):
    """SymPy polynomial sum c_k x^k from coefficients (lowest degree first), floats read as decimals."""
    return sp.Poly(sum(rat(c) * x**k for k, c in enumerate(coeffs)), x)


def lemma2_min_l0(coeffs, l1, nonneg_only: bool = False):
    """ZHSJ-Lemma2 [derived]: the smallest L0 with |p''| <= L0 + l1 |p'| for the polynomial
    p = sum coeffs[k] x^k (lowest degree first), l1 > 0; returns (L0_min, argmax) as floats.

    q = |p''| - l1 |p'| is a polynomial on each interval between real roots of p' p'', so its supremum is
    at such a root or at a root of p''' -+ l1 p''; q -> -oo at infinity when l1 > 0. SymPy isolates every
    candidate root in a rational interval of width <= 1e-25 and q is enclosed there by interval arithmetic;
    L0_min is the upper end of the largest enclosure, rounded to float (the exact value is within ~1e-15).
    `nonneg_only` restricts to x >= 0 (radial profiles)."""
    if not l1 > 0:
        raise ValueError("l1 must be > 0 (a polynomial of degree >= 3 is not L-smooth)")
    P = _poly(coeffs)
    L = rat(l1)
    d1, d2, d3 = P.diff(x), P.diff(x).diff(x), P.diff(x).diff(x).diff(x)
    c1 = [I(c) for c in reversed(d1.all_coeffs())]
    c2 = [I(c) for c in reversed(d2.all_coeffs())]

    def ev(cs, X):
        return sum((c * X**k for k, c in enumerate(cs)), iv.mpf(0))

    boxes = [(sp.Integer(0), sp.Integer(0))]
    for poly in (d1, d2, d3 - L * d2, d3 + L * d2):
        if not poly.is_zero and poly.degree() > 0:
            boxes += [box for box, _mult in poly.intervals(eps=sp.Rational(1, 10**25))]
    best, arg = iv.mpf(0), None
    for lo, hi in boxes:
        if nonneg_only and hi < 0:
            continue
        X = iv.mpf([I(max(lo, 0) if nonneg_only else lo).a, I(hi).b])
        qv = abs(ev(c2, X)) - I(L) * abs(ev(c1, X))
        if qv.b > best.b:
            best, arg = qv, X
    return float(best.b), (None if arg is None else float(arg.mid))


def _grid_sup(coeffs, l1, lo, hi, n=20001):
    """Independent check of lemma2_min_l0: max of q on a grid, plus the Lipschitz margin of q on [lo, hi]."""
    c = np.polynomial.Polynomial(np.array(coeffs, float))
    xs = np.linspace(lo, hi, n)
    qv = np.abs(c.deriv(2)(xs)) - l1 * np.abs(c.deriv(1)(xs))
    R = max(abs(lo), abs(hi))
    lip = sum(abs(v) * R**k for k, v in enumerate(c.deriv(3).coef)) + l1 * sum(
        abs(v) * R**k for k, v in enumerate(c.deriv(2).coef))
    return max(0.0, qv.max()), lip * (hi - lo) / (n - 1) / 2


def check_lemma2(coeffs=(0, 0, 0, 0, 1), l1: float = 3.0, l0: float = 16 / 9):
    """ZHSJ-Lemma2 for a polynomial: l0 >= the smallest L0 at l1 (spec: x^4 at L1 = 3 needs 16/9);
    a grid with a Lipschitz margin cross-checks the root-based value."""
    P = Proof("ZHSJ-Lemma2", "smallest L0 for a polynomial at a given L1 (root isolation)", "interval",
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
    ok = l0 >= need * (1 - 1e-12)
    P.step(ok, f"l0 = {l0:.12g} {'>=' if ok else '<'} smallest L0 = {need:.12g}")  # 1e-12: 30-digit value rounded to float
    return P.done()


def _cert_poly(P, coeffs, l0, l1, nonneg_only=False, label="p"):
    need, arg = lemma2_min_l0(coeffs, l1, nonneg_only)
    ok = l0 >= need * (1 - 1e-12)  # 1e-12: the 30-digit value rounded to float
    P.const(**{f"{label}_l0_needed": need})
    P.step(ok, f"{label}: smallest L0 at L1 = {l1:g} is {need:.10g} (at x = {arg}); claimed {l0:.10g}")
    return need


def check_cert_x3(l0: float = 3.0, l1: float = 1.0):
    """Table: x^3 is (L0, L1)-smooth iff L0 L1 >= 3 (e.g. (3, 1)); not bounded below."""
    P = Proof("CERT:x^3", "x^3: any L0 L1 >= 3", "sympy-inequality", l0=l0, l1=l1)
    # 6|x| <= L0 + 3 L1 x^2 for all x iff the quadratic in |x| has discriminant 36 - 12 L0 L1 <= 0
    P.step(is_zero(sp.discriminant(3 * L1 * x**2 - 6 * x + L0, x) - (36 - 12 * L0 * L1)),
           "6|x| <= L0 + 3 L1 x^2 for all x iff 36 - 12 L0 L1 <= 0")
    _cert_poly(P, (0, 0, 0, 1), l0, l1, label="x^3")
    return P.done()


def check_cert_x4(l0: float = 16 / 9, l1: float = 3.0):
    """Table: x^4 is (16/9, 3)-smooth and 16/9 is the smallest L0 at L1 = 3."""
    P = Proof("CERT:x^4", "x^4: (16/9, 3), smallest L0 at L1 = 3", "sympy-inequality", l0=l0, l1=l1)
    P.step(is_zero(sp.Max(*[(12 * x**2 - 12 * x**3).subs(x, r) for r in sp.solve(24 * x - 36 * x**2, x)]) - sp.Rational(16, 9)),
           "sup_x>=0 (12 x^2 - 3 * 4 x^3) is at x = 2/3 and equals 16/9 exactly")
    _cert_poly(P, (0, 0, 0, 0, 1), l0, l1, label="x^4")
    return P.done()


def check_cert_even_power(l0_scale: float = 1.0, l1_scale: float = 1.0, n_max: int = 5):
    """Table: ||x||^{2n} is (2n, 2n - 1)-smooth (checked n = 1..n_max; radial lift: the tangential
    Hessian eigenvalue p'(r)/r = 2n r^{2n-2} is below p''(r))."""
    P = Proof("CERT:||x||^2n", "||x||^{2n}: (2n, 2n - 1)", "sympy-inequality",
              l0_scale=l0_scale, l1_scale=l1_scale, n_max=n_max)
    for n in range(1, n_max + 1):
        pr = x ** (2 * n)
        P.step(is_nonneg(sp.diff(pr, x, 2) - sp.diff(pr, x) / x), f"n = {n}: p''(r) >= p'(r)/r (radial eigenvalue dominates)")
        _cert_poly(P, [0] * (2 * n) + [1], l0_scale * 2 * n, l1_scale * (2 * n - 1), True, label=f"n={n}")
    return P.done()


def check_cert_pnorm(p_exp: float = 3.0, l1: float = 1.0, l0_scale: float = 1.0):
    """Table: ||x||^p/p (p > 2) is (((p - 2)/L1)^{p-2}, L1)-smooth for every L1 > 0 (tight)."""
    P = Proof("CERT:||x||^p/p", "||x||^p/p: (((p-2)/L1)^(p-2), L1)", "sympy-inequality",
              p_exp=p_exp, l1=l1, l0_scale=l0_scale)
    pp = sp.symbols("p", positive=True)
    qf = (pp - 1) * x ** (pp - 2) - L1 * x ** (pp - 1)  # p'' - L1 p' for the profile r^p/p
    P.step(is_zero(sp.diff(qf, x) - (pp - 1) * x ** (pp - 3) * ((pp - 2) - L1 * x)),
           "(p'' - L1 p')' = (p-1) r^{p-3} (p - 2 - L1 r): the maximum is at r* = (p-2)/L1")
    P.step(is_zero(qf - x ** (pp - 2) * ((pp - 1) - L1 * x)) and is_zero(((pp - 1) - L1 * x).subs(x, (pp - 2) / L1) - 1),
           "p'' - L1 p' = r^{p-2} ((p-1) - L1 r), and (p-1) - L1 r* = 1: the maximum is ((p-2)/L1)^{p-2}; "
           "tangential eigenvalue r^{p-2} <= (p-1) r^{p-2}")
    need = (I(p_exp) - 2) ** (I(p_exp) - 2) / I(l1) ** (I(p_exp) - 2) if p_exp > 2 else None
    ok = p_exp > 2 and l0_scale >= 1
    P.step(ok, f"p = {p_exp}, L1 = {l1}: claimed L0 = {l0_scale} x {fmt(need) if need else '-'}"
           + ("" if ok else " is below the attained maximum"))
    return P.done()


def check_cert_matrix_quartic(A=((2.0, 1.0), (0.0, 1.0)), l0_scale: float = 1.0, l1_scale: float = 1.0):
    """Table: ||A x||^4 is (16||A||^2/9, 3||A||^2/sigma_min(A))-smooth."""
    P = Proof("CERT:||Ax||^4", "||Ax||^4: (16||A||^2/9, 3||A||^2/sigma_min)", "sympy-inequality",
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
    ok = l0_scale * l1_scale**2 >= 1 - 1e-15
    P.const(norm_A=float(sv[0]), sigma_min=float(sv[-1]))
    P.step(ok, f"claimed L0 = {l0_scale} x 16||A||^2/9 {'>=' if ok else '<'} needed 16||A||^2/(9 x {l1_scale}^2) "
               "(attained for A = I, where the two norm bounds are equalities)")
    return P.done()


def check_cert_exp_linear(l1_scale: float = 1.0):
    """Table: e^{a^T x} is (0, ||a||)-smooth: ||Hessian|| = ||a|| ||grad|| exactly."""
    P = Proof("CERT:exp(a^T x)", "e^{a^T x}: (0, ||a||), tight", "sympy-identity", l1_scale=l1_scale)
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


def check_cert_cosh(l0: float = 2.0, l1: float = 1.0):
    """Table: e^x + e^{-x} is (2, 1)-smooth: f'' - |f'| = 2 e^{-|x|} <= 2, tight at 0 and as |x| -> oo."""
    P = Proof("CERT:e^x+e^-x", "e^x + e^{-x}: (2, 1)", "sympy-inequality", l0=l0, l1=l1)
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


def check_cert_logistic(l1_scale: float = 1.0):
    """Table: log(1 + e^{-a^T x}) is (0, ||a||)-smooth: f'' = s(1 - s) <= s = |f'|, tight as a^T x -> oo."""
    P = Proof("CERT:logistic", "log(1 + e^{-a^T x}): (0, ||a||)", "sympy-inequality", l1_scale=l1_scale)
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


def check_cert_lse(l0: float = 0.0):
    """Table: log-sum-exp of a_i^T x is NOT (l0, max||a_i||)-smooth for l0 < ||a||^2 when a1 = -a2 = a
    (at x = 0: gradient 0, Hessian a a^T); the spec's entry is l0 = 0."""
    P = Proof("CERT:log-sum-exp", "log-sum-exp is NOT (0, max||a_i||)-smooth", "sympy-identity", l0=l0)
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
