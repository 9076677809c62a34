"""The stochastic and later-rule claims of clipcheck.experiments_stochastic, each by its id."""
import json
import math

import numpy as np
import pytest

from clipcheck import experiments_stochastic as E
from clipcheck.claims import FAILING, HOLDS, registry

STOCHASTIC = ("ZHSJ-Thm7", "ZHSJ-Thm8", "VANKOV-nonconvex", "VANKOV-convex", "GORBUNOV-convex", "KOLOSKOVA-bias",
              "LI-constant-step", "HEAD-TO-HEAD")
QUICK = {c.id: c for c in registry() if c.id in STOCHASTIC}


@pytest.fixture(scope="module")
def computed():
    """Every claim in quick mode, once (about 6 s on 2 cores after compilation)."""
    return {cid: c.compute(c.settings["quick"]) for cid, c in QUICK.items()}


def test_registry_has_the_issue_3_ids_with_quick_and_full_settings():
    # issue 3: the claim ids and the Thm 7 seed counts (>= 100 quick, >= 1000 full)
    assert set(QUICK) == {"ZHSJ-Thm7", "ZHSJ-Thm8", "VANKOV-nonconvex", "VANKOV-convex", "GORBUNOV-convex",
                          "KOLOSKOVA-bias", "LI-constant-step", "HEAD-TO-HEAD"}
    assert all(set(c.settings) == {"quick", "full"} for c in QUICK.values())
    assert QUICK["ZHSJ-Thm7"].settings["quick"]["seeds"] >= 100
    assert QUICK["ZHSJ-Thm7"].settings["full"]["seeds"] >= 1000


def test_every_claim_is_json_and_plots(computed, tmp_path):
    for cid, (rows, data) in computed.items():
        json.dumps(data)  # verify caches data as JSON
        assert rows and all(r.id.startswith(cid) for r in rows)
        assert QUICK[cid].plot(data, tmp_path).endswith(".png")


def test_zhsj_thm7_rows_hold_with_the_paper_step(computed):
    rows, data = computed["ZHSJ-Thm7"]
    assert [r.id for r in rows] == ["ZHSJ-Thm7:probability", "ZHSJ-Thm7:expectation"]
    assert all(r.verdict == HOLDS and r.status == "paper-shape" for r in rows)
    for s in data["instances"]:
        # the horizon and step are the printed formulas, recomputed by hand from (L0, L1, tau, Delta, eps)
        dp = s["delta"] + (5 * s["L0"] + 2 * s["L1"] * s["tau"]) * s["tau"] ** 2 + 9 * s["tau"] * s["L0"] ** 2 / s["L1"]
        T = dp * max(128 * s["L1"] / s["eps"], 4 * dp / s["eps"] ** 4,
                     (80 * s["L0"] + 512 * s["L1"] * s["tau"]) / s["eps"] ** 2)
        assert s["T"] == math.ceil(T)
        assert s["eta"] == min(1 / (20 * s["L0"]), 1 / (128 * s["L1"] * s["tau"]), 1 / math.sqrt(s["T"]))
        lo, hi = s["p_ci"]
        assert lo <= s["p_hat"] <= hi


def test_zhsj_thm7_slope_instance_hits_when_the_drift_predicts(computed):
    _, data = computed["ZHSJ-Thm7"]
    s = next(s for s in data["instances"] if "gap 10" in s["label"])
    a = 1.01 * s["eps"]
    # on f_slow(a) the unclipped step eta moves eta a per step down the slope: (D - 5a/8)/(eta a^2) steps to
    # x = 1 (f(1) = 5a/8), then ~0.08/(eta a) ~ 14 more to |f'| = eps; the noise's random walk adds ~6 steps: 2%
    assert s["median_first_hit"] == pytest.approx((s["delta"] - 5 * a / 8) / (s["eta"] * a**2), rel=0.02)


def test_zhsj_thm7_wilson_interval():
    # Wilson 95% interval for 0 of 10 successes: upper limit z^2/(n + z^2) = 3.8415/13.8415 (closed form)
    lo, hi = E.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(3.8415 / 13.8415, rel=1e-4)


def test_zhsj_thm8_is_shape_only_and_the_slope_regime_scales_like_eps_minus_4(computed):
    rows, data = computed["ZHSJ-Thm8"]
    assert all(r.verdict == E.SHAPE_ONLY and not r.failed for r in rows)
    c = data["curves"]["slope just above eps (the eps^-4 regime)"]
    slope = np.polyfit(np.log(1 / np.array(c["eps"])), np.log(np.array(c["needed"], float)), 1)[0]
    # on f_slow(a ~ eps) SGD with h = 1/sqrt(T) travels D/a in T steps only if T >= D sqrt(T)/a^2: T ~ eps^-4.
    # The horizons double, so each count is known within a factor 2: over eps from 0.5 to 0.25 that is +-1 in slope
    assert 3.0 <= slope <= 5.0


def test_vankov_nonconvex_holds_for_all_three_steps(computed):
    rows, _ = computed["VANKOV-nonconvex"]
    assert {r.id for r in rows} == {f"VANKOV-nonconvex:{k}" for k in E.VANKOV_A}
    assert all(r.verdict == HOLDS for r in rows)
    # the bound by hand: L0 = 1, L1 = 2, D = 3, eps = 0.5, a = 1/2: ceil(2*3/(0.5*0.25) + 3*2*3/(0.5*0.5)) - 1
    assert E.vankov_nonconvex(1.0, 2.0, 3.0, 0.5, 0.5) == math.ceil(48 + 72) - 1


def test_vankov_convex_holds(computed):
    rows, _ = computed["VANKOV-convex"]
    assert len(rows) == 3 and all(r.verdict == HOLDS for r in rows)
    # by hand: (2/a) L0 R^2/eps + (3/a) L1 R ln(D/eps) with a = 1, L0 = L1 = R = 1, D = e, eps = 1: 2 + 3
    assert E.vankov_convex(1.0, 1.0, 1.0, math.e, 1.0, 1.0) == 5


def test_gorbunov_convex_is_shape_only(computed):
    rows, _ = computed["GORBUNOV-convex"]
    assert all(r.verdict == E.SHAPE_ONLY and r.status == "later" for r in rows)
    assert E.gorbunov_shape(2.0, 3.0, 1.0, 0.5) == 2.0 / 0.5 + 9.0  # L0 R^2/eps + L1^2 R^2


def test_koloskova_bias_floor_falls_with_the_threshold(computed):
    rows, data = computed["KOLOSKOVA-bias"]
    assert rows[0].verdict == "demonstrated" and not rows[0].failed
    s = data["settings"]
    tau, p = s["tau"], s["p_plus"]
    for c, floor in zip(data["c"], data["floor"]):
        if c in (0.2, 0.4):
            # mean field, both atoms unclipped on the small side: p c + (1 - p) g - p tau = 0, g = p (tau - c)/(1 - p)
            want = p * (tau - c) / (1 - p)
            assert E.koloskova_mean_field_floor(tau, p, c) == pytest.approx(want, rel=1e-9)
            # the run fluctuates around it by ~ sqrt(lr) times the noise; 10% covers that at lr = 0.005
            assert floor == pytest.approx(want, rel=0.1)


def test_li_constant_step_holds_and_its_step_is_below_eta_si(computed):
    rows, _ = computed["LI-constant-step"]
    assert rows[0].verdict == HOLDS
    # the derivation needs h <= eta_si(g) = 1/(L0 + 1.5 L1 g) for every g <= G (FACT-M's gradient bound)
    for L0, L1, D in ((1.0, 1.0, 10.0), (10.0, 0.05, 1.0), (2.0, 3.0, 100.0)):
        h, L = E.li_constant_step(L0, L1, D)
        G = 3 * L1 * D + math.sqrt(2 * L0 * D)
        assert h == pytest.approx(1 / (L0 + 1.5 * L1 * G)) and h <= 1 / (L0 + 1.5 * L1 * G) * (1 + 1e-15)


def test_head_to_head_covers_every_rule_and_torch_equals_clipped(computed):
    rows, data = computed["HEAD-TO-HEAD"]
    rules = {E.head_rules(1.0, 1.0, 10.0, 0.0, 100)[r.id.split(":", 1)[1]][0] for r in rows}
    from clipcheck.synthetic.rules import RULES
    # every rule of the runner except clipcheck's own reading of Thm 7 (a row of its own claim)
    assert set(RULES) - {"clipped-sgd-outer"} == rules
    # THEOREMS.md 2: clip_grad_norm_(gamma) then SGD(eta_c) is the clipped step: identical counts
    assert data["table"]["torch-clip (= Thm 3)"] == data["table"]["clipped (Thm 3)"]
    assert not any(r.failed for r in rows)


def test_no_claim_fails_in_quick_mode(computed):
    # upper bounds hold on certified instances; findings and shapes never fail
    assert not [r.id for rows, _ in computed.values() for r in rows if r.verdict in FAILING]
