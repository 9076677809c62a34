"""Numba's on-disk cache checks only the source file of the function it compiled, not the files whose code
was compiled into it (profiles.py and rules.py are inlined into cpu.py's kernels, rng.py into stochastic.py's).
An edit there would leave stale kernels computing the old mathematics. So: keep a digest of every source file of
this package beside the cache, and drop the package's cached kernels whenever the digest changes."""
import hashlib
from pathlib import Path



def drop_stale_kernels(package=Path(__file__).resolve().parent):
    """Remove the cached kernels (*.nbi, *.nbc) of `package` if any of its .py files changed since they were
    written."""
    cache = Path(package) / "__pycache__"
    stamp = cache / "kernels.sha1"
    digest = hashlib.sha1()
    for src in sorted(Path(package).glob("*.py")):
        digest.update(src.name.encode() + src.read_bytes())
    digest = digest.hexdigest()
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for stale in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            stale.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: Numba then compiles in memory, nothing stale can be loaded
        pass
