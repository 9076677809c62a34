"""clipcheck probe end to end on tiny settings: files written, summary complete, --full on the shipped fixtures,
bad input named."""
import argparse
import csv
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from clipcheck import cmd_probe  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "gpu" / "fixtures"
TINY = ["--steps", "4", "--probe-every", "1", "--batch-size", "4", "--probe-size", "4", "--hidden-size", "8",
        "--embedding-size", "8", "--num-layers", "1", "--vocab-size", "30", "--seq-len", "5", "--image-size", "8",
        "--heldout-size", "4", "--heldout-every", "2", "--bootstrap", "50", "--envelope-bootstrap", "5",
        "--device", "cpu", "--workers", "1", "--seeds", "2", "--lrs", "0.1", "--clips", "0.5"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _parse(argv):
    parser = argparse.ArgumentParser()
    cmd_probe.configure(parser)
    return parser.parse_args(argv)


def _check_outputs(out, models):
    # 1 learning rate x (unclipped, clip 0.5) x 2 seeds = 4 runs per model, 4 steps each, a probe every step
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["versions"]) >= {"clipcheck", "python", "torch"}
    assert summary["seeds"] == [0, 1] and len(summary["runs"]) == 4 * len(models)
    for model in models:
        assert summary["settings"][model]["steps"] == 4 and summary["settings"][model]["lrs"] == [0.1]
        runs = [r for r in summary["runs"] if r["model"] == model]
        assert sorted((r["clip"] is None, r["seed"]) for r in runs) == [(False, 0), (False, 1), (True, 0), (True, 1)]
        for r in runs:
            assert r["status"] == "finished" and r["probes"] == 4 and 0 <= r["clipped_fraction"] <= 1
            assert set(r["envelope"]) == {"0.95", "1.0"} and len(r["rho_ci"]) == 2
        settings = [s for s in summary["by_setting"] if s["model"] == model]
        assert len(settings) == 2 and all(s["rho"]["seeds"] <= 2 for s in settings)
        (comparison,) = [c for c in summary["clipped_vs_unclipped"] if c["model"] == model]
        assert comparison["clip"] == 0.5 and set(comparison) >= {"rho", "rho_partial", "lost_to_divergence"}
    with open(out / "steps.csv") as f:
        assert len(list(csv.DictReader(f))) == 4 * 4 * len(models)
    with open(out / "probes.csv") as f:
        rows = list(csv.DictReader(f))
        assert len(rows) == 4 * 4 * len(models) and len(rows[0]["ratios"].split(";")) == 5
    with open(out / "heldout.csv") as f:  # before training, after 2 and after 4 steps
        assert len(list(csv.DictReader(f))) == 4 * 3 * len(models)
    figures = [f"smoothness_{m}.png" for m in models] + ["heldout.png", "rho.png"]
    assert all((out / name).stat().st_size > 0 for name in figures)


def test_probe_command_default_data_both_models(tmp_path, capsys):
    # Expected: the command's contract: exit 0, three CSVs with one row per step, probe and held-out evaluation,
    # JSON with versions, settings, a summary per run, per setting and per comparison, four figures, and a table
    # with the clipped vs unclipped comparison on stdout.
    assert cmd_probe.run(_parse(TINY + ["--out", str(tmp_path)])) == 0
    _check_outputs(tmp_path, ("lstm", "resnet20"))
    printed = capsys.readouterr().out
    assert "clipped minus unclipped" in printed and "clipped on" in printed


def test_probe_command_full_reads_the_fixture_folders(tmp_path):
    # Expected: --full trains the AWD-LSTM-style model on a PTB folder and ResNet-20 on a CIFAR-10 folder (here the
    # shipped fixtures, at tiny sizes on the CPU); the sources and held-out sets are recorded.
    argv = TINY + ["--full", "--out", str(tmp_path), "--data", str(FIXTURES / "ptb"), "--data",
                   str(FIXTURES / "cifar10"), "--hvp"]
    assert cmd_probe.run(_parse(argv)) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["preset"] == "full" and summary["settings"]["lstm"]["dropout_input"] == 0.4
    assert summary["data"]["lstm"]["source"].startswith("ptb:")
    assert summary["data"]["resnet20"]["source"].startswith("cifar10:")
    assert summary["data"]["resnet20"]["heldout"] == "2 of test_batch"
    with open(tmp_path / "probes.csv") as f:
        assert all(float(row["hvp"]) > 0 for row in csv.DictReader(f))


def test_full_needs_the_data_folders(tmp_path):
    # Expected: --full never falls back to a download or to the small bundled data: it names what is missing.
    with pytest.raises(ValueError, match="--data.*Penn Treebank folder for lstm"):
        cmd_probe.run(_parse(["--full", "--model", "lstm", "--out", str(tmp_path)]))


@pytest.mark.parametrize("argv, named", [
    (["--steps", "0"], "--steps"),
    (["--lrs", "0.1,-1"], "--lrs"),
    (["--clips", "x"], "--clips"),
    (["--momentum", "1"], "--momentum"),
    (["--s-grid", "0.5,2"], "--s-grid"),
    (["--s-grid", "0.5,0.25"], "--s-grid"),
    (["--threads", "0"], "--threads"),
    (["--workers", "0"], "--workers"),
    (["--seeds", "0"], "--seeds"),
    (["--bootstrap", "-1"], "--bootstrap"),
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
