"""`clipcheck verify`: run the selected claims, cache each finished claim (and each grid point of a long one),
write the report."""
import functools
import hashlib
import importlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from clipcheck.synthetic.sweep import (DAMAGE, Store, atomic_write, damage_reason, from_json, to_json, using,
                                      writing)

from . import __version__, workers
from .claims import Row, registry
from .errors import UsageError
from .report import write_json, write_markdown


def _nothing(*args):
    pass


@dataclass
class Hooks:
    """How verify tells its caller what it does (library code never prints). A hook may raise to stop the run."""

    claim: callable = _nothing    # claim(id): a claim starts
    point: callable = None        # point(sweep name, done, total): a grid point of a long claim finished
    step: callable = _nothing     # step(name): after the claims, "proofs_check", then "report" start
    notice: callable = _nothing   # notice(text): something the user should know (a damaged cache entry)


def versions():
    import matplotlib
    import numba
    import numpy
    import scipy
    import sympy
    return {"clipcheck": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "sympy": sympy.__version__,
            "matplotlib": matplotlib.__version__, "platform": platform.platform(), "cpus": os.cpu_count()}


@functools.lru_cache(maxsize=1)
def code_digest():
    """A digest of every source file of the packages a result depends on: cached results are keyed by it, so an
    edited experiment or runner is never answered from a stale cache (and the report names the code it ran)."""
    import clipcheck
    digest = hashlib.sha1()
    # the subpackages live wherever the install put them (the repository's top-level folders when editable)
    for package in ("theory", "synthetic", "adversary", "proofs_check", ""):
        folder = Path(clipcheck.__file__).resolve().parent if not package else Path(
            importlib.import_module(f"clipcheck.{package}").__file__).resolve().parent
        for src in sorted(folder.glob("*.py")):
            digest.update(src.name.encode() + src.read_bytes())
    return digest.hexdigest()[:12]


# -- what to run -----------------------------------------------------------------------------------------------

@dataclass
class Selection:
    """What --only picked: the claims, and for a claim picked only by row ids (`ZHSJ-Thm3:paper`) the row-id
    prefixes to keep. `ids` are the --only ids in lower case (empty: everything)."""

    claims: list
    row_ids: dict
    ids: tuple = ()

    def rows(self, claim, rows):
        """The rows of `claim` that were asked for; a row id that matches none of them is bad input."""
        prefixes = self.row_ids.get(claim.id)
        if prefixes is None:
            return rows
        for p in prefixes:
            if not any(r.id.lower().startswith(p) for r in rows):
                raise UsageError(f"--only {p}: {claim.id} has no row with that id; its rows: "
                                 f"{', '.join(r.id for r in rows)}")
        return [r for r in rows if r.id.lower().startswith(prefixes)]

    def proofs(self, item_ids):
        """The proofs_check item ids that start with an --only id (all without --only)."""
        return [i for i in item_ids if not self.ids or i.lower().startswith(self.ids)]


def select(claims, only, proof_item_ids=()):
    """The claims and proofs items named by the comma-separated ids of --only (case-insensitive): an id selects
    every claim and proofs item whose id starts with it, or, as a row id such as `ZHSJ-Thm3:paper`, the rows of
    its claim that start with it. An id that names nothing is bad input."""
    if not only:
        return Selection(list(claims), {})
    wanted = tuple(dict.fromkeys(w.strip().lower() for w in only.split(",") if w.strip()))
    whole, row_ids = set(), {}
    for w in wanted:
        by_prefix = [c.id for c in claims if c.id.lower().startswith(w)]
        by_row = [c.id for c in claims if w.startswith(c.id.lower() + ":")]
        if not by_prefix and not by_row and not any(i.lower().startswith(w) for i in proof_item_ids):
            raise UsageError(f"--only {w}: no claim or proofs item id starts with it and it names no row of a "
                             f"claim; claim ids: {', '.join(c.id for c in claims)}")
        whole.update(by_prefix)
        for cid in by_row:
            row_ids[cid] = row_ids.get(cid, ()) + (w,)
    chosen = [c for c in claims if c.id in whole or c.id in row_ids]
    return Selection(chosen, {k: v for k, v in row_ids.items() if k not in whole}, wanted)


def prepare_out(out):
    """The --out folder, created if needed and checked writable (so that no work is lost to it at the end)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for sub in (folder, folder / ".cache"):
            if sub.exists() and not sub.is_dir():
                raise UsageError(f"--out {out}: {sub} is a file, not a folder")
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot write there ({err.strerror or err})") from None
    return folder


def _settings(claim, mode, seed):
    s = json.loads(json.dumps(claim.settings[mode]))
    if seed is not None and "seed" in s:
        s["seed"] = seed
    return s


# -- one claim ---------------------------------------------------------------------------------------------------

def theory_constants():
    """The named constants of theory.bounds and theory.steps as they are now (a test may move one)."""
    from clipcheck.theory import bounds, steps
    return {f"{m.__name__}.{k}": v for m in (bounds, steps) for k, v in vars(m).items()
            if k.isupper() and isinstance(v, (int, float, dict))}


def _cache_path(folder, claim, settings):
    # the constants are part of the key: a moved constant (a mutation test) is another computation
    key = hashlib.sha1(json.dumps([claim.id, settings, claim.constants(), theory_constants(), code_digest()],
                                  sort_keys=True).encode()).hexdigest()[:12]
    return Path(folder) / ".cache" / f"{claim.id}-{key}.json"


def _damaged(path, reason):
    return f"cache entry {path} is damaged ({reason}); ignoring it and computing again"


def _read_entry(path, notice):
    """A stored claim, or None when there is none or it cannot be used (then `notice` hears why)."""
    try:
        entry = from_json(path.read_text())
        for r in entry["rows"]:
            Row(**r)  # raises TypeError on a row that is not one
        if "data" not in entry or not isinstance(entry["elapsed_s"], (int, float)):
            raise KeyError("data")
        return entry
    except FileNotFoundError:
        return None
    except DAMAGE as err:
        notice(_damaged(path, damage_reason(err)))
        return None


def _sha1(path):
    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _plot(claim, data, folder):
    """The claim's figure, drawn in a scratch folder and moved into place, so no half-written PNG is left."""
    scratch = Path(tempfile.mkdtemp(dir=folder, prefix=".plot-"))
    try:
        name = claim.plot(data, scratch)
        with writing():
            for f in scratch.iterdir():
                os.replace(f, Path(folder) / f.name)
        return name
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _drawn(path):
    """The record of the figure drawn from the stored claim at `path` (kept beside it, so that the entry itself is
    written once: a rewritten entry would look like a recomputed one)."""
    return path.with_name(path.stem + ".figure.json")


def run_claim(claim, settings, folder, use_cache=True, notice=_nothing):
    """Rows and figure of one claim; a finished claim is stored so an interrupted verify resumes after it, and a
    figure already drawn from the stored data is not drawn again."""
    path = _cache_path(folder, claim, settings)
    entry = _read_entry(path, notice) if use_cache else None
    if entry is None:
        t0 = time.perf_counter()
        rows, data = claim.compute(settings)
        entry = {"rows": [r.__dict__ for r in rows], "data": data, "elapsed_s": time.perf_counter() - t0}
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, to_json(entry))
        if claim.plot:
            atomic_write(_drawn(path), "{}")  # a figure drawn from an older entry is not this one's
        entry = from_json(to_json(entry))  # a fresh run reports exactly what a rerun reads back
    figure = _figure(claim, entry["data"], folder, _drawn(path)) if claim.plot else ""
    rows = [Row(**r) for r in entry["rows"]]
    for r in rows:
        r.figure = figure
    return rows, entry["elapsed_s"]


def _figure(claim, data, folder, record):
    """The claim's figure: the one on disk if it is the one drawn from this entry (same bytes), else drawn now."""
    try:
        drawn = json.loads(record.read_text())
        if drawn["name"] and _sha1(Path(folder) / drawn["name"]) == drawn["sha1"]:
            return drawn["name"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no record, or a damaged one: draw again
    name = _plot(claim, data, folder)
    atomic_write(record, json.dumps({"name": name, "sha1": _sha1(Path(folder) / name) if name else None}))
    return name


def remove_leftovers(folder):
    """Temporary files and scratch folders of runs that were killed (call it only while holding the folder's
    lock: another run's are not leftovers)."""
    folder = Path(folder)
    for scratch in folder.glob(".plot-*"):
        shutil.rmtree(scratch, ignore_errors=True)
    for tmp in [*folder.glob(".*.tmp"), *folder.glob(".cache/.*.tmp"), *folder.glob(".cache/*/.*.tmp")]:
        tmp.unlink(missing_ok=True)


# -- the run -----------------------------------------------------------------------------------------------------

def verify(mode="quick", out="clipcheck-report", only=None, seed=None, use_cache=True, with_proofs=True,
           hooks=None, executor=None, jobs=1):
    """Run the claims --only selects; returns (rows, failed rows and proof records, meta, proof records or None).

    executor: where the grid points of the long claims run (a synthetic.sweep executor; None: here).
    jobs: how many local worker processes compute the claims and the proofs section side by side (1: all in
    this process; ignored with an executor, whose workers run the grid points instead)."""
    hooks = hooks or Hooks()
    folder = prepare_out(out)
    all_proofs = proof_ids(with_proofs)
    selection = select(registry(), only, all_proofs)
    chosen_proofs = selection.proofs(all_proofs)
    t0 = time.perf_counter()
    tasks = [workers.Task(c.id, ("claim", c.id, _settings(c, mode, seed), str(folder), use_cache), c.weight)
             for c in selection.claims]
    if chosen_proofs:
        tasks.append(workers.Task("proofs_check", ("proofs", chosen_proofs), PROOFS_WEIGHT))
    jobs = max(1, min(jobs, len(tasks))) if executor is None else 1  # the workers that can be busy at once
    if jobs > 1:
        results = _in_workers(tasks, jobs, hooks)
    else:
        results = _here(tasks, hooks, executor)
    rows, timings = [], {}
    for claim, (claim_rows, timings[claim.id]) in zip(selection.claims, results):
        rows += selection.rows(claim, claim_rows)
    proofs, proofs_md = results[-1] if chosen_proofs else (None, "")
    rows += [_finding_row(p) for p in (proofs or []) if p.verdict == "finding"]
    failed = [r for r in rows if r.failed] + [p for p in (proofs or []) if not p.passed]
    hooks.step("report")
    meta = {"mode": mode, "command": " ".join(["clipcheck"] + sys.argv[1:]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": seed, "only": only,
            "settings": {c.id: _settings(c, mode, seed) for c in selection.claims}, "claim_seconds": timings,
            "elapsed_s": time.perf_counter() - t0, "jobs": jobs,
            "versions": {**versions(), "code_digest": code_digest()}}
    write_json(folder / "report.json", meta, rows, proofs)
    write_markdown(folder / "report.md", meta, rows, failed, proofs_md)
    return rows, failed, meta, proofs


# rough seconds of the proofs section (the claims carry their own weight): the longest tasks start first
PROOFS_WEIGHT = 12.0


def _point_store(folder, use_cache, notice):
    # grid points inside a claim are stored too (also with use_cache=False), so even a long claim resumes where
    # it stopped
    return Store(Path(folder) / ".cache" / f"points-{code_digest()}",
                 on_damage=lambda path, why: notice(_damaged(path, why)), reuse=use_cache)


def _task(payload, notice=_nothing, point=None, executor=None):
    """Compute one task of a verify: ("claim", id, settings, folder, use_cache) -> (rows, seconds), or
    ("proofs", item ids) -> (records, markdown)."""
    if payload[0] == "proofs":
        return _proofs(payload[1])
    _, claim_id, settings, folder, use_cache = payload
    claim = next(c for c in registry() if c.id == claim_id)
    with using(_point_store(folder, use_cache, notice), point, executor):
        return run_claim(claim, settings, folder, use_cache, notice)


def _announce(hooks, task):
    (hooks.claim if task.payload[0] == "claim" else hooks.step)(task.label)


def _here(tasks, hooks, executor):
    results = []
    for task in tasks:
        _announce(hooks, task)
        results.append(_task(task.payload, hooks.notice, hooks.point, executor))
    return results


def _in_workers(tasks, jobs, hooks):
    """The tasks on `jobs` worker processes (clipcheck.workers), longest first; their progress and notices reach
    `hooks` here. Each worker's kernels may use every core: while all workers are busy the kernels share the cores
    (their work is shared dynamically, slice by slice), and the last claim left, often the longest (ZHSJ-Thm7 in
    --full), is not held to one core while the others idle."""
    def heard(kind, *event):
        if kind == "point" and hooks.point is not None:
            hooks.point(*event)
        elif kind == "notice":
            hooks.notice(*event)

    threads = cores()
    env = {"NUMBA_NUM_THREADS": str(min(threads, int(os.environ.get("NUMBA_NUM_THREADS", threads))))}
    moved = {**_module_numbers(), **theory_constants()}
    return workers.run(tasks, jobs, _task_in_worker, functools.partial(_announce, hooks), heard,
                       setup=functools.partial(_adopt_constants, moved), env=env)


def _task_in_worker(payload, emit):
    return _task(payload, functools.partial(emit, "notice"), functools.partial(emit, "point"))


def _module_numbers():
    """The upper-case numbers of the clipcheck modules loaded here, e.g. upper.BUDGET_CAP (a test may have moved
    one, and a worker imports the original values)."""
    return {f"{name}.{k}": v for name, module in list(sys.modules.items())
            if module is not None and name.startswith("clipcheck.")
            for k, v in list(vars(module).items()) if k.isupper() and type(v) in (int, float)}


def _adopt_constants(values):
    """In a worker: the parent's theory constants and module numbers ({"module.NAME": value}; a test, or a user
    checking a false constant, may have moved one, and the worker imported the original values), set in the
    modules the worker has loaded. Unpickling _task_in_worker loads this module, hence the claims and
    theory.bounds and theory.steps; a module a claim imports later, and a function patched in the parent, are not
    handed over: a test that moves those runs verify with jobs=1."""
    for name, value in values.items():
        module, attr = name.rsplit(".", 1)
        if module in sys.modules:
            setattr(sys.modules[module], attr, value)


def cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def proof_ids(with_proofs=True):
    """The ids of the proofs_check items (none without the proofs section), without running them."""
    if not with_proofs:
        return []
    from clipcheck import proofs_check
    return proofs_check.item_ids()


def _proofs(chosen):
    """The records of the proofs_check items `chosen` and their section of report.md."""
    from clipcheck import proofs_check

    from . import cmd_proofs
    records = [r for r in proofs_check.run_all(quick=True, only=chosen) if r.id in chosen]
    return records, cmd_proofs.records_to_markdown(records)


def _finding_row(record):
    """A proof check that ended in a finding (an open question, a spec discrepancy) is also a row of the main
    table, so that nobody reads past it."""
    conclusion = next((line for line in reversed(record.log) if line.startswith("conclusion")), record.log[-1])
    return Row(record.id, "derived", record.statement, record.constants, math.nan, math.nan, math.nan, "finding",
               note=conclusion)
