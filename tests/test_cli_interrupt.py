"""Ctrl-C in `clipcheck verify` (issue 10, item 1): exit 130 with "interrupted; finished work is kept" on a line
of its own, every time, however the KeyboardInterrupt surfaces, and keep every finished claim and grid point."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clipcheck import cli, experiments

LINE = "clipcheck verify: interrupted; finished work is kept"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a process stopped by Ctrl-C


@pytest.fixture(autouse=True)
def patient_watchdog(monkeypatch):
    """In this process the watchdog must never end pytest itself: give the main thread all the time it needs."""
    try:
        from clipcheck.interrupts import InterruptGuard
    except ImportError:  # the code before issue 10 has no guard
        return
    monkeypatch.setattr(InterruptGuard, "GRACE", 600.0)


def _interrupted(code, err):
    return code == INTERRUPTED and LINE in err.splitlines() and "Traceback" not in err


def test_interrupt_wrapped_by_numba_in_a_system_error_exits_130(tmp_path, capsys, monkeypatch):
    # what Numba's dispatcher raises when SIGINT lands inside a kernel call (the SystemError traceback)
    def kernel_call(settings):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as err:
            raise SystemError("CPUDispatcher(<function evaluate>) returned a result with an exception set") from err

    monkeypatch.setattr(experiments, "ngd_equiv", kernel_call)
    code = cli.main(["verify", "--only", "NGD-equiv", "--no-proofs", "--out", str(tmp_path)])
    assert _interrupted(code, capsys.readouterr().err)


def test_interrupt_swallowed_on_its_way_still_stops_the_run_with_130(tmp_path, capsys, monkeypatch):
    # a real SIGINT whose KeyboardInterrupt is caught by code that catches everything (a weakref callback printed
    # "Exception ignored" and the run went on to exit 0); the next claim must not run
    ran = []
    real_ngd, real_fact = experiments.ngd_equiv, experiments.fact_m

    def swallowing(settings):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the KeyboardInterrupt arrives here
        except KeyboardInterrupt:
            pass
        ran.append("NGD-equiv")
        return real_ngd(settings)

    monkeypatch.setattr(experiments, "ngd_equiv", swallowing)
    monkeypatch.setattr(experiments, "fact_m", lambda s: ran.append("FACT-M") or real_fact(s))
    code = cli.main(["verify", "--only", "NGD-equiv,FACT-M", "--no-proofs", "--jobs", "1", "--out", str(tmp_path)])
    assert _interrupted(code, capsys.readouterr().err)
    assert ran == ["NGD-equiv"]
    assert list((tmp_path / ".cache").glob("NGD-equiv-*.json"))  # the claim that finished is kept


def test_interrupt_landing_in_a_weakref_callback_prints_no_traceback(monkeypatch):
    # the CI failure: SIGINT arrived while a matplotlib weakref callback ran; Python printed "Exception ignored in
    # ... Traceback ... KeyboardInterrupt" through sys.unraisablehook. Under the guard that hook stays silent for our
    # own KeyboardInterrupt only, and passes on anything else.
    import weakref

    from clipcheck.interrupts import InterruptGuard

    seen = []

    def hook(unraisable):
        seen.append(type(unraisable.exc_value).__name__)

    monkeypatch.setattr(sys, "unraisablehook", hook)

    class Thing:
        pass

    def raising(exc):
        def callback(_ref):
            raise exc
        return callback

    with InterruptGuard("unused") as guard:
        guard.interrupted.set()  # what _on_sigint does before it raises
        thing = Thing()
        ref = weakref.ref(thing, raising(KeyboardInterrupt()))
        del thing
        other = Thing()
        ref2 = weakref.ref(other, raising(ValueError("not ours")))
        del other
        with pytest.raises(KeyboardInterrupt):
            guard.check()  # the swallowed interrupt is raised again at the next progress point
    assert seen == ["ValueError"] and sys.unraisablehook is hook  # passed on, and given back on the way out
    del ref, ref2


def test_the_handler_raises_even_when_the_watchdog_saw_the_signal_first():
    # the watchdog thread reads the wakeup fd and sets `interrupted`, possibly before Python runs the handler in the
    # main thread: the handler must still raise (once), or the run goes on until the watchdog's hard exit
    from clipcheck.interrupts import InterruptGuard

    with InterruptGuard("unused") as guard:
        guard.interrupted.set()  # what the watchdog does on reading the signal
        with pytest.raises(KeyboardInterrupt):
            guard._on_sigint(signal.SIGINT, None)
        guard._on_sigint(signal.SIGINT, None)  # a second Ctrl-C would only break the way out


def test_interrupt_while_writing_the_report_exits_130_and_leaves_no_half_report(tmp_path, capsys, monkeypatch):
    from clipcheck import verify

    def interrupted_markdown(path, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(verify, "write_markdown", interrupted_markdown)
    code = cli.main(["verify", "--only", "NGD-equiv", "--no-proofs", "--out", str(tmp_path)])
    assert _interrupted(code, capsys.readouterr().err)
    json.loads((tmp_path / "report.json").read_text())  # written whole before the interrupt
    assert not (tmp_path / "report.md").exists()


WATCHDOG_SCRIPT = """
import hashlib, threading, time
from clipcheck.interrupts import InterruptGuard

def ready():
    time.sleep(1.0)  # "ready" only once the main thread is inside the C call (a SIGINT before it is no test)
    print("ready", flush=True)

with InterruptGuard("stopped by the watchdog", grace=0.5):
    threading.Thread(target=ready, daemon=True).start()
    # stands in for a Numba parallel kernel: C code that releases the GIL and never looks at signals (minutes)
    hashlib.pbkdf2_hmac("sha256", b"key", b"salt", 10**9)
    print("kernel returned", flush=True)
"""


def test_watchdog_ends_a_process_stuck_in_a_kernel_with_130():
    p = subprocess.Popen([sys.executable, "-c", WATCHDOG_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == INTERRUPTED
    assert "stopped by the watchdog" in err.splitlines() and "kernel returned" not in out


# -- 10 SIGINTs at random moments --------------------------------------------------------------------------------
# The acceptance test of issue 10 asks for `clipcheck verify --full`; in CI it runs in quick mode (on full it took
# 47 minutes on 2 cores after a 24-minute clean run, 2026-12-02). By hand, on full:
# CLIPCHECK_SIGINT_MODES=full pytest -m slow tests/test_cli_interrupt.py -k ten_sigints -s
# (CLIPCHECK_SIGINT_CLEAN=FOLDER: compare with the clean run whose --out was FOLDER instead of running one)
MODES = os.environ.get("CLIPCHECK_SIGINT_MODES", "quick").split(",")
STOP_WITHIN_S = 2.0  # the bound on the time from SIGINT to exit


def _cache_entries(folder):
    """Every stored claim and grid point with the identity of its file: a recomputed entry is a new file."""
    entries = {}
    for path in (folder / ".cache").rglob("*.json"):
        if not path.name.endswith(".figure.json"):
            st = path.stat()
            entries[str(path)] = (st.st_ino, st.st_mtime_ns)
    return entries


def _report(folder):
    doc = json.loads((folder / "report.json").read_text())
    return doc["claims"], doc.get("proofs")


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_ten_sigints_at_random_moments_exit_130_within_2s_and_lose_nothing(tmp_path, mode):
    rng = random.Random(10)  # random moments, the same ones at every run of the test
    cmd = [sys.executable, "-m", "clipcheck", "verify", f"--{mode}"]
    clean_folder = tmp_path / "clean"
    if os.environ.get("CLIPCHECK_SIGINT_CLEAN"):  # the output folder of a clean run made before (--full: an hour)
        clean_folder = Path(os.environ["CLIPCHECK_SIGINT_CLEAN"])
        meta = json.loads((clean_folder / "report.json").read_text())["meta"]
        assert meta["mode"] == mode and not meta.get("only"), meta
        clean_s = meta["elapsed_s"]
    else:
        t0 = time.monotonic()
        clean = subprocess.run(cmd + ["--out", str(clean_folder)], capture_output=True, text=True)
        clean_s = time.monotonic() - t0
        assert clean.returncode == 0, clean.stderr[-2000:]

    # Each run resumes the last one's folder and is stopped at a moment drawn from [0, clean_s / 5] after it starts
    # working (its first progress line), so that the ten stops spread over the whole run.
    out, stops = tmp_path / "interrupted", []
    for trial in range(40):
        if len(stops) == 10:
            break
        p = subprocess.Popen(cmd + ["--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stderr.readline()
        time.sleep(rng.uniform(0.0, clean_s / 5))
        if p.poll() is not None:  # finished before the moment came: no interrupt in this trial
            p.communicate()
            continue
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        stdout, err = p.communicate(timeout=60)
        stop_s = time.monotonic() - sent
        err = first + err
        if p.returncode == 0 and "every claim that must hold holds" in stdout:
            continue  # the run had finished its work and was exiting: a late Ctrl-C does not undo it
        stops.append(stop_s)
        assert p.returncode == INTERRUPTED, err[-2000:]
        assert LINE in err.splitlines() and "Traceback" not in err, err[-2000:]
    print(f"\n[{mode}] clean run {clean_s:.0f} s; stops after SIGINT (s): "
          + ", ".join(f"{s:.2f}" for s in stops))
    assert len(stops) == 10 and max(stops) <= STOP_WITHIN_S, stops

    kept = _cache_entries(out)
    t0 = time.monotonic()
    rerun = subprocess.run(cmd + ["--out", str(out)], capture_output=True, text=True)
    print(f"[{mode}] {len(kept)} entries kept; rerun {time.monotonic() - t0:.0f} s")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _report(out) == _report(clean_folder)  # the same report as a clean run
    after = _cache_entries(out)
    assert {path: after.get(path) for path in kept} == kept  # no finished claim or point was computed again
