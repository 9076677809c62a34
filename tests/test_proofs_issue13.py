"""Issue 13, items 2-10, the method column, and `clipcheck proofs --only` (issue 10, item 8): one test (at least)
per item, each of which fails on the code before the change. Expected values come from formulas or analytic facts
named in each test."""
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from clipcheck import cli, cmd_proofs
from clipcheck import proofs_check as pc
from clipcheck.proofs_check.core import is_zero
from clipcheck.theory import bounds, steps


@pytest.fixture(scope="module")
def records():
    return pc.run_all(quick=True)


def _kappa(u):
    return 2 * (math.expm1(u) - u) / u**2


# ---------------------------------------------------------------- item 2: no stale finding about the spec's digits

def test_item2_no_finding_about_the_spec_thm3_digits(records):
    # THEOREMS.md now prints 11.16 and 0.8965, which the derivation proves: the only finding left is the open
    # question of Thm 4, and the per-step items prove the spec's (= the library's) digits
    assert [r.id for r in records if r.verdict == "finding"] == ["ZHSJ-Thm4:open-question"]
    byid = {r.id: r for r in records}
    assert byid["ZHSJ-Thm3:decrease-clipped"].constants["c_c"] == bounds.THM3_DECREASE_CLIPPED == 0.8965
    assert byid["ZHSJ-Thm3:decrease-unclipped"].constants["c_u"] == bounds.THM3_DECREASE_UNCLIPPED == 11.16
    assert byid["ZHSJ-Thm3:decrease-clipped"].verdict == byid["ZHSJ-Thm3:decrease-unclipped"].verdict == "proved"


# ---------------------------------------------------------------- item 3: Thm 6, the step stays in S for every L1

def test_item3_thm6_segment_step_is_checked_and_can_fail(monkeypatch):
    # THEOREMS.md section 3 (Thm 6): b(s) convex, b(0) = 0, b(r) = -D < 0; with a 4x longer step (H = 1/2)
    # the per-step factor 1 - kappa(2)/1 = -1.19 is negative, so b(r) < 0 is no longer shown and the item fails
    rec = pc.check_thm6_derived()
    oks = [line for line in rec.log if line.startswith("ok:")]
    assert any("b(s)" in line and "convex" in line for line in oks)
    assert any("b(r) = -D" in line for line in oks)
    assert not any("L1 >= 1/2" in line for line in rec.log)  # no case restriction left
    monkeypatch.setattr(steps, "THM6_STEP_DIV", 0.5)
    assert 1 - _kappa(2.0) / 1.0 < 0  # the factor at H = 1/2 (independent float formula)
    assert pc.check_thm6_derived(c=100.0).verdict == "FAILED"


def test_item3_thm6_step_stays_in_the_sublevel_set_on_f_exp_with_small_L1():
    # analytic instance of the argument: f_exp with L1 = 0.1 < 1/2 and M = 30 > 2 L0 from the point with f' = M;
    # the step h = 1/(2(M L1 + L0)) has length 3.75 > 1, and f along the whole segment stays <= f(x)
    # (f_exp attains LEMMA-sharp, so it is the extreme case of b(s) <= 0)
    L0, L1, M = 1.0, 0.1, 30.0
    x = math.log1p(L1 * M / L0) / L1
    f = lambda t: L0 / L1**2 * (np.expm1(L1 * np.abs(t)) - L1 * np.abs(t))  # noqa: E731
    h = steps.zhsj_thm6_step(L0, L1, M)
    assert M * h > 1
    seg = x - np.linspace(0, h, 2001) * M
    assert np.all(f(seg) <= f(x) * (1 + 1e-12))  # 1e-12: rounding of expm1


# ---------------------------------------------------------------- item 4: Delta >= Delta_exp in section 3.3

def test_item4_thm4_item_checks_the_delta_exp_hypothesis(records):
    # THEOREMS.md section 3.3: the f_exp member has gap Delta_exp; the item states and checks the hypothesis, and
    # the library's bound enforces it (bounds.delta_exp)
    byid = {r.id: r for r in records}
    oks = [line for line in byid["ZHSJ-Thm4:derived"].log if line.startswith("ok:")]
    assert any("Delta >= Delta_exp" in line for line in oks)
    assert byid["ZHSJ-Thm4:needs-Delta_exp"].verdict == "proved"
    L0, L1, M = 1.0, 1.0, 1e4
    assert float(bounds.delta_exp(L0, L1, M)) == pytest.approx(M - math.log1p(M), rel=1e-14)  # formula, L0 = L1 = 1


def test_item4_below_delta_exp_the_formula_exceeds_the_thm6_upper_bound():
    # independent float arithmetic of the item's instance: M' = L1 D + sqrt(2 L0 D) (FACT-M:sharp), then Thm 6
    # (2.85 (M' L1 + L0) D/eps^2) against the two Thm 4 formulas at M = 1e4
    L0, L1, M, D, eps = 1.0, 1.0, 1e4, 10.0, 0.5
    m_sharp = L1 * D + math.sqrt(2 * L0 * D)
    upper = 2.85 * (m_sharp * L1 + L0) * D / eps**2
    derived = L1 * M * (D - 5 * eps / 8) / (2 * eps**2 * math.log1p(L1 * M / L0))
    quoted = L1 * M * (D - 5 * eps / 8) / (8 * eps**2 * (math.log(M) + 1))
    rec = pc.check_thm4_needs_delta_exp()
    assert rec.verdict == "proved"
    assert float(rec.constants["thm6_upper"]) == pytest.approx(upper, rel=1e-7)  # 1e-7: 8-digit print
    assert upper < quoted < derived


# ---------------------------------------------------------------- item 5: the main chains are checked steps

def test_item5_chain_and_summation_are_checked_steps_that_can_fail(monkeypatch):
    # the chain D >= h g^2 (1 - kappa(u) p/2) and the summation over steps are "ok:" steps, not notes; moving the
    # clipping threshold (gamma) 1% up breaks the chain's constant: 10/(1 - kappa(1/9.9)(0.1 + 1/9.9)/2) > 11.16
    for rec in (pc.check_thm3_derived(), pc.check_thm6_derived(), pc.check_ngd_constant()):
        oks = [line for line in rec.log if line.startswith("ok:")]
        assert any("so D >= h g^2 (1 - kappa(" in line for line in oks), rec.id
        assert any("summation" in line for line in oks), rec.id
    G = 9.9
    assert 10 / (1 - _kappa(1 / G) * (0.1 + 1 / G) / 2) > 11.16
    monkeypatch.setattr(steps, "THM3_GAMMA_DIV", G)
    assert pc.check_thm3_derived().verdict == "FAILED"


# ---------------------------------------------------------------- item 6: is_zero cannot prove false identities

def test_item6_is_zero_does_not_expand_logs_of_real_symbols():
    # log(y^2) = 2 log(y) is false for real y < 0; it holds for positive y
    y = sp.symbols("y", real=True)
    assert not is_zero(sp.log(y**2) - 2 * sp.log(y))
    yp = sp.symbols("y", positive=True)
    assert is_zero(sp.log(yp**2) - 2 * sp.log(yp))


# ---------------------------------------------------------------- item 7: floor checks as strict as the truth

def test_item7_floors_with_slack_in_c_are_proved():
    # c max(floor, L1^2) >= c* max(0.01, L1^2) for all L1 iff c >= c* and c floor >= 0.01 c*:
    # NGD: 22.3 x 0.0099 = 0.22077 >= 0.2109 (c* = 20/(1 - kappa(0.1)/20)); Thm 3 with c = 12: 0.1188 >= 0.11153
    c_ngd = 20 / (1 - _kappa(0.1) / 20)
    assert 22.3 * 0.0099 >= 0.01 * c_ngd
    assert pc.check_ngd_constant(floor=0.0099).verdict == "proved"
    assert pc.check_thm3_derived(c=12.0, floor=0.0099).verdict == "proved"
    assert pc.check_thm3_derived(floor=0.0099).verdict == "FAILED"  # 11.16 x 0.0099 < 0.1115347


# ---------------------------------------------------------------- item 8: exact comparison, no tolerance

def test_item8_x4_certificate_is_compared_exactly():
    # section 4: x^4 at L1 = 3 needs exactly 16/9 (at x = 2/3); anything below fails, even by 5e-13 or one ulp
    assert pc.check_cert_x4(l0=Fraction(16, 9)).verdict == "proved"
    assert pc.check_cert_x4(l0=16 / 9 * (1 - 5e-13)).verdict == "FAILED"
    assert Fraction(16 / 9) < Fraction(16, 9)  # the float 16/9 is one rounding below
    assert pc.check_cert_x4(l0=16 / 9).verdict == "FAILED"
    assert pc.check_lemma2(l0=16 / 9 * (1 - 5e-13)).verdict == "FAILED"


# ---------------------------------------------------------------- item 9: general instead of instance-only

def test_item9_even_power_closed_form_covers_every_n():
    # closed form: with L1 = s (2n - 1), sup_r (p'' - L1 p') = 2n r*^(2n-2), r* = (2n-2)/(s(2n-1)); for s = 0.99 it
    # exceeds 2n once (r*)^(2n-2) > 1, which the item finds on n = 1, 2, 4, ... (first such n by the float formula)
    s = 0.99
    n = next(2**k for k in range(30) if ((2 * 2**k - 2) / (s * (2 * 2**k - 1))) ** (2 * 2**k - 2) > 1)
    rec = pc.check_cert_even_power(l1_scale=s)
    assert rec.verdict == "FAILED" and any(f"n = {n}:" in line for line in rec.log)
    # independent grid check of the closed form at n = 7, s = 1
    n = 7
    r = np.linspace(0, 1.2, 200001)
    q = 2 * n * (2 * n - 1) * r ** (2 * n - 2) - (2 * n - 1) * 2 * n * r ** (2 * n - 1)
    assert q.max() == pytest.approx(2 * n * ((2 * n - 2) / (2 * n - 1)) ** (2 * n - 2), rel=1e-8)  # grid step


def test_item9_li_constant_step_at_exactly_four_thirds():
    # F(t) = (1 - t/3) kappa(t) = 1 - t^2/36 + ... <= 1 on [0, 3/4] at c = 4/3 exactly; the float 4/3 is below 4/3
    assert pc.check_li_constant_step(c=Fraction(4, 3)).verdict == "proved"
    assert pc.check_li_constant_step(c=4 / 3).verdict == "FAILED"


# ---------------------------------------------------------------- item 10: the NGD item follows the direct route

def test_item10_ngd_follows_the_direct_route():
    # direct per-step calculation: c* = 2/(0.1 - kappa(0.1)/200) = 21.09; via NGD-equiv: 2 x 10/(1 - kappa(0.1)/10)
    # = 22.307 > 22.3, which the item reports as not the route
    rec = pc.check_ngd_constant()
    assert rec.verdict == "proved"
    assert float(rec.constants["c_needed"]) == pytest.approx(2 / (0.1 - _kappa(0.1) / 200), rel=1e-9)  # 10 digits
    via_equiv = 2 * 10 / (1 - _kappa(0.1) / 10)
    assert float(rec.constants["ngd_equiv_route_needed"]) == pytest.approx(via_equiv, rel=1e-9)
    assert via_equiv > bounds.NGD_DERIVED
    assert any(line.startswith("route: the direct per-step calculation") for line in rec.log)


# ---------------------------------------------------------------- the method column

def test_method_column_in_the_table_and_the_report(records):
    # identity / interval-rigorous / instance-only, in `clipcheck proofs` and in the markdown for report.md
    assert {r.method for r in records} == {"identity", "interval-rigorous", "instance-only"}
    table = cmd_proofs._table(records)
    for r in records:
        line = next(line for line in table.splitlines() if line.startswith(r.id + " "))
        assert line[len(r.id):].split()[0] == r.method
    md = cmd_proofs.records_to_markdown(records)
    assert "| instance-only |" in md and "| interval-rigorous |" in md and "| identity |" in md


# ---------------------------------------------------------------- issue 10, item 8: --only nonsense

def test_only_with_an_unknown_prefix_exits_2_before_running_anything(monkeypatch, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("ran the checks before validating --only")

    monkeypatch.setattr(pc, "run_all", must_not_run)
    assert cli.main(["proofs", "--only", "nonsense"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--only nonsense" in err
