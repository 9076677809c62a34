"""synthetic.cuda under the Numba CUDA simulator: identical counts, statuses and finals to the CPU runner.

The simulator must be switched on before numba is imported, so the comparison runs in a child process.
"""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")

SCRIPT = textwrap.dedent("""
    import numpy as np
    from clipcheck import synthetic
    from clipcheck.synthetic import functions as F
    from clipcheck.theory import steps

    eta_c, gamma = steps.zhsj_thm3_params(1.0, 2.0)
    eta_n, beta = steps.ngd_params(1.0, 2.0)
    cases = [
        (F.f_exp(1.0, 2.0), "clipped", {"eta_c": eta_c, "gamma": gamma}, [0.3, 1.0, -1.7]),
        (F.f_exp(1.0, 2.0), "gd", {"h": 0.4}, [0.3, 2.0]),                  # the second one diverges
        (F.f_slow(0.5), "normalized", {"eta_n": eta_n, "beta": beta}, [2.0, -0.4]),
        (F.logistic(1.0), "gd", {"h": 1.0}, [-3.0, 0.5]),
        (F.x4(), "clipped", {"eta_c": 0.05, "gamma": 1.0}, np.array([[0.6, -0.8, 0.1], [1.2, 0.0, 0.3]])),
    ]
    for fam, rule, params, x0 in cases:
        a = synthetic.run(fam, rule, x0, 1e-3, 400, **params)
        b = synthetic.run(fam, rule, x0, 1e-3, 400, backend="cuda", **params)
        assert (a.iterations == b.iterations).all(), (fam.name, a.iterations, b.iterations)
        assert (a.status == b.status).all(), (fam.name, a.status, b.status)
        np.testing.assert_array_equal(a.grad_norm_final, b.grad_norm_final)
    assert 2 in synthetic.run(F.f_exp(1.0, 2.0), "gd", [0.3, 2.0], 1e-3, 400, backend="cuda", h=0.4).status
    print("ok")
""")


def test_cpu_and_cuda_simulator_agree_exactly():
    # same source for the mathematics, same stopping tests in the same order: counts must be identical
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    p = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]


def test_cuda_backend_without_a_device_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = ("from clipcheck import synthetic; from clipcheck.synthetic import functions as F\n"
            "from synthetic import cuda\n"
            "if cuda.available(): print('device'); raise SystemExit\n"
            "try: synthetic.run(F.f_exp(1,1), 'gd', [1.0], 1e-3, 10, backend='cuda', h=0.1)\n"
            "except ValueError as e: print(str(e).split(':')[0])\n")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.stdout.strip() in ("backend", "device"), p.stderr[-2000:]
