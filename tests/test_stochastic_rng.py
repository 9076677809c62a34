"""synthetic.rng and synthetic.noise: the counter-based generator and the oracle's noise models."""
import math

import numba
import numpy as np
import pytest

from clipcheck.synthetic import noise as N
from clipcheck.synthetic import rng

N_DRAWS = 40_000


@numba.njit(cache=True)
def _uniforms(seed, stream, n, lane):
    out = np.empty(n)
    for t in range(n):
        out[t] = rng.uniform(rng.counter_key(seed, stream, t), lane)
    return out


@numba.njit(cache=True)
def _normals(seed, n):
    out = np.empty(n)
    for t in range(n):
        out[t] = rng.normal(rng.counter_key(seed, 0, t), 0)
    return out


def _noise(noise, tau, a, g, n, seed):
    """xi = g_hat - g at iterations 0..n-1 of stream 0, from the models' Python source (the kernels paste it)."""
    out = np.empty((n, g.shape[0]))
    gh = np.empty(g.shape[0])
    gn = math.sqrt(np.sum(g * g))
    with np.errstate(over="ignore"):  # uint64 hashing wraps by design
        for t in range(n):
            N.perturb(N.CODES[noise], rng.counter_key(seed, 0, t), tau, a, g, gn, gh)
            out[t] = gh - g
    return out


def test_mix64_matches_the_published_splitmix64_outputs():
    # SplitMix64 seeded with 0 outputs mix64(k * 0x9E3779B97F4A7C15) for k = 1, 2: the reference values of
    # Steele, Lea and Flood's generator (java.util.SplittableRandom / Vigna's splitmix64.c)
    with np.errstate(over="ignore"):
        assert int(rng.mix64(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF
        assert int(rng.mix64(np.uint64(0x3C6EF372FE94F82A))) == 0x6E789E6AA1B965F4


def test_python_and_compiled_draws_are_the_same_function():
    # register_jitable leaves plain Python functions: the same source must give the same bits when compiled
    with np.errstate(over="ignore"):
        want = [rng.uniform(rng.counter_key(7, 3, t), 2) for t in range(50)]
    assert _uniforms(7, 3, 50, 2).tolist() == want


def test_uniform_moments():
    u = _uniforms(1, 0, N_DRAWS, 0)
    assert u.min() > 0.0 and u.max() < 1.0  # open interval, so log(u) is finite
    se = math.sqrt(1 / 12 / N_DRAWS)
    # U(0,1): mean 1/2, variance 1/12; 5 standard errors (false alarm ~ 1e-6)
    assert abs(u.mean() - 0.5) < 5 * se
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / N_DRAWS)  # Var((U-1/2)^2) = 1/180


def test_streams_and_seeds_are_uncorrelated():
    a, b, c = _uniforms(1, 0, N_DRAWS, 0), _uniforms(1, 1, N_DRAWS, 0), _uniforms(2, 0, N_DRAWS, 0)
    # independent draws: sample correlation ~ N(0, 1/n); 5 standard errors
    for x, y in ((a, b), (a, c), (a, _uniforms(1, 0, N_DRAWS, 1))):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5 / math.sqrt(N_DRAWS)


def test_normal_moments():
    z = _normals(3, N_DRAWS)
    # N(0,1): mean 0, variance 1, fourth moment 3; 5 standard errors each (Var z^2 = 2, Var z^4 = 96)
    assert abs(z.mean()) < 5 / math.sqrt(N_DRAWS)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / N_DRAWS)
    assert abs(np.mean(z**4) - 3) < 5 * math.sqrt(96 / N_DRAWS)


@pytest.mark.parametrize("dim", [1, 3])
def test_bounded_noise_is_in_the_ball_unbiased_and_uniform(dim):
    g = np.ones(dim)
    xi = _noise("bounded", 2.0, 0.0, g, N_DRAWS, 0)
    r = np.linalg.norm(xi, axis=1)
    assert r.max() <= 2.0 * (1 + 1e-15)  # A5: ||xi|| <= tau (one rounding of the radius)
    # unbiased: each coordinate has variance tau^2/(d + 2); 5 standard errors
    assert np.all(np.abs(xi.mean(axis=0)) < 5 * 2.0 / math.sqrt((dim + 2) * N_DRAWS))
    # uniform in the ball: P(||xi|| <= tau/2) = 2^-d; binomial, 5 standard errors
    p = 0.5**dim
    assert abs(np.mean(r <= 1.0) - p) < 5 * math.sqrt(p * (1 - p) / N_DRAWS)


def test_adversarial_noise_is_two_point_along_the_gradient_and_unbiased():
    g = np.array([3.0, 4.0])
    p, tau = 0.2, 1.0
    xi = _noise("bounded-adversarial", tau, p, g, N_DRAWS, 0)
    along = xi @ g / 5.0
    assert np.allclose(xi, np.outer(along, g / 5.0), atol=1e-15)  # along grad f, by definition
    assert set(np.round(along, 12)) == {1.0, -0.25}  # +tau or -tau p/(1-p)
    # mean zero (A5): two-point variance tau^2 p/(1 - p) = 0.25; 5 standard errors
    assert abs(along.mean()) < 5 * math.sqrt(0.25 / N_DRAWS)


def test_gaussian_noise_has_second_moment_tau_squared():
    xi = _noise("gaussian", 0.5, 0.0, np.zeros(4), N_DRAWS, 0)
    sq = np.sum(xi**2, axis=1)
    # E||xi||^2 = tau^2 by the tau/sqrt(d) scaling; ||xi||^2 = tau^2 chi^2_4/4 has variance tau^4/2
    assert abs(sq.mean() - 0.25) < 5 * math.sqrt(0.25**2 / 2 / N_DRAWS)


def test_student_t_noise_has_the_multivariate_t_law():
    df, tau, n = 5.0, 1.0, N_DRAWS
    xi = _noise("student-t", tau, df, np.zeros(1), n, 0)[:, 0]
    # on the line xi = tau t_df: E xi^2 = df/(df - 2); compare the CDF with scipy at a few points (DKW: 1.36/sqrt n
    # is the 95% band of the largest CDF error; we allow 2/sqrt n)
    from scipy.stats import t as student
    for q in (-3.0, -1.0, 0.0, 0.5, 2.0, 4.0):
        assert abs(np.mean(xi <= q) - student.cdf(q, df)) < 2 / math.sqrt(n)


def test_student_t_with_small_df_uses_the_boosted_gamma_branch():
    xi = _noise("student-t", 1.0, 1.0, np.zeros(1), N_DRAWS, 0)[:, 0]  # df = 1: Cauchy (Gamma shape 1/2 < 1)
    from scipy.stats import cauchy
    for q in (-10.0, -1.0, 0.0, 1.0, 10.0):
        assert abs(np.mean(xi <= q) - cauchy.cdf(q)) < 2 / math.sqrt(N_DRAWS)  # DKW band as above


def test_noise_parameters_are_validated():
    with pytest.raises(ValueError, match="p_plus"):
        N.NOISES["bounded-adversarial"].shape({"p_plus": 0.7})  # -tau p/(1-p) would leave the tau-ball
    with pytest.raises(ValueError, match="df"):
        N.NOISES["student-t"].shape({"df": 0.0})
    with pytest.raises(ValueError, match="df"):
        N.NOISES["student-t"].shape({})
    assert N.NOISES["bounded-adversarial"].shape({}) == 0.5  # default: the symmetric +-tau


def test_perturb_dispatches_to_every_model():
    # the kernels reach each model through perturb(code, ...): each code must give that model's own draw
    g = np.array([1.0, 2.0])
    with np.errstate(over="ignore"):  # uint64 hashing wraps by design
        key = rng.counter_key(3, 1, 4)
        for name, model in N.NOISES.items():
            a, b = np.empty(2), np.empty(2)
            shape = model.shape({}) if model.param != "df" else 3.0
            N.perturb(N.CODES[name], key, 0.5, shape, g, math.sqrt(5.0), a)
            model.perturb(key, 0.5, shape, g, math.sqrt(5.0), b)
            assert np.array_equal(a, b), name
