"""The kernel factory: one compiled kernel per (function, rule, noise, dimension, target), cached on disk.

The kernel's source is generated (source.py pastes the function, the rule, the noise model and a template of
lanes.py or cuda_lanes.py into one module), written into a cache folder under a name that is a digest of that
text, the library modules it imports, Numba's and Python's versions, and then imported, so that Numba's own
on-disk cache works for built-in and user functions alike and no edit can leave a stale kernel behind: a changed
source is a new file. The cache folder is $CLIPCHECK_KERNEL_CACHE, else $XDG_CACHE_HOME/clipcheck (or
~/.cache/clipcheck), else a folder in the system's temporary directory; if none is writable, kernels are compiled
in memory (one warning) and nothing is cached.

CPU kernels are compiled from source in which the calls between pasted functions are already inlined (inline.py:
cheaper than Numba's own inlining, and no copies of the lane arrays whose reference counts would stop the loop
vectoriser), with mathfns' bit casts as LLVM intrinsics (intrinsics.py). Code whose speed does not matter is
compiled once and shared instead of once per kernel: the lane template's cold paths per (dimension, rule state
size), the noise models per math.
"""
import functools
import hashlib
import importlib
import inspect
import os
import sys
import tempfile
import threading
import types
import warnings
from pathlib import Path

import numba

from . import intrinsics, lanes
from . import mathfns as mf
from . import noise as N
from . import rules as R
from .source import Constant, Imported, Paste, Unit, python_function

LANES = 32   # instances stepped side by side per thread: LLVM vectorises the lane loop from 16 lanes up; 32
             # lanes (4 zmm or 8 ymm vectors per pass) were faster than 16 in bench/bench_runner.py (unrecorded)
TARGETS = ("cpu", "cuda", "python")
MATHS = ("clipcheck", "libm")
# imported by (or, for inline, shaping) the generated modules: their sources key the modules' names
_LIBRARY = ("mathfns", "libm", "rng", "atomics", "intrinsics", "inline")
_LOCK = threading.Lock()
_MODULES = {}


def _writable(folder):
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_folder():
    """Where generated kernel modules (and Numba's cache of them) live; None when nothing is writable."""
    tag = f"kernels-numba{numba.__version__}-py{sys.version_info[0]}{sys.version_info[1]}"
    candidates = []
    if os.environ.get("CLIPCHECK_KERNEL_CACHE"):
        candidates.append(Path(os.environ["CLIPCHECK_KERNEL_CACHE"]))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(Path(base) / "clipcheck" / tag)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"clipcheck-{uid}" / tag)
    for folder in candidates:
        if _writable(folder):
            return folder
    return None


_WARNED = []


@functools.lru_cache(maxsize=None)
def _library_digest():
    digest = hashlib.sha1()
    here = Path(__file__).resolve().parent
    for name in _LIBRARY:
        path = here / f"{name}.py"
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _load(emitted, stem):
    """Import the generated module `emitted` (from _emit), from the cache folder when there is one. The module is
    named by a digest of its text before source-level inlining, which is the same function of it (inline.py is
    part of the library digest), so a warm start neither inlines nor compiles anything."""
    key_text, render = emitted
    folder = cache_folder()
    flag = f"_CACHE_ = {folder is not None}"
    key_text = key_text.replace("_CACHE_ = None", flag)
    key = hashlib.sha1(f"{key_text}\n{numba.__version__}\n{sys.version}\n{_library_digest()}".encode()).hexdigest()[:20]
    name = f"clipcheck_kernel_{stem}_{key}"
    with _LOCK:
        if name in _MODULES:
            return _MODULES[name]
        if folder is None:
            if not _WARNED:
                _WARNED.append(True)
                warnings.warn("clipcheck: no writable folder for compiled kernels (set CLIPCHECK_KERNEL_CACHE); "
                              "kernels are compiled in memory and not cached", RuntimeWarning, stacklevel=3)
            module = types.ModuleType(name)
            sys.modules[name] = module  # other generated modules import it by name
            exec(compile(render().replace("_CACHE_ = None", flag), f"<{name}>", "exec"), module.__dict__)
        else:
            path = folder / f"{name}.py"
            if not path.exists():
                tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
                tmp.write_text(render().replace("_CACHE_ = None", flag))
                os.replace(tmp, path)  # atomic: a concurrent process sees the whole file or none
            # imported by name from a folder on sys.path: Numba's cache rebuilds a kernel's environment by
            # importing its module by name, so the module must be importable in any later process
            if str(folder) not in sys.path:
                sys.path.append(str(folder))
            importlib.invalidate_caches()
            module = importlib.import_module(name)
        _MODULES[name] = module
        return module


def _arrays(fn, positions):
    names = list(inspect.signature(python_function(fn)).parameters)
    return tuple(names[i] for i in positions)


def _no_perturb(code, key, tau, a, g, gnorm, out):
    return gnorm


def _exact_gradient(key, tau, a, g, gnorm, out):
    """The CPU kernels' noise model when there is none (a kernel is specialised to one model)."""
    return gnorm


def _no_hess(x, p):
    return 0.0


def _substitutions(math):
    if math not in MATHS:
        raise ValueError(f"math must be one of {', '.join(map(repr, MATHS))}; got {math!r}")
    return {"clipcheck.synthetic.mathfns": "clipcheck.synthetic.libm"} if math == "libm" else {}


def _cpu_replacements():
    """mathfns' bit casts as one LLVM bitcast each in CPU code (see intrinsics.py: `.view` would stop the lane loop
    from vectorising)."""
    return {mf._bits: Imported(intrinsics.__name__, "float_bits"),
            mf._from_bits: Imported(intrinsics.__name__, "bits_float")}


def _emit(unit, entries, target):
    """(the module text as pasted, a function that returns the text to compile): pasted functions, then each
    wrapped for the target (entries: mangled name -> kind). For the CPU the text to compile has the calls between
    pasted functions inlined at the source level (inline.py); a call that inliner leaves (a return inside a loop)
    is inlined at Numba's level (inline='always'), since a call left to LLVM costs a reference count on every array
    argument, which blocks vectorisation. Numba's inliner needs the source file, so a module compiled in memory (no
    cache folder) leaves those as calls."""
    lines = ["_CACHE_ = None", "_INLINE_ = 'always' if _CACHE_ else 'never'", ""]
    if target == "cpu":
        lines.append("import numba as _numba_")
        for name in unit.functions:
            kind = entries.get(name)
            if kind == "parallel":
                lines.append(f"{name} = _numba_.njit(parallel=True, error_model='numpy', cache=_CACHE_)({name})")
            elif kind == "threaded":  # run by several Python threads at once: it must release the GIL
                lines.append(f"{name} = _numba_.njit(nogil=True, error_model='numpy', cache=_CACHE_)({name})")
            elif unit._fn_of[name].__module__ == lanes.__name__:  # the template's cold paths, called by workers
                lines.append(f"{name} = _numba_.njit(nogil=True, error_model='numpy', cache=_CACHE_)({name})")
            elif kind == "entry":
                lines.append(f"{name} = _numba_.njit(error_model='numpy', cache=_CACHE_)({name})")
            else:
                lines.append(f"{name} = _numba_.njit(error_model='numpy', inline=_INLINE_)({name})")
    elif target == "cuda":
        lines.append("from numba import cuda as _cuda_")
        for name in unit.functions:
            device = "" if entries.get(name) else "device=True"
            lines.append(f"{name} = _cuda_.jit({device})({name})")
    tail = "\n".join(lines) + "\n"
    return unit.source() + tail, lambda: unit.source(inline=target == "cpu") + tail


def _function_bindings(fn):
    vg = fn.value_grad
    return vg, dict(getattr(fn, "bindings", {}) or {})


def source_key(fn):
    """What a function's kernels are compiled from: its value_grad and its bindings (hashable; functions with equal
    keys share kernels whatever their parameters)."""
    vg, fb = _function_bindings(fn)
    return vg, tuple(sorted(fb.items(), key=lambda kv: kv[0]))


_BUILT = {}


def _memo(kind, function, *rest):
    """Key of a built kernel: generating and hashing its source costs milliseconds, so a process does it once
    per (function source, bindings, hess_norm, rule, noise, dimension, math)."""
    source = source_key(function) if function is not None else (None, ())
    return (kind, *source, getattr(function, "hess_norm", None)) + rest


def cpu_run_kernel(function, rule, noise, dim, math="clipcheck"):
    """The worker kernel of lanes.py specialised to (value_grad, rule, noise model or None, dimension). The model's
    draw is pasted into the lane loop: called through one function that dispatches on the model (the CUDA kernel's
    way), the call per lane-step and the branch kept the loop from vectorising, and a noisy kernel stepped 18-25
    M steps/s against 283 without noise (bench/RESULTS.md)."""
    key = _memo("run", function, rule, noise.name if noise is not None else None, int(dim), math)
    if key not in _BUILT:
        _BUILT[key] = _cpu_run_kernel(function, rule, noise, dim, math)
    return _BUILT[key]


def _layout(dim, state_size):
    return {"DIM": Constant(int(dim)), "LANES": Constant(LANES), "SK": Constant(int(state_size)),
            **{k: Constant(v) for k, v in lanes.layout(int(dim), int(state_size)).items()}}


def _cold_paths(dim, state_size):
    """The lane template's cold paths (fill, attend, pause) for (DIM, SK): one cached module shared by every
    kernel of that shape, so each new (function, rule) compiles only its hot loop."""
    key = ("cold", int(dim), int(state_size))
    if key not in _BUILT:
        unit = Unit()
        bindings = _layout(dim, state_size)
        names = {n: unit.add(getattr(lanes, n), bindings) for n in ("fill", "attend", "pause")}
        module = _load(_emit(unit, {}, "cpu"), "cold")
        _BUILT[key] = {n.upper(): Imported(module.__name__, m) for n, m in names.items()}
    return _BUILT[key]


def _cpu_run_kernel(function, rule, noise, dim, math):
    unit = Unit(_substitutions(math), _cpu_replacements())
    vg, fb = _function_bindings(function)
    parts = R.parts(rule)
    perturb = noise.perturb if noise is not None else _exact_gradient
    bindings = {
        "VALUE_GRAD": Paste(vg, _arrays(vg, (0, 1, 2)), fb),
        "SCALES": Paste(parts.scales, _arrays(parts.scales, (2, 3)), parts.bindings),
        "BETA": Paste(parts.momentum, _arrays(parts.momentum, (0,))),
        "PERTURB": Paste(perturb, _arrays(perturb, (3, 5))),
        "HAS_NOISE": Constant(noise is not None), "HAS_MOMENTUM": Constant(rule.scales is not None),
        **_layout(dim, rule.state_size), **_cold_paths(dim, rule.state_size),
    }
    entry = unit.add(lanes.worker, bindings)
    module = _load(_emit(unit, {entry: "threaded"}, "cpu"), "run")
    return getattr(module, entry)


INTERLEAVE = 2  # vectors of lanes the CPU hot loop steps side by side (LLVM's loop interleave count), see below


def compile_worker(worker, args):
    """Compile the worker kernel for the types of `args` (or load it from Numba's cache), with LLVM's loop vectoriser
    told to interleave INTERLEAVE vectors of lanes.

    Why: the hot loop is a long chain of dependent arithmetic per vector of lanes (expm1 alone is some 70 operations
    deep), and with one vector per iteration the out-of-order core overlaps too few chains to fill its pipelines;
    interleaving puts two independent chains side by side in each iteration (bench/bench_runner.py's batch, one
    thread: about +6%, bench/RESULTS.md). LLVM chooses the interleave count itself and Numba exposes no per-loop
    switch, so the count is forced through LLVM's command-line option while this one function is compiled, under
    Numba's global compiler lock (no other compilation of the process runs meanwhile), and reset to LLVM's default
    (0: its own choice) after. Interleaving changes which lanes' instructions sit next to each other, never the
    operations of a lane, so the bits are those of any other compilation."""
    if not isinstance(worker, numba.core.dispatcher.Dispatcher):  # e.g. NUMBA_DISABLE_JIT=1: nothing to compile
        return
    seen = _fingerprints(args)
    if seen is not None and (worker, seen) in _COMPILED_FOR:
        return
    types = tuple(numba.typeof(a) for a in args)
    if types not in worker.overloads:
        from llvmlite import binding
        from numba.core.compiler_lock import global_compiler_lock
        with global_compiler_lock:
            binding.set_option("clipcheck", f"-force-vector-interleave={INTERLEAVE}")
            try:
                worker.compile(types)
            finally:
                binding.set_option("clipcheck", "-force-vector-interleave=0")
    if seen is not None:  # only once compiled
        _COMPILED_FOR.add((worker, seen))


_COMPILED_FOR = set()  # (worker, argument fingerprints) that compile_worker has seen


def _fingerprints(args):
    """The arguments' type fingerprints, as Numba's dispatcher computes them to look up the type of an argument (the
    same fingerprint, the same Numba type), or None where Numba offers none: numba.typeof of a run's 29 arguments
    costs about 0.15 ms a call, the fingerprints a few microseconds."""
    try:
        from numba._dispatcher import compute_fingerprint
        return tuple(compute_fingerprint(a) for a in args)
    except Exception:  # a Numba without it, or an argument it has no fingerprint for: typeof decides
        return None


def cuda_run_kernel(function, rule, noise, dim, math="clipcheck"):
    """The CUDA kernel cuda_lanes.run_slice specialised like cpu_run_kernel (one instance per thread)."""
    key = _memo("cuda", function, rule, noise is not None, int(dim), math)
    if key not in _BUILT:
        from . import cuda_lanes  # imports numba.cuda: only when a CUDA kernel is asked for
        unit = Unit(_substitutions(math))
        vg, fb = _function_bindings(function)
        parts = R.parts(rule)
        bindings = {
            "VALUE_GRAD": Paste(vg, (), fb), "SCALES": Paste(parts.scales, (), parts.bindings),
            "BETA": Paste(parts.momentum), "PERTURB": Paste(N.perturb if noise else _no_perturb),
            "HAS_NOISE": Constant(noise is not None), "HAS_MOMENTUM": Constant(rule.scales is not None),
            "DIM": Constant(int(dim)), "SK": Constant(int(rule.state_size)),
            "SK_LOCAL": Constant(max(int(rule.state_size), 1)),
        }
        entry = unit.add(cuda_lanes.run_slice, bindings)
        _BUILT[key] = getattr(_load(_emit(unit, {entry: "kernel"}, "cuda"), "cuda"), entry)
    return _BUILT[key]


def cpu_evaluator(function, dim, math="clipcheck"):
    """lanes.evaluate_points for one function: (X, P, F, G, H) -> fills f, grad f, ||Hess f|| per row of X."""
    key = _memo("eval", function, int(dim), math)
    if key not in _BUILT:
        _BUILT[key] = _cpu_evaluator(function, dim, math)
    return _BUILT[key]


def _cpu_evaluator(function, dim, math):
    unit = Unit(_substitutions(math), _cpu_replacements())
    vg, fb = _function_bindings(function)
    hess = getattr(function, "hess_norm", None)
    bindings = {"VALUE_GRAD_POINT": Paste(vg, (), fb), "HESS_NORM": Paste(hess or _no_hess, (), fb),
                "WITH_HESS": Constant(hess is not None), "DIM": Constant(int(dim))}
    entry = unit.add(lanes.evaluate_points, bindings)
    module = _load(_emit(unit, {entry: "entry"}, "cpu"), "eval")
    return getattr(module, entry)


def cpu_function(fn):
    """A plain scalar function of the library (run._first_impossible) compiled like the kernels: pasted into a
    generated module of the cache folder, so Numba's cache of it lives there, and compiled in memory when nothing is
    writable (a module-level njit(cache=True) would fail on a read-only install with an unwritable HOME)."""
    key = ("fn", fn)
    if key not in _BUILT:
        unit = Unit()
        name = unit.add(fn)
        _BUILT[key] = getattr(_load(_emit(unit, {name: "entry"}, "cpu"), "fn"), name)
    return _BUILT[key]


def python_functions(function, math="clipcheck"):
    """(value_grad, hess_norm or None) as plain Python functions with the function's bindings resolved: the
    arithmetic of the kernels, one point at a time, for reference loops."""
    key = _memo("py", function, math)
    if key not in _BUILT:
        _BUILT[key] = _python_functions(function, math)
    return _BUILT[key]


def _python_functions(function, math):
    unit = Unit(_substitutions(math))
    vg, fb = _function_bindings(function)
    name = unit.add(vg, fb)
    hess = getattr(function, "hess_norm", None)
    hname = unit.add(hess, fb) if hess is not None else None
    module = _load(_emit(unit, {}, "python"), "py")
    return getattr(module, name), (getattr(module, hname) if hname else None)


def python_rule(rule, math="clipcheck"):
    """(scales, momentum) of a rule as plain Python functions (see python_functions)."""
    key = _memo("pyrule", None, rule, math)
    if key in _BUILT:
        return _BUILT[key]
    unit = Unit(_substitutions(math))
    parts = R.parts(rule)
    s = unit.add(parts.scales, parts.bindings)
    m = unit.add(parts.momentum)
    module = _load(_emit(unit, {}, "python"), "pyrule")
    _BUILT[key] = getattr(module, s), getattr(module, m)
    return _BUILT[key]
