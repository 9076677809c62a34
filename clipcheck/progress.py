"""What `clipcheck verify` shows on stderr while it runs: a progress bar on a terminal, whole lines elsewhere.

A log file (stderr redirected, a CI job) gets one line per claim and, inside a long claim, a line per grid point
at most every `every` seconds; never a carriage return. Messages (errors, notices) always start on their own line.
"""
import sys
import time


class Progress:
    """`claim(id)` as each claim starts, `point(name, done, total)` as each grid point finishes, `say(text)` for
    a message, `close()` at the end. `check()` is called at each of them: it may raise to stop the run (the
    CLI's Ctrl-C guard uses it to stop a run whose KeyboardInterrupt was swallowed on the way)."""

    def __init__(self, total, stream=None, tty=None, every=5.0, clock=time.monotonic, check=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.every, self.clock = total, every, clock
        self.check = check or (lambda: None)
        self.started = 0
        self.t0 = self.last_line = clock()
        self.bar = None
        if self.tty:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="claim", file=self.stream,
                            bar_format="{desc} {n_fmt}/{total_fmt} {elapsed}")

    def _line(self, text):
        self.stream.write(text + "\n")
        self.stream.flush()
        self.last_line = self.clock()

    def claim(self, claim_id):
        self.check()
        if self.bar is not None:
            if self.started:
                self.bar.update(1)
            self.bar.set_description_str(f"verify: {claim_id:14s}")
        else:
            self._line(f"verify: [{self.started + 1}/{self.total}] {claim_id}")
        self.started += 1

    def step(self, name):
        """A step that is not a claim (the proofs section, the report)."""
        self.check()
        if self.bar is not None:
            self.bar.set_description_str(f"verify: {name:14s}")
        else:
            self._line(f"verify: {name}")

    def point(self, name, done, total):
        self.check()
        if self.bar is not None:
            self.bar.set_description_str(f"verify: {name:14s} point {done}/{total}")
        elif self.clock() - self.last_line >= self.every:
            self._line(f"verify: {name} point {done}/{total}")

    def say(self, text):
        """`text` on a line of its own, whatever the bar is showing."""
        if self.bar is not None:
            self.bar.clear()
            print(text, file=self.stream, flush=True)
            self.bar.refresh()
        else:
            self._line(text)

    def close(self, finished=False):
        """Stop showing progress; the cursor is left at the start of a line."""
        if self.bar is not None:
            if finished:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
            self.bar = None
        elif finished:
            self._line(f"verify: done, {self.started} claims in {self.clock() - self.t0:.0f} s")
