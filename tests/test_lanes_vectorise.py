"""The CPU lane kernel's hot loop is vectorised (issue 12): LLVM steps several lanes per instruction in ymm or zmm
registers, and never fuses a multiply and an add (FMA would change the bits that the CUDA kernel and the NumPy
reference loops compute).

How it is seen: the worker's assembly (inspect_asm) is read in a fresh process with an empty kernel cache (code
loaded from Numba's cache has no assembly to inspect). The worker's only loop with floating-point arithmetic is the
lane loop (its cold paths, fill/attend/pause, and the noise models are compiled in other modules), so packed
arithmetic (v{add,sub,mul,div}pd on ymm/zmm) in its assembly is the hot loop's. The same kernel with math="libm"
calls the platform's scalar expm1 once per lane, which LLVM cannot vectorise: it is the negative control, showing
that the count can come out low.
"""
import json
import os
import subprocess
import sys
import textwrap

import llvmlite.binding
import numba
import pytest

HAS_AVX2 = "+avx2" in llvmlite.binding.get_host_cpu_features().flatten()

CHILD = textwrap.dedent("""
    import json, re, sys
    import numpy as np
    from clipcheck import synthetic
    from clipcheck.synthetic import catalogue as F, kernels, rules as R
    PACKED = re.compile(r"\\bv(?:add|sub|mul|div)pd\\s[^\\n]*%[yz]mm")
    FMA = re.compile(r"\\bvfn?m(?:add|sub)")
    out = {}
    for label, fn, dim, rule, params, math in [
            ("f_exp d=1 clipped", F.f_exp(1.0, 1.0), 1, "clipped", dict(eta_c=0.1, gamma=1.0), "clipcheck"),
            ("f_exp d=3 normalized", F.f_exp(2.0, 5.0), 3, "normalized", dict(eta_n=0.1, beta=0.5), "clipcheck"),
            ("f_exp d=1 momentum-clip", F.f_exp(1.0, 1.0), 1, "momentum-clip",
             dict(eta=0.1, gamma=1.0, beta=0.9), "clipcheck"),
            ("f_exp d=1 clipped libm", F.f_exp(1.0, 1.0), 1, "clipped", dict(eta_c=0.1, gamma=1.0), "libm")]:
        synthetic.run(fn, rule, np.ones((2, dim)), 1e-6, 3, math=math, **params)
        worker = kernels.cpu_run_kernel(fn.on_dim(dim) if dim == 1 else fn, R.get(rule), None, dim, math)
        asm = worker.inspect_asm(worker.signatures[0])
        out[label] = [len(PACKED.findall(asm)), len(FMA.findall(asm))]
        # the cold path attend (lanes.py), linked into the worker's code: its instructions up to the next function
        attend = re.search(r"^_ZN\\S*attend_\\S*:\\n(.*?)(?=^_ZN|\\Z)", asm, re.S | re.M)
        out[label].append(len(re.findall(r"^\\s+call", attend.group(1), re.M)) if attend else None)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    env = dict(os.environ, CLIPCHECK_KERNEL_CACHE=str(tmp_path_factory.mktemp("kernels")))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not HAS_AVX2, reason="the host CPU has no AVX2, so no ymm registers to look for")
@pytest.mark.parametrize("label", ["f_exp d=1 clipped", "f_exp d=3 normalized", "f_exp d=1 momentum-clip"])
def test_hot_loop_is_vectorised_without_fma(counts, label):
    packed, fma, _ = counts[label]
    # expm1 alone is about 80 packed operations per vector of lanes (mathfns.py); 40 leaves room for LLVM's choices
    assert packed >= 40, (label, counts)
    assert fma == 0, (label, counts)


@pytest.mark.skipif(not HAS_AVX2, reason="the host CPU has no AVX2, so no ymm registers to look for")
@pytest.mark.skipif(numba.config.USING_SVML, reason="with Intel's SVML installed LLVM vectorises libm calls too")
def test_negative_control_libm_call_is_not_vectorised(counts):
    # a scalar libm call per lane: LLVM keeps the loop scalar, so the count above is not met by accident
    assert counts["f_exp d=1 clipped libm"][0] < 40, counts


@pytest.mark.parametrize("label", ["f_exp d=1 clipped", "f_exp d=3 normalized", "f_exp d=1 momentum-clip"])
def test_the_refill_pass_calls_nothing(counts, label):
    # lanes.load is pasted into attend (one return, called as a whole statement): a call left there would cost two
    # atomic reference-count updates per array argument at every refill (issue 12: most of the runner's gap)
    assert counts[label][2] == 0, (label, counts)


OPTION_CHILD = textwrap.dedent("""
    import numba, numpy as np
    from clipcheck import synthetic
    from clipcheck.synthetic import catalogue as F

    def scale(a):
        for i in range(a.shape[0]):
            a[i] = a[i] * 3.0 + 1.0

    def asm_of(fn):
        f = numba.njit(fn)
        f(np.ones(64))
        text = f.inspect_asm(f.signatures[0])
        return sum(1 for line in text.splitlines() if line.startswith("\\t") and "pd" in line)

    before = asm_of(scale)  # a new dispatcher each time: compiled twice
    synthetic.run(F.f_exp(1.0, 1.0), "clipped", np.ones(3), 1e-6, 5, eta_c=0.1, gamma=1.0)
    after = asm_of(scale)
    print(before, after)
""")


def test_the_interleave_option_is_reset_after_the_worker_is_compiled(tmp_path):
    # expected: a loop compiled after a run is compiled as one compiled before it (LLVM's own interleave choice):
    # kernels.compile_worker forces the interleave count only while the worker compiles
    env = dict(os.environ, CLIPCHECK_KERNEL_CACHE=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", OPTION_CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    before, after = map(int, done.stdout.split()[-2:])
    assert before > 0 and before == after, (before, after)
