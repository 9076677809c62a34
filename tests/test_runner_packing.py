"""How `run` packs a batch (issue 12, "less Python per call"): arguments given as scalars reach the kernels as one
row shared by all instances, slices pause and requeue their instances, and the result check still refuses every
impossible result. Each test compares against a run packed the other way or against a fact of the check."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F

RUN = sys.modules["clipcheck.synthetic.run"]  # the module (the package exports the function `run` by that name)


A = {"eps": 1e-2, "max_iter": 300, "tau": 0.3, "seed": 5, "eta": 0.05, "L1": 1.0}
B = {"eps": 3e-2, "max_iter": 40, "tau": 0.1, "seed": 9, "eta": 0.02, "L1": 2.0}


def _per_instance_and_shared(backend):
    """A noisy batch run with per-instance arguments alternating between the sets A and B (the kernels read row i),
    and what it must equal: instance i of the whole batch run with A's scalars (i even) or B's (i odd), where the
    kernels read the one shared row."""
    f = F.f_exp(1.0, 1.0)
    n = 6
    x0 = np.array([f.start_for_grad(M, 2) for M in np.linspace(0.5, 8.0, n)])

    def run(p):
        return synthetic.run(f, "clipped-sgd", x0, p["eps"], p["max_iter"], noise="gaussian", tau=p["tau"],
                             seed=p["seed"], backend=backend, eta=p["eta"], L1=p["L1"])

    rows = run({k: np.array([A[k], B[k]] * (n // 2)) for k in A})
    a, b = run(A), run(B)
    even = np.arange(n) % 2 == 0
    expected = {k: np.where(even if getattr(a, k).ndim == 1 else even[:, None], getattr(a, k), getattr(b, k))
                for k in ("iterations", "status", "f_final", "x_final")}
    return rows, expected


def _same(result, expected):
    for k, v in expected.items():
        assert np.array_equal(getattr(result, k), v, equal_nan=k != "status"), k


def test_per_instance_arguments_read_their_own_row_and_scalars_the_shared_one():
    # expected: the runs of the whole batch with each set's scalars (see _per_instance_and_shared)
    rows, expected = _per_instance_and_shared("cpu")
    _same(rows, expected)
    assert len(set(expected["iterations"].tolist())) > 2  # the sets and starts differ, so the counts do


def test_shared_rows_on_the_cuda_simulator():
    pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")
    # expected: as above, and the CPU backend's numbers (tests/test_cuda_sim.py: the backends agree bit for bit)
    code = textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")
        import sys
        sys.path.insert(0, %r)
        import test_runner_packing as t
        rows, expected = t._per_instance_and_shared("cuda")
        t._same(rows, expected)
        t._same(rows, t._per_instance_and_shared("cpu")[1])
        print("ok")
    """) % os.path.dirname(__file__)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@pytest.mark.parametrize("rule, stop, record, params", [
    ("clipped", "grad", None, {"eta_c": 0.1, "gamma": 1.0}),
    # per-instance HIT (stop "never"), RJ (a trace) and momentum, saved and restored at every pause
    ("momentum-clip", "never", [0, 3, 40, 200], {"eta": 0.1, "gamma": 1.0, "beta": 0.9}),
])
def test_many_slices_pause_and_requeue_without_changing_a_result(monkeypatch, rule, stop, record, params):
    # expected: the same batch run in one slice; an instance's arithmetic does not depend on when it is paused
    f = F.f_exp(1.0, 1.0)
    x0 = np.log1p(np.logspace(0, 4, 500))  # |f'(x0)| = M (THEOREMS.md 3.1): counts from a few to hundreds
    budget = 10**6 if stop == "grad" else 400
    once = synthetic.run(f, rule, x0, 1e-9, budget, stop=stop, record=record, **params)
    monkeypatch.setattr(RUN, "SLICE_STEPS", 997)  # a few dozen passes of the lanes per slice: hundreds of pauses
    monkeypatch.setattr(RUN, "SLICE_SECONDS", 0.0)  # every slice that short
    sliced = synthetic.run(f, rule, x0, 1e-9, budget, stop=stop, record=record, **params)
    _same(sliced, {k: getattr(once, k) for k in ("iterations", "status", "f_final", "x_final")})
    if record is not None:
        for k in ("f", "grad_norm", "x"):
            assert np.array_equal(sliced.trace[k], once.trace[k], equal_nan=True), k
    steps = x0.size * budget if stop == "never" else once.iterations.sum()  # "never" runs every step of the budget
    assert steps > 50 * 997  # so the second run took more than 50 slices
    assert len(set(once.iterations.tolist())) > 10  # the instances differ


def _state(status, T, F_, G):
    return {"STATUS": np.array(status, np.int8), "T": np.array(T, np.int64), "F": np.array(F_, float),
            "G": np.array(G, float)}


@pytest.mark.parametrize("status, T, F_, G, stop", [
    ([0, 5], [3, 1], [0.0, 0.0], [0.0, 0.0], "grad"),          # not a status
    ([0, 0], [3, -1], [0.0, 0.0], [0.0, 0.0], "grad"),         # negative t
    ([0, 1], [3, 11], [0.0, 0.0], [0.0, 0.0], "grad"),         # t beyond max_iter
    ([0, 0], [3, 1], [0.0, np.inf], [0.0, 0.0], "grad"),       # "converged" with f = inf
    ([0, 0], [3, 1], [0.0, 0.0], [0.0, np.nan], "never"),      # "converged" with a NaN gradient norm
    ([0, 0], [3, 1], [0.0, 0.0], [0.0, 0.5], "grad"),          # "converged" above the target ||grad f|| <= 0.1
    ([0, 0], [3, 1], [0.0, 0.5], [0.0, 0.0], "gap"),           # "converged" above the target f - f* <= 0.1
    ([0, 1], [3, 4], [0.0, 0.0], [0.0, 0.0], "grad"),          # "budget" before max_iter = 10
])
def test_every_impossible_result_is_an_error_naming_its_instance(status, T, F_, G, stop):
    # expected: instance 1 breaks the rule of the check named in its case's comment; instance 0 (converged at
    # t = 3 with f = f* = 0 and ||grad f|| = 0, eps = 0.1, max_iter = 10) breaks none, so it is instance 1 that
    # the error names
    fns = [F.f_exp(1.0, 1.0)] * 2
    with pytest.raises(RuntimeError, match="instance 1 "):
        RUN._check(_state(status, T, F_, G), fns, np.array([0.1]), np.zeros(1), np.array([10]), stop)


def test_possible_results_pass_the_check():
    # expected: no error for results at the edges of the rules: converged exactly at the target at t = 0, budget
    # at t = max_iter, diverged with non-finite f and gradient norm (allowed for that status)
    state = _state([0, 1, 2], [0, 10, 4], [0.0, 5.0, np.inf], [0.1, 3.0, np.nan])
    RUN._check(state, F.f_exp(1.0, 1.0), np.array([0.1]), np.zeros(1), np.array([10]), "grad")
    RUN._check(state, F.f_exp(1.0, 1.0), np.full(3, 0.1), np.zeros(3), np.full(3, 10), "never")


# The CPU kernels check each result as they write it (lanes.impossible in lanes.attend) and count the instances
# they finish; run reads the whole batch again only when a count is off. Two faults show that both counts are read.
FLAGGING_KERNEL = textwrap.dedent("""
    import numpy as np
    from clipcheck import synthetic
    from clipcheck.synthetic import catalogue as F, lanes

    def impossible_at_t3(status, t, f, g, eps, fstar, budget, stop):
        return 1 if t == 3 else 0  # a stand-in that calls every result at t = 3 impossible

    lanes.impossible = impossible_at_t3  # before any kernel is built: the kernel's check and run's search use it
    try:
        synthetic.run(F.f_exp(1.0, 1.0), "clipped", np.array([0.0, 5.0]), 1e-6, 3, eta_c=0.1, gamma=1.0)
    except RuntimeError as e:
        print(e)
""")


def test_a_result_the_kernel_flags_as_it_writes_it_is_an_error_naming_the_instance(tmp_path):
    # expected: instance 0 starts at the minimiser (f_exp'(0) = 0) and converges at t = 0; instance 1 starts at 5 and
    # clipped steps move it at most gamma * eta_c = 0.1 per step, so it stops on the budget at t = 3, the t the
    # stand-in flags. Its own kernel cache, since the stand-in changes the kernels' source.
    script = tmp_path / "flagging.py"
    script.write_text(FLAGGING_KERNEL)
    env = dict(os.environ, CLIPCHECK_KERNEL_CACHE=str(tmp_path / "kernels"))
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "impossible result for instance 1 " in done.stdout and "iterations 3," in done.stdout, done.stdout


def test_an_instance_the_kernels_did_not_count_as_finished_is_an_error(monkeypatch):
    # expected: workers that under-report the instances they finished (spent[1], lanes.py) by one, once in the run:
    # every result is possible, so the search finds none, and run says how many of the 40 instances the kernels
    # finished (39)
    real, fired = RUN._Helpers.run_slice, []

    def under_reporting(self, worker, args, k):
        real(self, worker, args, k)  # every worker of the slice has returned
        if not fired and args[2][1] > 0:  # args[2] is spent
            args[2][1] -= 1
            fired.append(True)

    monkeypatch.setattr(RUN._Helpers, "run_slice", under_reporting)
    with pytest.raises(RuntimeError, match="finished 39 of 40 instances"):
        synthetic.run(F.f_exp(1.0, 1.0), "clipped", np.linspace(-2.0, 2.0, 40), 1e-6, 500, eta_c=0.1, gamma=1.0)
