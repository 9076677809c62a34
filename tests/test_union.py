"""A batch of several functions runs in one union kernel (synthetic/union.py): the same bits as each function's own
specialised kernel, and one compile instead of one per function (issue 8: a cold verify compiles ~60 kernels)."""
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from clipcheck import synthetic
from clipcheck.synthetic import Function, catalogue as C, kernels, union


@numba.njit
def shifted_bowl(x, p, g):
    """f = p0 ||x - p1||^2 / 2: a user's function with its own parameters, to sit beside the built-ins."""
    f = 0.0
    for j in range(x.shape[0]):
        d = x[j] - p[1]
        g[j] = p[0] * d
        f += 0.5 * p[0] * d * d
    return f


@numba.njit
def mean_bowl(x, p, g):
    """f = m x^2 / 2 with m the mean of p: reads the length of p, so padding p would change it."""
    m = 0.0
    for k in range(p.shape[0]):
        m += p[k]
    m /= p.shape[0]
    g[0] = m * x[0]
    return 0.5 * m * x[0] * x[0]


USER = {d: Function.from_numba(shifted_bowl, dim=d, params=[2.0, 0.5], L0=2.0, L1=0.0, f_star=0.0) for d in (1, 3)}


def _fields(r):
    return r.iterations, r.status, r.f_final, r.grad_norm_final, r.x_final


def _alone(fns, rule, X, eps, budget, **kw):
    """The independent reference: each instance run by itself, on its own function's specialised kernel."""
    rows = [_fields(synthetic.run(f, rule, X[i:i + 1], eps, budget, **kw)) for i, f in enumerate(fns)]
    return [np.concatenate([r[k] for r in rows]) for k in range(5)]


def _members(dim):
    # two f_exp: one source with two parameter sets; on the line the radial lifts run as their profiles
    return [f.on_dim(dim) for f in (C.f_exp(1.0, 1.0), C.f_slow(1.0), C.f_exp(2.0, 0.5), USER[dim])]


@pytest.mark.parametrize("dim", [1, 3])
def test_a_mixed_batch_gives_the_bits_of_each_function_run_alone(dim):
    fns = _members(dim) * 3
    X = np.random.default_rng(0).uniform(-3.0, 3.0, (len(fns), dim))
    mixed = _fields(synthetic.run(fns, "clipped", X, 1e-4, 10**5, eta_c=0.1, gamma=1.0))
    for got, want in zip(mixed, _alone(fns, "clipped", X, 1e-4, 10**5, eta_c=0.1, gamma=1.0)):
        np.testing.assert_array_equal(got, want)  # exact: the same scalar code runs per lane either way


def test_a_mixed_stochastic_batch_keeps_its_noise_stream_per_instance():
    # two quartics of one source with 3 and 5 parameters: the rows of a union are as wide as the widest member
    fns = [C.f_exp(1.0, 1.0).on_dim(1), USER[1], C.quartic(np.array([[1.0]])),
           C.quartic(np.array([[1.0], [0.5]]))] * 2
    X = np.linspace(-2.0, 2.5, len(fns))
    mixed = _fields(synthetic.run(fns, "sgd", X, 1e-2, 2000, h=0.05, noise="gaussian", tau=0.3, seed=7))
    alone = [_fields(synthetic.run(f, "sgd", X[i:i + 1], 1e-2, 2000, h=0.05, noise="gaussian", tau=0.3, seed=7,
                                   streams=[i])) for i, f in enumerate(fns)]  # run's default stream of row i is i
    for k in range(5):
        np.testing.assert_array_equal(mixed[k], np.concatenate([a[k] for a in alone]))


def test_a_new_mixed_batch_compiles_one_run_kernel():
    fns = [USER[1], C.f_slow(1.0).on_dim(1), C.f_exp(1.0, 1.0).on_dim(1)]  # the members of _members(1), reversed
    before = sum(1 for key in kernels._BUILT if key[0] == "run")
    synthetic.run(fns, "clipped", np.array([1.0, 2.0, 3.0]), 1e-3, 1000, eta_c=0.1, gamma=1.0)
    assert sum(1 for key in kernels._BUILT if key[0] == "run") - before == 1  # not one per member


def test_more_sources_than_a_union_holds_are_split(monkeypatch):
    monkeypatch.setattr(union, "MAX_MEMBERS", 2)  # 3 sources: a union of 2 and one specialised kernel
    fns = _members(1)
    X = np.linspace(0.5, 2.0, len(fns)).reshape(-1, 1)
    got = _fields(synthetic.run(fns, "clipped", X, 1e-4, 10**5, eta_c=0.1, gamma=1.0))
    for a, b in zip(got, _alone(fns, "clipped", X, 1e-4, 10**5, eta_c=0.1, gamma=1.0)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw", [
    {"rule": "clipped", "eta_c": 0.1, "gamma": 1.0},
    # noise (the counter stream resumes at t), a trace (RJ) and stop "never" (HIT), saved at the switch
    {"rule": "clipped-sgd", "eta": 0.05, "L1": 1.0, "noise": "gaussian", "tau": 0.3, "seed": 7, "stop": "never",
     "record": [0, 5, 50, 400]},
])
def test_a_union_that_runs_long_goes_on_in_its_members_kernels_with_the_same_bits(monkeypatch, kw):
    # expected: the same batch run in its union kernel throughout (test above: the bits of each function alone)
    kw = dict(kw)
    rule = kw.pop("rule")
    fns = _members(1) * 40
    X = np.random.default_rng(1).uniform(-3.0, 3.0, (len(fns), 1))
    budget = 2000 if kw.get("stop") == "never" else 10**5
    whole = synthetic.run(fns, rule, X, 1e-4, budget, **kw)
    built = []
    real = kernels.cpu_run_kernel
    monkeypatch.setattr(kernels, "cpu_run_kernel", lambda fn, *a, **k: built.append(fn.name) or real(fn, *a, **k))
    run_module = sys.modules["clipcheck.synthetic.run"]
    monkeypatch.setattr(run_module, "UNION_SECONDS_PER_MEMBER", 0.0)  # switch after the first slice
    monkeypatch.setattr(run_module, "SLICE_STEPS", 4001)  # a first slice that leaves work to switch
    monkeypatch.setattr(run_module, "SLICE_SECONDS", 0.0)
    split = synthetic.run(fns, rule, X, 1e-4, budget, **kw)
    assert built[0].startswith("union(") and len(set(built[1:])) == 3  # then the 3 sources' own kernels
    for a, b in zip(_fields(split), _fields(whole)):
        np.testing.assert_array_equal(a, b)
    if "record" in kw:
        for k in ("f", "grad_norm", "x"):
            np.testing.assert_array_equal(split.trace[k], whole.trace[k])


def test_a_function_that_reads_the_length_of_p_keeps_its_own_kernel():
    # the reviewer's case: mean_bowl with p = [1, 3] has m = 2; in a union its row would be [1, 3, 0, j] (m = 1)
    mean = Function.from_numba(mean_bowl, dim=1, params=[1.0, 3.0], L0=2.0, L1=0.0, f_star=0.0)
    assert union.reads_length(mean) and not union.reads_length(USER[1])
    fns = [mean, C.f_slow(1.0).on_dim(1), USER[1]]
    X = np.array([[1.5], [1.0], [2.0]])
    got = _fields(synthetic.run(fns, "gd", X, 1e-6, 1000, h=0.25))
    for a, b in zip(got, _alone(fns, "gd", X, 1e-6, 1000, h=0.25)):
        np.testing.assert_array_equal(a, b)
    # gd with h = 0.25 on m x^2/2, m = 2: |x| shrinks by |1 - hm| = 1/2 a step (analytic), from 1.5 to <= 1e-6/2
    assert got[0][0] == int(np.ceil(np.log(1.5 / (1e-6 / 2.0)) / np.log(2.0)))


def test_union_refuses_one_function_or_too_many():
    with pytest.raises(ValueError, match="functions"):
        union.union([USER[1]])
    with pytest.raises(ValueError, match="functions"):
        union.union([USER[1]] * (union.SLOTS + 1))


def test_a_mixed_batch_on_the_cuda_simulator_matches_the_cpu():
    pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")
    # the simulator must be chosen before numba is imported: a child process, as in tests/test_cuda_sim.py
    script = textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")
        import numpy as np
        from clipcheck import synthetic
        from clipcheck.synthetic import catalogue as C
        fns = [C.f_exp(1.0, 1.0), C.f_slow(1.0), C.cosh2()] * 2
        x0 = np.array([[0.5, 1.0, -1.0], [2.0, 0.0, 0.5], [1.0, 1.0, 1.0]] * 2)
        a = synthetic.run(fns, "clipped", x0, 1e-3, 400, eta_c=0.1, gamma=1.0)
        b = synthetic.run(fns, "clipped", x0, 1e-3, 400, eta_c=0.1, gamma=1.0, backend="cuda")
        assert (a.iterations == b.iterations).all() and (a.status == b.status).all(), (a, b)
        assert np.array_equal(a.x_final, b.x_final), (a.x_final, b.x_final)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
