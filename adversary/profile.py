"""`Profile`: a 1-D function in the (L0,L1) class by construction (THEOREMS.md 4b), frozen and replayable.

A profile is given by knots x_0 < ... < x_K, a control u_k in [-1, 1] on each cell [x_k, x_{k+1}], and the values
p = f_anchor, p' = g_anchor at one knot (the anchor; the adversary anchors at its start point). On each cell
p'' = u_k (L0 + L1 |p'|), so every choice of controls is in the class without a check. From the anchor the cells
are crossed outward (closed_form.cross_cell), each cell giving one piece, or two where p' changes sign inside it;
beyond the outermost knots the tails of closed_form.tail keep p in the class and bounded below.

Smoothness: piecewise-constant u gives p in C^{1,1}, not C^2 (A2). The proofs of the bounds use only the
integrated (Groenwall) form of the condition, and ramping u continuously across each knot gives C^2 members of the
same class arbitrarily close (in C^1 on the explored interval, hence in every iterate and iteration count that does
not sit exactly on a threshold).

Evaluation follows PROTOCOL.md: `evaluate(t, p, o) -> (f, df, d2f)` reads the profile's parameters from p[o] on:
    p[o:] = [L0, L1, n, then per piece (start, anchor, f, a, s, u)]
(a piece covers [start, next start); the first also covers everything to its left (its start is never read and
holds its anchor), the last everything to its right; p = f, |p'| = a at the anchor, s = sign of p' on the piece).
n is stored, so rows of a batch may be padded and the separable lift may pack profiles of different lengths into
one array. `Profile.function` lifts a profile
to a clipcheck.synthetic Function (on the line, ridge, separable, radial), so every rule of the runner runs on it.
"""
import functools
import json
import math
from dataclasses import dataclass

import numpy as np
from numba.extending import register_jitable

from clipcheck.synthetic.functions import Profile1D, on_line, radial, ridge, separable
from clipcheck.theory.validation import as_finite, count, positive

from .closed_form import cross_cell, piece_value, tail

# A joint between two pieces is continuous when p and p' agree up to this many times their scale: consecutive
# pieces are chained through the same arithmetic (exactly equal), except where |p'| is set to 0 at a sign change or
# at the start of a flat tail, where the formula leaves a few ulps.
JOINT_TOLERANCE = 1e-12

LIFTS = ("line", "ridge", "separable", "radial")


@register_jitable
def evaluate(t, p, o):
    """(p(t), p'(t), p''(t)) of the profile whose parameters start at p[o] (layout in the module docstring)."""
    L0 = p[o]
    L1 = p[o + 1]
    n = int(p[o + 2])
    lo = 0
    hi = n - 1
    while lo < hi:  # the last piece whose start is <= t (the first piece if none)
        mid = (lo + hi + 1) // 2
        if p[o + 3 + 6 * mid] <= t:
            lo = mid
        else:
            hi = mid - 1
    b = o + 3 + 6 * lo
    return piece_value(t - p[b + 1], p[b + 2], p[b + 3], p[b + 4], p[b + 5], L0, L1)


def _sign(g):
    return -1.0 if g < 0 else 1.0


def build_pieces(L0, L1, knots, controls, anchor, f_anchor, g_anchor):
    """The pieces (start, anchor, f, a, s, u) in increasing order of start, crossing the cells outward from the
    anchor knot and adding the tails. Plain Python on floats, with the same scalar functions as the search."""
    right = []
    f, g = f_anchor, g_anchor
    for k in range(anchor, len(knots) - 1):
        xa, xb, u = knots[k], knots[k + 1], controls[k]
        f_in, g_in = f, g
        s1, split, xm, fm, s2, f, g = cross_cell(xa, f_in, g_in, 1.0, u, xb, L0, L1)
        right.append((xa, xa, f_in, abs(g_in), s1, u))
        if split:
            right.append((xm, xm, fm, 0.0, s2, u))
    x_r, f_r, g_r = knots[-1], f, g
    left = []  # built from the anchor leftward, reversed at the end
    f, g = f_anchor, g_anchor
    for k in range(anchor, 0, -1):
        xa, xb, u = knots[k], knots[k - 1], controls[k - 1]
        f_in, g_in = f, g
        s1, split, xm, fm, s2, f, g = cross_cell(xa, f_in, g_in, -1.0, u, xb, L0, L1)
        left.append((xm, xa, f_in, abs(g_in), s1, u))  # xm = xb when p' keeps its sign
        if split:
            left.append((xb, xm, fm, 0.0, s2, u))
    x_l, f_l, g_l = knots[0], f, g
    pieces = _tail_pieces(x_l, f_l, g_l, -1.0, L0, L1) + left[::-1] + right
    return pieces + _tail_pieces(x_r, f_r, g_r, 1.0, L0, L1)


def _tail_pieces(x_end, f, g, sigma, L0, L1):
    kind, length, f_flat = tail(x_end, f, g, sigma, L0, L1)
    if kind == 1:
        x_flat = x_end + sigma * length
        descent = (min(x_end, x_flat), x_end, f, abs(g), _sign(g), 1.0)
        flat = (-math.inf if sigma < 0 else x_flat, x_flat, f_flat, 0.0, 1.0, 0.0)
        return [flat, descent] if sigma < 0 else [descent, flat]
    return [(-math.inf if sigma < 0 else x_end, x_end, f, abs(g), _sign(g), 0.0)]


@dataclass(frozen=True)
class Certificate:
    """How the (L0, L1) membership of a profile was checked (see Profile.certify)."""

    holds: bool
    sentence: str
    n_pieces: int
    max_abs_control: float
    max_joint_gap_f: float
    max_joint_gap_df: float

    def to_dict(self):
        return dict(self.__dict__)


class Profile:
    """A frozen 1-D adversarial instance: the profile of the module docstring and the start point x0."""

    def __init__(self, L0, L1, knots, controls, anchor, f_anchor, g_anchor, x0):
        self.L0 = float(positive("L0", L0))
        self.L1 = float(as_finite("L1", L1, minimum=0.0))
        knots = as_finite("knots", knots)
        controls = as_finite("controls", controls)
        if knots.ndim != 1 or knots.size < 1:
            raise ValueError(f"knots must be a non-empty 1-D array, got shape {knots.shape}")
        if np.any(np.diff(knots) <= 0):
            raise ValueError("knots must be strictly increasing")
        if controls.shape != (knots.size - 1,):
            raise ValueError(f"controls must have one entry per cell ({knots.size - 1}), got shape {controls.shape}")
        if np.any(np.abs(controls) > 1.0):
            raise ValueError("controls must lie in [-1, 1]")
        if isinstance(anchor, bool) or int(anchor) != anchor or not 0 <= int(anchor) < knots.size:
            raise ValueError(f"anchor must be the index of a knot (0..{knots.size - 1}), got {anchor!r}")
        self.knots = tuple(float(x) for x in knots)
        self.controls = tuple(float(u) for u in controls)
        self.anchor = int(anchor)
        self.f_anchor = float(as_finite("f_anchor", f_anchor))
        self.g_anchor = float(as_finite("g_anchor", g_anchor))
        self.x0 = float(as_finite("x0", x0))
        self.pieces = build_pieces(self.L0, self.L1, self.knots, self.controls, self.anchor, self.f_anchor,
                                   self.g_anchor)
        # the first piece's start (-inf) is never read by `evaluate`: its anchor stands there, so that params are
        # finite, as the runner requires
        first = (self.pieces[0][1],) + self.pieces[0][1:]
        self.params = np.array([self.L0, self.L1, float(len(self.pieces))]
                               + [v for pc in [first] + self.pieces[1:] for v in pc])
        self.params.setflags(write=False)

    @classmethod
    def mirrored(cls, L0, L1, half_knots, half_controls, f0=0.0, x0=None):
        """The even profile whose right half has the knots 0 = half_knots[0] < ... and the given controls, with
        p(0) = f0 and p'(0) = 0 (the condition of the radial lift). The left half is the mirror image, bit for bit:
        the crossing formulas are odd in the direction of travel."""
        half_knots = as_finite("half_knots", half_knots)
        if half_knots.ndim != 1 or half_knots.size < 1 or half_knots[0] != 0.0:
            raise ValueError("half_knots must be a 1-D array starting at 0")
        half_controls = np.asarray(as_finite("half_controls", half_controls))
        knots = np.concatenate([-half_knots[:0:-1], half_knots])
        controls = np.concatenate([half_controls[::-1], half_controls])
        k = half_knots.size - 1
        return cls(L0, L1, knots, controls, k, f0, 0.0, half_knots[-1] if x0 is None else x0)

    # -- evaluation ---------------------------------------------------------------------------------------
    def __call__(self, t):
        """(p, p', p'') at a scalar t, through the protocol function `evaluate` (as plain Python)."""
        return evaluate(float(t), self.params, 0)

    def values(self, ts):
        """Array (len(ts), 3) of (p, p', p'') at the points ts: p and p' from the runner's compiled evaluator of the
        line lift (the same pasted source as its kernels), p'' = u (L0 + L1 |p'|) with the control u of the piece
        that `evaluate` picks (the runner reports only |p''|)."""
        ts = np.ascontiguousarray(as_finite("ts", ts), dtype=float).ravel()
        f, g, _ = self.profile1d.at(ts)
        starts = np.array([pc[0] for pc in self.pieces[1:]])
        u = np.array([pc[5] for pc in self.pieces])[np.searchsorted(starts, ts, side="right")]
        return np.column_stack([f, g, u * (self.L0 + self.L1 * np.abs(g))])

    @property
    def n_cells(self):
        return len(self.controls)

    @property
    def even(self):
        """p(-t) = p(t) and p'(0) = 0 exactly: mirrored knots and controls around an anchor at 0 with slope 0."""
        k = np.asarray(self.knots)
        u = np.asarray(self.controls)
        return bool(self.knots[self.anchor] == 0.0 and self.g_anchor == 0.0 and np.array_equal(k, -k[::-1])
                    and np.array_equal(u, u[::-1]))

    def _ends(self, k):
        """(lo, hi) of piece k; the first piece reaches -inf, the last +inf."""
        lo = self.pieces[k][0]
        hi = self.pieces[k + 1][0] if k + 1 < len(self.pieces) else math.inf
        return lo, hi

    def _at(self, k, t):
        start, anchor, f, a, s, u = self.pieces[k]
        return piece_value(t - anchor, f, a, s, u, self.L0, self.L1)

    @functools.cached_property
    def f_star(self):
        """inf p, exactly: p is monotone on every piece and the unbounded pieces are flat or rise outward, so the
        infimum is a value at a piece's end (the ends of both neighbours at each joint are taken)."""
        best = math.inf
        for k, (start, anchor, f, a, s, u) in enumerate(self.pieces):
            best = min(best, f)
            for t in self._ends(k):
                if math.isfinite(t):
                    best = min(best, self._at(k, t)[0])
        return best

    @functools.cached_property
    def f_x0(self):
        return self(self.x0)[0]

    @property
    def delta(self):
        """f(x0) - f*."""
        return self.f_x0 - self.f_star

    def sup_grad(self, level=None):
        """sup |p'| over the sublevel set {p <= level} (default level p(x0): the M of A4), exactly up to rounding.

        On each piece p and |p'| are monotone, so the part of the piece in the sublevel set is an interval and the
        supremum of |p'| sits at one of its ends; where the level cuts a piece, the crossing is found by bisection
        and the larger |p'| of the final bracket is taken (an upper estimate by at most one ulp of the position)."""
        level = self.f_x0 if level is None else float(as_finite("level", level))
        best = -math.inf  # empty sublevel set
        for k, (start, anchor, f, a, s, u) in enumerate(self.pieces):
            lo, hi = self._ends(k)
            if not (math.isfinite(lo) and math.isfinite(hi)):  # a tail: u = 0, |p'| = a, p flat or rising outward
                if f <= level:
                    best = max(best, a)
                continue
            f_lo, g_lo, _ = self._at(k, lo)
            f_hi, g_hi, _ = self._at(k, hi)
            if max(f_lo, f_hi) <= level:
                best = max(best, abs(g_lo), abs(g_hi))
            elif min(f_lo, f_hi) <= level:
                inside, outside = (lo, hi) if f_lo <= level else (hi, lo)
                best = max(best, abs(self._at(k, inside)[1]), self._crossing_grad(k, inside, outside, level))
        return best

    def _crossing_grad(self, k, inside, outside, level):
        for _ in range(200):
            mid = 0.5 * (inside + outside)
            if mid == inside or mid == outside:
                break
            if self._at(k, mid)[0] <= level:
                inside = mid
            else:
                outside = mid
        return max(abs(self._at(k, inside)[1]), abs(self._at(k, outside)[1]))

    # -- certificate --------------------------------------------------------------------------------------
    @property
    def certificate_sentence(self):
        return (f"(L0, L1) = ({self.L0:g}, {self.L1:g}) by construction (THEOREMS.md 4b): p'' = u (L0 + L1 |p'|) "
                f"with |u| <= 1 on each of {self.n_cells} cells, closed forms per piece; C^(1,1) (piecewise-constant "
                "u; C^2 members of the class lie arbitrarily close)")

    def certify(self):
        """Check what the construction relies on: every piece's control in [-1, 1], and p, p' continuous at every
        joint (the left piece's formula and the right piece's agree up to JOINT_TOLERANCE times their scale)."""
        n = len(self.pieces)
        max_u = max(abs(pc[5]) for pc in self.pieces)
        span = (self.pieces[-1][0] - self.pieces[1][0]) if n > 1 else 0.0
        g_scale = max([abs(pc[3]) for pc in self.pieces] + [self.L0 * span, 1e-300])
        f_scale = max([abs(pc[2]) for pc in self.pieces] + [g_scale * span, 1e-300])
        gap_f = gap_g = 0.0
        for k in range(1, n):
            t = self.pieces[k][0]
            fl, gl, _ = self._at(k - 1, t)
            fr, gr, _ = self._at(k, t)
            gap_f = max(gap_f, abs(fl - fr) / f_scale)
            gap_g = max(gap_g, abs(gl - gr) / g_scale)
        finite = all(math.isfinite(v) for pc in self.pieces for v in pc[1:])
        holds = bool(finite and max_u <= 1.0 and gap_f <= JOINT_TOLERANCE and gap_g <= JOINT_TOLERANCE)
        return Certificate(holds, self.certificate_sentence, n, max_u, gap_f, gap_g)

    # -- the open runner ----------------------------------------------------------------------------------
    @property
    def convex(self):
        """p'' >= 0 everywhere: no cell (and no tail) has a negative control."""
        return all(pc[5] >= 0.0 for pc in self.pieces)

    def runner_fields(self):
        """The fields of the open runner's Profile1D record (PROTOCOL.md): Profile1D(**profile.runner_fields())."""
        span = self.knots[-1] - self.knots[0]
        return {"name": f"adversary profile ({self.n_cells} cells)", "evaluate": evaluate,
                "params": np.array(self.params), "L0": self.L0, "L1": self.L1, "f_star": self.f_star,
                "certificate": self.certificate_sentence, "even": self.even,
                "scale": span / self.n_cells if self.n_cells else 1.0, "convex": self.convex}

    @functools.cached_property
    def profile1d(self):
        """This profile as the runner's Profile1D (one object per Profile: lifts of it share their kernels)."""
        return Profile1D(**self.runner_fields())

    def function(self, lift="line", *, dim=None, e=None, others=()):
        """This profile as a clipcheck.synthetic Function, so that every rule of the runner runs on it (CPU and
        CUDA). Every adversarial profile shares the one protocol function `evaluate`, hence one kernel per rule.

        lift  "line"       p(x) on R;
              "ridge"      p(<e, x>) on R^d, e a nonzero vector (normalised; default the first unit vector of
                           R^dim);
              "separable"  p(x_1) + q_1(x_2) + ... on R^(1 + len(others)) for other Profiles `others`, or dim
                           copies of p when others is empty;
              "radial"     p(||x||) on R^dim (any d if dim is None): even profiles with p'(0) = 0 only, the one
                           case in which the radial lift keeps (L0, L1) (THEOREMS.md 4b).
        The lifts keep (L0, L1) exactly (the largest of the parts' for a separable sum). `start(function)` is
        the start point that corresponds to x0."""
        if lift not in LIFTS:
            raise ValueError(f"lift must be one of {', '.join(map(repr, LIFTS))}; got {lift!r}")
        if lift == "radial" and not self.even:
            raise ValueError("lift: the radial lift keeps (L0, L1) only for even profiles with p'(0) = 0; "
                             "this profile is not even (use ridge or separable)")
        if lift != "separable" and others:
            raise ValueError("others: only the separable lift takes other profiles")
        if dim is not None:
            dim = count("dim", dim)
        if lift == "line":
            return on_line(self.profile1d)
        if lift == "radial":
            return radial(self.profile1d, dim)
        if lift == "ridge":
            if e is None:
                e = np.eye(dim or 1)[0]
            elif dim is not None and np.size(e) != dim:
                raise ValueError(f"e must have dim = {dim} entries, got {np.size(e)}")
            return ridge(self.profile1d, e)
        others = list(others)
        if not all(isinstance(q, Profile) for q in others):
            raise ValueError("others must be Profiles of clipcheck.adversary")
        if others and dim is not None and dim != 1 + len(others):
            raise ValueError(f"dim: a separable sum of {1 + len(others)} profiles lives in R^{1 + len(others)}")
        parts = [self] + others if others else [self] * (dim or 1)
        return separable([q.profile1d for q in parts])

    def start(self, lift="line", *, dim=None, e=None, others=()):
        """The start point that corresponds to x0 on `function(lift, ...)` (same arguments): x0 on the line,
        x0 e/||e|| on the ridge, x0 times the first unit vector for the radial lift, and every part's own x0 in a
        separable sum."""
        fn = self.function(lift, dim=dim, e=e, others=others)  # validates the arguments
        if lift == "line":
            return self.x0
        if lift == "ridge":
            return self.x0 * np.asarray(fn.direction)
        if lift == "radial":
            return self.x0 * np.eye(dim or 1)[0]
        return np.array([q.x0 for q in ([self] + list(others) if others else [self] * fn.dim)])

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_dict(self):
        return {"type": "clipcheck.adversary.Profile", "version": 1, "L0": self.L0, "L1": self.L1,
                "knots": list(self.knots), "controls": list(self.controls), "anchor": self.anchor,
                "f_anchor": self.f_anchor, "g_anchor": self.g_anchor, "x0": self.x0}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict) or d.get("type") != "clipcheck.adversary.Profile":
            raise ValueError("d must be a dict made by Profile.to_dict")
        if d.get("version") != 1:
            raise ValueError(f"d: unknown Profile version {d.get('version')!r}")
        return cls(d["L0"], d["L1"], d["knots"], d["controls"], d["anchor"], d["f_anchor"], d["g_anchor"], d["x0"])

    def to_json(self):
        return json.dumps(self.to_dict())

    def __eq__(self, other):
        return isinstance(other, Profile) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(self.to_json())

    def __repr__(self):
        return (f"Profile(L0={self.L0:g}, L1={self.L1:g}, cells={self.n_cells}, x0={self.x0:g}, "
                f"span=[{self.knots[0]:g}, {self.knots[-1]:g}])")
