"""Paste scalar functions into one generated module: the input of the kernel factory (kernels.py).

Numba caches a compiled function on disk only when it comes from a source file, and never when it is a closure or
a function passed in as an argument. So every function a kernel calls (a Function's value_grad, a Rule's step,
their helpers, the kernel template) is pasted as source into one generated module, under a name made unique by a
digest of its source, and compiled there.

`Unit` collects the pieces. A global that a pasted function reads is resolved, in order, from the caller's
bindings (how a template names the function it specialises, e.g. VALUE_GRAD), then the function's own globals:
- another plain or @njit function: pasted too (recursively);
- a function of a library module (LIBRARY_MODULES: compiled intrinsics): imported from its module;
- a function the unit replaces (`replacements`, e.g. mathfns._bits by an intrinsic in CPU code): the replacement;
- a module: imported (math, numpy, numba, ...); a function read as an attribute of one of our modules (mf.expm1) is
  pasted like any other, after substitutions (the `math="libm"` switch maps mathfns to libm);
- a number: written as a constant.
Anything else (arrays, objects, closures) cannot be pasted: SourceError names it.

Lane versions: the CPU kernel steps LANES instances side by side, with the state of every lane in rows of a few
shared (rows, LANES) arrays. A view x = W[rows, lane] passed to value_grad(x, p, g) blocks LLVM's vectoriser, so
`Paste(fn, arrays)` asks for a rewritten copy of fn in which each array parameter x becomes three, (x, x__o,
x__n): the shared array, the row where x starts and its length, plus a last parameter `lane`. Then `x[i]` reads
`x[x__o + i, lane]`, `x.shape[0]` and `len(x)` are `x__n`, and calls passing x on pass the three. A function that
uses its arrays in any other way (slices, iteration) gets a plain wrapper over views instead: correct, slower.
"""
import ast
import builtins
import hashlib
import importlib
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass, field

import numpy as np

from .inline import flatten

# modules whose functions are imported rather than pasted (compiled code that cannot be pasted: intrinsics)
LIBRARY_MODULES = {"clipcheck.synthetic.atomics", "clipcheck.synthetic.intrinsics"}
# modules whose attributes are never pasted (their functions are Numba builtins or not scalar code)
_FOREIGN = ("math", "numpy", "numba", "cmath")
_BUILTINS = {"abs", "min", "max", "range", "float", "int", "bool", "len", "True", "False", "None"}


class SourceError(ValueError):
    """A function cannot be pasted into a generated kernel module."""


@dataclass(frozen=True, eq=False)
class Paste:
    """Binding marker: paste `fn` (with its own `bindings`); with `arrays` (parameter names), its lane version,
    in which those arrays are indexed per lane."""

    fn: object
    arrays: tuple = ()
    bindings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Imported:
    """Binding marker: `attr` of the (generated, importable) module `module`, imported rather than pasted."""

    module: str
    attr: str


@dataclass(frozen=True)
class Constant:
    """Binding marker: a literal value (a number, a bool or a tuple of numbers) written into the module."""

    value: object


def python_function(fn):
    """The plain Python function behind fn (a numba dispatcher keeps it as py_func)."""
    fn = getattr(fn, "py_func", fn)
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"{fn!r} is not a Python function")
    return fn


def _tree(fn):
    """The function's definition as an AST, decorators removed."""
    if fn.__name__ == "<lambda>":
        raise SourceError("a lambda cannot be pasted into a kernel; define the function with def")
    try:
        text = textwrap.dedent(inspect.getsource(fn))
        node = ast.parse(text).body[0]
    except (OSError, TypeError) as err:
        raise SourceError(f"{fn.__qualname__}: its source is not available ({err}); define it in a file") from None
    except SyntaxError:
        raise SourceError(f"{fn.__qualname__}: its source cannot be read back as a def statement") from None
    if not isinstance(node, ast.FunctionDef):
        raise SourceError(f"{fn.__qualname__}: expected a def statement (lambdas cannot be pasted)")
    if node.name != fn.__name__ or len(node.args.args) != fn.__code__.co_argcount:
        # inspect reads the file as it is now: an edit since the import would paste some other function
        raise SourceError(f"{fn.__qualname__}: its file changed since it was imported; restart Python")
    node.decorator_list = []
    return node


def _locals(node):
    names = {a.arg for a in node.args.args}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.Lambda)) and sub is not node:
            raise SourceError(f"{node.name}: nested functions cannot be pasted into a kernel")
    return names


def _digest(*parts):
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:10]


def _literal(value):
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, np.uint64):
        return f"_np.uint64({int(value)})"
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return repr(v) if np.isfinite(v) else f"float({str(v)!r})"
    if isinstance(value, tuple) and all(isinstance(v, (int, float, bool, np.number)) for v in value):
        return "(" + "".join(_literal(v) + ", " for v in value) + ")"
    return None


class Unit:
    """The pieces of one generated module: imports, constants and pasted functions, in dependency order."""

    def __init__(self, substitutions=None, replacements=None):
        self.substitutions = dict(substitutions or {})  # module name -> module name to import instead
        self.replacements = dict(replacements or {})    # Python function -> Imported marker used instead
        self.imports = {}     # alias -> import line
        self.constants = {}   # name -> literal text
        self.functions = {}   # mangled name -> source text
        self._done = {}       # (id(fn), lane arrays, bindings) -> mangled name
        self._fn_of = {}      # mangled name -> the Python function pasted under it
        self._bindings_of = {}  # mangled name -> the bindings it was pasted with (its lane version gets the same)

    # -- public ---------------------------------------------------------------------------------------------
    def add(self, fn, bindings=None, arrays=None):
        """Paste fn (and what it calls); returns its name in the module. arrays: ask for its lane version."""
        return self._paste(python_function(fn), dict(bindings or {}), tuple(arrays) if arrays else None)

    def source(self, inline=False):
        """The module text; inline=True: calls inlined at the source level where possible (inline.py)."""
        parts = sorted(self.imports.values()) + [f"{k} = {v}" for k, v in sorted(self.constants.items())]
        functions = flatten(self.functions) if inline else self.functions
        return "\n".join(parts) + "\n\n\n" + "\n\n\n".join(functions.values()) + "\n"

    def digest(self):
        return hashlib.sha1(self.source().encode()).hexdigest()[:16]

    # -- pasting ------------------------------------------------------------------------------------------
    def _module_alias(self, module):
        name = self.substitutions.get(module.__name__, module.__name__)
        alias = "_m_" + name.replace(".", "_")
        self.imports[alias] = f"import {name} as {alias}"
        return alias

    def _resolve(self, name, fn, bindings):
        """The text that replaces the global `name` read by fn."""
        if name in bindings:
            value = bindings[name]
        elif name in fn.__globals__:
            value = fn.__globals__[name]
        elif name in _BUILTINS or hasattr(builtins, name):
            return name
        else:
            raise SourceError(f"{fn.__qualname__}: the name {name!r} is not defined")
        if isinstance(value, Constant):
            value = value.value
        if isinstance(value, types.FunctionType) and value in self.replacements:
            value = self.replacements[value]
        if isinstance(value, Imported):
            alias = f"_i_{value.attr}"
            self.imports[alias] = f"from {value.module} import {value.attr} as {alias}"
            return alias
        if isinstance(value, Paste):
            return self._paste(python_function(value.fn), dict(value.bindings), tuple(value.arrays) or None)
        if isinstance(value, types.ModuleType):
            return self._module_alias(value)
        text = _literal(value)
        if text is not None:
            if "_np." in text:
                self._module_alias(np)
                text = text.replace("_np.", "_m_numpy.")
            const = f"_c_{name}_{_digest(text)}"
            self.constants[const] = text
            return const
        target = getattr(value, "py_func", value)
        if isinstance(target, types.FunctionType):
            module = getattr(target, "__module__", "") or ""
            if module in self.substitutions:  # `from .mathfns import expm1` under math="libm"
                target = getattr(importlib.import_module(self.substitutions[module]), target.__name__)
                module = target.__module__
            if module in LIBRARY_MODULES:
                return f"{self._module_alias(inspect.getmodule(target))}.{target.__name__}"
            # a template's bindings hold for every function of its module (run_slice calls worker, ...)
            inherited = bindings if target.__module__ == fn.__module__ else {}
            return self._paste(target, inherited, None)
        raise SourceError(f"{fn.__qualname__} reads the global {name!r} of type {type(value).__name__}; a kernel "
                          "can only use numbers, modules and other scalar functions")

    def _paste(self, fn, bindings, arrays):
        key = (id(fn), arrays, tuple(sorted((k, id(v)) for k, v in bindings.items())))
        if key in self._done:
            if self._done[key] is None:
                raise SourceError(f"{fn.__qualname__} calls itself; a kernel cannot")
            return self._done[key]
        self._done[key] = None
        if fn.__closure__:
            raise SourceError(f"{fn.__qualname__} is a closure; define it at module level")
        node = _tree(fn)
        local = _locals(node)
        if arrays:
            missing = set(arrays) - {a.arg for a in node.args.args}
            if missing:
                raise SourceError(f"{fn.__qualname__} has no parameter {sorted(missing)[0]!r}")
        node = _Prune(fn, bindings, local).visit(node)
        node = _Renamer(self, fn, bindings, local).visit(node)
        if arrays:
            try:
                node = _Laneify(self, fn, bindings, set(arrays), local).apply(node)
            except _NotLaneable:
                node = self._view_wrapper(fn, bindings, arrays)
        # the name is a digest of the final text (callees already carry their own digests), so equal code gets
        # equal names in every process and the generated module, and Numba's cache of it, can be reused
        node.name = "_"
        text = ast.unparse(ast.fix_missing_locations(node))
        name = f"{fn.__name__}_{_digest(text)}"
        node.name = name
        self.functions[name] = ast.unparse(node)
        self._done[key] = name
        self._fn_of[name] = fn
        self._bindings_of[name] = bindings
        return name

    def _view_wrapper(self, fn, bindings, arrays):
        """A lane version that passes views X[:, lane]: for functions the rewrite cannot handle."""
        inner = self._paste(fn, bindings, None)
        params = [a.arg for a in _tree(fn).args.args]
        call = ", ".join(f"{p}[{p}__o:{p}__o + {p}__n, lane]" if p in arrays else p for p in params)
        signature = ", ".join(f"{p}, {p}__o, {p}__n" if p in arrays else p for p in params)
        return ast.parse(f"def wrapper({signature}, lane):\n    return {inner}({call})\n").body[0]


class _Prune(ast.NodeTransformer):
    """`if FLAG:` with FLAG a bound or global bool keeps only the branch taken. LLVM would drop the other branch
    too, but only after its loop vectoriser has given up on the calls inside it."""

    def __init__(self, fn, bindings, local):
        self.fn, self.bindings, self.local = fn, bindings, local

    def visit_If(self, node):
        node = self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Name) and test.id not in self.local:
            value = self.bindings.get(test.id, self.fn.__globals__.get(test.id))
            value = value.value if isinstance(value, Constant) else value
            if isinstance(value, (bool, np.bool_)):
                return (node.body if value else node.orelse) or [ast.Pass()]
        return node


class _Renamer(ast.NodeTransformer):
    """Replace every global name read by a function with its name in the generated module."""

    def __init__(self, unit, fn, bindings, local):
        self.unit, self.fn, self.bindings, self.local = unit, fn, bindings, local

    def visit_Attribute(self, node):
        """module.function of one of our modules: paste the function (after the module substitutions)."""
        base = node.value
        if isinstance(node.ctx, ast.Load) and isinstance(base, ast.Name) and base.id not in self.local and \
                base.id not in self.bindings:
            module = self.fn.__globals__.get(base.id)
            if isinstance(module, types.ModuleType) and module.__name__.split(".")[0] not in _FOREIGN:
                name = self.unit.substitutions.get(module.__name__, module.__name__)
                target = getattr(sys.modules.get(name) or importlib.import_module(name), node.attr, None)
                target = getattr(target, "py_func", target)
                if isinstance(target, types.FunctionType) and name not in LIBRARY_MODULES:
                    return ast.copy_location(ast.Name(self.unit._paste(target, {}, None), ast.Load()), node)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id not in self.local:
            return ast.copy_location(ast.parse(self.unit._resolve(node.id, self.fn, self.bindings),
                                               mode="eval").body, node)
        return node


class _NotLaneable(Exception):
    pass


class _Laneify(ast.NodeTransformer):
    """x[i] -> x[i, lane] for the lane arrays; calls passing lane arrays go to the callee's lane version."""

    def __init__(self, unit, fn, bindings, arrays, local):
        self.unit, self.fn, self.bindings, self.arrays, self.local = unit, fn, bindings, arrays, local

    def apply(self, node):
        if self.arrays & (self.local - {a.arg for a in node.args.args}):
            raise _NotLaneable  # a lane array is reassigned
        node = self.generic_visit(node)
        params = []
        for a in node.args.args:
            params.append(a)
            if a.arg in self.arrays:
                params += [ast.arg(arg=a.arg + "__o"), ast.arg(arg=a.arg + "__n")]
        node.args.args = params + [ast.arg(arg="lane")]
        return node

    @staticmethod
    def _triple(name):
        return [ast.Name(name, ast.Load()), ast.Name(name + "__o", ast.Load()), ast.Name(name + "__n", ast.Load())]

    def _is_array(self, node):
        return isinstance(node, ast.Name) and node.id in self.arrays

    def visit_Subscript(self, node):
        if self._is_array(node.value):
            if isinstance(node.slice, (ast.Slice, ast.Tuple)):
                raise _NotLaneable
            row = ast.BinOp(ast.Name(node.value.id + "__o", ast.Load()), ast.Add(), self.visit(node.slice))
            node.slice = ast.Tuple([row, ast.Name("lane", ast.Load())], ast.Load())
            return node
        if isinstance(node.value, ast.Attribute) and self._is_array(node.value.value):
            if node.value.attr == "shape" and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
                return ast.Name(node.value.value.id + "__n", ast.Load())  # x.shape[0]
            raise _NotLaneable
        return self.generic_visit(node)

    def visit_Attribute(self, node):
        if self._is_array(node.value):
            raise _NotLaneable  # x.shape[0] is handled in visit_Subscript; nothing else is supported
        return self.generic_visit(node)

    def visit_Call(self, node):
        positions = [i for i, a in enumerate(node.args) if self._is_array(a)]
        if isinstance(node.func, ast.Name) and node.func.id == "len" and positions:
            return ast.Name(node.args[0].id + "__n", ast.Load())
        if not positions:
            return self.generic_visit(node)
        if node.keywords or not isinstance(node.func, ast.Name):
            raise _NotLaneable
        callee = self._callee(node.func.id)
        params = [a.arg for a in _tree(callee).args.args]
        lane_params = tuple(params[i] for i in positions)
        node.func = ast.Name(self.unit._paste(callee, self.unit._bindings_of[node.func.id], lane_params), ast.Load())
        args = []
        for i, a in enumerate(node.args):
            args += self._triple(a.id) if i in positions else [self.visit(a)]
        node.args = args + [ast.Name("lane", ast.Load())]
        return node

    def visit_Name(self, node):
        if node.id in self.arrays:
            raise _NotLaneable  # used in a way other than x[i], x.shape or passed to a pasted function
        return node

    def _callee(self, mangled):
        """The Python function behind a name that _Renamer already replaced."""
        if mangled not in self.unit._fn_of:
            raise _NotLaneable  # a library function or a builtin receives a lane array
        return self.unit._fn_of[mangled]
