"""Ctrl-C on the command line: stop within about a second, exit 130 every time, never cut a write in half.

Python turns SIGINT into KeyboardInterrupt in the main thread, but only between bytecodes, and it does not always
arrive as such: a Numba kernel holds it back until the kernel returns, Numba's dispatcher can wrap it (SystemError
"... returned a result with an exception set"), and code that catches every exception (a weakref callback, a check
that records its crash) can swallow it. So the guard
- remembers that SIGINT arrived: whatever exception then ends the run means "interrupted" (`caused`), and `check()`
  at every progress point stops a run whose KeyboardInterrupt was swallowed;
- runs a watchdog thread, woken by the signal itself through the wakeup fd (so even while the main thread is inside
  a kernel), that ends the process with status 130 if it has not stopped `grace` seconds later. It first takes the
  sweep's WRITE_LOCK (synthetic.sweep): every finished result is written whole or not at all, so nothing finished
  is lost.
- silences the "Exception ignored in ..." traceback Python prints when the KeyboardInterrupt lands in a destructor or
  weakref callback (matplotlib has many): the flag is set, and `check()` stops the run at the next progress point.
"""
import os
import signal
import sys
import threading

EXIT_INTERRUPTED = 130


class InterruptGuard:
    """Context manager for the main thread of the CLI. `message` is written to stderr if the watchdog has to end
    the process (after a newline when `newline_first`: a progress bar may be showing). With `ignore_after`, SIGINT
    is ignored once the block is left (a program about to exit)."""

    GRACE = 1.0  # seconds the main thread gets to stop by itself

    def __init__(self, message, grace=None, newline_first=False, ignore_after=False):
        self.message, self.grace = message, self.GRACE if grace is None else grace
        self.newline_first, self.ignore_after = newline_first, ignore_after
        self.interrupted = threading.Event()
        self._raised = False  # the handler's own flag: the watchdog may set `interrupted` before the handler runs
        self._stopped = threading.Event()
        self._installed = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only: nothing to guard here
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable
        self._installed = True
        threading.Thread(target=self._watch, name="clipcheck-ctrl-c-watchdog", daemon=True).start()
        return self

    def __exit__(self, *exc):
        if self._installed:
            self._stopped.set()
            signal.set_wakeup_fd(self._previous_fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN if self.ignore_after else self._previous)
            sys.unraisablehook = self._previous_hook
            os.close(self._write)  # wakes the watchdog, which closes the read end
            self._installed = False
        return False

    def _on_sigint(self, signum, frame):
        self.interrupted.set()
        if not self._raised:  # later ones would only break the way out
            self._raised = True
            raise KeyboardInterrupt

    def _on_unraisable(self, unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and self.interrupted.is_set():
            return  # our own Ctrl-C, swallowed by a destructor: check() raises it again
        self._previous_hook(unraisable)

    def check(self):
        """Raise KeyboardInterrupt if SIGINT arrived (the first one may have been swallowed on its way)."""
        if self.interrupted.is_set():
            raise KeyboardInterrupt

    def caused(self, exc):
        """Whether `exc` ends the run because of Ctrl-C: SIGINT arrived, or a KeyboardInterrupt is in its chain."""
        seen = set()
        while exc is not None and id(exc) not in seen:
            if isinstance(exc, KeyboardInterrupt):
                return True
            seen.add(id(exc))
            exc = exc.__cause__ or exc.__context__
        return self.interrupted.is_set()

    def _watch(self):
        try:
            while not self._stopped.is_set():
                try:
                    data = os.read(self._read, 64)
                except InterruptedError:
                    continue
                if not data:
                    return  # the guard was closed
                if signal.SIGINT in data:
                    self.interrupted.set()
                    if not self._stopped.wait(self.grace):
                        self._end_now()
        finally:
            os.close(self._read)

    def _end_now(self):
        """The main thread did not stop in time (a long kernel, a stuck call): end the process, after any write in
        progress."""
        # the sweep module is not imported here, so that the guard is up before the heavy imports start; if it is
        # not loaded yet, nothing can be writing a result
        sweep = sys.modules.get("clipcheck.synthetic.sweep")
        if sweep is not None:
            sweep.WRITE_LOCK.acquire(timeout=0.5)  # a result file takes milliseconds to write
        try:
            os.write(2, (("\n" if self.newline_first else "") + self.message + "\n").encode())
        finally:
            os._exit(EXIT_INTERRUPTED)
