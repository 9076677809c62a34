"""Issue 9, acceptance: `clipcheck verify` (quick) rejects CLASSIC-GD 1.30, Thm 3 derived 10.2, Thm 6 derived 2.25
and NGD 12, each replaced in turn, and still holds with the true constants. The runs share one --out folder, so the
adversary's searches (which do not depend on the constant) are computed once and read back from its cache."""
import json

import pytest

from clipcheck import cli
from clipcheck.theory import bounds

ONLY = "CLASSIC-GD,ZHSJ-Thm3,ZHSJ-Thm6,NGD-bound"
FALSE = [("CLASSIC_GD", 1.30, "CLASSIC-GD"), ("THM3_DERIVED", 10.2, "ZHSJ-Thm3:derived"),
         ("THM6_DERIVED", 2.25, "ZHSJ-Thm6:derived"), ("NGD_DERIVED", 12.0, "NGD-bound")]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("verify")


def _run(out):
    code = cli.main(["verify", "--quick", "--only", ONLY, "--out", str(out), "--no-proofs"])
    return code, {c["id"]: c for c in json.loads((out / "report.json").read_text())["claims"]}


def test_the_true_constants_hold(out):
    code, rows = _run(out)
    assert code == cli.EXIT_OK
    assert all(rows[row]["verdict"] == "holds" for _, _, row in FALSE)
    # report.json carries needed_constant = (measured / bound) x constant on every upper-bound row
    for _, _, row in FALSE:
        r = rows[row]
        assert r["needed_constant"] == pytest.approx(r["measured"] / r["bound"] * r["constant"], rel=1e-12)


@pytest.mark.parametrize("name, value, row", FALSE, ids=[f[2] for f in FALSE])
def test_a_false_constant_is_rejected(name, value, row, out, monkeypatch):
    monkeypatch.setattr(bounds, name, value)
    code, rows = _run(out)
    assert code == cli.EXIT_FAILED
    r = rows[row]
    assert r["verdict"] == "VIOLATED" and r["failed"]
    assert r["instance"]["source"] == "adversary" and r["instance"]["certified"]
    assert r["constant"] == value and f"{value:g}" in r["statement"]
    others = [f[2] for f in FALSE if f[2] != row]
    assert all(rows[o]["verdict"] == "holds" for o in others)  # one constant replaced at a time
