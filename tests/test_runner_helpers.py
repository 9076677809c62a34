"""run._Helpers: the worker threads kept between the slices of a run."""
import threading

import pytest

import importlib

runmod = importlib.import_module("clipcheck.synthetic.run")  # the module (the package exports the function run)


def test_every_slice_runs_the_worker_once_per_thread_asked_and_the_threads_end_on_exit():
    # expected counts: one call by the caller plus one per helper asked, per slice (the contract of run_slice)
    calls, lock = [], threading.Lock()

    def worker(tag):
        with lock:
            calls.append((tag, threading.get_ident()))

    with runmod._Helpers(worker, 2) as helpers:
        helpers.run_slice(("a",), 2)
        helpers.run_slice(("b",), 0)
        helpers.run_slice(("c",), 1)
        threads = list(helpers.threads)
    assert sorted(t for t, _ in calls) == ["a", "a", "a", "b", "c", "c"]
    assert len({ident for t, ident in calls if t == "a"}) == 3  # three different threads ran slice a
    assert threads and not any(t.is_alive() for t in threads)


def test_an_error_in_a_helper_reaches_the_caller_and_the_threads_still_end():
    def worker(who):
        if threading.current_thread() is not threading.main_thread():
            raise ZeroDivisionError("in a helper")

    with pytest.raises(ZeroDivisionError, match="in a helper"):
        with runmod._Helpers(worker, 1) as helpers:
            helpers.run_slice((0,), 1)
    assert not any(t.is_alive() for t in helpers.threads)


def test_an_exception_in_the_caller_joins_the_helpers():
    # a caller's own SIGINT handler may raise anywhere; the helpers must not outlive the run
    def worker(x):
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with runmod._Helpers(worker, 1) as helpers:
            helpers.run_slice((0,), 1)
    assert not any(t.is_alive() for t in helpers.threads)
