"""Mutation tests (issue 9, item 7): for every upper bound with a constant, lowering the constant to just below the
adversarial worst case makes its row VIOLATED, with a certified adversarial instance as the counterexample; the
statement then shows the lowered constant (it is rendered from the constant the bound computes with).

The searches are cached in one store for the module (they do not depend on the constant: a rank-based search of a
bound linear in Delta finds the same instance whatever its constant), so each mutation only reruns the rows."""
import pytest

from clipcheck import experiments_stochastic as ES
from clipcheck.claims import HOLDS, VIOLATED, registry
from clipcheck.synthetic.sweep import Store, using
from clipcheck.theory import bounds

CLAIMS = {c.id: c for c in registry()}

# (claim id, row id, where the constant lives, its name there)
CASES = [
    ("CLASSIC-GD", "CLASSIC-GD", bounds, "CLASSIC_GD"),
    ("ZHSJ-Thm3", "ZHSJ-Thm3:paper", bounds, "THM3_PAPER"),
    ("ZHSJ-Thm3", "ZHSJ-Thm3:derived", bounds, "THM3_DERIVED"),
    ("ZHSJ-Thm6", "ZHSJ-Thm6:paper", bounds, "THM6_PAPER"),
    ("ZHSJ-Thm6", "ZHSJ-Thm6:derived", bounds, "THM6_DERIVED"),
    ("NGD-bound", "NGD-bound", bounds, "NGD_DERIVED"),
    ("LI-constant-step", "LI-constant-step", bounds, "LI_DERIVED"),
    ("VANKOV-nonconvex", "VANKOV-nonconvex:vankov-star", ES.VANKOV_INV_A, "vankov-star"),
    ("VANKOV-nonconvex", "VANKOV-nonconvex:vankov-si", ES.VANKOV_INV_A, "vankov-si"),
    ("VANKOV-nonconvex", "VANKOV-nonconvex:vankov-cl", ES.VANKOV_INV_A, "vankov-cl"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(tmp_path_factory.mktemp("points"))


def _rows(claim_id, store):
    claim = CLAIMS[claim_id]
    with using(store):
        rows, _ = claim.compute(claim.settings["quick"])
    return {r.id: r for r in rows}


@pytest.fixture(scope="module")
def true_rows(store):
    return {cid: _rows(cid, store) for cid in dict.fromkeys(c[0] for c in CASES)}


@pytest.mark.parametrize("claim_id, row_id, where, name", CASES, ids=[c[1] for c in CASES])
def test_a_constant_just_below_the_adversarial_worst_case_is_violated(claim_id, row_id, where, name, store,
                                                                      true_rows, monkeypatch):
    row = true_rows[claim_id][row_id]
    true = where[name] if isinstance(where, dict) else getattr(where, name)
    assert row.verdict == HOLDS and row.constant == true
    # needed constant = ratio x constant (formula), at or below the true constant since the row holds
    assert row.needed_constant == pytest.approx(row.ratio * true, rel=1e-12) and row.needed_constant <= true
    low = row.needed_constant * (1 - 1e-3)
    if isinstance(where, dict):
        monkeypatch.setitem(where, name, low)
    else:
        monkeypatch.setattr(where, name, low)
    mutated = _rows(claim_id, store)[row_id]
    assert mutated.verdict == VIOLATED
    assert mutated.instance["source"] == "adversary" and mutated.instance["certified"]
    assert mutated.ratio > 1 and mutated.constant == low
    assert f"{low:g}" in mutated.statement and f"{low:g}" not in row.statement
