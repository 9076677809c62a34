"""upper.check on hand-made rows: what a row reports when the deciding run diverged, stopped on its budget or was cut
below its bound; whose constants an instance shows; a row without instances; a search stopped by its time budget;
and experiments reading upper.BUDGET_CAP when it runs (not a copy taken at import)."""
import math

import pytest

from clipcheck import experiments as E
from clipcheck import experiments_stochastic as ES
from clipcheck import upper
from clipcheck.records import INCONCLUSIVE, VIOLATED, BoundRow, Constant, Context, UpperBound
from clipcheck.synthetic import catalogue as F
from clipcheck.synthetic.result import DIVERGED


def _record(rule, params, bound, items, label="row"):
    """A one-row upper bound with constant c = 2 on the given catalogue items."""
    row = BoundRow(label, "derived", Constant("c", {"c": 2.0}), "T <= {c:g} (test)", rule, lambda ctx: params,
                   lambda ctx: bound)
    return UpperBound("TEST", "a hand-made bound", (row,), catalogue=lambda settings: items)


def _slope(eps=0.1, delta=10.0):
    """The slope f_slow(1.01 eps) from gap delta: GD needs about 1.5 delta/a steps (THEOREMS.md 3.2), far more
    than the few a test allows."""
    fn = F.f_slow(1.01 * eps)
    return [(fn, fn.start_for_gap(delta), {"role": "slope"}, fn.L0, 0.0, eps)]


def test_a_diverged_catalogue_run_counts_as_infinite_not_as_its_last_step():
    """Analytic fact: on f_exp (L0 = L1 = 1) f'' >= 1 everywhere, so GD with h = 5 > 2/f'' overshoots further at
    every step and overflows; T_eps is then infinite, and so are the ratio and the constant this check would need."""
    fe = F.f_exp(1.0, 1.0)
    ub = _record("gd", {"h": 5.0}, 1000.0, [(fe, fe.start_for_grad(10.0), {"role": "f_exp"}, 1.0, 1.0, 0.1)])
    (row,), _ = upper.check(ub, {})
    assert row.instance["status"] == DIVERGED and row.verdict == VIOLATED
    assert row.measured == math.inf and row.ratio == math.inf and row.needed_constant == math.inf
    assert not row.censored


def test_a_run_stopped_by_its_budget_is_censored_at_that_budget():
    """upper.budget: a bound of 3 allows ceil(3) + 1 = 4 steps; the slope needs far more, so the run stops on that
    budget: the row shows "> 4" (censored), a violation whose ratio 4/3 is a lower bound."""
    ub = _record("gd", {"h": 1.0 / _slope()[0][0].L0}, 3.0, _slope())
    (row,), _ = upper.check(ub, {})
    assert row.verdict == VIOLATED and row.censored and row.measured == 4.0
    assert row.ratio == pytest.approx(4.0 / 3.0, rel=1e-15)  # 4/3 in floating point: one rounding
    assert "step budget" in row.note


def test_a_run_cut_below_its_bound_gives_no_needed_constant(monkeypatch):
    """With every run cut at 10 steps (BUDGET_CAP) below a bound of 1000, the row is inconclusive: its count is
    censored and says nothing about the constant (nan, not 10/1000 x c)."""
    monkeypatch.setattr(upper, "BUDGET_CAP", 10)
    ub = _record("gd", {"h": 1.0 / _slope()[0][0].L0}, 1000.0, _slope())
    (row,), _ = upper.check(ub, {})
    assert row.verdict == INCONCLUSIVE and row.censored and row.measured == 10.0
    assert math.isnan(row.needed_constant)


def test_an_instance_shows_the_function_constants_and_the_rule_parameters_apart():
    """Vankov's rules take the class (L0, L1) = (2, 3) as parameters; the instance f_slow(1.01 eps) is certified
    (3a/2, 0) (THEOREMS.md 3.2). The row's instance must show the certificate as L0, L1 and the rule's parameters
    nested, not the parameters over the certificate."""
    eps = 0.05
    fn = F.f_slow(1.01 * eps)
    rows, _ = upper.check(ES.VANKOV_NONCONVEX, {"classes": [[2.0, 3.0]], "eps": [eps], "families": ["slope"]})
    for row in rows:
        assert (row.instance["L0"], row.instance["L1"]) == (fn.L0, fn.L1) == (1.5 * 1.01 * eps, 0.0)
        assert row.instance["rule_params"] == {"L0": 2.0, "L1": 3.0}
        assert (row.instance["class_L0"], row.instance["class_L1"]) == (2.0, 3.0)
    with pytest.raises(ValueError, match="'L0'"):
        upper.describe(fn, 1.0, L0=2.0)


def test_a_row_without_instances_is_a_one_line_error_naming_it():
    ub = _record("gd", {"h": 1.0}, 10.0, [], label="empty")
    with pytest.raises(ValueError, match=r"TEST:empty.*'eps': \[0.5\]") as err:
        upper.check(ub, {"eps": [0.5]})
    assert "\n" not in str(err.value)


def test_a_search_stopped_by_its_time_budget_is_named_in_the_row():
    """worst_case reads the clock after each generation: a budget of 1e-9 s stops the search after its first one,
    before its evaluations; the row must say so (its instance then depends on machine speed)."""
    settings = E.CLASSIC["quick"]
    settings = {**settings, "eps": [0.5], "adversary": {**settings["adversary"], "budget_s": 1e-9}}
    (row,), data = upper.check(E.CLASSIC_RECORD, settings)
    assert [s["stopped_by_budget"] for s in data["searches"]] == [True]
    assert "search stopped by the time budget" in row.note


def test_a_quick_search_stops_on_its_evaluations_not_on_the_clock():
    """The count of worst_case with evaluations None: each of the six restarts (RESTART_PLAN with 4 cells: 1, 1, 1,
    2, 4, 4 blocks, dimension 1 + 4 blocks) runs its 150 n + 1000 evaluations in whole generations of CMA-ES's
    default population 4 + floor(3 ln n) (Hansen), unless it converges first; the quick searches do not."""
    cfg = E.CLASSIC["quick"]["adversary"]
    assert cfg["evaluations"] is None and cfg["budget_s"] >= 600  # the clock is a safety limit only
    expected = 0
    for blocks in (1, 1, 1, 2, 4, 4):
        n = 1 + 4 * blocks
        lam = 4 + int(3 * math.log(n))
        expected += -(-(150 * n + 1000) // lam) * lam
    L0, L1, eps, M = upper._adversary_classes(cfg)[0]
    params = E.CLASSIC_RECORD.rows[0].params(Context(L0, L1, eps, math.nan, M))
    res = upper.search_point("gd", params, L0, L1, eps, M, cfg["horizon"], cfg["seeds"][0],
                             cfg["restarts"], cfg["evaluations"], cfg["cells"], cfg["blocks"], cfg["budget_s"])
    assert not res["stopped_by_budget"] and res["evaluations"] == expected


def test_remark5_reads_the_budget_cap_when_it_runs(monkeypatch):
    """Runner convention (Result.t_eps): a run stopped by its budget counts max_iter + 1. With BUDGET_CAP = 5 the
    clipped and normalized runs on the pair (which need more than 5 steps from ||grad|| = M = 10) count 6."""
    monkeypatch.setattr(upper, "BUDGET_CAP", 5)
    out = E._remark5_point(1.0, 1.0, 0.5, 10.0, 5)
    assert out["clipped"] == 6.0 and out["normalized"] == 6.0
