"""The runner with noise, momentum and stopping rules: reproducibility, and agreement with a NumPy loop."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic import noise as N
from clipcheck.synthetic import rng
from clipcheck.synthetic import rules as R

ROOT = Path(__file__).resolve().parents[1]

# every rule with parameters that keep the runs finite on f_exp(1, 1) from ||grad|| = 5
RULES = {"sgd": {"h": 0.02}, "clipped-sgd": {"eta": 0.05, "L1": 1.0}, "clipped-sgd-outer": {"eta": 0.05, "L1": 1.0},
         "l0l1-gd": {"eta": 0.5, "L0": 1.0, "L1": 1.0}, "vankov-star": {"L0": 1.0, "L1": 1.0},
         "vankov-si": {"L0": 1.0, "L1": 1.0}, "vankov-cl": {"L0": 1.0, "L1": 1.0},
         "momentum-clip": {"eta": 0.1, "gamma": 0.1}, "mixed-clip": {"eta": 0.1, "gamma": 0.1, "nu": 0.5},
         "nsgd-m": {}, "torch-clip": {"lr": 0.1, "max_norm": 1.0}, "gd": {"h": 0.02},
         "clipped": {"eta_c": 0.1, "gamma": 1.0}, "normalized": {"eta_n": 0.1, "beta": 1.0}}
NOISES = [("bounded", {}), ("bounded-adversarial", {"p_plus": 0.2}), ("gaussian", {}), ("student-t", {"df": 3.0})]

_BATCH = """
import hashlib, numpy as np
from clipcheck import synthetic
from clipcheck.synthetic import catalogue as F
fam = F.f_exp(1.0, 1.0)
x0 = np.tile(fam.start_for_grad(5.0, dim=3), (64, 1))
h = hashlib.sha256()
for noise, kw in [("gaussian", {}), ("student-t", {"df": 2.5})]:
    for rule, p in [("clipped-sgd", {"eta": 0.05, "L1": 1.0}), ("nsgd-m", {})]:
        r = synthetic.run(fam, rule, x0, 1e-3, 400, noise=noise, tau=0.5, seed=11, stop="never",
                          record=[0, 100, 400], noise_params=kw, **p)
        for a in (r.iterations, r.status, r.f_final, r.grad_norm_final, r.trace["grad_norm"]):
            h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


def _digest_in_subprocess(threads):
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", _BATCH], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_runs_are_bit_identical_across_thread_counts():
    # the acceptance test of issue 3: same seed, NUMBA_NUM_THREADS = 1 vs 2, identical bytes
    assert _digest_in_subprocess(1) == _digest_in_subprocess(2)


def test_runs_are_bit_identical_across_chunks():
    fam = F.f_exp(1.0, 1.0)
    x0 = np.tile(fam.start_for_grad(5.0, dim=2), (30, 1))
    kw = dict(noise="gaussian", tau=0.5, seed=3, stop="never", record=[0, 50, 200], eta=0.1, gamma=0.1)
    whole = synthetic.run(fam, "momentum-clip", x0, 1e-3, 200, **kw)
    for size in (1, 7, 16):
        parts = [synthetic.run(fam, "momentum-clip", x0[i:i + size], 1e-3, 200,
                               streams=np.arange(i, min(i + size, 30)), **kw) for i in range(0, 30, size)]
        # the oracle depends on (seed, stream, t) only: chunking by `streams` reproduces every bit
        assert np.array_equal(np.concatenate([p.trace["grad_norm"] for p in parts]), whole.trace["grad_norm"])
        assert np.array_equal(np.concatenate([p.f_final for p in parts]), whole.f_final)


def test_same_seed_same_run_other_seed_other_run():
    fam = F.cosh2()
    x0 = np.full(8, fam.start_for_grad(20.0))
    a, b, c = (synthetic.run(fam, "sgd", x0, 1e-3, 300, noise="bounded", tau=1.0, seed=s, h=0.05, stop="never")
               for s in (5, 5, 6))
    assert np.array_equal(a.f_final, b.f_final) and not np.array_equal(a.f_final, c.f_final)
    assert len(set(a.f_final.tolist())) == 8  # the 8 instances draw 8 different streams


@pytest.mark.parametrize("rule", ["gd", "clipped", "normalized"])
def test_noise_of_size_zero_changes_no_bit(rule):
    # g + 0 * xi = g exactly for finite xi: the kernel with the noise machinery must reproduce the kernel without
    fams = [F.f_exp(1.0, 1.0), F.f_slow(0.3), F.x4(), F.logistic(2.0)]
    x0 = np.array([f.start_for_gap(3.0) for f in fams])
    p = RULES[rule] if rule != "gd" else {"h": 0.01}
    det = synthetic.run(fams, rule, x0, 0.05, 50_000, **p)
    sto = synthetic.run(fams, rule, x0, 0.05, 50_000, noise="gaussian", tau=0.0, seed=4, **p)
    assert np.array_equal(det.iterations, sto.iterations) and np.array_equal(det.status, sto.status)
    assert np.array_equal(det.f_final, sto.f_final)


def test_radial_lift_without_noise_matches_the_line():
    # f(x) = p(||x||) from (r, 0, 0) moves along the axis exactly as p from r on the line (x/r = e_1 exactly)
    fam = F.f_exp(2.0, 3.0)
    r0 = fam.start_for_grad(50.0)
    line = synthetic.run(fam, "vankov-star", [r0], 1e-4, 10_000, L0=2.0, L1=3.0)
    lift = synthetic.run(fam, "vankov-star", [[r0, 0.0, 0.0]], 1e-4, 10_000, L0=2.0, L1=3.0)
    assert line.iterations[0] == lift.iterations[0] and line.f_final[0] == lift.f_final[0]


# -- a plain NumPy loop, written from the formulas, as the independent implementation ------------------------

def _noise_np(noise, tau, a, key, g):
    if noise == "none":
        return g.copy()
    d = g.size
    extra = rng.absorb(key, 0xFFFFFFFF)
    if noise == "bounded-adversarial":
        gn = np.linalg.norm(g)
        size = tau if rng.uniform(extra, 0) < a else -tau * a / (1 - a)
        return g + size * g / gn
    z = np.array([rng.normal(key, j) for j in range(d)])
    if noise == "bounded":
        return g + tau * rng.uniform(extra, 0) ** (1 / d) * z / np.linalg.norm(z)
    if noise == "gaussian":
        return g + tau / math.sqrt(d) * z
    w = 2.0 * N.gamma_draw(0.5 * a, extra)  # chi^2_df
    return g + tau / math.sqrt(d) * z / math.sqrt(w / a)


def _reference(fam, rule, p, x0, steps, noise, tau, a, seed, stream):
    """||grad f|| after each of `steps` iterations, written directly from the rules' formulas."""
    x = np.atleast_1d(np.array(x0, float))
    m = np.zeros_like(x)
    p = {**{q.name: q.default for q in R.RULES[rule].params if q.default is not None}, **p}
    out = []
    for t in range(steps + 1):
        g = fam.grad(x[None] if x.size > 1 else x)[0] * (np.ones(1) if x.size == 1 else 1.0)
        g = np.atleast_1d(g)
        out.append(np.linalg.norm(g))
        if t == steps:
            return np.array(out)
        gh = _noise_np(noise, tau, a, rng.counter_key(seed, stream, t), g)
        n = np.linalg.norm(gh)
        if rule in ("momentum-clip", "mixed-clip"):
            m = gh.copy() if t == 0 else p["beta"] * m + (1 - p["beta"]) * gh
            nu = 1.0 if rule == "momentum-clip" else p["nu"]
            clip = lambda v: p["eta"] / (1 + p["eta"] * np.linalg.norm(v) / p["gamma"]) * v  # noqa: E731
            x = x - nu * clip(m) - (1 - nu) * clip(gh)
            continue
        if rule == "nsgd-m":
            k = t + 1
            m = (1 - k**-0.5) * m + k**-0.5 * gh
            x = x - p["eta0"] * k**-0.75 * m / np.linalg.norm(m)
            continue
        h = {"sgd": lambda: p["h"], "gd": lambda: p["h"],
             "clipped-sgd": lambda: min(1 / (16 * p["eta"] * p["L1"] * (n + tau)), p["eta"]),
             "clipped-sgd-outer": lambda: min(1 / (16 * p["L1"] * (n + tau)), p["eta"]),
             "l0l1-gd": lambda: p["eta"] / (p["L0"] + p["L1"] * n),
             "vankov-star": lambda: math.log(1 + p["L1"] * n / (p["L0"] + p["L1"] * n)) / (p["L1"] * n),
             "vankov-si": lambda: 1 / (p["L0"] + 1.5 * p["L1"] * n),
             "vankov-cl": lambda: min(1 / (2 * p["L0"]), 1 / (3 * p["L1"] * n)),
             "torch-clip": lambda: p["lr"] * min(1, p["max_norm"] / n),
             "clipped": lambda: min(p["eta_c"], p["gamma"] * p["eta_c"] / n),
             "normalized": lambda: p["eta_n"] / (n + p["beta"])}[rule]()
        x = x - h * gh


@pytest.mark.parametrize("rule", list(RULES))
def test_runner_agrees_with_a_numpy_loop(rule):
    fam = F.f_exp(1.0, 1.0)
    steps = 40
    with np.errstate(over="ignore"):  # uint64 hashing wraps by design
        for (noise, kw), dim in zip(NOISES, (1, 3, 2, 1)):
            x0 = np.array([fam.start_for_grad(5.0, dim)] * 3)
            x0 = x0 if dim > 1 else x0.ravel()
            a = N.NOISES[noise].shape(kw)
            r = synthetic.run(fam, rule, x0, 1e-9, steps, noise=noise, tau=0.5, seed=9, stop="never",
                              record=steps, noise_params=kw, **RULES[rule])
            for i in range(3):
                want = _reference(fam, rule, RULES[rule], x0[i], steps, noise, 0.5, a, 9, i)
                # same formulas in another order of operations: rounding differences grow at most geometrically
                # over 40 steps of contracting maps; 1e-9 relative is far above that and far below any rule error
                np.testing.assert_allclose(r.trace["grad_norm"][i], want, rtol=1e-9, atol=1e-12)


def test_stop_rules():
    fam = F.f_exp(1.0, 1.0)
    x0 = [fam.start_for_grad(5.0)]
    g = synthetic.run(fam, "vankov-si", x0, 0.1, 1000, L0=1.0, L1=1.0)
    gap = synthetic.run(fam, "vankov-si", x0, 0.1, 1000, stop="gap", L0=1.0, L1=1.0)
    never = synthetic.run(fam, "vankov-si", x0, 0.1, 50, stop="never", L0=1.0, L1=1.0)
    assert g.grad_norm_final[0] <= 0.1 and gap.f_final[0] - fam.f_star <= 0.1  # each stop meets its target
    # "never" reports the first hit but ends at max_iter, where ||grad f|| is far below eps
    assert never.iterations[0] == g.iterations[0] and never.grad_norm_final[0] < g.grad_norm_final[0]


@pytest.mark.parametrize("kwargs,name", [
    ({"noise": "laplace"}, "noise"), ({"tau": -1.0}, "tau"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ({"noise": "student-t", "noise_params": {"df": -2.0}}, "df"),
    ({"noise": "gaussian", "noise_params": {"df": 3.0}}, "df"), ({"noise": "student-t", "noise_params": {}}, "df"),
    ({"noise": "student-t", "noise_params": {"df": 1e-10}}, "df"), ({"stop": "soon"}, "stop"),
    ({"record": [5, 2]}, "record"), ({"eps": 0.0}, "eps"), ({"max_iter": 0}, "max_iter"), ({"rule": "adam"}, "rule"),
    ({"x0": [[1.0, 2.0]], "function": F.logistic()}, "x0"), ({"function": "f_exp"}, "function"),
    ({"x0": [math.nan]}, "x0"), ({"noise_params": {"df": 3.0}}, "noise_params")])
def test_boundary_validation_names_the_argument(kwargs, name):
    args = {"function": F.f_exp(1.0, 1.0), "rule": "sgd", "x0": [1.0], "eps": 0.1, "max_iter": 100, "h": 0.1,
            **kwargs}
    with pytest.raises(ValueError, match=name):
        synthetic.run(args.pop("function"), args.pop("rule"), args.pop("x0"), args.pop("eps"), args.pop("max_iter"),
                      **args)


def test_result_to_dict_is_json_ready():
    import json
    r = synthetic.run(F.f_exp(1.0, 1.0), "nsgd-m", [1.0, 2.0], 0.1, 20, noise="gaussian", tau=0.1, record=[0, 5])
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))  # JSON has no NaN: non-finite values are None
    assert d["meta"]["noise_assumption"].startswith("not A5") and len(d["trace"]["grad_norm"]) == 2
