"""Small things of `clipcheck verify` (issue 10, item 8): report.json is valid JSON (non-finite numbers as null with
the reason beside them), `python -m clipcheck` works, --only takes row ids and selects the proofs items it names."""
import json
import math
import subprocess
import sys

from clipcheck import cli
from clipcheck.claims import HOLDS, Row
from clipcheck.report import write_json


def _strict(text):
    """Parse as RFC 8259 JSON: NaN and Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _strings(obj):
    """Every string value, except the reasons in "non_finite" fields."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k != "non_finite":
                yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def test_report_json_has_null_and_the_reason_for_non_finite_numbers(tmp_path):
    row = Row("X", "derived", "s", {"grid": [1.0, math.inf]}, math.nan, 2.0, -math.inf, HOLDS,
              {"t": [1.0, math.nan]})
    write_json(tmp_path / "report.json", {"mode": "quick", "elapsed_s": math.inf}, [row])
    doc = _strict((tmp_path / "report.json").read_text())
    claim = doc["claims"][0]
    assert claim["measured"] is None and claim["ratio"] is None and claim["bound"] == 2.0
    assert claim["non_finite"] == {"measured": "nan", "ratio": "-inf"}
    assert claim["params"] == {"grid": [1.0, None], "non_finite": {"grid[1]": "inf"}}
    assert claim["instance"] == {"t": [1.0, None], "non_finite": {"t[1]": "nan"}}
    assert doc["meta"]["non_finite"] == {"elapsed_s": "inf"}


def test_verify_report_json_is_valid_json(tmp_path):
    # ZHSJ-Thm4 with its proofs items: the open question is a "finding" row with no measured value (NaN)
    assert cli.main(["verify", "--only", "ZHSJ-Thm4", "--out", str(tmp_path)]) == 0
    doc = _strict((tmp_path / "report.json").read_text())
    assert not {"nan", "inf", "-inf"} & set(_strings(doc))
    finding = next(c for c in doc["claims"] if c["verdict"] == "finding")
    assert finding["measured"] is None and finding["non_finite"]["measured"] == "nan"


def test_python_dash_m_clipcheck_runs_the_command(tmp_path):
    p = subprocess.run([sys.executable, "-m", "clipcheck", "verify", "--list"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "ZHSJ-Remark5" in p.stdout


def _report(folder):
    doc = json.loads((folder / "report.json").read_text())
    return [c["id"] for c in doc["claims"]], doc.get("proofs"), (folder / "report.md").read_text()


def test_only_row_id_selects_its_claim_and_keeps_its_rows(tmp_path):
    assert cli.main(["verify", "--only", "ZHSJ-Thm3:paper", "--out", str(tmp_path)]) == 0
    ids, proofs, md = _report(tmp_path)
    assert ids == ["ZHSJ-Thm3:paper"]
    assert proofs is None and "## Proof checks" not in md  # no proofs item has an id starting with it


def test_only_keeps_just_the_proofs_items_it_names(tmp_path):
    assert cli.main(["verify", "--only", "NGD-equiv", "--out", str(tmp_path)]) == 0
    ids, proofs, md = _report(tmp_path)
    assert ids == ["NGD-equiv"] and [p["id"] for p in proofs] == ["NGD-equiv"]
    assert "1 of 1 items pass" in md
