"""run._Helpers: the worker threads of the CPU runner, kept for the whole process and lent to one run at a time.
What matters is that no worker runs after run_slice has returned, however the slice ended."""
import importlib
import threading
import time

import pytest

runmod = importlib.import_module("clipcheck.synthetic.run")  # the module (the package exports the function run)


def test_every_slice_runs_the_worker_once_per_thread_asked_and_stop_ends_the_threads():
    # expected counts: one call by the caller plus one per helper asked, per slice (the contract of run_slice)
    calls, lock = [], threading.Lock()

    def worker(tag):
        with lock:
            calls.append((tag, threading.get_ident()))

    helpers = runmod._Helpers()
    helpers.run_slice(worker, ("a",), 2)
    helpers.run_slice(worker, ("b",), 0)
    helpers.run_slice(worker, ("c",), 1)
    threads = list(helpers.threads)
    assert sorted(t for t, _ in calls) == ["a", "a", "a", "b", "c", "c"]
    assert len({ident for t, ident in calls if t == "a"}) == 3  # three different threads ran slice a
    assert len(threads) == 2 and all(t.is_alive() for t in threads)  # kept between slices
    helpers.stop()
    assert not any(t.is_alive() for t in threads)


def test_an_error_in_a_helper_reaches_the_caller_once_and_the_helpers_work_on():
    def worker(who):
        if who == "fail" and threading.current_thread() is not threading.main_thread():
            raise ZeroDivisionError("in a helper")

    helpers = runmod._Helpers()
    with pytest.raises(ZeroDivisionError, match="in a helper"):
        helpers.run_slice(worker, ("fail",), 1)
    helpers.run_slice(worker, ("ok",), 1)  # the error is not raised again by the next slice
    helpers.stop()


def test_no_helper_runs_after_run_slice_returns_even_when_the_caller_raises():
    # a caller's own SIGINT handler may raise anywhere; the helper (slower here) must be done before it propagates
    finished = []

    def worker(x):
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt
        time.sleep(0.2)
        finished.append(True)

    helpers = runmod._Helpers()
    with pytest.raises(KeyboardInterrupt):
        helpers.run_slice(worker, (0,), 1)
    assert finished == [True]
    helpers.stop()


def test_a_run_in_a_second_thread_gets_helpers_of_its_own_and_ends_them():
    # the process's helpers are lent to one run at a time: a concurrent run must not share them
    seen = {}

    def other():
        with runmod._lend() as helpers:
            helpers.run_slice(lambda: None, (), 1)
            seen["other"] = helpers
        seen["other_threads"] = list(helpers.threads)

    with runmod._lend() as mine:
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert mine is runmod._POOL[0] and seen["other"] is not mine
    assert len(seen["other_threads"]) == 1 and not seen["other_threads"][0].is_alive()  # ended with its run
    with runmod._lend() as again:  # lent again once returned
        assert again is mine
