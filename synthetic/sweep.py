"""Grids of independent runs with a resumable result store.

A point of a grid is a dict of parameters; its result is stored as one JSON file named by a hash of those
parameters (sorted, so the key does not depend on their order), the moment the point finishes. Rerunning a
sweep reads what is stored and computes only the rest, so an interrupted sweep loses nothing it had finished.
Where the store lives, and which executor runs the points (here, a process pool, a dask cluster), are set by the
caller (`using(store, executor=...)`), so code deep inside a claim can cache and spread work without passing them
around.
"""
import contextlib
import contextvars
import hashlib
import json
import math
import os
import signal
import threading
import uuid
from pathlib import Path

_ACTIVE = contextvars.ContextVar("clipcheck_sweep_store", default=None)
_PROGRESS = contextvars.ContextVar("clipcheck_sweep_progress", default=None)
_EXECUTOR = contextvars.ContextVar("clipcheck_sweep_executor", default=None)

# Held while a result file is written: whoever must end the process at once (the CLI's Ctrl-C watchdog) takes it
# first, so that no write is cut in half.
WRITE_LOCK = threading.RLock()


def _key(params):
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _encode(obj):
    """JSON has no inf/nan: keep them as tagged strings so they come back as floats."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": repr(obj)}
    if isinstance(obj, dict):
        return {k: _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def to_json(obj):
    """The store's JSON: non-finite floats survive the round trip through `from_json`, numpy scalars become
    floats."""
    return json.dumps(_encode(obj), default=float)


def from_json(text):
    return _decode(json.loads(text))


@contextlib.contextmanager
def writing():
    """Hold WRITE_LOCK, and any SIGINT that arrives, until the block is done (Python raises KeyboardInterrupt in
    the main thread only, so elsewhere there is nothing to hold back)."""
    with WRITE_LOCK, _sigint_held_back():
        yield


@contextlib.contextmanager
def _sigint_held_back():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler installed outside Python: leave it alone
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if arrived:
            signal.raise_signal(signal.SIGINT)


def atomic_write(path, text):
    """Write `text` to `path` so that a reader (or a crash, or Ctrl-C) sees either the old file or the whole new
    one: through a temporary file with a unique name in the same folder (two processes writing the same entry
    never share one) and an atomic rename, holding WRITE_LOCK and any SIGINT until it is done."""
    path = Path(path)
    with writing():
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "x") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# what reading a damaged entry raises: unreadable (OSError), not UTF-8 or not JSON (ValueError), not the
# expected structure (KeyError, TypeError)
DAMAGE = (OSError, ValueError, KeyError, TypeError)


def damage_reason(err):
    """A short, one-line reason why an entry could not be used."""
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON: {err.msg} at character {err.pos}"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, (KeyError, TypeError)):
        return "not an entry of this store"
    return str(err).splitlines()[0] if str(err) else type(err).__name__


class Store:
    """One JSON file per finished grid point under `folder`.

    An entry that cannot be read or parsed, or that belongs to other parameters, is a miss: `on_damage(path,
    reason)` (if given) hears of it, and the point is computed again and its file rewritten. With reuse=False
    every entry is a miss (everything is computed again) and results are still stored as they finish."""

    def __init__(self, folder, on_damage=None, reuse=True):
        self.folder = Path(folder)
        self.on_damage, self.reuse = on_damage, reuse

    def _path(self, params):
        return self.folder / f"{_key(params)}.json"

    def get(self, params):
        if not self.reuse:
            return None
        path = self._path(params)
        try:
            doc = from_json(path.read_text())
            if _key(doc["params"]) != _key(from_json(to_json(params))):  # as stored, numpy scalars and all
                raise ValueError("it holds the result of other parameters")
            return doc["result"]
        except FileNotFoundError:
            return None
        except DAMAGE as err:
            if self.on_damage is not None:
                self.on_damage(path, damage_reason(err))
            return None

    def put(self, params, result):
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path(params), to_json({"params": params, "result": result}))


@contextlib.contextmanager
def using(store, progress=None, executor=None):
    """Make `store` the one `cached` and `sweep` use inside this block; `progress(name, done, total)`, if given,
    hears of every finished grid point (library code never prints: the caller decides what to show); `executor`
    (`FuturesExecutor`, `DaskExecutor`, or a plain map) runs the points of every sweep that names none."""
    tokens = _ACTIVE.set(store), _PROGRESS.set(progress), _EXECUTOR.set(executor)
    try:
        yield store
    finally:
        _ACTIVE.reset(tokens[0])
        _PROGRESS.reset(tokens[1])
        _EXECUTOR.reset(tokens[2])


def cached(params, compute):
    """compute() once per distinct params while a store is active (a plain call otherwise)."""
    store = _ACTIVE.get()
    if store is None:
        return compute()
    hit = store.get(params)
    if hit is not None:
        return hit
    result = compute()
    store.put(params, result)
    return result


def sweep(fn, grid, name, map_fn=None):
    """[fn(**point) for point in grid], each point cached under (name, point).

    map_fn is the executor seam: None takes the one set by `using` (else the builtin map, here: the Numba
    runners already use every core); an Executor (`FuturesExecutor(pool)` with a spawn context,
    `DaskExecutor(client)`) hands every point back as it completes; a plain ordered map (an executor's `.map`)
    hands them back in order.
    Each result is stored the moment it is handed back. If the sweep stops (Ctrl-C, a failing point), the points
    that finished elsewhere in the meantime are stored before it re-raises, and the unstarted ones are cancelled.
    """
    grid = [dict(p) for p in grid]
    store = _ACTIVE.get()
    results = [None] * len(grid)
    todo = []
    for i, point in enumerate(grid):
        hit = store.get({"sweep": name, **point}) if store is not None else None
        if hit is None:
            todo.append(i)
        else:
            results[i] = hit
    progress = _PROGRESS.get()
    done = len(grid) - len(todo)

    def keep(j, result):
        i = todo[j]
        results[i] = result
        if store is not None:
            store.put({"sweep": name, **grid[i]}, result)

    runner = map_fn or _EXECUTOR.get() or map
    points = [grid[i] for i in todo]
    batch = runner.start(fn, points) if isinstance(runner, Executor) else _Ordered(runner, fn, points)
    try:
        for j, result in batch:
            keep(j, result)
            done += 1
            if progress is not None:
                progress(name, done, len(grid))
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the error that stopped the sweep is the one to report
            for j, result in batch.finished():
                keep(j, result)
        raise
    finally:
        batch.cancel()
    return results


def _call(task):
    fn, point = task
    return fn(**point)


class Executor:
    """Runs the points of a sweep and hands each result back as soon as it is ready."""

    def start(self, fn, points):
        """A Batch computing fn(**p) for every p in points."""
        raise NotImplementedError


class Batch:
    """Iterating yields (index into points, result) in the order the points finish."""

    def __iter__(self):
        raise NotImplementedError

    def finished(self):
        """(index, result) of the points finished but not yet handed back, without waiting for any."""
        return iter(())

    def cancel(self):
        """Stop the points not started yet (called when the sweep ends, however it ends)."""


class _Ordered(Batch):
    """A plain map (the builtin, an executor's .map): results in the order of the points."""

    def __init__(self, map_fn, fn, points):
        self._results = map_fn(_call, [(fn, p) for p in points])

    def __iter__(self):
        return enumerate(self._results)


class _Futures(Batch):
    """Futures of one sweep, keyed to their index; `as_completed` is the futures library's."""

    def __init__(self, futures, as_completed, succeeded, cancel):
        self._index = dict(zip(futures, range(len(futures))))
        self._as_completed, self._succeeded, self._cancel = as_completed, succeeded, cancel

    def __iter__(self):
        for future in self._as_completed(list(self._index)):
            j = self._index.pop(future)
            yield j, future.result()

    def finished(self):
        for future, j in list(self._index.items()):
            if self._succeeded(future):
                del self._index[future]
                yield j, future.result()

    def cancel(self):
        if self._index:
            self._cancel(list(self._index))
            self._index.clear()


class FuturesExecutor(Executor):
    """Points on a concurrent.futures executor (for processes, create it with a spawn context: Numba's OpenMP
    layer does not survive fork)."""

    def __init__(self, pool):
        self.pool = pool

    def start(self, fn, points):
        import concurrent.futures as cf
        futures = [self.pool.submit(_call, (fn, p)) for p in points]
        return _Futures(futures, cf.as_completed,
                        lambda f: f.done() and not f.cancelled() and f.exception() is None,
                        lambda fs: [f.cancel() for f in fs])


class DaskExecutor(Executor):
    """Points on the workers of a dask.distributed Client (the `dask` extra). Workers should be processes started
    with spawn, or on other machines: Numba's OpenMP layer does not survive fork. A point whose worker dies is
    run again on another (dask's own retry, up to distributed.scheduler.allowed-failures times), so losing a
    worker loses no point."""

    def __init__(self, client):
        self.client = client

    def start(self, fn, points):
        import distributed
        futures = [self.client.submit(_call, (fn, p), pure=False) for p in points]
        return _Futures(futures, distributed.as_completed, lambda f: f.status == "finished", self.client.cancel)


def dask_map(client):
    """The executor for `sweep` that runs its points on a dask.distributed Client's workers."""
    return DaskExecutor(client)
