"""Grids of independent runs with a resumable result store.

A point of a grid is a dict of parameters; its result is stored as one JSON file named by a hash of those
parameters (sorted, so the key does not depend on their order). Rerunning a sweep reads what is stored and
computes only the rest, so an interrupted sweep loses nothing it had finished. Where the store lives is set
by the caller (`using(store)`), so code deep inside a claim can cache without passing a store around.
"""
import contextlib
import contextvars
import hashlib
import json
import math
from pathlib import Path

_ACTIVE = contextvars.ContextVar("clipcheck_sweep_store", default=None)
_PROGRESS = contextvars.ContextVar("clipcheck_sweep_progress", default=None)


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


class Store:
    """One JSON file per finished grid point under `folder`."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def _path(self, params):
        return self.folder / f"{_key(params)}.json"

    def get(self, params):
        path = self._path(params)
        if not path.exists():
            return None
        return _decode(json.loads(path.read_text())["result"])

    def put(self, params, result):
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(params)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"params": _encode(params), "result": _encode(result)}, default=float))
        tmp.replace(path)  # atomic: an interrupted write leaves no half a result


@contextlib.contextmanager
def using(store, progress=None):
    """Make `store` the one `cached` and `sweep` use inside this block; `progress(name, done, total)`, if given,
    hears of every finished grid point (library code never prints: the caller decides what to show)."""
    tokens = _ACTIVE.set(store), _PROGRESS.set(progress)
    try:
        yield store
    finally:
        _ACTIVE.reset(tokens[0])
        _PROGRESS.reset(tokens[1])


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


def sweep(fn, grid, name, map_fn=map):
    """[fn(**point) for point in grid], each point cached under (name, point).

    map_fn is the executor seam: the builtin map runs here (the Numba runners already use every core); pass an
    executor's map (concurrent.futures with a spawn context, or a dask client's) to spread points elsewhere.
    Results are stored as they arrive, so an interrupted sweep keeps every finished point.
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
    for i, result in zip(todo, map_fn(_call, [(fn, grid[i]) for i in todo])):
        results[i] = result
        if store is not None:
            store.put({"sweep": name, **grid[i]}, result)
        done += 1
        if progress is not None:
            progress(name, done, len(grid))
    return results


def _call(task):
    fn, point = task
    return fn(**point)


def dask_map(client):
    """A map_fn for `sweep` that runs the points on a dask.distributed Client's workers (the `dask` extra) and
    returns their results in order. Workers should be processes started with spawn or on other machines:
    Numba's OpenMP layer does not survive fork."""
    def map_fn(fn, items):
        return client.gather(client.map(fn, list(items), pure=False))
    return map_fn
