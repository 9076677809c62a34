"""clipcheck probe end to end on tiny settings: files written, summary complete, bad input named."""
import argparse
import csv
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from clipcheck import cmd_probe  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "gpu" / "fixtures"
TINY = ["--steps", "3", "--probe-every", "1", "--batch-size", "4", "--probe-size", "4", "--hidden-size", "8",
        "--vocab-size", "30", "--seq-len", "5", "--image-size", "8", "--bootstrap", "50", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _parse(argv):
    parser = argparse.ArgumentParser()
    cmd_probe.configure(parser)
    return parser.parse_args(argv)


def _check_outputs(out, models):
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["versions"]) >= {"clipcheck", "python", "torch"}
    assert summary["arguments"]["steps"] == 3 and summary["seed"] == 0
    for model in models:
        entry = summary["models"][model]
        assert entry["settings"]["steps"] == 3 and entry["settings"]["s_grid"] == [0.1, 0.25, 0.5, 0.75, 1.0]
        for run in ("clipped", "unclipped"):
            r = entry["runs"][run]
            assert r["status"] == "finished" and r["probes"] == 3
            assert -1 <= r["spearman_rho"] <= 1 and r["L0"] >= 0 and r["L1"] >= 0
    with open(out / "trajectory.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 * len(models)
    figures = [f"smoothness_{m}.png" for m in models] + ["training_curves.png"]
    assert all((out / name).stat().st_size > 0 for name in figures)


def test_probe_command_default_data_both_models(tmp_path, capsys):
    # Expected: the command's contract: exit 0, CSV with one row per step, JSON with versions, settings, rho and
    # envelope per run, three figures, and a table on stdout.
    assert cmd_probe.run(_parse(TINY + ["--out", str(tmp_path)])) == 0
    _check_outputs(tmp_path, ("lstm", "resnet20"))
    assert "spearman rho" in capsys.readouterr().out


def test_probe_command_reads_fixture_data(tmp_path):
    # Expected: --data given once per layout goes to the model that reads it; sources are recorded.
    argv = TINY + ["--out", str(tmp_path), "--data", str(FIXTURES / "ptb"), "--data", str(FIXTURES / "cifar10")]
    assert cmd_probe.run(_parse(argv)) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["models"]["lstm"]["data"]["source"].startswith("ptb:")
    assert summary["models"]["resnet20"]["data"]["source"].startswith("cifar10:")


@pytest.mark.parametrize("argv, named", [
    (["--steps", "0"], "--steps"),
    (["--lr", "-1"], "--lr"),
    (["--momentum", "1"], "--momentum"),
    (["--s-grid", "0.5,2"], "--s-grid"),
    (["--quantile", "0"], "--quantile"),
    (["--threads", "0"], "--threads"),
    (["--data", "/no/such/folder"], "--data"),
    (["--model", "lstm", "--data", str(FIXTURES / "cifar10")], "--data"),
])
def test_probe_command_names_bad_argument(argv, named, tmp_path):
    # Expected: the CLI contract: a ValueError naming the option (cli.py prints it as one line), no traceback.
    with pytest.raises(ValueError, match=named):
        cmd_probe.run(_parse(argv + ["--out", str(tmp_path)]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_probe_command_cuda_without_gpu_is_named(tmp_path):
    # Expected: asking for a device torch cannot see is bad input, named, not a crash inside torch.
    with pytest.raises(ValueError, match="--device"):
        cmd_probe.run(_parse(["--device", "cuda", "--out", str(tmp_path)]))
