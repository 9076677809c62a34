"""Review of clipcheck.workers (the worker processes of `clipcheck verify --jobs`): what a worker sends back that
does not travel, a Ctrl-C during worker start-up, and a worker whose parent is gone. Issue 10 asks for no
traceback on the terminal and no process left behind; issue 8's workers must give the report of one process.

The work functions are module-level: a spawned worker imports this module to find them."""
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from clipcheck import workers
from clipcheck.workers import Task


def _lock(payload, emit):
    return threading.Lock()  # a result pickle refuses


class TwoArguments(Exception):
    """Pickles (as the class and its args) but does not unpickle: __init__ needs two arguments, args holds one."""

    def __init__(self, what, where):
        super().__init__(f"{what} at {where}")


def _raise_two_arguments(payload, emit):
    raise TwoArguments("bad point", payload)


def _wait(payload, emit):
    time.sleep(payload)
    return payload


def _gone(pid, within=5.0):
    """Whether process `pid` has ended (and been reaped) within `within` seconds (generous: a loaded machine)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_result_that_does_not_pickle_is_an_error_naming_the_task_and_no_traceback_on_stderr(capfd):
    with pytest.raises(Exception) as caught:
        workers.run([Task("the lock task", None)], 1, _lock)
    assert not isinstance(caught.value, workers.WorkerDied)  # the worker did not die: its result did not travel
    assert "in the worker running the lock task" in str(caught.value.__cause__)
    assert "Traceback" not in capfd.readouterr().err  # the worker printed nothing on the terminal


def test_an_exception_that_does_not_unpickle_still_names_the_task_with_the_workers_traceback():
    with pytest.raises(Exception, match="bad point at 3") as caught:
        workers.run([Task("the failing task", 3)], 1, _raise_two_arguments)
    cause = caught.value.__cause__
    assert isinstance(cause, workers.RemoteTraceback)
    assert "in the worker running the failing task" in str(cause) and "_raise_two_arguments" in str(cause)


def test_a_ctrl_c_during_worker_start_up_leaves_no_worker_behind(monkeypatch):
    # SIGINT arrives while a worker starts (here: raised right after its start, the moment most likely to lose
    # it); the KeyboardInterrupt must come out of run() and the worker must be terminated like the others
    started = []
    real_start = multiprocessing.context.SpawnProcess.start

    def start(process):
        real_start(process)
        started.append(process.pid)
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", start)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a Ctrl-C as in a terminal
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.run([Task("a", 30.0), Task("b", 30.0)], 2, _wait)
        assert started and all(_gone(pid) for pid in started)
    finally:
        signal.signal(signal.SIGINT, previous)
        for pid in started:  # never leave one running after the test, whatever happened
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


WORKER_WITHOUT_PARENT = """
import multiprocessing, os, sys
from clipcheck import workers

def emitting(payload, emit):
    emit("point", payload)
    return payload

parent, child = multiprocessing.Pipe()
parent.send(("task", 1))
parent.close()  # the parent is gone before the worker's first event
workers._worker(child, emitting, None, os.getppid())
"""


def test_a_worker_whose_parent_is_gone_ends_quietly():
    # no PR_SET_PDEATHSIG on macOS or Windows, and on Linux the kernel closes a dead parent's pipes before it
    # sends the death signal: a worker must then end without printing a traceback on the user's terminal
    p = subprocess.run([sys.executable, "-c", WORKER_WITHOUT_PARENT], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr


def _in_session(sid):
    """Pids of the live (not zombie) processes of session `sid` (Linux /proc: field 6 of stat is the session)."""
    pids = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(stat))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("after_s", [0.0, 1.0])  # workers still importing; inside the claims (CLASSIC-GD: seconds)
def test_a_ctrl_c_to_the_whole_process_group_exits_130_and_leaves_no_process(tmp_path, after_s):
    # what a terminal does: SIGINT to the parent and its workers at once
    p = subprocess.Popen([sys.executable, "-m", "clipcheck", "verify", "--only", "CLASSIC-GD,NGD-bound,FACT-M",
                          "--no-proofs", "--no-cache", "--jobs", "2", "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = p.stderr.readline()  # the first claim was handed out: the workers are up
        assert "verify: " in first, first
        time.sleep(after_s)
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 130, first + err
        assert "interrupted; finished work is kept" in err and "Traceback" not in err, first + err
        deadline = time.monotonic() + 5.0  # the kernel reaps the killed workers at once; 5 s: a loaded machine
        while _in_session(p.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_session(p.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)


BORN_MASK = '''
import signal
BLOCKED = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # at import: in a worker, before _worker


def work(payload, emit):
    return BLOCKED
'''

FRESH_PARENT = """
import bornmask
from clipcheck import workers
print(workers.run([workers.Task("a", 0), workers.Task("b", 0)], 2, bornmask.work))
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks on this platform")
def test_every_worker_is_born_with_sigint_blocked(tmp_path):
    # a worker imports for seconds before it can ignore SIGINT: a Ctrl-C then would print a KeyboardInterrupt
    # traceback. The first spawn of a process starts multiprocessing's resource tracker, which unblocks SIGINT in
    # the parent; a fresh parent, so that this is the first spawn
    (tmp_path / "bornmask.py").write_text(BORN_MASK)
    p = subprocess.run([sys.executable, "-c", FRESH_PARENT], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])})
    assert p.stdout.strip() == "[True, True]", p.stderr


NO_PDEATHSIG = '''
import ctypes, os, time


def no_death_signal():
    ctypes.CDLL(None).prctl(1, 0)  # PR_SET_PDEATHSIG 0: a worker as on macOS or Windows


def pid_then_sleep(payload, emit):
    emit(os.getpid())
    time.sleep(payload)
'''

PARENT_TO_KILL = """
import orphan
from clipcheck import workers
workers.run([workers.Task("a", 60.0)], 1, orphan.pid_then_sleep, on_event=lambda pid: print(pid, flush=True),
            setup=orphan.no_death_signal)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="switches off PR_SET_PDEATHSIG")
def test_a_worker_ends_when_its_parent_is_killed_even_without_a_death_signal(tmp_path):
    # the parent killed outright (or ended by the CLI's watchdog) runs no clean-up: a worker left running would go
    # on writing into the report folder, whose lock the parent no longer holds
    (tmp_path / "orphan.py").write_text(NO_PDEATHSIG)
    p = subprocess.Popen([sys.executable, "-c", PARENT_TO_KILL], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])})
    worker = int(p.stdout.readline())
    try:
        p.kill()
        p.wait()
        assert _gone_orphan(worker), "the worker outlived its parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def _gone_orphan(pid, within=5.0):
    """Whether `pid` (adopted by init or a subreaper once its parent died, so not ours to reap) has ended within
    `within` seconds (generous: a loaded machine); a zombie counts as ended."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False
