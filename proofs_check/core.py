"""Shared pieces of the proof checks: the record type, the method labels, a step logger, interval and SymPy
helpers.

Verdicts: "proved" means every step was shown (SymPy identity or sign, exact rational arithmetic, or a rigorous
interval enclosure); "FAILED" means some step did not hold or could not be shown -- for a constant this means
it does not follow from the derivation, and where the derivation is attained we give the certified witness;
"finding" (the open question of ZHSJ-Thm4) never fails the exit status.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from fractions import Fraction

import sympy as sp
from mpmath import iv

iv.dps = 30  # 30 digits: every margin we certify is >= 1e-8 relative, so this leaves ample room


class Method(str, Enum):
    """How far an item's verdict reaches (the method column of `clipcheck proofs` and report.md)."""

    IDENTITY = "identity"  # follows by algebra for every parameter value: SymPy identities/signs, exact rationals
    INTERVAL = "interval-rigorous"  # for every parameter value, with transcendental numbers enclosed by intervals
    INSTANCE = "instance-only"  # shown (rigorously) for the listed instances only, not for the general statement


def item(item_id: str, method: Method):
    """Register a check function as the item `item_id` (the claim id of THEOREMS.md, ':' for sub-items)."""
    def mark(fn):
        fn.item_id, fn.method = item_id, Method(method)
        return fn
    return mark


@dataclass
class CheckRecord:
    """One machine-checked item: `id` is the claim id of THEOREMS.md (':' suffix for sub-items)."""

    id: str
    statement: str
    method: str
    constants: dict = field(default_factory=dict)
    verdict: str = "proved"
    log: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict != "FAILED"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["constants"] = {k: _jsonable(v) for k, v in self.constants.items()}
        d["passed"] = self.passed
        return d


def _jsonable(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, iv.mpf):
        return fmt(v)
    if isinstance(v, (Fraction, sp.Rational)) and v.denominator != 1:
        return f"{v.numerator}/{v.denominator}"
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


class Proof:
    """Collects the steps of the item `check` (a function marked with @item); any failed step makes the verdict
    FAILED."""

    def __init__(self, check, statement, **constants):
        self.rec = CheckRecord(check.item_id, statement, check.method.value, dict(constants))

    def step(self, ok, msg: str) -> bool:
        ok = bool(ok)
        self.rec.log.append(("ok: " if ok else "FAILED: ") + msg)
        if not ok:
            self.rec.verdict = "FAILED"
        return ok

    def note(self, msg: str) -> None:
        self.rec.log.append(msg)

    def const(self, **kw) -> None:
        self.rec.constants.update(kw)

    def done(self) -> CheckRecord:
        return self.rec


# ---------------------------------------------------------------- exact numbers and intervals

def exact(x) -> Fraction:
    """The exact rational value of a constant: a float is its binary value (4/3 as a float is below 4/3), a
    decimal string its decimal value, a Fraction or SymPy Rational itself."""
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, bool):
        raise TypeError("a constant must be a number, not a bool")
    return Fraction(x)


def rat(x) -> sp.Rational:
    """SymPy Rational with the exact value of `x` (see `exact`)."""
    f = exact(x)
    return sp.Rational(f.numerator, f.denominator)


def I(x):
    """A rigorous interval enclosing x (int, float, Fraction, SymPy Rational, decimal string)."""
    if isinstance(x, iv.mpf):
        return x
    if isinstance(x, (sp.Rational, Fraction)):
        f = exact(x)
        return iv.mpf(f.numerator) / iv.mpf(f.denominator)
    if isinstance(x, str):
        return iv.mpf(x)  # mpmath rounds the decimal outward
    return iv.mpf(x)  # ints and floats are exact binary numbers


def kappa(u):
    """Enclosure of kappa(u) = 2 phi(u)/u^2 = 2 sum_k u^k/(k+2)! at a point or interval u >= 0."""
    u = I(u)
    if u.b == 0:
        return iv.mpf(1)
    if u.b < iv.mpf("1e-6").a:  # series: 1 + u/3 + R, 0 <= R <= u^2/12 * 2 for u < 1
        return 1 + u / 3 + iv.mpf([0, 1]) * u**2 / 6
    if u.a <= 0:  # kappa is increasing: enclose by its values at the ends
        return iv.mpf([1, kappa(iv.mpf(u.b)).b])
    return 2 * (iv.exp(u) - 1 - u) / u**2


def phi(u):
    u = I(u)
    return iv.exp(u) - 1 - u


def fmt(x, digits=8) -> str:
    """Short text for an interval (midpoint if it is narrow) or a number."""
    if isinstance(x, iv.mpf):
        if x.delta < abs(x.mid) * 1e-12 + iv.mpf("1e-25").b:
            return f"{float(x.mid):.{digits}g}"
        return f"[{float(x.a):.{digits}g}, {float(x.b):.{digits}g}]"
    return f"{float(x):.{digits}g}"


def ge(x, y) -> bool:
    """Certified x >= y for intervals (every point of x is >= every point of y)."""
    return I(x).a >= I(y).b


def lt(x, y) -> bool:
    """Certified x < y."""
    return I(x).b < I(y).a


# ---------------------------------------------------------------- SymPy helpers

def is_zero(expr) -> bool:
    """SymPy proves expr == 0 identically (every entry, for a matrix).

    Logarithms are expanded only where SymPy knows the rules hold (expand_log without force: log(x^2) = 2 log x
    needs x > 0, so callers that need it declare positive symbols)."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    e = sp.simplify(sp.expand(expr))
    return e == 0 or sp.simplify(sp.expand_log(sp.powsimp(e))) == 0


def is_nonneg(expr) -> bool:
    """SymPy decides expr >= 0 from the signs of its (positive) symbols after factoring.

    The callers make every variable a positive symbol, e.g. L1 in [1/10, oo) is written (1+p)/10
    with p >= 0, so a factored rational expression with no minus sign left is certainly >= 0."""
    e = sp.factor(sp.together(sp.simplify(expr)))
    return bool(e.is_nonnegative) or e == 0


def monotone_chain(expr, x, order: int) -> list:
    """Show expr(x) >= 0 for x >= 0 via: d^k expr/dx^k vanishes at 0 for k < order and the
    order-th derivative is >= 0 on x >= 0 (decided by is_nonneg). Returns failed conditions."""
    bad = []
    d = expr
    for k in range(order):
        if not is_zero(d.subs(x, 0)):
            bad.append(f"d^{k}/dx^{k} at 0 = {sp.simplify(d.subs(x, 0))}")
        d = sp.diff(d, x)
    if not is_nonneg(d):
        bad.append(f"d^{order}/dx^{order} = {sp.factor(d)} not shown >= 0")
    return bad


def compare_upper(P, name, claimed, needed):
    """An upper-bound constant is proved iff claimed >= the certified needed value (an interval)."""
    P.const(**{name: claimed, f"{name}_needed": fmt(needed, 10),
               f"{name}_slack": float((I(claimed) / needed.b - 1).mid)})
    ok = I(claimed).a >= needed.b
    P.step(ok, f"{name} = {fmt(I(claimed))} {'>=' if ok else '<'} needed {fmt(needed, 10)}"
           + ("" if ok else ": does not follow from the derivation"))
    return ok
