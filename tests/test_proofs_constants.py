"""Issue 13: proofs_check proves the constants the library uses. Each constant of clipcheck.theory.bounds and
.steps is moved 1% the unsafe way *inside the library* (monkeypatch), and the matching item must fail; constants
with more than 1% slack are moved to just below the value the derivation needs instead, and that must fail.

The needed values are read from the item's own record and cross-checked against an independent float formula.
"""
import math
import numbers

import pytest

from clipcheck import cli
from clipcheck import proofs_check as pc
from clipcheck.theory import bounds, steps


def _item(item_id):
    """Run `clipcheck proofs --only item_id` (as run_all does) and return that item's record."""
    return next(r for r in pc.run_all(only=[item_id]) if r.id == item_id)


# (module, constant, factor, matching item, why this direction is unsafe)
MUTATIONS = [
    (bounds, "CLASSIC_GD", 0.99, "CLASSIC-GD", "fewer iterations claimed than 2 L Delta/eps^2 (attained)"),
    (steps, "CLASSIC_GD_STEP", 0.99, "CLASSIC-GD", "h = 1/L is the best step: a larger one loses less"),
    (steps, "CLASSIC_GD_STEP", 1.01, "CLASSIC-GD", "h = 1/L is the best step: a smaller one loses less"),
    (bounds, "THM3_DERIVED", 0.99, "ZHSJ-Thm3:derived", "below the needed 11.15347"),
    (bounds, "THM3_DECREASE_UNCLIPPED", 0.99, "ZHSJ-Thm3:decrease-unclipped", "claims a larger decrease"),
    (bounds, "THM3_DECREASE_CLIPPED", 1.01, "ZHSJ-Thm3:decrease-clipped", "claims a larger decrease (attained)"),
    (steps, "THM3_ETA_DIV", 0.99, "ZHSJ-Thm3:derived", "a larger eta_c: clipped steps need 11.27"),
    (steps, "THM3_ETA_DIV", 1.01, "ZHSJ-Thm3:derived", "a smaller eta_c: unclipped steps need 11.26"),
    (steps, "THM3_GAMMA_DIV", 0.99, "ZHSJ-Thm3:derived", "a larger gamma: kappa(1/G) grows, 11.1604 needed"),
    (steps, "THM3_GAMMA_DIV", 1.01, "ZHSJ-Thm3:derived", "a smaller gamma: clipped steps lose less"),
    (bounds, "THM4_DERIVED", 0.99, "ZHSJ-Thm4:derived", "a larger lower bound than the pair gives"),
    (bounds, "THM4_MID", 0.99, "ZHSJ-Thm4:derived", "f_s(+-1) = 5a/8 is exact"),
    (bounds, "THM4_MID", 0.99, "§3.2-f_s", "f_s(+-1) = 5a/8 is exact"),
    (bounds, "THM4_FS_CURVATURE", 0.99, "§3.2-f_s", "f_s''(0) = 3a/2 is attained"),
    (steps, "THM4_HSTAR", 0.99, "§3.1-f_exp", "h* is the exact 2-cycle"),
    (steps, "THM4_HSTAR", 1.01, "§3.1-f_exp", "h* is the exact 2-cycle"),
    (steps, "THM4_HSTAR", 1.01, "ZHSJ-Thm4:derived", "the pair's bound has 2 log(...) = h* L1 M"),
    (bounds, "THM6_DERIVED", 0.99, "ZHSJ-Thm6:derived", "below the needed 2.84674"),
    (steps, "THM6_STEP_DIV", 1.01, "ZHSJ-Thm6:derived", "a smaller step needs 2.861 > 2.85"),
    (bounds, "FACT_M_L1", 0.99, "FACT-M", "the quadratic's root is attained"),
    (bounds, "FACT_M_L0", 0.99, "FACT-M", "the quadratic's root is attained"),
    (bounds, "FACT_M_SHARP_L1", 0.99, "FACT-M:sharp", "tight as Delta -> oo (f_exp)"),
    (bounds, "FACT_M_SHARP_L0", 0.99, "FACT-M:sharp", "tight as Delta -> 0 (f_exp)"),
    (bounds, "LI_DERIVED", 0.99, "LI-constant-step", "the decrease factor 1/2 is tight as g -> 0"),
]


@pytest.mark.parametrize("module, name, factor, item_id, why", MUTATIONS,
                         ids=[f"{m[1]}*{m[2]}->{m[3]}" for m in MUTATIONS])
def test_moving_a_theory_constant_fails_its_item(monkeypatch, module, name, factor, item_id, why):
    assert _item(item_id).verdict == "proved"
    monkeypatch.setattr(module, name, getattr(module, name) * factor)
    assert _item(item_id).verdict == "FAILED", f"{name} x {factor} ({why}) must fail {item_id}"


def test_moving_the_thm3_floor_fails_its_item(monkeypatch):
    # expected: 11.16 x 0.0099 = 0.110484 < 0.01 x 11.15347 (the L1 -> 0 end of the clipped-step count)
    monkeypatch.setitem(bounds.THM3_L1_FLOOR, "derived", bounds.THM3_L1_FLOOR["derived"] * 0.99)
    assert _item("ZHSJ-Thm3:derived").verdict == "FAILED"


def test_clipcheck_proofs_exits_1_when_a_library_constant_moves(monkeypatch, capsys):
    # the command itself (not only run_all) reads the constant from clipcheck.theory
    assert cli.main(["proofs", "--only", "ZHSJ-Thm6:derived"]) == 0
    monkeypatch.setattr(bounds, "THM6_DERIVED", bounds.THM6_DERIVED * 0.99)
    assert cli.main(["proofs", "--only", "ZHSJ-Thm6:derived"]) == 1
    assert "FAILED" in capsys.readouterr().out


def _kappa(u):
    return 2 * (math.expm1(u) - u) / u**2


# constants with slack > 1%: (module, constant, item, needed value by an independent float formula)
_Q3 = 1 - _kappa(0.1) / 10  # Thm 3 per-step factor at A = G = 10
_QN = 1 - _kappa(0.1) / 20  # NGD per-step factor
SLACK = [
    (bounds, "THM3_PAPER", "ZHSJ-Thm3:quoted", 10 / _Q3),
    (bounds, "THM6_PAPER", "ZHSJ-Thm6:quoted", 2 / (1 - _kappa(0.5) / 4)),
    (bounds, "NGD_DERIVED", "NGD-bound", 20 / _QN),
    (bounds, "NGD_L1_FLOOR", "NGD-bound", 0.01 * (20 / _QN) / bounds.NGD_DERIVED),  # c floor >= 0.01 c_clip
    (steps, "LI_STEP_L1", "LI-constant-step", 4 / 3),  # F'(0) = 1/3 - (c - 1) must be <= 0
]


@pytest.mark.parametrize("module, name, item_id, needed", SLACK, ids=[f"{s[1]}->{s[2]}" for s in SLACK])
def test_slack_constant_survives_1pct_and_fails_just_below_what_is_needed(monkeypatch, module, name, item_id, needed):
    value = getattr(module, name)
    # each of these is unsafe downwards (a smaller constant claims fewer iterations, or a larger step)
    assert value * 0.99 > needed * (1 + 1e-9), "the slack must exceed 1% for this test"  # 1e-9: float formula
    monkeypatch.setattr(module, name, value * 0.99)
    assert _item(item_id).verdict == "proved"
    monkeypatch.setattr(module, name, needed * 0.99)
    assert _item(item_id).verdict == "FAILED"
    monkeypatch.setattr(module, name, needed * 1.001)  # 1e-3: well above the float formula's rounding
    assert _item(item_id).verdict == "proved"


def test_thm3_paper_floor_has_slack_and_fails_below_what_is_needed(monkeypatch):
    # expected: c floor >= 0.01 c_clip with c = 20, c_clip = 10/Q3 (independent float formula)
    needed = 0.01 * (10 / _Q3) / bounds.THM3_PAPER
    assert bounds.THM3_L1_FLOOR["paper"] * 0.99 > needed
    monkeypatch.setitem(bounds.THM3_L1_FLOOR, "paper", needed * 0.99)
    assert _item("ZHSJ-Thm3:quoted").verdict == "FAILED"


# constants no item can fail, with the reason (reported, not silently skipped)
NOT_PROVED_HERE = {
    "THM4_PAPER": "the quoted Thm 4 lower bound is the open question (ZHSJ-Thm4:open-question, a finding)",
}


def test_every_numeric_constant_of_theory_is_covered():
    # every module-level number (and number in a dict) of bounds and steps is in a table above, or explained
    covered = {m[1] for m in MUTATIONS} | {s[1] for s in SLACK} | set(NOT_PROVED_HERE) | {"THM3_L1_FLOOR"}
    for module in (bounds, steps):
        for name, value in vars(module).items():
            if name.isupper() and (isinstance(value, numbers.Real) or isinstance(value, dict)):
                assert name in covered, f"{module.__name__}.{name} has no mutation test"
