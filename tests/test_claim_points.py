"""Issue 10: the long claims of --full are stored point by point, so that an interrupted verify resumes after the
last finished point. ZHSJ-Thm7 has one point per (reading, class, eps, tau, noise, instance); an upper-bound claim's
catalogue has one per rule and function source. Each point is stored as it finishes, a rerun computes none of them
again, and a point whose inputs changed (a moved constant, as in a mutation test) is computed again."""
import pytest

from clipcheck import experiments as E
from clipcheck import experiments_stochastic as ES
from clipcheck import upper
from clipcheck.synthetic.sweep import Store, to_json, using
from clipcheck.theory import bounds

# quick Thm 7 with fewer seeds and checkpoints: the points are what is tested, not the statistics
SMALL_THM7 = {**ES.THM7["quick"], "seeds": 20, "n_checkpoints": 20}
# quick Thm 6 without the adversary: its catalogue only (the adversary's searches are a sweep, tested elsewhere)
THM6_CATALOGUE = {k: v for k, v in E.THM6["quick"].items() if k != "adversary"}


def _count_runs(monkeypatch, module, fail_at=None):
    """The calls of synthetic.run made from `module`; the call numbered `fail_at` raises KeyboardInterrupt
    (a Ctrl-C in the middle of the claim)."""
    calls = []
    real = module.synthetic.run

    def run(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module.synthetic, "run", run)
    return calls


def _same(a, b):
    """Rows and data as the report stores them (NaN compares equal to itself only in this form)."""
    return to_json([r.__dict__ for r in a[0]]) == to_json([r.__dict__ for r in b[0]]) and \
        to_json(a[1]) == to_json(b[1])


def test_thm7_stores_each_point_as_it_finishes_and_a_rerun_computes_none(tmp_path, monkeypatch):
    points = len(ES._thm7_grid(SMALL_THM7))
    calls = _count_runs(monkeypatch, ES, fail_at=3)
    with pytest.raises(KeyboardInterrupt), using(Store(tmp_path)):
        ES.thm7(SMALL_THM7)
    assert len(list(tmp_path.glob("*.json"))) == 2  # the two points finished before the Ctrl-C are kept

    calls = _count_runs(monkeypatch, ES)
    with using(Store(tmp_path)):
        resumed = ES.thm7(SMALL_THM7)
    assert len(calls) == points - 2 and len(resumed[1]["instances"]) == points > 2
    calls.clear()
    with using(Store(tmp_path)):
        again = ES.thm7(SMALL_THM7)
    assert calls == [] and _same(again, resumed)  # every point read back, the same rows and data
    assert _same(ES.thm7(SMALL_THM7), resumed)  # and the same as a run without a store (computed, not read)


def test_thm7_point_is_keyed_by_its_horizon(tmp_path, monkeypatch):
    """The horizon comes from theory (bounds.zhsj_thm7_horizon): another horizon is another point."""
    with using(Store(tmp_path)):
        ES.thm7(SMALL_THM7)
    real = ES.thm7_horizon
    monkeypatch.setattr(ES, "thm7_horizon", lambda *a: 2 * real(*a))
    calls = _count_runs(monkeypatch, ES)
    with using(Store(tmp_path)):
        ES.thm7(SMALL_THM7)
    assert len(calls) == len(ES._thm7_grid(SMALL_THM7))


def test_a_catalogue_stores_one_point_per_function_source_and_a_rerun_computes_none(tmp_path, monkeypatch):
    """Quick Thm 6's families are the slopes (one source, f_slow) and f_exp: two runs, two stored points."""
    calls = _count_runs(monkeypatch, upper, fail_at=2)
    with pytest.raises(KeyboardInterrupt), using(Store(tmp_path)):
        upper.check(E.THM6_RECORD, THM6_CATALOGUE)
    assert len(list(tmp_path.glob("*.json"))) == 1  # the first source's run is kept

    calls = _count_runs(monkeypatch, upper)
    with using(Store(tmp_path)):
        resumed = upper.check(E.THM6_RECORD, THM6_CATALOGUE)
    assert len(calls) == 1 and len(list(tmp_path.glob("*.json"))) == 2
    calls.clear()
    with using(Store(tmp_path)):
        again = upper.check(E.THM6_RECORD, THM6_CATALOGUE)
    assert calls == [] and _same(again, resumed)
    assert _same(upper.check(E.THM6_RECORD, THM6_CATALOGUE), resumed)  # as computed without a store


def test_a_moved_constant_gives_the_catalogue_other_budgets_hence_other_points(tmp_path, monkeypatch):
    """Budgets are one more than the larger of the two rows' bounds (upper.budget), here the paper's constant 4 of
    Thm 6: at 8 every budget changes, so every point is computed again."""
    with using(Store(tmp_path)):
        upper.check(E.THM6_RECORD, THM6_CATALOGUE)
    monkeypatch.setattr(bounds, "THM6_PAPER", 2 * bounds.THM6_PAPER)
    calls = _count_runs(monkeypatch, upper)
    with using(Store(tmp_path)):
        upper.check(E.THM6_RECORD, THM6_CATALOGUE)
    assert len(calls) == 2
