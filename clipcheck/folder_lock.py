"""One `clipcheck verify` at a time per output folder: a second run into the same --out waits for the first,
and says so (then finds the first one's results in the cache)."""
import contextlib
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock (the cache files are still written atomically)
    fcntl = None


@contextlib.contextmanager
def folder_lock(folder, on_wait):
    """Hold an exclusive lock on `folder`/.lock for the block. If another process holds it, call
    `on_wait(text)` once, then wait (Ctrl-C still stops the wait). The operating system drops the lock when the
    holder ends, however it ends, so a crashed run never leaves a stale lock."""
    if fcntl is None:
        yield
        return
    path = Path(folder) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            on_wait(f"another clipcheck run (pid {holder}) is writing to {folder}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
