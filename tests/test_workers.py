"""clipcheck.workers: the local worker processes that let `clipcheck verify` compute claims side by side (issue 8:
a cold verify in 90 s on 2 cores needs both cores, and Numba compiles holding the GIL). Every check here is about
behaviour the verify command relies on: results in task order, longest task first, progress relayed, errors and
dead workers named, Ctrl-C reaching only the parent, no worker left behind.

The work functions are module-level: a spawned worker imports this module to find them."""
import os
import signal
import time

import pytest

from clipcheck import workers
from clipcheck.workers import Task


def _double(payload, emit):
    emit("point", payload)
    return 2 * payload


def _raise(payload, emit):
    raise ZeroDivisionError(f"task {payload}")


def _die(payload, emit):
    os._exit(7)


def _pid_then_wait(payload, emit):
    emit("pid", os.getpid())
    time.sleep(payload)
    return os.getpid()


def _environment(payload, emit):
    return os.environ.get(payload)


SEEN = []


def _remember(value):
    SEEN.append(value)


def _seen(payload, emit):
    return list(SEEN)


def test_results_come_back_in_task_order_and_the_longest_task_starts_first():
    tasks = [Task(f"t{i}", i, weight=w) for i, w in enumerate([1, 5, 3, 9, 2])]
    started, events = [], []
    results = workers.run(tasks, 2, _double, on_start=lambda t: started.append(t.label),
                          on_event=lambda *e: events.append(e))
    assert results == [2 * i for i in range(5)]  # _double, computed here
    assert started == ["t3", "t1", "t2", "t4", "t0"]  # weights 9, 5, 3, 2, 1: the hand-out order by weight
    assert sorted(events) == [("point", i) for i in range(5)]  # every emitted event reached the parent


def test_an_exception_in_a_task_is_raised_here_with_the_workers_traceback():
    with pytest.raises(ZeroDivisionError, match="task 0") as caught:  # "first" weighs more: it runs first
        workers.run([Task("first", 0, 2), Task("second", 1, 1)], 1, _raise)
    cause = caught.value.__cause__
    assert isinstance(cause, workers.RemoteTraceback)
    assert "in the worker running first" in str(cause) and "_raise" in str(cause)


def test_a_worker_that_dies_is_named_by_its_task_and_exit_code():
    with pytest.raises(workers.WorkerDied, match=r"running the dying task died \(exit code 7\)"):
        workers.run([Task("the dying task", 0)], 1, _die)


def test_no_worker_outlives_an_interrupt_of_the_parent():
    pids = []

    def on_event(kind, pid):
        pids.append(pid)
        if len(pids) == 2:
            raise KeyboardInterrupt  # what the parent's SIGINT handler raises in the main thread

    with pytest.raises(KeyboardInterrupt):
        workers.run([Task("a", 60.0), Task("b", 60.0)], 2, _pid_then_wait, on_event=on_event)
    for pid in pids:  # terminated and reaped: the pid no longer exists
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_ctrl_c_sent_to_a_worker_is_ignored_there():
    # the terminal sends Ctrl-C to the whole process group: the parent alone decides what it means
    def on_event(kind, pid):
        os.kill(pid, signal.SIGINT)

    assert workers.run([Task("a", 1.0)], 1, _pid_then_wait, on_event=on_event)[0] > 0  # finished normally


def test_workers_start_with_the_given_environment_and_setup(monkeypatch):
    monkeypatch.delenv("CLIPCHECK_TEST_VALUE", raising=False)
    assert workers.run([Task("a", "CLIPCHECK_TEST_VALUE")], 1, _environment,
                       env={"CLIPCHECK_TEST_VALUE": "3"}) == ["3"]
    assert "CLIPCHECK_TEST_VALUE" not in os.environ  # the parent's environment is given back
    import functools
    assert workers.run([Task("a", None), Task("b", None)], 1, _seen,  # None is a payload like any other
                       setup=functools.partial(_remember, "x")) == [["x"], ["x"]]  # once per worker, not per task
