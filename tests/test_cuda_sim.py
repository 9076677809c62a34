"""The CUDA backend against the CPU one, under numba-cuda's simulator (NUMBA_ENABLE_CUDASIM=1, set before numba is
imported, so in a child process): every rule, with and without noise, d = 1 and d = 3, identical counts, statuses
and final iterates. The CPU runner itself agrees with a plain NumPy loop (tests/test_stochastic_runner.py)."""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")

SCRIPT = textwrap.dedent("""
    import warnings
    warnings.simplefilter("ignore")  # the simulator's uint64 hashing in NumPy scalars warns on wrap-around
    import numpy as np
    from clipcheck import synthetic
    from clipcheck.synthetic import catalogue as F

    PARAMS = {"gd": {"h": 0.02}, "clipped": {"eta_c": 0.1, "gamma": 1.0}, "normalized": {"eta_n": 0.1, "beta": 1.0},
              "sgd": {"h": 0.02}, "clipped-sgd": {"eta": 0.05, "L1": 1.0}, "clipped-sgd-outer": {"eta": 0.05, "L1": 1.0},
              "l0l1-gd": {"eta": 0.5, "L0": 1.0, "L1": 1.0}, "vankov-star": {"L0": 1.0, "L1": 1.0},
              "vankov-si": {"L0": 1.0, "L1": 1.0}, "vankov-cl": {"L0": 1.0, "L1": 1.0},
              "momentum-clip": {"eta": 0.1, "gamma": 0.1}, "mixed-clip": {"eta": 0.1, "gamma": 0.1, "nu": 0.5},
              "nsgd-m": {}, "torch-clip": {"lr": 0.1, "max_norm": 1.0}}
    assert set(PARAMS) == set(synthetic.rules.RULES), "a rule is missing from the CUDA test"
    f = F.f_exp(1.0, 1.0)
    for rule, p in PARAMS.items():
        for dim, noise in ((1, "gaussian"), (3, "student-t")):
            x0 = np.array([f.start_for_grad(M, dim) for M in (0.5, 3.0, 8.0)])
            kw = dict(noise=noise, tau=0.3, seed=5, noise_params={"df": 3.0} if noise == "student-t" else None)
            a = synthetic.run(f, rule, x0, 1e-2, 300, **kw, **p)
            b = synthetic.run(f, rule, x0, 1e-2, 300, backend="cuda", **kw, **p)
            assert (a.iterations == b.iterations).all() and (a.status == b.status).all(), (rule, dim, a, b)
            assert np.array_equal(a.x_final, b.x_final, equal_nan=True), (rule, dim)
    # without noise, a diverging run and the trace
    f2 = F.f_exp(1.0, 2.0)  # from x0 = 2 the step h = 0.4 is far above h* (section 3.1): GD overflows
    a = synthetic.run(f2, "gd", [0.3, 2.0], 1e-3, 400, h=0.4, record=[0, 5, 50])
    b = synthetic.run(f2, "gd", [0.3, 2.0], 1e-3, 400, h=0.4, record=[0, 5, 50], backend="cuda")
    assert 2 in b.status and (a.status == b.status).all() and (a.iterations == b.iterations).all()
    assert np.array_equal(a.trace["grad_norm"], b.trace["grad_norm"], equal_nan=True)
    print("ok")
""")


def test_every_rule_on_cpu_and_cuda_simulator_agrees_exactly():
    # same pasted source for the mathematics and the rules, same order of operations: bit-identical results
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    p = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-3000:]


def test_cuda_backend_without_a_device_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = ("from clipcheck import synthetic; from clipcheck.synthetic import catalogue as F, cuda\n"
            "if cuda.available(): print('device'); raise SystemExit\n"
            "try: synthetic.run(F.f_exp(1,1), 'gd', [1.0], 1e-3, 10, backend='cuda', h=0.1)\n"
            "except ValueError as e: print(str(e).split(':')[0])\n")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.stdout.strip() in ("backend", "device"), p.stderr[-2000:]
