"""`clipcheck verify`: run every claim of the registry, cache each finished claim, write the report."""
import functools
import hashlib
import importlib
import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from clipcheck.synthetic.sweep import Store, using

from . import __version__
from .claims import Row, registry
from .report import write_json, write_markdown


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
    for package in ("theory", "synthetic", "proofs_check", ""):
        folder = Path(clipcheck.__file__).resolve().parent if not package else Path(
            importlib.import_module(f"clipcheck.{package}").__file__).resolve().parent
        for src in sorted(folder.glob("*.py")):
            digest.update(src.name.encode() + src.read_bytes())
    return digest.hexdigest()[:12]


def select(claims, only):
    """Claims whose id starts with one of the comma-separated prefixes (case-insensitive)."""
    if not only:
        return claims
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    chosen = [c for c in claims if any(c.id.lower().startswith(w) for w in wanted)]
    if not chosen:
        raise ValueError(f"--only: no claim id starts with {only!r}; ids: {', '.join(c.id for c in claims)}")
    return chosen


def _settings(claim, mode, seed):
    s = json.loads(json.dumps(claim.settings[mode]))
    if seed is not None and "seed" in s:
        s["seed"] = seed
    return s


def _cache_path(folder, claim, settings):
    key = hashlib.sha1(json.dumps([claim.id, settings, code_digest()], sort_keys=True).encode()).hexdigest()[:12]
    return Path(folder) / ".cache" / f"{claim.id}-{key}.json"


def run_claim(claim, settings, folder, use_cache=True):
    """Rows and figure of one claim; a finished claim is stored so an interrupted verify resumes after it."""
    path = _cache_path(folder, claim, settings)
    if use_cache and path.exists():
        stored = json.loads(path.read_text())
        rows, data, elapsed = [Row(**r) for r in stored["rows"]], stored["data"], stored["elapsed_s"]
    else:
        t0 = time.perf_counter()
        rows, data = claim.compute(settings)
        elapsed = time.perf_counter() - t0
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": [r.__dict__ for r in rows], "data": data, "elapsed_s": elapsed},
                                  default=float))
        tmp.replace(path)  # atomic: a killed run leaves no half-written cache entry
    figure = claim.plot(data, folder) if claim.plot else ""
    for r in rows:
        r.figure = figure
    return rows, elapsed


def verify(mode="quick", out="clipcheck-report", only=None, seed=None, use_cache=True, progress=None,
           with_proofs=True, point_progress=None):
    """Run the claims; returns (rows, failed rows, meta, proof records). `progress(claim_id)` is called before
    each claim, `point_progress(name, done, total)` after each grid point of a long claim."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    claims = select(registry(), only)
    t0 = time.perf_counter()
    rows, timings = [], {}
    # grid points inside a claim are stored too, so even a long claim resumes where it stopped
    store = Store(folder / ".cache" / f"points-{code_digest()}") if use_cache else None
    with using(store, point_progress):
        for claim in claims:
            if progress:
                progress(claim.id)
            claim_rows, timings[claim.id] = run_claim(claim, _settings(claim, mode, seed), folder, use_cache)
            rows += claim_rows
    proofs, proofs_md = _proofs() if with_proofs else (None, "")
    rows += [_finding_row(p) for p in (proofs or []) if p.verdict == "finding"]
    failed = [r for r in rows if r.failed] + [p for p in (proofs or []) if not p.passed]
    meta = {"mode": mode, "command": " ".join(["clipcheck"] + sys.argv[1:]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": seed,
            "settings": {c.id: _settings(c, mode, seed) for c in claims}, "claim_seconds": timings,
            "elapsed_s": time.perf_counter() - t0, "versions": {**versions(), "code_digest": code_digest()}}
    write_json(folder / "report.json", meta, rows, proofs)
    write_markdown(folder / "report.md", meta, rows, failed, proofs_md)
    return rows, failed, meta, proofs


def _proofs():
    """The proofs_check records and their section of report.md."""
    from clipcheck import proofs_check

    from . import cmd_proofs
    records = proofs_check.run_all(quick=True)
    return records, cmd_proofs.records_to_markdown(records)


def _finding_row(record):
    """A proof check that ended in a finding (an open question, a spec discrepancy) is also a row of the main
    table, so that nobody reads past it."""
    conclusion = next((line for line in reversed(record.log) if line.startswith("conclusion")), record.log[-1])
    return Row(record.id, "derived", record.statement, record.constants, math.nan, math.nan, math.nan, "finding",
               note=conclusion)
