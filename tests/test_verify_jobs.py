"""`clipcheck verify --jobs N` (issue 8: the verify time lines need both cores): claims computed side by side in
worker processes give the report of a run in one process, a moved constant reaches the workers, and a crash in a
worker is an internal error whose log names the claim and holds the worker's traceback."""
import json

from clipcheck import cli, experiments
from clipcheck.theory import bounds

# fast claims, one with a figure and an adversary search, plus the proofs items they name
ONLY = "NGD-equiv,FACT-M,CLASSIC-GD,LEMMA-sharp"


def _report(out, *args):
    code = cli.main(["verify", "--only", ONLY, "--out", str(out), *args])
    return code, json.loads((out / "report.json").read_text())


def test_claims_in_two_workers_give_the_report_of_one_process(tmp_path):
    # the reference is the same verify in this process (--jobs 1), an independent path through verify.py
    code1, here = _report(tmp_path / "here", "--jobs", "1")
    code2, apart = _report(tmp_path / "apart", "--jobs", "2")
    assert code1 == code2 == cli.EXIT_OK
    assert apart["meta"]["jobs"] == 2 and here["meta"]["jobs"] == 1
    assert apart["claims"] == here["claims"] and apart["proofs"] == here["proofs"]
    assert apart["proofs"]  # the proofs section ran in a worker too
    assert (tmp_path / "apart" / "classic_gd.png").stat().st_size > 0


def test_a_constant_moved_in_this_process_reaches_the_workers(tmp_path, monkeypatch):
    # CLASSIC-GD's constant 2 moved to 1.30: issue 9's acceptance value, which the adversary rejects
    monkeypatch.setattr(bounds, "CLASSIC_GD", 1.30)
    code = cli.main(["verify", "--only", "CLASSIC-GD,NGD-equiv", "--no-proofs", "--jobs", "2", "--out",
                     str(tmp_path)])
    rows = {c["id"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    assert code == cli.EXIT_FAILED and rows["CLASSIC-GD"]["verdict"] == "VIOLATED"
    assert rows["CLASSIC-GD"]["constant"] == 1.30


def test_a_crash_in_a_worker_is_an_internal_error_naming_the_claim(tmp_path, capsys, monkeypatch):
    # settings travel from this process to the worker: a negative sample count makes FACT-M raise there
    monkeypatch.setitem(experiments.SAMPLES, "quick", {**experiments.SAMPLES["quick"], "n": -1})
    code = cli.main(["verify", "--only", "FACT-M,NGD-equiv", "--no-proofs", "--jobs", "2", "--out",
                     str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_INTERNAL and "Traceback" not in err
    log = (tmp_path / cli.ERROR_LOG).read_text()
    assert "in the worker running FACT-M" in log and "fact_m" in log


def test_jobs_and_a_dask_cluster_exclude_each_other(tmp_path, capsys):
    try:
        cli.main(["verify", "--jobs", "2", "--workers", "2", "--out", str(tmp_path)])
    except SystemExit as stop:  # argparse's own exit
        assert stop.code == cli.EXIT_USAGE and "--jobs" in capsys.readouterr().err
    else:
        raise AssertionError("--jobs with --workers was accepted")


def test_a_module_constant_moved_in_this_process_reaches_the_workers(tmp_path, monkeypatch):
    # not a theory constant: upper.BUDGET_CAP (test_cli moves it with one claim, which runs in this process). With
    # every run cut at 10 steps the slopes stop far below their bounds: no verdict either way (see test_cli)
    from clipcheck import upper
    monkeypatch.setattr(upper, "BUDGET_CAP", 10)
    code = cli.main(["verify", "--only", "CLASSIC-GD,NGD-equiv", "--no-proofs", "--no-cache", "--jobs", "2",
                     "--out", str(tmp_path)])
    rows = {c["id"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    classic = [r for i, r in rows.items() if i.startswith("CLASSIC-GD")]
    assert classic and all(r["verdict"].startswith("inconclusive") for r in classic) and code == cli.EXIT_OK
