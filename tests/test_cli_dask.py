"""`clipcheck verify --workers N / --dask ADDRESS` (issue 10, item 9): the grid points of the long claims run on dask
workers and give the rows of a serial run; a scheduler that cannot be reached is bad input."""
import json
import subprocess
import sys

import pytest

from clipcheck import cli

pytest.importorskip("distributed", reason="the dask extra is not installed")

# claims whose grid points a cluster shares: sweeps of runs, and the adversary's searches of an upper bound
LONG = "ZHSJ-Remark5,ZHSJ-Thm4,NGD-bound"


def _verify(folder, *extra):
    p = subprocess.run([sys.executable, "-m", "clipcheck", "verify", "--only", LONG, "--no-proofs",
                        "--out", str(folder), *extra], capture_output=True, text=True, cwd=folder.parent)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads((folder / "report.json").read_text())["claims"], p.stderr


@pytest.mark.slow
def test_local_cluster_of_two_workers_gives_the_rows_of_a_serial_run(tmp_path):
    serial, _ = _verify(tmp_path / "serial")
    on_dask, err = _verify(tmp_path / "dask", "--workers", "2")
    assert "run on dask, 2 workers" in err
    assert on_dask == serial
    # every grid point was stored by the client as it came back from a worker
    assert len(list((tmp_path / "dask" / ".cache").glob("points-*/*.json"))) == len(
        list((tmp_path / "serial" / ".cache").glob("points-*/*.json")))


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "no-port-here"])
def test_unreachable_scheduler_is_bad_input(address, tmp_path, capsys, monkeypatch):
    from clipcheck import cluster
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)  # nothing listens on port 1: no need to wait long
    code = cli.main(["verify", "--only", "NGD-equiv", "--dask", address, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and f"--dask {address}" in err and "Traceback" not in err
    assert not (tmp_path / "report.json").exists()


def test_dask_and_workers_exclude_each_other(tmp_path):
    with pytest.raises(SystemExit) as stop:
        cli.main(["verify", "--dask", "tcp://127.0.0.1:1", "--workers", "2", "--out", str(tmp_path)])
    assert stop.value.code == cli.EXIT_USAGE
