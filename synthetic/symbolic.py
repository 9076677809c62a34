"""Functions from SymPy: the gradient and Hessian by differentiation, scalar code for the kernels, and the
interval arithmetic (mpmath's iv, outward rounding) that certify() uses for rigorous bounds.

The generated value_grad uses clipcheck's own exp and log (mathfns) and is registered with linecache under a
name that is a digest of its text, so the kernel factory can read its source like that of any other function.
"""
import hashlib
import linecache
import math

import mpmath
import numpy as np
import sympy
from sympy.printing.pycode import PythonCodePrinter

from . import intervals, mathfns

_OWN = {"exp": "mf.exp", "log": "mf.log"}  # elementary functions the kernels compute with clipcheck's arithmetic
# what mpmath's interval context offers (a function outside it makes interval_check fail, never pass wrongly)
_IV = {"exp": mpmath.iv.exp, "log": mpmath.iv.log, "sqrt": mpmath.iv.sqrt, "sin": mpmath.iv.sin,
       "cos": mpmath.iv.cos, "tan": mpmath.iv.tan, "log1p": mpmath.iv.log1p, "expm1": mpmath.iv.expm1,
       "Abs": abs, "pi": mpmath.iv.pi, "E": mpmath.iv.e,
       # SymPy's mpmath printer writes a float constant as mpf((sign, mantissa, exponent, bits)), exactly
       "mpf": lambda value: mpmath.iv.mpf(mpmath.mpf(value))}


class _Printer(PythonCodePrinter):
    """Python source for Numba: exp and log from mathfns, other functions from math, integer powers as products."""

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name in _OWN:
            return f"{_OWN[name]}({', '.join(self._print(a) for a in expr.args)})"
        return super()._print_Function(expr)

    def _print_exp(self, expr):
        return f"mf.exp({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"mf.log({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e.is_Integer and 1 < int(e) <= 8:
            b = self.parenthesize(base, 100)
            return "(" + "*".join([b] * int(e)) + ")"
        return super()._print_Pow(expr, rational)


def _source(expr, symbols, params, name):
    """value_grad(x, p, g) source: common subexpressions once, then the gradient entries and f."""
    grad = [sympy.diff(expr, s) for s in symbols]
    reps, reduced = sympy.cse([expr] + grad, symbols=sympy.numbered_symbols("_t"))  # _t0, _t1, ...: no clash
    printer = _Printer({"fully_qualified_modules": False, "standard": "python3"})
    # the arrays are named with a leading underscore, which no user symbol may have (from_sympy refuses it)
    lines = [f"def {name}(_x, _p, _g):"]
    lines += [f"    {s.name} = _x[{i}]" for i, s in enumerate(symbols)]
    lines += [f"    {s.name} = _p[{i}]" for i, s in enumerate(params)]
    lines += [f"    {lhs} = {printer.doprint(rhs)}" for lhs, rhs in reps]
    lines += [f"    _g[{i}] = {printer.doprint(e)}" for i, e in enumerate(reduced[1:])]
    lines += [f"    return {printer.doprint(reduced[0])}", ""]
    return "\n".join(lines)


class SympyForm:
    """The symbolic side of a Function built from SymPy: expression, gradient, Hessian, parameter values."""

    def __init__(self, expr, symbols, params, values):
        self.expr, self.symbols, self.params, self.values = expr, list(symbols), list(params), list(values)
        subs = dict(zip(self.params, [sympy.Float(v, 17) for v in self.values]))
        self.grad = [sympy.diff(expr, s) for s in self.symbols]
        self.hess = [[sympy.diff(gi, s) for s in self.symbols] for gi in self.grad]
        args = self.symbols + self.params
        self._hess_np = sympy.lambdify(args, sympy.Matrix(self.hess), "numpy")
        self._grad_iv = [sympy.lambdify(args, gi, [_IV, "mpmath"]) for gi in self.grad]
        self._hess_iv = [[sympy.lambdify(args, h, [_IV, "mpmath"]) for h in row] for row in self.hess]
        self._f_iv = sympy.lambdify(args, expr, [_IV, "mpmath"])
        self._subs = subs

    def hessian(self, X):
        """Hess f at the rows of X, (n, d, d), in float64 from the exact expressions."""
        X = np.atleast_2d(X)
        out = np.empty((X.shape[0], len(self.symbols), len(self.symbols)))
        for k, x in enumerate(X):
            out[k] = np.asarray(self._hess_np(*x, *self.values), float)
        return out

    def _iv_args(self, box):
        return [mpmath.iv.mpf([lo, hi]) for lo, hi in box] + [mpmath.iv.mpf(v) for v in self.values]

    def _excess_upper(self, box, L0, L1):
        """An upper bound of ||Hess f|| - L0 - L1 ||grad f|| over the box (may be inf)."""
        args = self._iv_args(box)
        try:
            with np.errstate(all="ignore"):
                H = [[h(*args) for h in row] for row in self._hess_iv]
                G = [g(*args) for g in self._grad_iv]
        except (ZeroDivisionError, ValueError, OverflowError, TypeError, AttributeError):
            return math.inf
        iv = mpmath.iv
        hess_up = max(sum((abs(iv.mpf(h)) for h in row), iv.mpf(0)).b for row in H)  # Gershgorin bound
        mig2 = iv.mpf(0)
        for gi in G:
            gi = iv.mpf(gi)
            mig = iv.mpf(0) if gi.a <= 0 <= gi.b else min(abs(gi.a), abs(gi.b))
            mig2 += iv.mpf(mig) ** 2
        excess = iv.mpf(hess_up) - iv.mpf(L0) - iv.mpf(L1) * iv.sqrt(mig2).a  # all in outward-rounded arithmetic
        return excess.b  # an mpf: compared with 0 exactly, never rounded to a float

    def interval_check(self, L0, L1, box, deadline, max_boxes):
        """(proved, boxes proved, undecided boxes): branch-and-bound until every sub-box is proved or the time
        or box budget runs out. Sub-boxes narrower than 1e-12 of the box are undecided for good. Whole
        generations of boxes are evaluated at once by NumPy interval arithmetic (intervals.py); expressions it
        cannot handle fall back to mpmath's interval context, one box at a time."""
        try:
            return self._interval_check_numpy(L0, L1, box, deadline, max_boxes)
        except intervals.Unsupported:
            return self._interval_check_mpmath(L0, L1, box, deadline, max_boxes)

    def _excess_upper_numpy(self, boxes, L0, L1):
        """Upper bounds of ||Hess f|| - L0 - L1 ||grad f|| over each box of `boxes` (n, d, 2)."""
        n = boxes.shape[0]
        env = {s: (boxes[:, i, 0], boxes[:, i, 1]) for i, s in enumerate(self.symbols)}
        env.update({p: (np.full(n, v), np.full(n, v)) for p, v in zip(self.params, self.values)})
        d = len(self.symbols)
        lo, hi = np.empty((n, d, d)), np.empty((n, d, d))
        for i, row in enumerate(self.hess):
            for j, h in enumerate(row):
                lo[:, i, j], hi[:, i, j] = intervals.evaluate(h, env, n)
        with np.errstate(all="ignore"):
            rows = intervals.symmetric_norm_upper(lo, hi)
        mig2 = np.zeros(n)
        with np.errstate(all="ignore"):
            for g in self.grad:
                mig = intervals.absolute(intervals.evaluate(g, env, n))[0]
                mig2 = intervals._down(mig2 + intervals._down(mig * mig))
            grad_lo = np.maximum(intervals._down(np.sqrt(np.maximum(mig2, 0.0))), 0.0)
            cap_lo = intervals._down(L0 + intervals._down(L1 * grad_lo))
            excess = intervals._up(rows - cap_lo)
        return np.where(np.isnan(excess), np.inf, excess)

    def _interval_check_numpy(self, L0, L1, box, deadline, max_boxes):
        import time
        boxes = np.array(box, float)[None]
        width0 = np.max(box[:, 1] - box[:, 0])
        proved, hard = 0, []
        while boxes.shape[0]:
            if time.monotonic() > deadline or proved + boxes.shape[0] > max_boxes:
                return False, proved, boxes[:3].tolist() + hard
            ok = self._excess_upper_numpy(boxes, L0, L1) <= 0.0
            proved += int(ok.sum())
            boxes = boxes[~ok]
            widths = boxes[:, :, 1] - boxes[:, :, 0]
            j = np.argmax(widths, axis=1)
            tiny = widths[np.arange(boxes.shape[0]), j] < 1e-12 * width0
            hard += boxes[tiny].tolist()
            boxes, j = boxes[~tiny], j[~tiny]
            mid = 0.5 * (boxes[np.arange(boxes.shape[0]), j, 0] + boxes[np.arange(boxes.shape[0]), j, 1])
            left, right = boxes.copy(), boxes.copy()
            left[np.arange(boxes.shape[0]), j, 1] = mid
            right[np.arange(boxes.shape[0]), j, 0] = mid
            boxes = np.concatenate([left, right])
        return not hard, proved, hard

    def _interval_check_mpmath(self, L0, L1, box, deadline, max_boxes):
        import time
        stack = [np.array(box, float)]
        width0 = np.max(box[:, 1] - box[:, 0])
        proved, hard = 0, []
        while stack:
            if time.monotonic() > deadline or proved + len(stack) > max_boxes:
                return False, proved, [b.tolist() for b in stack[:3]] + hard
            b = stack.pop()
            if self._excess_upper(b, L0, L1) <= 0.0:
                proved += 1
                continue
            widths = b[:, 1] - b[:, 0]
            j = int(np.argmax(widths))
            if widths[j] < 1e-12 * width0:
                hard.append(b.tolist())
                continue
            mid = 0.5 * (b[j, 0] + b[j, 1])
            left, right = b.copy(), b.copy()
            left[j, 1] = mid
            right[j, 0] = mid
            stack += [left, right]
        return not hard, proved, hard

    def boundary_above(self, level, box, max_boxes=4000):
        """f > level on every face of the box, by intervals (bisecting each face)."""
        d = box.shape[0]
        for j in range(d):
            for side in (0, 1):
                face = box.copy()
                face[j] = box[j, side]
                stack, count = [face], 0
                while stack:
                    b = stack.pop()
                    count += 1
                    if count > max_boxes:
                        return False
                    value = mpmath.iv.mpf(self._f_iv(*self._iv_args(b)))
                    if float(value.a) > level:
                        continue
                    widths = b[:, 1] - b[:, 0]
                    k = int(np.argmax(widths))
                    if widths[k] < 1e-12:
                        return False
                    mid = 0.5 * (b[k, 0] + b[k, 1])
                    left, right = b.copy(), b.copy()
                    left[k, 1] = mid
                    right[k, 0] = mid
                    stack += [left, right]
        return True


def compile_value_grad(expr, symbols, params):
    """A Python function value_grad(x, p, g) generated from the expression, its source registered with
    linecache (so inspect, and so the kernel factory, can read it)."""
    text = _source(expr, symbols, params, "value_grad")
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    filename = f"<clipcheck sympy {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"mf": mathfns, "math": math, "__name__": f"clipcheck_sympy_{digest}"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace["value_grad"], text
