"""Review of the runner's in-kernel result check, the process-wide helper threads and the scalar fast paths
(commits 4b45495, fbd2ff4): faults that the post-run check used to catch, interrupts that land anywhere in
run_slice, and the fast paths against the general path they shortcut."""
import gc
import signal
import sys
import threading
import time
import weakref

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F

RUN = sys.modules["clipcheck.synthetic.run"]  # the module (the package exports the function `run` by that name)


# -- the kernels' counts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("single", [True, False])
@pytest.mark.parametrize("paused", [False, True])
def test_an_instance_run_twice_in_place_of_another_is_an_error(monkeypatch, single, paused):
    # A fault in the queue (here _groups' rows; a kernel's could do the same): instance 0 is queued twice and
    # instance 1 never, so the kernels finish n results, none of them impossible, while instance 1 keeps the
    # status RUNNING it was packed with. Expected: an error naming instance 1 (the rule "a status that is not
    # final" of the check), never a RunResult holding it; also when every slice is a few passes of the lanes, so
    # that the copies pause and resume before they finish.
    if paused:
        monkeypatch.setattr(RUN, "SLICE_STEPS", 97)
        monkeypatch.setattr(RUN, "SLICE_SECONDS", 0.0)
    real = RUN._groups

    def duplicating(function, fns, n):
        for kernel_fn, rows, P, members in real(function, fns, n):
            rows = np.arange(n, dtype=np.int64) if rows is None else rows
            rows[rows == 1] = 0
            yield kernel_fn, rows, P, members

    monkeypatch.setattr(RUN, "_groups", duplicating)
    f = F.f_exp(1.0, 1.0)
    x0 = np.linspace(-2.0, 2.0, 4)  # fewer than kernels.LANES: one worker, so the two copies of 0 share it
    with pytest.raises(RuntimeError, match="instance 1 .*status -1"):
        synthetic.run(f if single else [f] * 4, "clipped", x0, 1e-6, 500, eta_c=0.1, gamma=1.0)


# -- the helper threads --------------------------------------------------------------------------------------

def _recording_worker(log, lock, seconds, caller=None):
    """A worker that records, per call in a helper thread, (tag, 'start'/'end'); the caller's own call (in the
    thread whose ident caller[0] holds, else the main thread) returns at once, so run_slice spends its time waiting
    for the helpers."""
    def worker(tag):
        if threading.get_ident() == (caller[0] if caller else threading.main_thread().ident):
            return
        with lock:
            log.append((tag, "start"))
        time.sleep(seconds)
        with lock:
            log.append((tag, "end"))
    return worker


def _stop_within(helpers, seconds=10.0):
    """helpers.stop() in a thread of its own, so that a helper that never ends fails the test instead of hanging it."""
    stopper = threading.Thread(target=helpers.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    assert not stopper.is_alive(), "a helper thread did not end"


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs SIGUSR1 and pthread_kill")
def test_an_exception_from_a_signal_handler_while_run_slice_waits_still_waits_for_every_helper():
    # A program's own handler may raise something other than KeyboardInterrupt (sys.exit in a SIGTERM handler is
    # common); it lands while the caller waits in run_slice. Expected (the contract of run_slice): the exception
    # reaches the caller only once the helper's call has ended, and the next slice waits for its own helper.
    # The margins (signal at 0.1 s, helper busy 0.5 s) are wide enough for a loaded machine.
    log, lock = [], threading.Lock()
    worker = _recording_worker(log, lock, 0.5)

    def handler(signum, frame):
        raise SystemExit(3)

    previous = signal.signal(signal.SIGUSR1, handler)
    helpers = RUN._Helpers()
    try:
        timer = threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGUSR1))
        timer.start()
        with pytest.raises(SystemExit):
            helpers.run_slice(worker, ("a",), 1)
        timer.join()
        with lock:
            assert log == [("a", "start"), ("a", "end")]
        helpers.run_slice(worker, ("b",), 1)
        with lock:
            assert log[2:] == [("b", "start"), ("b", "end")]
    finally:
        signal.signal(signal.SIGUSR1, previous)
        _stop_within(helpers)


def _slice_in_a_thread(helpers, worker, tag, caller, profile=None, seconds=10.0):
    """helpers.run_slice(worker, (tag,), 2) in a thread of its own (its ident put in caller[0]), under `profile`:
    True when it raised KeyboardInterrupt, False when it returned, None when it had not ended after `seconds`."""
    outcome = []

    def drive():
        caller[0] = threading.get_ident()
        sys.setprofile(profile)
        try:
            helpers.run_slice(worker, (tag,), 2)
            outcome.append(False)
        except KeyboardInterrupt:
            outcome.append(True)
        finally:
            sys.setprofile(None)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    driver.join(seconds)
    return outcome[0] if outcome else None


def test_an_interrupt_after_any_call_in_run_slice_leaves_no_helper_running():
    # A KeyboardInterrupt from a caller's own SIGINT handler is raised in the calling thread where the interpreter
    # looks for signals: after a call returns (also inside threading's own Python code), at a loop's back edge, on
    # entering a function. This raises one at the m-th entry into run.py's code or return to it from a call, in the
    # calling thread, for every m until a slice runs through. Expected (run_slice's contract): run_slice ends
    # (threads run the slices, so that a hang fails the test instead of hanging it); whenever the interrupt
    # escapes, no helper is running the slice and none starts it later (stop() ends the threads only after what
    # they were given); and each of the next two slices on the same helpers returns only after both helpers ran it.
    here = RUN.__file__
    for m in range(1, 500):
        log, lock, caller = [], threading.Lock(), [None]
        worker = _recording_worker(log, lock, 0.02, caller)
        helpers = RUN._Helpers()
        assert _slice_in_a_thread(helpers, worker, "warm", caller) is False  # both threads started
        seen = [0]

        def profile(frame, event, arg):
            ours = frame.f_code.co_filename == here
            returning = event == "return" and frame.f_back is not None and frame.f_back.f_code.co_filename == here
            called = frame.f_code.co_filename in (threading.__file__, __file__)  # not a callback (weakref, gc)
            if (ours and event in ("call", "c_return")) or (returning and called):
                seen[0] += 1
                if seen[0] == m:
                    raise KeyboardInterrupt

        interrupted = _slice_in_a_thread(helpers, worker, "a", caller, profile)
        assert interrupted is not None, f"interrupt at call {m}: run_slice never returned"
        with lock:
            running = [t for t, what in log if t == "a" and what == "start"]
            ended = [t for t, what in log if t == "a" and what == "end"]
        assert len(running) == len(ended), f"interrupt at call {m}: a helper was still running the slice"
        for tag in ("b", "c"):
            assert _slice_in_a_thread(helpers, worker, tag, caller) is False, \
                f"interrupt at call {m}: slice {tag} after it never returned"
            with lock:
                ends = [what for t, what in log if t == tag].count("end")
            assert ends == 2, f"interrupt at call {m}: slice {tag} after it returned before its helpers ended"
        _stop_within(helpers)
        with lock:
            late = [t for t, what in log if t == "a" and what == "start"]
        assert late == running, f"interrupt at call {m}: a helper started the slice after run_slice had returned"
        if not interrupted:
            assert 1 < m and seen[0] < m, "an interrupt was raised where it could not reach run_slice's caller"
            break
    else:
        pytest.fail("run_slice made 500 calls")


def test_an_idle_helper_keeps_no_array_of_the_slice_it_ran():
    # The helpers live as long as the process: one that waits for its next slice must not hold the last one's
    # arguments (a run's arrays, traces included). Expected: the only reference left is the test's weak one.
    class Arrays:  # a stand-in for a run's arrays that can be referred to weakly
        pass

    helpers = RUN._Helpers()
    arrays = Arrays()
    ref = weakref.ref(arrays)
    helpers.run_slice(lambda a: None, (arrays,), 1)
    del arrays
    gc.collect()
    try:
        assert ref() is None, "an idle helper still holds the last slice's arguments"
    finally:
        _stop_within(helpers)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="with one thread a run uses no helper thread")
def test_a_run_keeps_no_array_once_its_result_is_dropped():
    # the same through run(): 100 instances are more than one worker's lanes (kernels.LANES = 32), so a helper
    # runs a part of the batch; expected: dropping the result frees its arrays
    r = synthetic.run(F.f_exp(1.0, 1.0), "clipped", np.linspace(-2.0, 2.0, 100), 1e-6, 50, eta_c=0.1, gamma=1.0)
    ref = weakref.ref(r.x_final)
    del r
    gc.collect()
    assert ref() is None, "the run's arrays outlive its result"


# -- the scalar fast paths -----------------------------------------------------------------------------------

class _Float(float):
    """A float that the fast paths do not take (they test type(value) is float): it goes the general way."""


class _Int(int):
    """An int that the fast paths do not take: it goes the general way."""


def _outcome(fn, *args, **kwargs):
    """What a packing function does with its input: its array (dtype, shape and bits, so -0.0 differs from 0.0)
    or its error message."""
    try:
        arr = fn(*args, **kwargs)
    except ValueError as e:
        return ("error", str(e))
    return (arr.dtype.str, arr.shape, arr.tobytes())


EDGE_FLOATS = [0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308, -1.0, 1.0, float("nan"), float("inf"),
               -float("inf")]


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(EDGE_FLOATS)),
       flags=st.sampled_from([{}, {"positive": True}, {"nonnegative": True}]))
def test_the_float_fast_path_of_per_instance_agrees_with_the_general_path(value, flags):
    # independent implementation: the same number as a float subclass takes the general path (as_finite and the
    # sign checks), which every scalar took before the fast path; both must accept, refuse and convert alike
    assert _outcome(RUN._per_instance, "eps", value, 3, **flags) == \
        _outcome(RUN._per_instance, "eps", _Float(value), 3, **flags)


EDGE_INTS = [0, 1, -1, 2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**64, -2**63, 2**70]


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.sampled_from(EDGE_INTS)),
       bounds=st.sampled_from([(1, RUN.MAX_ITER), (0, 2**63 - 1)]))
def test_the_int_fast_path_of_integers_agrees_with_the_general_path(value, bounds):
    # independent implementation: the same number as an int subclass takes the general path (strict_number and
    # the range checks); the bounds are those of max_iter and of seed
    assert _outcome(RUN._integers, "seed", value, 3, *bounds) == _outcome(RUN._integers, "seed", _Int(value), 3,
                                                                           *bounds)


def test_bools_and_numpy_scalars_still_go_the_general_way():
    # analytic facts of the boundary rules: a bool is refused as a number (validation.strict_number); NumPy
    # scalars are accepted as their values
    for fn, args in ((RUN._per_instance, ("eps", True, 3)), (RUN._integers, ("seed", True, 3, 0, 10))):
        with pytest.raises(ValueError, match="bool"):
            fn(*args)
    assert RUN._per_instance("eps", np.float32(0.5), 3).tolist() == [0.5]
    assert RUN._integers("seed", np.uint64(2**63 - 1), 3, 0, 2**63 - 1).tolist() == [2**63 - 1]


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(EDGE_FLOATS),
                       st.integers(min_value=-2**70, max_value=2**70), st.sampled_from(EDGE_INTS)),
       domain=st.sampled_from(["positive", "nonnegative", "unit", "closed-unit", "any"]))
def test_the_scalar_fast_path_of_a_rule_parameter_agrees_with_the_array_path(value, domain):
    # independent implementation: the same number as a float or int subclass takes the array path (as_finite and
    # the domain's array test), which every scalar took before; both accept, refuse and convert alike (the value's
    # bits), though the fast path hands back a float and the array path a 0-d array
    from clipcheck.synthetic.rules import Param

    def outcome(v):
        try:
            return ("ok", np.asarray(Param("eta", None, domain).check(v), float).tobytes())
        except ValueError as e:
            return ("error", str(e))
    slow = _Float(value) if isinstance(value, float) else _Int(value)
    assert outcome(value) == outcome(slow)
