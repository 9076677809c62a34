"""`run`: validate a batch at the boundary, pack it, run the specialised kernel in slices, check, one RunResult.

Instances whose functions share one value_grad source (e.g. f_exp with different (L0, L1)) share one kernel, with
one parameter row each; a batch mixing sources runs one kernel per source. Kernels run in slices of bounded work
(on the CPU, about SLICE_SECONDS at the rate of the slices before), so Ctrl-C is honoured between slices, within
about a second: the run stops and KeyboardInterrupt reaches the caller, whose finished work is its own to keep.

Packing costs little Python per call (issue 12 asks <= 2 ms per 200,000 instances; bench/bench_runner.py prints
it): an argument given as a scalar is passed to the kernels as one row shared by all instances (lanes.row), not
copied per instance, the work of a call is proportional to the arrays it must return, the kernels check each result
as they write it (no second pass over the batch), and the helper threads live as long as the process.
"""
import contextlib
import math
import os
import queue
import signal
import threading
import time

import numba
import numpy as np

from clipcheck.theory.validation import as_finite, choice, count, strict_number

from . import kernels, lanes
from . import noise as N
from . import rules as R
from . import union
from .functions import Function
from .lanes import RUNNING
from .result import RunResult

BACKENDS = ("cpu", "cuda")
STOPS = {"grad": 0, "gap": 1, "never": 2}  # the codes of lanes.STOP_GRAD, STOP_GAP, STOP_NEVER
MAX_ITER = 2**62          # t + 1 and budgets stay far from int64 overflow
SLICE_STEPS = 2**24       # instance-steps of the first CPU slice (about 35 ms on two cores for f_exp, clipped GD)
SLICE_SECONDS = 0.1       # later slices: the steps the run has been doing in this time (at least SLICE_STEPS)
# A union kernel steps about 3x slower than a member's own (it branches on the member in the lane loop), and a
# member's own kernel costs about 2 s to compile cold: a union group that has run this long per member goes on in
# its members' own kernels (ski rental: the time lost to the union then matches the compiles it saved)
UNION_SECONDS_PER_MEMBER = 3.0


def _per_instance(name, value, n, *, positive=False, nonnegative=False):
    """value as floats: one entry per instance, or one entry shared by all when given as a scalar."""
    if type(value) is float and math.isfinite(value) and not (positive and value <= 0) and not (
            nonnegative and value < 0):  # the common case, without NumPy's costs per call (the errors below)
        return np.array([value])
    arr = as_finite(name, value)
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    if arr.ndim == 0:
        return arr.reshape(1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one entry per row of x0 ({n}), got shape {arr.shape}")
    return arr.astype(float)


def _integers(name, value, n, low, high):
    """value as int64: one entry per instance, or one entry shared by all when given as a scalar."""
    if type(value) is int and low <= value <= high:  # the common case, without NumPy's costs per call
        return np.array([value], np.int64)
    arr = strict_number(name, value)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)) or np.any(arr < low) or np.any(arr > high):
        raise ValueError(f"{name} must be integers in [{low}, {high}], got {value!r}")
    if arr.ndim == 0:
        return np.array([int(arr)], np.int64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one entry per row of x0 ({n}), got shape {arr.shape}")
    return np.array([int(v) for v in arr.tolist()], np.int64) if arr.dtype.kind == "f" else arr.astype(np.int64)


def _functions(function, n):
    if isinstance(function, Function):
        return [function] * n
    fns = list(function)
    if not all(isinstance(f, Function) for f in fns):
        stray = next(f for f in fns if not isinstance(f, Function))
        raise ValueError(f"function must be a clipcheck.synthetic.Function (or one per row of x0), got "
                         f"{type(stray).__name__}")
    if len(fns) != n:
        raise ValueError(f"function: give one Function or one per row of x0 ({n}), got {len(fns)}")
    return fns


class _Rows:
    """The functions of a batch given one per row, as its distinct Function objects (in order of first appearance)
    and each row's index among them: a batch repeats a few objects, and per-object work with NumPy indexing costs
    about 0.1 us a row where a Python step per row costs about 1 us. rows[i] is row i's Function."""

    def __init__(self, fns):
        ids = np.fromiter(map(id, fns), np.uint64, len(fns))
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        rank = np.argsort(first, kind="stable")  # np.unique orders by id; the objects go in order of appearance
        position = np.empty_like(rank)
        position[rank] = np.arange(rank.size)
        self.objects = [fns[i] for i in first[rank].tolist()]
        self.index = position[inverse.ravel()]

    def mapped(self, fn):
        """The batch with fn applied to each distinct object."""
        out = _Rows.__new__(_Rows)
        out.objects, out.index = [fn(f) for f in self.objects], self.index
        return out

    def rows_of(self):
        """Each object's rows, ascending."""
        order = np.argsort(self.index, kind="stable")
        return np.split(order, np.cumsum(np.bincount(self.index, minlength=len(self.objects)))[:-1])

    def __getitem__(self, i):
        return self.objects[self.index[i]]


def _points(x0, function):
    """x0 as (n, d): shape (n,) is n points of the line, unless the function is of fixed d > 1 and x0 has d
    entries (one point). The caller's array itself (or a view of it) when it is a writeable C-contiguous float64
    array: the CPU kernels only read it (copying 200,000 starts cost about 0.3 ms, mostly page faults)."""
    value = x0
    x0 = strict_number("x0", value)
    if x0.dtype != np.float64 or not x0.flags.writeable:  # a converted copy (a read-only array is another Numba type)
        x0 = as_finite("x0", value)
    elif not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be finite, got {value!r}")
    dim = function.dim if isinstance(function, Function) else None
    if x0.ndim == 0:
        x0 = x0[None]
    if x0.ndim == 1:
        x0 = x0[None, :] if dim is not None and dim > 1 and x0.shape[0] == dim else x0[:, None]
    if x0.ndim != 2 or x0.shape[0] == 0 or x0.shape[1] == 0:
        raise ValueError(f"x0 must have shape (n,) or (n, d) with n, d >= 1, got {x0.shape}")
    return np.ascontiguousarray(x0, dtype=float)


def _checkpoints(record, budgets):
    if record is None:
        return np.zeros(0, np.int64)
    arr = strict_number("record", record)
    if arr.ndim == 0:
        last = count("record", record, minimum=0, maximum=10**7)
        return np.arange(min(last, int(budgets.max())) + 1, dtype=np.int64)
    ck = np.asarray(arr, float).ravel()
    if ck.size and (np.any(ck != np.floor(ck)) or np.any(ck < 0) or np.any(np.diff(ck) <= 0)):
        raise ValueError("record must be an integer N (record t = 0..N) or increasing integers >= 0")
    return ck[ck <= budgets.max()].astype(np.int64)


class _Interrupt:
    """While a run is in a kernel, SIGINT only sets a flag (an exception raised inside a Numba kernel comes back
    as a SystemError); the run raises KeyboardInterrupt between slices. Only in the main thread, and only when
    Python's default handler is installed (a caller's own handler is left alone)."""

    def __enter__(self):
        self.hit, self.previous = False, None
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._set)
        return self

    def _set(self, signum, frame):
        self.hit = True

    def check(self):
        if self.hit:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def run(function, rule, x0, eps, max_iter, noise=None, tau=0.0, seed=0, backend="cpu", stop="grad", record=None,
        noise_params=None, math="clipcheck", streams=None, **rule_params):
    """Run `rule` on `function` from every row of x0 until the target is met or max_iter steps are taken.

    function      a Function, or one Function per row of x0 (rows sharing a value_grad share one kernel)
    rule          a name of rules.RULES or a Rule; its parameters as keywords (scalar or one per instance)
    x0            (n,) points of the line, or (n, d); a single point of R^d for a function of fixed d
    eps           target (> 0): ||grad f|| <= eps (stop="grad"), f - f* <= eps (stop="gap"); or stop="never":
                  run all max_iter steps and report the first t that met ||grad f|| <= eps
    max_iter      budget of steps, 1 .. 2^62, scalar or per instance
    noise         None, or a name of noise.NOISES: the oracle is grad f + xi, xi of size tau (>= 0), drawn from
                  (seed, stream, t); noise_params gives the model's shape parameter (p_plus, df)
    seed, streams integers in [0, 2^63 - 1] (streams default 0..n-1): instance i's noise depends only on
                  (seed_i, streams_i, t), so results do not depend on threads, chunking or backend
    backend       "cpu" (Numba, all cores) or "cuda" (numba-cuda; the simulator with NUMBA_ENABLE_CUDASIM=1)
    record        None, N (record t = 0..N) or increasing iterations: trace of f, ||grad f|| and x
    math          "clipcheck" (the library's own exp/expm1/log1p) or "libm" (the platform's)
    Returns a RunResult. Bad input raises ValueError naming the argument.
    """
    choice("backend", backend, BACKENDS)
    choice("stop", stop, tuple(STOPS))
    rule = R.get(rule)
    model = N.get(noise)
    single = isinstance(function, Function)
    first = function if single else next(iter(function), None)
    X0 = _points(x0, first)  # possibly the caller's array: never written
    n, dim = X0.shape
    fns = function if single else _Rows(_functions(function, n))  # one Function, or one per instance
    for f in ([function] if single else fns.objects):
        if f.dim is not None and f.dim != dim:
            raise ValueError(f"x0: {f.name} is a function of R^{f.dim}, got points of R^{dim}")
    if dim == 1:  # radial lifts run as their profile on the line: the same numbers, less arithmetic
        fns = function = function.on_dim(1) if single else fns.mapped(lambda f: f.on_dim(1))
    budgets = _integers("max_iter", max_iter, n, 1, MAX_ITER)
    eps_arr = _per_instance("eps", eps, n, positive=True)
    tau_arr = _per_instance("tau", tau, n, nonnegative=True)
    if model is None and np.any(tau_arr != 0):
        raise ValueError("tau: a noise size needs a noise model (noise=...)")
    shape = model.shape(dict(noise_params or {})) if model else 0.0
    if not model and noise_params:
        raise ValueError("noise_params: given without a noise model")
    seeds = _integers("seed", seed, n, 0, 2**63 - 1)
    if streams is not None:
        streams = _integers("streams", streams, n, 0, 2**63 - 1)
    else:  # streams 0..n-1; without noise they are never read
        streams = np.arange(n, dtype=np.int64) if model else np.zeros(1, np.int64)
    values = rule.values(rule_params, tau=(tau_arr if tau_arr.size > 1 else tau_arr[0]) if model else 0.0)
    columns = [_per_instance(rule.param_names[j], v, n) for j, v in enumerate(values)]
    Q = np.zeros((max((c.size for c in columns), default=1), max(len(values), 1)))
    for j, c in enumerate(columns):
        Q[:, j] = c
    f_star = np.array([function.f_star]) if single else np.array([f.f_star for f in fns.objects])[fns.index]
    if stop == "gap" and not np.all(np.isfinite(f_star)):
        raise ValueError("stop='gap' needs a finite f_star for every function")
    ck = _checkpoints(record, budgets)
    _check_starts(function, fns, X0)

    S = np.empty((n, rule.state_size))
    S[:] = np.asarray(rule.init_state or (0.0,) * rule.state_size, float)
    # X: the CPU kernels read an instance's start from X0 and write X when it pauses or finishes (every instance
    # finishes); zeros where the kernels need initial values, and one shared row of them where the values cannot
    # change (lanes.py): MOM without momentum, HIT (1 + the first t that met the target) unless stop is "never", RJ
    # without a trace; F and G are written when an instance finishes (and _check refuses a status that is not final)
    rows_of = {"MOM": n if rule.scales is not None else 1, "HIT": n if stop == "never" else 1,
               "RJ": n if ck.size else 1}
    state = {
        "X0": X0, "X": X0.copy() if backend == "cuda" else np.empty((n, dim)), "T": np.zeros(n, np.int64), "S": S,
        "MOM": np.zeros((rows_of["MOM"], dim)),
        "HIT": np.zeros(rows_of["HIT"], np.int64), "RJ": np.zeros(rows_of["RJ"], np.int64),
        "STATUS": np.full(n, RUNNING, np.int8), "F": np.empty(n), "G": np.empty(n),
        "RF": np.full((n, ck.size), np.nan), "RG": np.full((n, ck.size), np.nan),
        "RX": np.full((n, ck.size, dim), np.nan),
    }
    # FSTAR: f* is read only by stop "gap", which needs it finite; elsewhere 0 stands in for an infinite one
    common = {"EPS": eps_arr, "FSTAR": np.where(np.isfinite(f_star), f_star, 0.0), "MAXIT": budgets, "Q": Q,
              "SEED": seeds, "STREAM": streams, "TAU": tau_arr, "NA": np.array([shape], float),
              "CK": np.append(ck, -1),
              "NOISE": N.CODES[model.name] if model else -1}  # the CUDA kernel's (a CPU kernel has one model)
    tally = np.zeros(2, np.int64)  # the CPU kernels' counts of finished instances and of impossible results
    with _Interrupt() as interrupt:
        for kernel_fn, rows, P, members in _groups(function, fns, n):
            if backend == "cpu":
                tally += _run_cpu(kernel_fn, rule, model, dim, math, rows, P, stop, state, common, interrupt,
                                  members)
            else:
                from . import cuda
                cuda.run_rows(kernel_fn, rule, model, dim, math, rows, P, STOPS[stop], state, common, interrupt)
    if backend != "cpu" or tally[0] != n or tally[1] != 0:  # the CPU kernels checked each result as they wrote it
        _check(state, fns, eps_arr, f_star, budgets, stop)
        if backend == "cpu":
            raise RuntimeError(f"internal: the kernels finished {int(tally[0])} of {n} instances and flagged "
                               f"{int(tally[1])} results as impossible or finished twice; please report this")
    names = function.name if single else (fns.objects[0].name if len({f.name for f in fns.objects}) == 1 else
                                          [fns.objects[k].name for k in fns.index.tolist()])
    meta = {"functions": names, "rule": rule.name, "backend": backend, "n": n,
            "dim": dim, "eps": _compact(eps_arr), "max_iter": _compact(budgets), "stop": stop, "math": math,
            "rule_params": {p: _compact(v) for p, v in zip(rule.param_names, Q.T)},
            "noise": model.name if model else None,
            "noise_assumption": model.assumption if model else N.NONE_ASSUMPTION}
    if model:
        meta.update({"tau": _compact(tau_arr), "seed": _compact(seeds)})
        if model.param:
            meta[model.param] = shape
    trace = None
    if ck.size:
        trace = {"t": ck, "f": state["RF"], "grad_norm": state["RG"], "x": state["RX"]}
    return RunResult(state["T"], state["STATUS"], state["F"], state["G"], state["X"], meta, trace)


def _groups(function, fns, n):
    """(function of the kernel, rows, P, members) per kernel: the rows it runs (a new array, which the CPU runner
    uses as its queue; None for every row in order) and the parameter matrix P (one row per instance, padded with
    zeros; rows of other groups stay zero), or one row for all instances when they share one Function (the kernels
    read row 0 of a one-row P). fns: the batch's _Rows. Rows whose functions share a value_grad (and bindings) share
    a kernel; up to union.MAX_MEMBERS different ones share a union kernel (union.py), since a cold compile costs
    more than the dispatch on the member; `members` is then the union's functions in the order of their index in
    P's last column, else None."""
    if isinstance(function, Function):  # the common case: no per-row Python work, no copy per instance
        p = function.params if function.params.size else np.zeros(1)
        yield function, None, np.ascontiguousarray(p, dtype=float).reshape(1, p.size), None  # every row, in order
        return
    groups = {}  # source -> [(object, its rows)], in order of first appearance
    for f, rows in zip(fns.objects, fns.rows_of()):
        groups.setdefault(kernels.source_key(f), []).append((f, rows))
    mergeable, alone = [], []
    for m in groups.values():
        (alone if union.reads_length(m[0][0]) else mergeable).append(m)
    chunks = [mergeable[k:k + union.MAX_MEMBERS] for k in range(0, len(mergeable), union.MAX_MEMBERS)] + \
        [[m] for m in alone]
    for chunk in chunks:
        rows = np.sort(np.concatenate([r for m in chunk for _, r in m]))
        widest = max(f.params.size for m in chunk for f, _ in m)
        if len(chunk) == 1:
            P = np.zeros((n, max(widest, 1)))
            for f, r in chunk[0]:
                P[r, :f.params.size] = f.params
            yield chunk[0][0][0], rows, P, None
            continue
        members = [m[0][0] for m in chunk]
        kernel_fn = union.union(members)
        P = np.zeros((n, widest + 1))
        for j, m in enumerate(chunk):
            for f, r in m:
                P[r] = union.row(j, f.params, widest + 1)
        yield kernel_fn, rows, P, members


def _run_cpu(function, rule, model, dim, math_, rows, P, stop, state, common, interrupt, members=None):
    """Slices of the worker kernel, run by one Python thread per core (the kernel releases the GIL); the workers
    share the queue and the step budget of a slice through atomic counters, so a slow core holds no one up.
    A union kernel (members given) that has run UNION_SECONDS_PER_MEMBER per member hands the instances it has not
    finished to its members' own kernels, which resume them from their saved state: the same arithmetic per
    instance (a member reads only the leading entries of its row of P), so the same bits.
    Returns the kernels' counts (lanes.py): [instances finished, results found impossible]."""
    worker = kernels.cpu_run_kernel(function, rule, model, dim, math_)
    if P.shape[0] not in (1, state["X"].shape[0]):  # the kernels read row 0 of a one-row P, else row i
        raise RuntimeError(f"internal: parameter matrix of {P.shape[0]} rows for {state['X'].shape[0]} instances")
    s, c = state, common
    # The queue: positions start.. are what is left to run, instance order[k] at position k below `until` and k
    # itself from there on (lanes.py). A slice takes positions from cursor[0] on and writes the instances it paused
    # (at most LANES per worker) to order[start:], counting them in cursor[2]; they go back just before the untaken
    # rest, so a slice costs Python time independent of the batch's size.
    # A slice is about SLICE_SECONDS of work at the rate of the slices before it: Ctrl-C waits about that long,
    # and a fast kernel does not pay the Python and thread start-up of a slice every few milliseconds.
    n = state["X"].shape[0]
    if rows is None:  # every row in order: the identity needs no array, only room for the paused instances
        order, until = np.empty(n, np.int64), 0
    else:  # _groups makes a new array per group: it is written in place
        order, until = rows, rows.size
    start = 0
    budget = SLICE_STEPS
    compiled = False
    tally = np.zeros(2, np.int64)
    count = numba.get_num_threads() - 1  # helper threads besides this one
    split_after = math.inf if members is None else UNION_SECONDS_PER_MEMBER * len(members)
    with _lend() as helpers:
        while start < order.size:
            cursor = np.array([start, start, 0, until], np.int64)
            spent = np.zeros(3, np.int64)  # steps, instances finished, impossible results (lanes.py)
            args = (order, cursor, spent, budget, P, s["X0"], s["X"], s["T"], s["S"], s["MOM"], s["HIT"],
                    s["RJ"], s["STATUS"], s["F"], s["G"], c["EPS"], c["FSTAR"], c["MAXIT"], c["Q"], c["SEED"],
                    c["STREAM"], c["TAU"], c["NA"], STOPS[stop], c["CK"], s["RF"], s["RG"], s["RX"])
            if not compiled:  # the argument types are those of every slice
                kernels.compile_worker(worker, args)
                compiled, ran_since = True, time.perf_counter()
            workers = min(count + 1, -(-(order.size - start) // kernels.LANES))
            began = time.perf_counter()
            helpers.run_slice(worker, args, workers - 1)
            interrupt.check()
            tally += spent[1:]
            rate = int(spent[0]) / max(time.perf_counter() - began, 1e-6)
            budget = max(SLICE_STEPS, min(int(rate * SLICE_SECONDS), 2**40))
            taken, paused = min(int(cursor[0]), order.size), int(cursor[2])
            order[taken - paused:taken] = order[start:start + paused].copy()
            start = taken - paused
            until = max(until, taken)
            if time.perf_counter() - ran_since > split_after:
                break
    if start < order.size:  # a union that ran long: its unfinished instances go on in their members' kernels
        left = order[start:]  # a union group has rows, so every position names its instance (until = rows.size)
        member = P[left, -1]
        for j, fn in enumerate(members):
            mine = left[member == j]
            if mine.size:
                tally += _run_cpu(fn, rule, model, dim, math_, mine, P, stop, state, common, interrupt)
    return tally


class _Slice:
    """One slice given to `given` helpers, and how many of them started and ended it. The caller waits on these
    counts, not on a number of wake-ups, so an exception that lands anywhere while it waits (even inside threading's
    own code, after a wake-up was taken) cannot make it wait for one that never comes, and no wake-up is left over
    for a later slice. A closed slice is skipped by the helpers that come to it later (a slice of the kernels is
    done by however many workers take part)."""

    def __init__(self, worker, args, given):
        self.worker, self.args, self.given = worker, args, given
        self.lock = threading.Lock()
        self.wake = threading.Semaphore(0)  # one release per helper call that ended; only a wake-up, counts decide
        self.started = self.ended = 0
        self.closed = False
        self.error = None

    def work(self):
        """A helper's part: run the worker unless the slice is closed."""
        with self.lock:
            if self.closed:
                return
            self.started += 1
        try:
            self.worker(*self.args)
        except BaseException as e:  # re-raised in the caller's thread
            if self.error is None:
                self.error = e
        finally:
            with self.lock:
                self.ended += 1
            self.wake.release()

    def settle(self, every):
        """Return when no helper runs the slice: with every, once every helper it was given to has run it; else
        close it first and wait only for those that started it."""
        if not every:
            with self.lock:
                self.closed = True
        while True:
            with self.lock:
                if self.ended == (self.started if self.closed else self.given):
                    return
            self.wake.acquire()


class _Helpers:
    """Worker threads besides the caller's. run_slice(worker, args, k) has k of them run worker(*args) while the
    calling thread runs it too, and returns (or raises what the caller's call raised) only when all are done. When
    an exception (e.g. KeyboardInterrupt from a caller's own SIGINT handler, or SystemExit from another handler)
    lands while run_slice hands the slice out or waits, it closes the slice to helpers that have not started it and
    raises once those that have are done. So no worker writes to a run's arrays after run_slice has returned, and
    nothing of one slice (a wake-up, an error) is left for the next; only a second exception landing within the
    microseconds that the first one's handling takes can still escape early. The threads are started on first need
    and kept: one set for the whole process (`_lend`), since starting a thread costs about 0.1 ms; stop() ends
    them."""

    def __init__(self):
        self.inboxes, self.threads = [], []  # one queue of slices per helper thread
        self.lock = threading.Lock()  # held by the run the helpers are lent to

    def _loop(self, j):
        while True:
            piece = self.inboxes[j].get()
            if piece is None:  # told to stop
                return
            piece.work()

    def run_slice(self, worker, args, k):
        while len(self.threads) < k:
            self.inboxes.append(queue.SimpleQueue())
            t = threading.Thread(target=self._loop, args=(len(self.threads),), daemon=True,
                                 name=f"clipcheck-helper-{len(self.threads)}")
            t.start()
            self.threads.append(t)
        piece = _Slice(worker, args, k)
        handed = False
        try:
            for j in range(k):
                self.inboxes[j].put(piece)
            handed = True
            worker(*args)
        finally:
            raised = None
            while True:  # whatever lands while waiting, wait on: the helpers write to the run's arrays
                try:
                    piece.settle(every=handed and raised is None)
                    break
                except BaseException as e:
                    raised = e if raised is None else raised
            # no helper reads the slice from here on, but an idle one still refers to it (and the process keeps the
            # helpers): let go of the run's arrays
            error, piece.worker, piece.args, piece.error = piece.error, None, None, None
            if raised is not None:
                raise raised
        if error is not None:
            raise error

    def stop(self):
        """End the threads, after whatever they were given."""
        for inbox in self.inboxes:
            inbox.put(None)
        for t in self.threads:
            t.join()


_POOL = [_Helpers()]  # the process's helpers; a list, so that a forked child can replace them (it has no threads)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _POOL.__setitem__(0, _Helpers()))


@contextlib.contextmanager
def _lend():
    """The process's helpers for one run; a run that finds them lent to another thread's run starts its own, and
    ends them when it is done."""
    pool = _POOL[0]
    shared = pool.lock.acquire(blocking=False)
    if not shared:
        pool = _Helpers()
    try:
        yield pool
    finally:
        if shared:
            pool.lock.release()
        else:
            pool.stop()


def _check_starts(function, fns, X0):
    """A function given as code (not a lifted profile of the catalogue) must be finite at every x0: a user's
    function that returns NaN there gets a one-line error naming the row, not a "diverged" status."""
    single = isinstance(function, Function)
    for k, f in enumerate([function] if single else fns.objects):
        if f.profile is not None:
            continue
        rows = np.arange(X0.shape[0]) if single else np.flatnonzero(fns.index == k)
        F, G, _ = f.evaluate(X0[rows])
        bad = ~(np.isfinite(F) & np.all(np.isfinite(G), axis=1))
        if np.any(bad):
            i = int(np.asarray(rows)[np.flatnonzero(bad)[0]])
            raise ValueError(f"x0: {f.name} is not finite at row {i} (f = {F[bad][0]!r})")


def _check(state, fns, eps, f_star, budgets, stop):
    """Whatever came back from a kernel is checked: an impossible result is an error naming the instance, never
    a row of a table. run calls it after every CUDA run, and after a CPU run whose kernels counted an impossible
    result, an instance finished twice, or fewer (or more) finished instances than the batch has (they check each
    result as they write it, lanes.attend).
    fns: one Function, or one per instance; eps, f_star, budgets: one entry per instance or one for all."""
    status, T, F, G = state["STATUS"], state["T"], state["F"], state["G"]
    first_impossible = kernels.cpu_function(_first_impossible)
    if first_impossible(status, T, F, G, eps, f_star, budgets, STOPS[stop], False) < 0:
        return
    i = first_impossible(status, T, F, G, eps, f_star, budgets, STOPS[stop], True)
    name = fns.name if isinstance(fns, Function) else fns[i].name
    raise RuntimeError(f"kernel returned an impossible result for instance {i} ({name}): status "
                       f"{int(status[i])}, iterations {int(T[i])}, f {F[i]!r}, ||grad f|| {G[i]!r}; please "
                       "report this")


def _first_impossible(status, T, F, G, eps, f_star, budgets, stop, search):
    """Whether some instance's result cannot be (lanes.impossible: the test the CPU kernels apply to each result as
    they write it). -1 if none; else, with search, the first such instance, and without, the number of instances.
    One compiled pass (kernels.cpu_function); without search it has no branch, so LLVM vectorises it."""
    ke, kb, kf = eps.shape[0] > 1, budgets.shape[0] > 1, f_star.shape[0] > 1  # one entry per instance, or one
    n = status.shape[0]
    raised = 0
    for i in range(n):
        bad = lanes.impossible(status[i], T[i], F[i], G[i], eps[i if ke else 0], f_star[i if kf else 0],
                               budgets[i if kb else 0], stop)
        if search and bad:
            return i
        raised |= bad
    return n if raised else -1


def _compact(values):
    """One value when all agree, else the list (for the result's metadata)."""
    values = np.asarray(values)
    if values.size == 1:
        return values.item()
    return values.ravel()[0].item() if values.size and np.all(values == values.ravel()[0]) else values.tolist()
