"""Inline the functions of a generated kernel module into their callers, at the source level.

Numba can inline a call itself (njit(inline="always")), but it does so by copying and re-running its own
pipeline on the callee's IR at every call site: about a third of a kernel's compile time. Its inlined arguments
are also copies of the caller's variables, and every copy of an array costs an NRT_incref/decref pair; where the
pair cannot be pruned (a call with an error path between them), the NRT calls stay in the lane loop and stop LLVM's
vectoriser. Inlining the Python source first avoids both: a callee's body is pasted in place of the call, its
locals renamed apart, and an argument that is a plain name (every lane array, in the lane template) is used as it
is, so no array is ever copied.

`flatten(functions)` takes the pasted functions (name -> `def` text, callees before callers, as source.Unit holds
them) and returns the same names with the calls inlined where that keeps Python's meaning exactly:
- a call that is a whole statement: `y = f(...)`, `a, b = f(...)`, `return f(...)`, `f(...)`;
- a call inside an expression when the callee is pure (it writes no array and calls only pure code): it is first
  computed into a temporary just before the statement, which changes nothing since it has no effect and nothing
  else in the statement has one either; inside a conditional expression (`a if c else f(x)`, `and`, `or`) only
  when the callee is also loop-free and reads no array and its arguments read no array and call nothing, so
  computing it when unused is harmless (a division by zero there gives inf or NaN under Numba's
  error_model='numpy', which the kernels use, and the value is then discarded);
- the callee has plain positional parameters only, and reads no global that a local of the caller shadows;
- the callee's `return`s must be in tail position or in `if` branches (not in loops): each becomes an assignment
  to the call's target (the statements after an `if` that returns in one branch move into the other branch).
Every other call stays a call (Numba then inlines it, as before). Arithmetic is not touched: each operation of the
result is an operation of the original, in the same order, so the bits are the same.
"""
import ast
import copy

_PURE_BUILTINS = {"abs", "min", "max", "float", "int", "bool", "len", "range"}
_PURE_MODULES = ("_m_math", "_m_numpy", "_i_float_bits", "_i_bits_float")


class _NotInlinable(Exception):
    pass


class _Info:
    """What the inliner knows of one (already flattened) function."""

    def __init__(self, node, pure, loop_free, reads_arrays, inlinable):
        self.node, self.pure, self.loop_free, self.reads_arrays, self.inlinable = \
            node, pure, loop_free, reads_arrays, inlinable
        self.params = [a.arg for a in node.args.args]
        self.assigned = _assigned(node.body)
        # names it reads from its module: pasted in a caller that has a local of the same name, they would read
        # the caller's local instead
        self.free = {sub.id for s in node.body for sub in ast.walk(s) if isinstance(sub, ast.Name)
                     and isinstance(sub.ctx, ast.Load)} - self.assigned - set(self.params)


def _assigned(stmts):
    names = set()
    for s in stmts:
        for sub in ast.walk(s):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                names.add(sub.id)
    return names


def _has(nodes, kinds):
    return any(isinstance(sub, kinds) for n in nodes for sub in ast.walk(n))


def _returns_in_loops(stmts):
    for s in stmts:
        for sub in ast.walk(s):
            if isinstance(sub, (ast.For, ast.While)) and _has(sub.body + sub.orelse, ast.Return):
                return True
    return False


class _Flattener:
    def __init__(self):
        self.infos = {}

    # -- what a function is ----------------------------------------------------------------------------------
    def _pure_call(self, call):
        f = call.func
        if isinstance(f, ast.Name):
            info = self.infos.get(f.id)
            return f.id in _PURE_BUILTINS or f.id in _PURE_MODULES or (info is not None and info.pure)
        while isinstance(f, (ast.Attribute, ast.Call)):
            if isinstance(f, ast.Attribute) and f.attr == "random":
                return False  # np.random draws change a state: their order matters
            f = f.value if isinstance(f, ast.Attribute) else f.func
        return isinstance(f, ast.Name) and f.id in _PURE_MODULES   # math.sqrt, np.float64(x).view(...)

    def _describe(self, node):
        body = node.body
        writes = any(isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store)
                     for s in body for sub in ast.walk(s))
        calls = [sub for s in body for sub in ast.walk(s) if isinstance(sub, ast.Call)]
        pure = not writes and all(self._pure_call(c) for c in calls)
        loop_free = not _has(body, (ast.For, ast.While)) and all(
            self.infos[c.func.id].loop_free for c in calls if isinstance(c.func, ast.Name) and c.func.id in self.infos)
        reads = _has(body, ast.Subscript) or any(
            self.infos[c.func.id].reads_arrays for c in calls
            if isinstance(c.func, ast.Name) and c.func.id in self.infos)
        a = node.args  # only plain positional parameters: a default or keyword-only one would need its binding
        plain = not (a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults)
        inlinable = plain and not _returns_in_loops(body) and not _has(
            body, (ast.FunctionDef, ast.Lambda, ast.Global, ast.Nonlocal, ast.Yield, ast.Try, ast.With))
        return _Info(node, pure, loop_free, reads, inlinable)

    # -- flattening one function ---------------------------------------------------------------------------
    def flatten(self, text):
        node = ast.parse(text).body[0]
        self.counter = 0
        self.taken = _assigned(node.body) | {a.arg for a in node.args.args}
        node.body = self._block(node.body)
        ast.fix_missing_locations(node)
        self.infos[node.name] = self._describe(node)
        return ast.unparse(node)

    def _block(self, stmts):
        out = []
        for s in stmts:
            out += self._statement(s)
        return out

    def _statement(self, s):
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list) and not isinstance(s, ast.FunctionDef):
                setattr(s, field, self._block(getattr(s, field)))
        if isinstance(s, (ast.Assign, ast.Return, ast.Expr, ast.AugAssign)) and s.value is not None:
            return self._expression_statement(s)
        return [s]

    def _expression_statement(self, s):
        calls = [c for c in ast.walk(s.value) if isinstance(c, ast.Call)]
        top = s.value if isinstance(s.value, ast.Call) and self._inlinable(s.value) and not isinstance(
            s, ast.AugAssign) and (not isinstance(s, ast.Assign) or len(s.targets) == 1) else None
        before = []
        # pure calls inside the expression (and inside the arguments of the top call) become temporaries, but only
        # when nothing else in the statement has an effect that their early evaluation could be ordered against
        others = [c for c in calls if c is not top]
        if others and all(self._pure_call(c) for c in others):
            s.value = self._hoist(s.value, before, conditional=False, top=top)
        if top is not None:
            try:
                return before + self._inline(top, s)
            except _NotInlinable:
                pass
        return before + [s]

    def _inlinable(self, call):
        info = self.infos.get(call.func.id) if isinstance(call.func, ast.Name) else None
        return info is not None and info.inlinable and not call.keywords and not any(
            isinstance(a, ast.Starred) for a in call.args) and len(call.args) == len(info.params)

    def _hoist(self, expr, before, conditional, top):
        """expr with its inlinable pure calls (innermost first) replaced by temporaries assigned in `before`."""
        if isinstance(expr, (ast.IfExp, ast.BoolOp)):
            parts = [expr.test, expr.body, expr.orelse] if isinstance(expr, ast.IfExp) else expr.values
            first, rest = parts[0], parts[1:]
            new_first = self._hoist(first, before, conditional, None)
            new_rest = [self._hoist(p, before, True, None) for p in rest]
            if isinstance(expr, ast.IfExp):
                expr.test, expr.body, expr.orelse = new_first, new_rest[0], new_rest[1]
            else:
                expr.values = [new_first] + new_rest
            return expr
        if isinstance(expr, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return expr
        for field, value in ast.iter_fields(expr):
            if isinstance(value, ast.expr):
                setattr(expr, field, self._hoist(value, before, conditional, None))
            elif isinstance(value, list):
                setattr(expr, field, [self._hoist(v, before, conditional, None) if isinstance(v, ast.expr) else v
                                      for v in value])
        if isinstance(expr, ast.Call) and expr is not top and self._inlinable(expr):
            info = self.infos[expr.func.id]
            # under a condition, the call and its arguments are computed even when unused: only for callees
            # without loops or array reads, and arguments without array reads or calls (X[i] could be out of bounds)
            simple_args = not _has(expr.args, (ast.Subscript, ast.Call))
            if info.pure and (not conditional or (info.loop_free and not info.reads_arrays and simple_args)):
                temp = self._fresh("t")
                target = ast.Name(temp, ast.Store())
                try:
                    before += self._inline(expr, ast.Assign([target], expr))
                    return ast.Name(temp, ast.Load())
                except _NotInlinable:
                    pass
        return expr

    def _fresh(self, stem):
        self.counter += 1
        name = f"{stem}__i{self.counter}"
        while name in self.taken:
            self.counter += 1
            name = f"{stem}__i{self.counter}"
        self.taken.add(name)
        return name

    def _inline(self, call, stmt):
        """The statements that replace `stmt`, whose value is `call`."""
        info = self.infos[call.func.id]
        if info.free & self.taken:
            raise _NotInlinable  # the callee reads a global that a local of the caller would shadow
        suffix = self._fresh("")  # a suffix of this call site, under which no caller name exists
        while any(n + suffix in self.taken for n in info.assigned | set(info.params)):
            suffix = self._fresh("")
        rename, substitute, prologue = {}, {}, []
        for param, arg in zip(info.params, call.args):
            if param not in info.assigned and isinstance(arg, (ast.Name, ast.Constant)):
                substitute[param] = arg
            else:
                rename[param] = param + suffix
                prologue.append(ast.Assign([ast.Name(param + suffix, ast.Store())], arg))
        for name in info.assigned:
            rename.setdefault(name, name + suffix)
        self.taken.update(rename.values())
        body = [s for s in copy.deepcopy(info.node.body)
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]  # docstrings
        body = [_Rename(rename, substitute).visit(s) for s in body]

        def on_return(value):
            value = value if value is not None else ast.Constant(None)
            if isinstance(stmt, ast.Return):
                return [ast.Return(value)]
            if isinstance(stmt, ast.Assign):
                return [ast.Assign([copy.deepcopy(stmt.targets[0])], value)]
            return [ast.Expr(value)]

        out, falls_through = _tail(body, on_return)
        if falls_through and not isinstance(stmt, ast.Expr):
            if isinstance(stmt, ast.Return):
                out.append(ast.Return(ast.Constant(None)))
            else:
                raise _NotInlinable  # a value is expected but some path returns nothing
        return prologue + (out or [ast.Pass()])


def _tail(stmts, on_return):
    """(statements, falls_through): stmts with every `return v` replaced by on_return(v), for returns in tail
    position or in if-branches; the statements after an if that returns in a branch move into its branches (so a
    callee with k such guards in a row is pasted with up to 2^k copies of its tail: fine for the few guards of
    scalar code, a compile-time cost for a long chain)."""
    out = []
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Return):
            return out + on_return(s.value), False
        if _has([s], ast.Return):
            if not isinstance(s, ast.If):
                raise _NotInlinable
            rest = stmts[i + 1:]
            body, fb = _tail(s.body + copy.deepcopy(rest), on_return)
            orelse, fo = _tail(list(s.orelse) + copy.deepcopy(rest), on_return)
            return out + [ast.If(s.test, body or [ast.Pass()], orelse or [ast.Pass()])], fb or fo
        out.append(s)
    return out, True


class _Rename(ast.NodeTransformer):
    def __init__(self, rename, substitute):
        self.rename, self.substitute = rename, substitute

    def visit_Name(self, node):
        if node.id in self.substitute and isinstance(node.ctx, ast.Load):
            return ast.copy_location(copy.deepcopy(self.substitute[node.id]), node)
        if node.id in self.rename:
            node.id = self.rename[node.id]
        return node


def flatten(functions):
    """{name: def text} (callees first) -> {name: def text with calls inlined} (see the module docstring)."""
    flattener = _Flattener()
    return {name: flattener.flatten(text) for name, text in functions.items()}
