"""clipcheck.adversary.Profile: the 1-D profiles of THEOREMS.md 4b, in the (L0,L1) class by construction."""
import json
import math
import os
import subprocess
import sys
import textwrap

import mpmath
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from clipcheck.adversary import Profile, evaluate
from clipcheck.adversary.closed_form import expm1_minus_over, expm1_over, zero_distance

RNG_SEED = 20261201


def random_profile(rng, L0=None, L1=None, cells=6):
    L0 = rng.uniform(0.2, 3.0) if L0 is None else L0
    L1 = rng.choice([0.0, 1e-9, rng.uniform(0.1, 3.0)]) if L1 is None else L1
    knots = np.cumsum(rng.uniform(0.05, 1.0, cells + 1)) - 2.0
    controls = rng.choice([-1.0, 1.0, rng.uniform(-1, 1)], cells)
    anchor = int(rng.integers(0, cells + 1))
    return Profile(L0, L1, knots, controls, anchor, rng.normal(), rng.normal(scale=2.0), knots[anchor])


def ode_profile(prof, t):
    """(p, p') at t by integrating p'' = u (L0 + L1 |p'|) cell by cell from the anchor with scipy's DOP853: an
    implementation independent of the closed forms (t inside the knots)."""
    k = np.asarray(prof.knots)
    y = np.array([prof.f_anchor, prof.g_anchor])
    x = k[prof.anchor]
    direction = 1.0 if t >= x else -1.0
    while x != t:
        if direction > 0:
            j = np.searchsorted(k, x, side="right") - 1
            x_next = min(k[j + 1], t)
        else:
            j = np.searchsorted(k, x, side="left") - 1
            x_next = max(k[j], t)
        u = prof.controls[j]
        sol = solve_ivp(lambda s, yy: [yy[1], u * (prof.L0 + prof.L1 * abs(yy[1]))], (x, x_next), y,
                        method="DOP853", rtol=1e-13, atol=1e-13)
        y = sol.y[:, -1]
        x = x_next
    return y


def test_closed_forms_match_an_ode_integration():
    """Expected values: an independent numerical integration of the control form (scipy DOP853, rtol 1e-13);
    tolerance 1e-8 of the scale covers the integrator's error across the kinks of |p'| at sign changes."""
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(12):
        prof = random_profile(rng)
        scale = 1.0 + max(abs(prof.g_anchor), 1.0) * math.exp(prof.L1 * (prof.knots[-1] - prof.knots[0]))
        for t in rng.uniform(prof.knots[0], prof.knots[-1], 5):
            f, g, _ = prof(t)
            f_ode, g_ode = ode_profile(prof, t)
            assert abs(g - g_ode) <= 1e-8 * scale * (1 + prof.L0), (prof, t)
            assert abs(f - f_ode) <= 1e-8 * scale * (1 + prof.L0), (prof, t)


def test_second_derivative_is_the_control_and_first_derivative_differentiates_p():
    """Analytic fact: p'' = u (L0 + L1 |p'|) with |u| <= 1 inside each cell, so |p''| <= L0 + L1 |p'|; checked
    against central differences of p and p' (step 1e-6: error O(1e-12 * p''') plus rounding 1e-10, hence 1e-6)."""
    rng = np.random.default_rng(RNG_SEED + 1)
    for _ in range(10):
        prof = random_profile(rng)
        for t in rng.uniform(prof.knots[0] - 3, prof.knots[-1] + 3, 20):
            if min(abs(t - pc[0]) for pc in prof.pieces) < 1e-4:
                continue  # a difference across a joint of p'' (C^{1,1}) says nothing
            f, g, h = prof(t)
            d = 1e-6
            assert abs((prof(t + d)[0] - prof(t - d)[0]) / (2 * d) - g) <= 1e-6 * (1 + abs(g))
            assert abs((prof(t + d)[1] - prof(t - d)[1]) / (2 * d) - h) <= 1e-6 * (1 + abs(h))
            assert abs(h) <= (prof.L0 + prof.L1 * abs(g)) * (1 + 1e-15)


@pytest.mark.parametrize("z", [s * 10.0**e for e in range(-14, 2) for s in (1, -1)] + [0.4999, 0.5, -0.5])
def test_series_near_zero_agree_with_mpmath(z):
    """Expected: expm1(z)/z and (expm1(z) - z)/z^2 in 50-digit mpmath; 4e-16 relative = two ulps (the series
    switch at |z| = 1e-5 and 0.5 must not cost more)."""
    mpmath.mp.dps = 50
    e1 = mpmath.expm1(z) / z
    e2 = (mpmath.expm1(z) - z) / z**2
    assert abs(expm1_over(z) - float(e1)) <= 4e-16 * abs(float(e1))
    assert abs(expm1_minus_over(z) - float(e2)) <= 4e-16 * abs(float(e2))


def test_l1_to_zero_gives_the_quadratic_pieces():
    """Analytic fact: with L1 = 0 a cell with control u is p = f + g d + u L0 d^2 / 2, and the L1 -> 0 limit of
    the exponential pieces is that quadratic (L1 = 1e-13: the difference is O(L1), below 1e-12 here)."""
    L0, f0, g0 = 2.0, 0.3, 0.7
    knots, controls = [0.0, 0.1, 0.25], [1.0, -0.5]
    exact = Profile(L0, 0.0, knots, controls, 0, f0, g0, 0.0)
    near = Profile(L0, 1e-13, knots, controls, 0, f0, g0, 0.0)
    for t in np.linspace(0.0, 0.25, 11):
        f1, g1 = (f0 + g0 * t + L0 * t * t / 2, g0 + L0 * t) if t <= 0.1 else (None, None)
        if f1 is not None:
            assert exact(t)[0] == pytest.approx(f1, abs=1e-15) and exact(t)[1] == pytest.approx(g1, abs=1e-15)
        np.testing.assert_allclose(near(t), exact(t), rtol=1e-12, atol=1e-14)


def test_sign_change_inside_a_cell():
    """Analytic fact: from p' = g0 > 0 with u = -1, |p'| reaches 0 after log1p(L1 g0 / L0) / L1 and p' then
    grows negative with p'' = -(L0 + L1 |p'|). Tolerance: a few ulps of the crossing point."""
    L0, L1, g0 = 1.0, 2.0, 3.0
    prof = Profile(L0, L1, [0.0, 2.0], [-1.0], 0, 0.0, g0, 0.0)
    xz = math.log1p(L1 * g0 / L0) / L1
    assert zero_distance(g0, -1.0, L0, L1) == pytest.approx(xz, rel=1e-15)
    assert any(pc[0] == pytest.approx(xz, rel=1e-15) for pc in prof.pieces)
    assert prof(xz)[1] == pytest.approx(0.0, abs=1e-14)
    f, g, h = prof(1.5)
    assert g < 0 and h == pytest.approx(-(L0 + L1 * abs(g)), rel=1e-15)
    assert prof.certify().holds


def test_tails_keep_the_profile_in_the_class_and_bounded_below():
    """Analytic facts (THEOREMS.md 4b tails): falling outward, |p'| falls to 0 at the full rate, over
    log1p(L1 a / L0) / L1 (L1 = 0: a / L0, losing a^2 / (2 L0)), then flat; rising outward, linear."""
    L0, a = 2.0, 0.8
    prof = Profile(L0, 0.0, [0.0, 1.0], [0.0], 0, 5.0, a, 0.5)  # p' = a > 0: falls to the left, rises right
    assert prof(-a / L0 - 1.0)[:2] == (pytest.approx(5.0 - a * a / (2 * L0), rel=1e-15), 0.0)
    assert prof(-a / L0)[0] == pytest.approx(5.0 - a * a / (2 * L0), rel=1e-15)
    assert prof(1.0 + 7.0)[0] == pytest.approx(5.0 + a * 8.0, rel=1e-15)
    assert prof.f_star == pytest.approx(5.0 - a * a / (2 * L0), rel=1e-15)
    L1 = 1.5
    falling_right = Profile(L0, L1, [0.0, 1.0], [0.0], 0, 0.0, -a, 0.0)
    end = 1.0 + math.log1p(L1 * a / L0) / L1
    assert falling_right(end)[1] == pytest.approx(0.0, abs=1e-15)
    assert falling_right(end + 10.0)[:2] == (falling_right(end)[0], 0.0)


def test_f_star_and_sup_grad_against_dense_sampling():
    """Independent estimate: p and p' on 400,001 points spanning the knots and the tails. inf p must not lie
    above the sampled minimum and not below it by more than the gap between samples can hide (max|p'| * step);
    sup |p'| on {p <= p(x0)} likewise within L0 + L1 max|p'| times the step."""
    rng = np.random.default_rng(RNG_SEED + 2)
    for _ in range(8):
        prof = random_profile(rng)
        lo, hi = prof.pieces[1][0] - 1.0, prof.pieces[-1][0] + 1.0
        ts = np.linspace(lo, hi, 400_001)
        v = prof.values(ts)
        step = ts[1] - ts[0]
        gmax = np.abs(v[:, 1]).max()
        assert prof.f_star <= v[:, 0].min() + 1e-12
        assert prof.f_star >= v[:, 0].min() - gmax * step
        level = prof.f_x0
        inside = v[:, 0] <= level
        sampled = np.abs(v[inside, 1]).max()
        assert sampled - 1e-12 <= prof.sup_grad() <= sampled + (prof.L0 + prof.L1 * gmax) * step + 1e-12


def test_json_round_trip_is_exact():
    """Property: from_dict(json(to_dict)) rebuilds the same profile, bit for bit at every point."""
    rng = np.random.default_rng(RNG_SEED + 3)
    prof = random_profile(rng)
    back = Profile.from_dict(json.loads(json.dumps(prof.to_dict())))
    assert back == prof
    for t in rng.uniform(-5, 5, 50):
        assert back(t) == prof(t)
    np.testing.assert_array_equal(back.params, prof.params)


def test_certify_holds_on_constructed_profiles_and_fails_on_tampered_ones():
    """certify must be able to fail: a control pushed to 1.5, or a joint moved, is caught."""
    rng = np.random.default_rng(RNG_SEED + 4)
    prof = random_profile(rng)
    assert prof.certify().holds
    k = len(prof.pieces) // 2
    start, anchor, f, a, s, u = prof.pieces[k]
    prof.pieces[k] = (start, anchor, f, a, s, 1.5)
    assert not prof.certify().holds
    prof.pieces[k] = (start, anchor, f + 1e-6, a, s, u)
    assert not prof.certify().holds
    prof.pieces[k] = (start, anchor, f, a, s, u)
    assert prof.certify().holds


@pytest.mark.parametrize("kwargs, name", [
    ({"L0": 0.0}, "L0"), ({"L0": math.nan}, "L0"), ({"L1": -1.0}, "L1"), ({"knots": [0.0, 0.0, 1.0]}, "knots"),
    ({"knots": [0.0, math.inf, 2.0]}, "knots"), ({"controls": [1.0, 1.2]}, "controls"),
    ({"controls": [1.0]}, "controls"), ({"anchor": 3}, "anchor"), ({"anchor": True}, "anchor"),
    ({"g_anchor": math.nan}, "g_anchor"), ({"x0": math.inf}, "x0"),
])
def test_bad_input_is_a_value_error_naming_the_argument(kwargs, name):
    args = dict(L0=1.0, L1=1.0, knots=[0.0, 1.0, 2.0], controls=[1.0, -1.0], anchor=0, f_anchor=0.0,
                g_anchor=1.0, x0=0.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        Profile(**args)


def test_even_profiles_are_exactly_even_and_only_they_take_the_radial_lift():
    """Property: the mirrored construction is even bit for bit (the crossing formulas are odd in the direction),
    p'(0) = 0; a generic profile is not even and the radial lift refuses it."""
    prof = Profile.mirrored(1.0, 2.0, [0.0, 0.3, 0.9], [-1.0, 0.5])
    assert prof.even and prof(0.0)[1] == 0.0
    for t in np.linspace(0.01, 3.0, 37):
        f, g, h = prof(t)
        assert prof(-t) == (f, -g, h)
    assert prof.certify().holds
    generic = Profile(1.0, 2.0, [0.0, 0.3, 0.9], [-1.0, 0.5], 0, 0.0, 1.0, 0.0)
    assert not generic.even
    with pytest.raises(ValueError, match="radial"):
        generic.function("radial")
    with pytest.raises(ValueError, match="lift"):
        generic.function("spherical")
    assert generic.function("ridge", dim=3).dim == 3  # ridge and separable take any profile
    assert generic.function("separable", dim=2).dim == 2


def test_runner_fields_follow_the_protocol_record():
    """PROTOCOL.md: a Profile1D carries name, evaluate, params, L0, L1, f_star, certificate, even; evaluate(t, p, o)
    reads the profile from p[o] on (entries before o and padding after the pieces change nothing: the count of
    pieces is inside the parameters)."""
    prof = random_profile(np.random.default_rng(RNG_SEED + 5))
    fields = prof.runner_fields()
    assert {"name", "evaluate", "params", "L0", "L1", "f_star", "certificate", "even"} <= set(fields)
    assert np.all(np.isfinite(fields["params"]))  # the runner refuses non-finite parameters
    padded = np.concatenate([np.full(5, -3.0), fields["params"], np.full(12, 7.0)])
    for t in (-3.0, 0.1, 2.5):
        assert fields["evaluate"](t, padded, 5) == prof(t)
    assert prof.values(np.array([0.1]))[0].tolist() == list(prof(0.1))  # compiled == Python


CUDA_SCRIPT = textwrap.dedent("""
    import numpy as np
    from numba import cuda
    from clipcheck.adversary import Profile, evaluate

    device_eval = cuda.jit(device=True)(evaluate)

    @cuda.jit
    def kernel(ts, p, out):
        i = cuda.grid(1)
        if i < ts.shape[0]:
            out[i, 0], out[i, 1], out[i, 2] = device_eval(ts[i], p, 0)

    prof = Profile(1.0, 2.0, [-1.0, 0.0, 0.5, 1.5], [1.0, -1.0, 0.25], 1, 0.0, 0.7, 0.0)
    ts = np.linspace(-4.0, 4.0, 9)
    out = np.zeros((ts.size, 3))
    kernel[1, 16](ts, np.array(prof.params), out)
    np.testing.assert_array_equal(out, prof.values(ts))
    print("ok")
""")


def test_evaluate_runs_as_a_cuda_device_function_under_the_simulator():
    """PROTOCOL.md: the same source as a CUDA device function (simulator; PTX needs NVRTC, absent here)."""
    pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", CUDA_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_evaluate_is_the_protocol_function():
    """evaluate(t, p, o) is importable from the package and returns NaN for a NaN argument (no exception)."""
    prof = random_profile(np.random.default_rng(RNG_SEED + 6))
    assert all(math.isnan(v) for v in evaluate(math.nan, prof.params, 0))
