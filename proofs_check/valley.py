"""A 2-D 'descending valley' on which fixed-step GD has an exact 2-cycle at L1 h M = O(1) (no log factor).

    f(x, y) = V(y) + W(y) log cosh(x),   V(y) = (A/lam0) e^{-lam0 y},   W(y) = B/(e^{lam1 y} + e^{-lam2 y}),
    A = W'(0) log cosh(X)  (so that f_y(+-X, 0) = 0).

The valley runs down in +y; across it (x) the walls have slope ~W. GD with h = 2X/(W(0) tanh X) jumps
(-X, 0) <-> (X, 0) forever. f >= 0 = inf f (bounded below, no minimiser). We certify with interval arithmetic
(mpmath.iv, branch and bound) that f is (0, L1)-smooth on S (the 1-neighbourhood of the sublevel set of the
start) and that ||grad f|| <= M on the sublevel set, for the L1 and M returned. Everything is written in the
variables (y, l), l = log cosh x >= 0, using cosh x = e^l: sech^2 x = e^{-2l}, tanh|x| = sqrt(1 - e^{-2l}).
The tail y >= Y1 is bounded through s = e^{-(lam1+lam2) y} in [0, s1], an interval that contains s = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from mpmath import iv


@dataclass(frozen=True)
class Valley:
    X: str = "1"
    lam0: str = "0.15"
    lam1: str = "0.35"
    lam2: str = "2"
    B: str = "1"
    Y1: str = "12"  # start of the tail (beyond the maximum and the inflection of W)


def _iv(s):
    return iv.mpf(s)


def _consts(p: Valley):
    X, l0, l1, l2, B = (_iv(getattr(p, k)) for k in ("X", "lam0", "lam1", "lam2", "B"))
    eX = iv.exp(X)
    lX = iv.log((eX + 1 / eX) / 2)  # log cosh X
    A = B * (l2 - l1) / 4 * lX  # W'(0) = B (lam2 - lam1)/4
    W0, T0 = B / 2, (eX**2 - 1) / (eX**2 + 1)  # W(0), tanh X
    h = 2 * X / (W0 * T0)
    f0 = A / l0 + W0 * lX
    return dict(X=X, l0=l0, l1=l1, l2=l2, B=B, A=A, h=h, f0=f0, m=W0 * T0)


def _WV(y, c):
    """W, W', W'', V, V', V'' at y (intervals)."""
    e1, e2 = iv.exp(c["l1"] * y), iv.exp(-c["l2"] * y)
    D, D1, D2 = e1 + e2, c["l1"] * e1 - c["l2"] * e2, c["l1"] ** 2 * e1 + c["l2"] ** 2 * e2
    W = c["B"] / D
    W1 = -c["B"] * D1 / D**2
    W2 = -c["B"] * D2 / D**2 + 2 * c["B"] * D1**2 / D**3
    ev = iv.exp(-c["l0"] * y)
    return W, W1, W2, c["A"] / c["l0"] * ev, -c["A"] * ev, c["l0"] * c["A"] * ev


def _derivs(y, ell, c):
    W, W1, W2, V, V1, V2 = _WV(y, c)
    S = iv.exp(-2 * ell)
    T = iv.sqrt(iv.mpf([max(0, (1 - S).a), (1 - S).b]))
    return W * T, V1 + W1 * ell, W * S, W1 * T, V2 + W2 * ell, V + W * ell


def _ratio_up(fx, fy, fxx, fxy, fyy):
    """Upper bound of ||H||/||grad f|| on a box: spectral norm of the symmetric 2x2 by its closed form."""
    hn = abs(fxx + fyy) / 2 + iv.sqrt(((fxx - fyy) / 2) ** 2 + fxy**2)
    gn2 = fx**2 + fy**2
    if gn2.a <= 0:
        return float("inf")
    return (hn / iv.sqrt(iv.mpf(gn2.a))).b


def _ell_max(ylo, yhi, c, widen):
    """Upper bound of l = log cosh x on the sublevel set (widen = 0) or on its widen-neighbourhood,
    over y in [ylo, yhi] (log cosh is 1-Lipschitz, so l grows by at most widen)."""
    Y = iv.mpf([ylo - widen, yhi + widen])
    W, _, _, V, _, _ = _WV(Y, c)
    return max(0.0, float(((c["f0"] - V) / W).b)) + widen  # log cosh is 1-Lipschitz


def _bnb(fun, boxes, target, max_boxes):
    """Split boxes (y-interval, l-interval) until fun(box) <= target on each; returns (ok, worst, n, bad box)."""
    n, worst = 0, 0.0
    stack = list(boxes)
    while stack:
        (ya, yb), (la, lb) = stack.pop()
        n += 1
        v = fun(iv.mpf([ya, yb]), iv.mpf([la, lb]))
        if v <= target:
            worst = max(worst, float(v))
            continue
        tiny = (yb - ya) < 1e-7 and (lb - la) < 1e-7  # boxes this small fail only if the bound is not met
        if n > max_boxes or tiny or fun(iv.mpf((ya + yb) / 2), iv.mpf((la + lb) / 2)) > target:
            return False, worst, n, ((ya, yb), (la, lb))  # out of budget, or the bound fails near here
        if (yb - ya) >= (lb - la) / 8:  # l spans ~8x the y-range; split the relatively wider side
            ym = (ya + yb) / 2
            stack += [((ya, ym), (la, lb)), ((ym, yb), (la, lb))]
        else:
            lm = (la + lb) / 2
            stack += [((ya, yb), (la, lm)), ((ya, yb), (lm, lb))]
    return True, worst, n, None


def certify(p: Valley = Valley(), L1: float = 4.2, M: float = 0.59, R: float = 0.0, max_boxes: int = 50000):
    """Certify (0, L1)-smoothness on the R-neighbourhood of the sublevel set {f <= f(+-X, 0)} (in the
    valley's own units) and ||grad f|| <= M on the sublevel set; returns a dict with the constants, the
    2-cycle step h, c = L1 h M, the box counts and whether both bounds were shown."""
    saved, iv.dps = iv.dps, 15  # 15 digits: the margins certified here are >= 1e-3 relative
    try:
        return _certify(p, L1, M, R, max_boxes)
    finally:
        iv.dps = saved


def _certify(p, L1, M, R, max_boxes):
    c = _consts(p)
    f0 = c["f0"]
    y_lo = float((-iv.log(f0 * c["l0"] / c["A"]) / c["l0"]).a)  # V(y) <= f0 needs y >= y_lo
    Y1 = float(p.Y1)
    ys = [y_lo - R + i * (Y1 - y_lo + R) / 64 for i in range(65)]

    def boxes(widen, y0):
        out = []
        for a, b in zip(ys[:-1], ys[1:]):
            if b < y0:
                continue
            a = max(a, y0)
            out.append(((a, b), (0.0, _ell_max(a, b, c, widen))))
        return out

    def ratio(Y, Lb):
        return _ratio_up(*_derivs(Y, Lb, c)[:5])

    def grad_up(Y, Lb):
        fx, fy, *_, fv = _derivs(Y, Lb, c)
        if fv.a > f0.b:  # the whole box lies outside the sublevel set
            return 0.0
        return iv.sqrt(fx**2 + fy**2).b

    okL, wL, nL, badL = _bnb(ratio, boxes(R, y_lo - R), L1, max_boxes)
    okM, wM, nM, badM = _bnb(grad_up, boxes(0, y_lo), M, max_boxes)
    # tail y >= Y1 in s = e^{-(l1+l2) y} in [0, s1]: W'/W = -(l1 - l2 s)/(1+s), W''/W as below, W/a -> 0
    l0, l1, l2 = c["l0"], c["l1"], c["l2"]
    s1 = float(iv.exp(-(l1 + l2) * Y1).b)
    ok_tail, tailR, tailM = True, 0.0, 0.0
    for i in range(200):
        s = iv.mpf([s1 * i / 200, s1 * (i + 1) / 200])
        r1 = (l1 - l2 * s) / (1 + s)  # -W'/W > 0
        r2 = -(l1**2 + l2**2 * s) / (1 + s) + 2 * r1**2  # W''/W > 0
        # W/a = (B/A) e^{-(l1 - l0) y}/(1 + s), e^{-y} = s^{1/(l1+l2)}
        wa = c["B"] / c["A"] * s ** ((l1 - l0) / (l1 + l2)) / (1 + s)
        if r1.a <= 0 or r2.a <= 0:
            ok_tail = False
            break
        # mediant: (l0 a + (W''/W) l W)/(a + |W'/W| l W) <= max(l0, r2/r1); ||H|| <= max row sum
        Rt = r1 + iv.mpf(max(l0.b, (r2 / r1).b, wa.b))
        tailR = max(tailR, float(Rt.b))
        # on the sublevel set W l <= f0, so |f_y| <= a + |W'/W| f0 and |f_x| <= W; W, a decrease beyond Y1
        W_, _, _, _, V1, _ = _WV(iv.mpf(Y1), c)
        tailM = max(tailM, float(iv.sqrt(W_**2 + (abs(V1) + r1 * f0) ** 2).b))
    ok_tail &= tailR <= L1 and tailM <= M
    return dict(ok=okL and okM and ok_tail, L1=L1, M=M, h=float(c["h"].b), c=float((L1 * c["h"] * M).b),
            m=float(c["m"].a), f0=float(c["f0"].b), boxes_L1=nL, boxes_M=nM, worst_ratio=wL, worst_grad=wM,
            tail_ratio=tailR, tail_grad=tailM, bad=badL or badM)


def cycle_is_exact() -> bool:
    """SymPy: grad f(-X, 0) = (-W(0) tanh X, 0), so x+ = -X + h W(0) tanh X = X, and symmetrically back."""
    x, y, X, l0, l1, l2, B = sp.symbols("x y X lambda0 lambda1 lambda2 B", positive=True)
    W = B / (sp.exp(l1 * y) + sp.exp(-l2 * y))
    A = sp.diff(W, y).subs(y, 0) * sp.log(sp.cosh(X))
    f = A / l0 * sp.exp(-l0 * y) + W * sp.log(sp.cosh(x))
    h = 2 * X / (W.subs(y, 0) * sp.tanh(X))
    gm = [sp.diff(f, v).subs({x: -X, y: 0}) for v in (x, y)]
    gp = [sp.diff(f, v).subs({x: X, y: 0}) for v in (x, y)]
    return (sp.simplify(-X - h * gm[0] - X) == 0 and sp.simplify(gm[1]) == 0
            and sp.simplify(X - h * gp[0] + X) == 0 and sp.simplify(gp[1]) == 0)


def _np_parts(x, y, c):
    """Float version of (f, f_x, f_y, f_xx, f_xy, f_yy) for the search below (not used in any proof)."""
    import numpy as np
    l0, l1, l2, A, B = (float(c[k].mid) for k in ("l0", "l1", "l2", "A", "B"))
    T, L = np.tanh(x), np.logaddexp(x, -x) - np.log(2)
    e1, e2 = np.exp(l1 * y), np.exp(-l2 * y)
    D, D1, D2 = e1 + e2, l1 * e1 - l2 * e2, l1**2 * e1 + l2**2 * e2
    W, W1, W2 = B / D, -B * D1 / D**2, -B * D2 / D**2 + 2 * B * D1**2 / D**3
    ev = np.exp(-l0 * y)
    return (A / l0 * ev + W * L, W * T, -A * ev + W1 * L, W * (1 - T**2), W1 * T, l0 * A * ev + W2 * L)


def wide_witness(p: Valley = Valley(), R: float = 12.0):
    """Search (float grid) for a point within distance R of the sublevel set where ||H||/||grad f|| is large,
    then certify with intervals: q in the sublevel set, |p - q| <= R, and a lower bound of the ratio at p."""
    import numpy as np
    saved, iv.dps = iv.dps, 20
    try:
        c = _consts(p)
        f0 = float(c["f0"].mid)
        ys = np.linspace(-1.1, 8, 92)
        f_q, *_ = _np_parts(np.zeros_like(ys), ys, c)
        ys = ys[f_q < f0]
        W = 1 / (np.exp(float(c["l1"].mid) * ys) + np.exp(-float(c["l2"].mid) * ys))
        qx = np.arccosh(np.exp(np.minimum((f0 - f_q[f_q < f0]) / W, 30))) * 0.999  # just inside the boundary
        ang = np.linspace(0, 2 * np.pi, 181)[None, :]
        px, py = qx[:, None] + R * np.cos(ang), ys[:, None] + R * np.sin(ang)
        _, fx, fy, fxx, fxy, fyy = _np_parts(px, py, c)
        ratio = (np.abs(fxx + fyy) / 2 + np.hypot((fxx - fyy) / 2, fxy)) / np.hypot(fx, fy)
        i, j = np.unravel_index(np.nanargmax(ratio), ratio.shape)
        q = (iv.mpf(float(qx[i])), iv.mpf(float(ys[i])))
        d = (iv.mpf(float(np.cos(ang[0, j]))), iv.mpf(float(np.sin(ang[0, j]))))
        dn = iv.sqrt(d[0] ** 2 + d[1] ** 2)
        P = (q[0] + R * d[0] / dn * iv.mpf("0.999999"), q[1] + R * d[1] / dn * iv.mpf("0.999999"))
        def at(xv, yv):
            ex = iv.exp(abs(xv))
            return _derivs(yv, iv.log((ex + 1 / ex) / 2), c)
        fq = at(*q)[5]
        fx, fy, fxx, fxy, fyy, _ = at(*P)
        hn = abs(fxx + fyy) / 2 + iv.sqrt(((fxx - fyy) / 2) ** 2 + fxy**2)
        lower = (hn.a / iv.sqrt(fx**2 + fy**2).b).a
        return dict(ok=fq.b <= c["f0"].a, R=R, q=(float(q[0].mid), float(q[1].mid)),
                    p=(float(P[0].mid), float(P[1].mid)), ratio_lower=float(lower))
    finally:
        iv.dps = saved
