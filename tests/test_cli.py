"""The `clipcheck verify` command: report files, exit status, errors, and that a false claim is caught."""
import json
import subprocess
import sys

import pytest

from clipcheck import cli
from clipcheck.theory import bounds

REQUIRED = {"id", "status", "params", "measured", "bound", "ratio", "verdict"}


def test_verify_writes_report_with_required_fields(tmp_path):
    code = cli.main(["verify", "--only", "NGD-equiv,FACT-M,CLASSIC", "--out", str(tmp_path), "--no-proofs"])
    assert code == 0
    doc = json.loads((tmp_path / "report.json").read_text())
    ids = {c["id"] for c in doc["claims"]}
    assert {"NGD-equiv", "FACT-M", "CLASSIC-GD"} <= ids
    assert all(REQUIRED <= set(c) for c in doc["claims"])
    assert doc["meta"]["versions"]["numba"] and doc["meta"]["mode"] == "quick"
    assert "| CLASSIC-GD |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "classic_gd.png").stat().st_size > 0


def test_a_false_constant_is_reported_violated(tmp_path, monkeypatch):
    # ZHSJ-Thm3: with the derived constant shrunk to 1 the near-tight slopes (ratio ~0.9 at 11.16) must break it
    monkeypatch.setattr(bounds, "THM3_DERIVED", 1.0)
    code = cli.main(["verify", "--only", "ZHSJ-Thm3", "--out", str(tmp_path), "--no-cache", "--no-proofs"])
    assert code == cli.EXIT_FAILED
    rows = {c["id"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    assert rows["ZHSJ-Thm3:derived"]["verdict"] == "VIOLATED"
    assert rows["ZHSJ-Thm3:derived"]["instance"]["family"]  # the counterexample is named
    assert rows["ZHSJ-Thm3:paper"]["verdict"] == "holds"


def test_finished_claims_are_reused(tmp_path):
    args = ["verify", "--only", "NGD-equiv", "--out", str(tmp_path), "--no-proofs"]
    assert cli.main(args) == 0
    first = json.loads((tmp_path / "report.json").read_text())["meta"]["claim_seconds"]
    assert list((tmp_path / ".cache").glob("NGD-equiv-*.json"))
    assert cli.main(args) == 0
    assert json.loads((tmp_path / "report.json").read_text())["meta"]["claim_seconds"] == first  # read back


@pytest.mark.parametrize("args, name", [(["--only", "nope"], "--only"), (["--seed", "x"], "--seed")])
def test_bad_cli_input_is_one_line_without_traceback(args, name, tmp_path):
    p = subprocess.run([sys.executable, "-m", "clipcheck.cli", "verify", "--out", str(tmp_path)] + args,
                       capture_output=True, text=True)
    assert p.returncode == cli.EXIT_USAGE
    assert "Traceback" not in p.stderr and name in p.stderr


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["verify", "--help"])
    out = capsys.readouterr().out
    for opt in ("--quick", "--full", "--out", "--only", "--seed", "--no-cache", "--list"):
        assert opt in out


def test_a_budget_cap_below_the_bound_is_inconclusive_not_violated(tmp_path, monkeypatch):
    # CLASSIC-GD: with every run cut at 10 steps, the slopes stop far below their bounds: no verdict either way
    from clipcheck import upper
    monkeypatch.setattr(upper, "BUDGET_CAP", 10)
    code = cli.main(["verify", "--only", "CLASSIC", "--out", str(tmp_path), "--no-cache", "--no-proofs"])
    row = json.loads((tmp_path / "report.json").read_text())["claims"][0]
    assert row["verdict"].startswith("inconclusive") and code == 0
