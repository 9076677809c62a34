"""One kernel for a batch of several functions.

A run over instances of k different functions (the claims run every rule on the class's profiles at once) would
compile k kernels, about two seconds each on a cold start, for runs that take milliseconds. `union(functions)`
is one Function whose value_grad calls member j's value_grad when the last entry of its parameter row is j; every
member reads only its own leading parameters, so a row is the member's parameters, zero padding, then j. A
function that reads the length of p (`p.shape[0]`, `len(p)`) would see the padding: it never joins a union
(`reads_length`). A member's lanes branch on j in the hot loop (no vectorisation across members): a batch of one
function keeps its own specialised kernel (run.py builds a union only for two or more).
"""
import ast

import numpy as np

from .functions import Function
from .kernels import source_key
from .source import Constant, Imported, Paste, SourceError, _tree, python_function

SLOTS = 8                # the members union_value_grad can call
MAX_MEMBERS = SLOTS      # run.py splits a batch of more sources into unions of at most this many (tests lower it)


def union_value_grad(x, p, g):
    j = p[p.shape[0] - 1]
    if HAS_1:
        if j == 1.0:
            return MEMBER_1(x, p, g)
    if HAS_2:
        if j == 2.0:
            return MEMBER_2(x, p, g)
    if HAS_3:
        if j == 3.0:
            return MEMBER_3(x, p, g)
    if HAS_4:
        if j == 4.0:
            return MEMBER_4(x, p, g)
    if HAS_5:
        if j == 5.0:
            return MEMBER_5(x, p, g)
    if HAS_6:
        if j == 6.0:
            return MEMBER_6(x, p, g)
    if HAS_7:
        if j == 7.0:
            return MEMBER_7(x, p, g)
    return MEMBER_0(x, p, g)


_MADE = {}  # member sources -> Function: the same union object, so kernels.py finds its kernel at once


def union(functions):
    """One Function calling the value_grad of each of `functions` (2 to MAX_MEMBERS, distinct sources); its
    parameter rows are built by `row`."""
    functions = list(functions)
    key = tuple(source_key(f) for f in functions)
    if key not in _MADE:
        _MADE[key] = _make(functions)
    return _MADE[key]


def _make(functions):
    if not 2 <= len(functions) <= SLOTS:
        raise ValueError(f"functions: a union takes 2 to {SLOTS} functions, got {len(functions)}")
    bindings = {}
    for j in range(SLOTS):
        bindings[f"HAS_{j}"] = Constant(j < len(functions))
        if j < len(functions):
            f = functions[j]
            bindings[f"MEMBER_{j}"] = Paste(f.value_grad, (), dict(f.bindings or {}))
    name = "union(" + ", ".join(f.name for f in functions) + ")"
    return Function(name, union_value_grad, bindings=bindings)


def row(j, params, width):
    """Member j's parameter row, `width` wide: its parameters, zeros, then j (width > every member's params)."""
    out = np.zeros(width)
    out[:params.size] = params
    out[-1] = j
    return out


def reads_length(function):
    """Whether the function's value_grad, or a function it passes p to, reads the length of p. Conservative: a
    callee that cannot be read counts as reading it."""
    key = source_key(function)
    if key not in _READS:  # reading sources costs milliseconds; a claim runs thousands of batches
        _READS[key] = _reads_length(function.value_grad, 1, dict(function.bindings or {}), set())
    return _READS[key]


_READS = {}


def _reads_length(fn, position, bindings, seen):
    try:
        fn = python_function(fn)
    except SourceError:
        return True
    if (fn, position) in seen:
        return False
    seen.add((fn, position))
    try:
        node = _tree(fn)
    except SourceError:
        return True
    if position >= len(node.args.args):
        return True
    name = node.args.args[position].arg
    is_p = lambda n: isinstance(n, ast.Name) and n.id == name  # noqa: E731
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and is_p(sub.value):
            return True  # p.shape, p.size, ...
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Name) and sub.func.id == "len" and any(map(is_p, sub.args)):
                return True
            for k, arg in enumerate(sub.args):
                if is_p(arg):
                    callee = _callee(sub.func, fn, bindings)
                    inner = callee.bindings if isinstance(callee, Paste) else bindings
                    target = callee.fn if isinstance(callee, Paste) else callee
                    if target is None or _reads_length(target, k, dict(inner), seen):
                        return True
    return False


def _callee(func, fn, bindings):
    """The function a call site names (None when it is not a plain name we can follow)."""
    if not isinstance(func, ast.Name):
        return None
    value = bindings.get(func.id, fn.__globals__.get(func.id))
    return None if isinstance(value, (Constant, Imported)) else value
