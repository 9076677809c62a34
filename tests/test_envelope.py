"""theory.envelope.fit_envelope: the (L0, L1) upper envelope of ZHSJ-Def1 fitted by linear programming."""
import numpy as np
import pytest

from clipcheck.theory.envelope import fit_envelope

L0, L1 = 3.0, 7.0
# HiGHS works to about 1e-9 relative on these rescaled [0, 1] programmes; 1e-7 leaves a margin of 100.
LP_TOL = 1e-7


def _points_under(L0, L1, n=400, seed=0):
    """Gradient norms over [0.1, 50] and smoothness on or below L0 + L1*g; the two extreme g lie on the line."""
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.1, 50.0, n)
    g[:2] = 0.1, 50.0
    y = (L0 + L1 * g) * rng.uniform(0.2, 1.0, n)
    y[:2] = L0 + L1 * g[:2]
    return g, y


def test_zhsj_def1_envelope_recovers_known_line():
    # Expected: the generating line; it covers every point and any other covering line is at least as high at
    # both extreme g, hence on average over g (which lies between them), so it is the unique minimiser.
    g, y = _points_under(L0, L1)
    fitted = fit_envelope(g, y)
    assert fitted == pytest.approx((L0, L1), rel=LP_TOL)


def test_zhsj_def1_envelope_covers_every_point():
    # Expected: quantile = 1 is a covering constraint; tolerance is the LP feasibility tolerance.
    rng = np.random.default_rng(1)
    g = rng.lognormal(0, 1, 300)
    y = rng.lognormal(0, 1, 300) * (1 + g)
    a, b = fit_envelope(g, y)
    assert np.all(a + b * g >= y * (1 - LP_TOL))


def test_zhsj_def1_envelope_quantile_ignores_outliers():
    # Expected: the generating line.  Half the points sit on it and 2-3% lie far above it; for quantile q <= 0.97
    # moving the line up saves q*(share above, < 3%) but costs (1 - q)*(share on or below, > 50%), and tilting it
    # likewise, so the true line minimises the pinball loss.  The covering fit (q = 1) is pulled up by outliers.
    rng = np.random.default_rng(2)
    g = rng.uniform(0.1, 50.0, 500)
    on_line = rng.random(500) < 0.5
    y = np.where(on_line, L0 + L1 * g, (L0 + L1 * g) * rng.uniform(0.2, 1.0, 500))
    y[rng.random(500) < 0.02] *= 5
    for q in (0.9, 0.95):
        assert fit_envelope(g, y, q) == pytest.approx((L0, L1), rel=LP_TOL)
    assert fit_envelope(g, y, 1.0)[1] > 2 * L1


@pytest.mark.parametrize("q", [0.5, 0.8, 0.95])
def test_envelope_quantile_leaves_at_most_share_above(q):
    # Expected: a defining property of linear quantile regression: at most n*(1 - q) points strictly above
    # (plus 2, the points a vertex solution passes through, for rounding at the LP tolerance).
    rng = np.random.default_rng(3)
    g = rng.lognormal(0, 1, 300)
    y = rng.lognormal(0, 1, 300) * (1 + g)
    a, b = fit_envelope(g, y, q)
    above = np.sum(y > (a + b * g) * (1 + LP_TOL))
    assert above <= 300 * (1 - q) + 2


def test_envelope_rescaling_rescales_constants():
    # Expected (an independent route to the same answer): scaling smoothness by c scales (L0, L1) by c; scaling
    # gradient norms by k divides L1 by k.  Same LP tolerance.
    g, y = _points_under(2.0, 0.5, seed=4)
    a, b = fit_envelope(g, y)
    a2, b2 = fit_envelope(g * 10.0, y * 3.0)
    assert (a2, b2) == pytest.approx((3.0 * a, 3.0 * b / 10.0), rel=LP_TOL)


def test_envelope_plain_smoothness_gives_l1_zero():
    # Expected: constant smoothness L is the L1 = 0 case of ZHSJ-Def1 (ordinary L-smoothness): (L, 0).
    g = np.linspace(0.0, 5.0, 20)
    assert fit_envelope(g, np.full(20, 4.0)) == pytest.approx((4.0, 0.0), abs=4 * LP_TOL)


@pytest.mark.parametrize("g, y, q, argument", [
    ([1.0, np.nan], [1.0, 2.0], 1.0, "grad_norms"),
    ([1.0, 2.0], [1.0, np.inf], 1.0, "smoothness"),
    ([1.0, -2.0], [1.0, 2.0], 1.0, "grad_norms"),
    ([1.0, 2.0], [-1.0, 2.0], 1.0, "smoothness"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], 1.0, "same length"),
    ([1.0], [1.0], 1.0, "at least 2"),
    ([1.0, 2.0], [1.0, 2.0], 0.0, "quantile"),
    ([1.0, 2.0], [1.0, 2.0], 1.5, "quantile"),
])
def test_envelope_rejects_bad_input(g, y, q, argument):
    # Expected: DESIGN.md "validate at the boundary": a ValueError that names the offending argument.
    with pytest.raises(ValueError, match=argument):
        fit_envelope(g, y, q)
