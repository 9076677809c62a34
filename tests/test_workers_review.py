"""Review of clipcheck.workers (the worker processes of `clipcheck verify --jobs`): what a worker sends back that
does not travel, a Ctrl-C during worker start-up, and a worker whose parent is gone. Issue 10 asks for no
traceback on the terminal and no process left behind; issue 8's workers must give the report of one process.

The work functions are module-level: a spawned worker imports this module to find them."""
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
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.run([Task("a", 30.0), Task("b", 30.0)], 2, _wait)
        assert started and all(_gone(pid) for pid in started)
    finally:
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
