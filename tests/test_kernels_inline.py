"""synthetic/inline.py, the source-level inliner of the CPU kernels: the flattened functions compute exactly what the
originals compute (an independent implementation: the original functions, run as plain Python on the same inputs),
calls are inlined where the module docstring says and left alone where inlining would change the meaning."""
import ast
import math
import random

from clipcheck.synthetic.inline import flatten

SOURCES = {
    "clamp": '''
def clamp(x, lo, hi):
    if x != x:
        return 0.0
    return lo if x < lo else (hi if x > hi else x)
''',
    "two_sum": '''
def two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
''',
    "profile": '''
def profile(t, p, o):
    a = p[o]
    if a == 0.0:
        return t * t, 2.0 * t
    u = clamp(a * t, -3.0, 3.0)
    s, e = two_sum(u, 0.5 * u * u)
    return s + e, a * (1.0 + u)
''',
    "value_grad": '''
def value_grad(x, p, g):
    f, d = profile(x[0], p, 0)
    g[0] = d
    return f
''',
    "in_loop": '''
def in_loop(x):
    for i in range(3):
        if x > i:
            return i
    return -1
''',
    "caller": '''
def caller(x, p, g, flag):
    x = clamp(x, -1.0, 1.0)
    y = in_loop(x)
    z = 0.0 if flag else two_sum(x, 1.0)[0]
    w = 0.0 if flag else value_grad([x], p, g)
    return x + y + z + w
''',
}


def _module(functions):
    namespace = {"math": math}
    for text in functions.values():
        exec(compile(text, "<test>", "exec"), namespace)
    return namespace


def test_flattened_functions_compute_the_same_values():
    # the originals and their flattened versions, run as plain Python, agree on every input (with NaN and 0 cases)
    original, flat = _module(SOURCES), _module(flatten(SOURCES))
    rng = random.Random(0)
    for _ in range(2000):
        x, a = rng.uniform(-4, 4), rng.choice([0.0, rng.uniform(-2, 2)])
        args = (rng.choice([x, math.nan]), [a], [0.0], rng.random() < 0.5)
        g1, g2 = [0.0], [0.0]
        r1 = original["caller"](args[0], args[1], g1, args[3])
        r2 = flat["caller"](args[0], args[1], g2, args[3])
        assert (r1 == r2 or (r1 != r1 and r2 != r2)) and g1 == g2, (args, r1, r2)
        assert original["value_grad"]([x], [a], g1) == flat["value_grad"]([x], [a], g2) and g1 == g2


def _calls(text):
    return {n.func.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def test_what_is_inlined_and_what_stays_a_call():
    flat = flatten(SOURCES)
    assert not _calls(flat["value_grad"]) & {"profile", "clamp", "two_sum"}   # statement calls, nested twice
    assert "in_loop" in _calls(flat["caller"])       # a return inside a loop: left as a call
    # under a conditional: two_sum (pure, no arrays) is computed up front; value_grad writes g, so it stays put
    assert "two_sum" not in _calls(flat["caller"]) and "value_grad" in _calls(flat["caller"])


def test_array_arguments_are_used_as_they_are():
    # value_grad(x, p, g) inlined into a caller passes its arrays by name: no copy such as `p__i1 = p` appears
    flat = flatten({**SOURCES, "outer": "def outer(x, p, g):\n    return value_grad(x, p, g)\n"})
    tree = ast.parse(flat["outer"])
    copies = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name)
              and n.value.id in ("x", "p", "g")]
    assert not copies and "g[0] =" in flat["outer"].replace("g[0]=", "g[0] =")


def _both(functions, name, *args, namespace=None):
    """The original and the flattened function's results on the same arguments (plain Python, fresh copies)."""
    results = []
    for texts in (functions, flatten(functions)):
        scope = dict(namespace or {})
        for text in texts.values():
            exec(compile(text, "<test>", "exec"), scope)
        results.append(scope[name](*args))
    return results


def test_a_callee_with_keyword_only_or_default_parameters_stays_a_call():
    # inlining `g(y)` as `y + k` would read the caller's k (5.0) instead of g's default (1.0): 6.0, not 2.0
    functions = {"g": "def g(a, *, k=1.0):\n    return a + k\n", "f": "def f(y):\n    k = 5.0\n    return g(y)\n",
                 "h": "def h(a, b=2.0):\n    return a * b\n", "e": "def e(y):\n    return h(y)\n"}
    assert _both(functions, "f", 1.0) == [2.0, 2.0] and "g" in _calls(flatten(functions)["f"])
    assert _both(functions, "e", 3.0) == [6.0, 6.0] and "h" in _calls(flatten(functions)["e"])


def test_a_global_of_the_callee_shadowed_by_a_local_of_the_caller_is_not_captured():
    # g reads the global C (2.0); pasted into f, whose local C is 3.0, it would return 3.0 instead of 2.0
    functions = {"g": "def g(x):\n    return x * C\n", "f": "def f(y):\n    C = 3.0\n    return g(y)\n",
                 "m": "def m(a):\n    return abs(a)\n", "n": "def n(y):\n    abs = 7.0\n    return m(y) + abs\n"}
    assert _both(functions, "f", 1.0, namespace={"C": 2.0}) == [2.0, 2.0]
    assert _both(functions, "n", -1.0) == [8.0, 8.0]  # a local named like a builtin the callee calls


def test_a_call_under_a_condition_is_not_computed_early_with_an_array_argument():
    # `0.0 if i >= len(X) else g(X[i])`: computing g(X[i]) first would index past the end
    functions = {"g": "def g(v):\n    return v + 1.0\n",
                 "f": "def f(X, i):\n    return 0.0 if i >= len(X) else g(X[i])\n"}
    assert _both(functions, "f", [1.0, 2.0], 2) == [0.0, 0.0]
    assert _both(functions, "f", [1.0, 2.0], 1) == [3.0, 3.0]


def test_random_draws_keep_their_order():
    # np.random.random() is not pure: hoisting g's draw before the caller's changes which draw each gets
    import numpy as np
    functions = {"g": "def g():\n    return _m_numpy.random.random()\n",
                 "f": "def f():\n    return _m_numpy.random.random() - 2.0 * g()\n"}
    results = []
    for texts in (functions, flatten(functions)):
        scope = {"_m_numpy": np}
        for text in texts.values():
            exec(compile(text, "<test>", "exec"), scope)
        np.random.seed(1)
        results.append(scope["f"]())
    assert results[0] == results[1]
