"""synthetic.sweep on a local dask cluster of 2 spawned worker processes (issue 10, item 9): losing a worker in
the middle of a sweep loses no point, and the results are those of a serial run."""
import os
import signal
import sys
import time

import pytest

from clipcheck.synthetic.sweep import Store, dask_map, sweep, using

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


def _value(a, b):
    return {"a": a, "b": b, "value": a * 1000 + b ** 2}


def _slow_point(a, b, log):
    """_value, taking 0.3 s, with its start and end logged (one short append each: atomic on POSIX)."""
    with open(log, "a") as f:
        f.write(f"start {a} {b} {os.getpid()}\n")
    time.sleep(0.3)
    with open(log, "a") as f:
        f.write(f"end {a} {b} {os.getpid()}\n")
    return _value(a, b)


def _running(log):
    """{(a, b): pid} of the points started and not ended."""
    started, ended = {}, set()
    for line in open(log).read().splitlines():
        what, a, b, pid = line.split()
        if what == "start":
            started[a, b] = int(pid)
        else:
            ended.add((a, b))
    return {k: pid for k, pid in started.items() if k not in ended}


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_point(tmp_path):
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    log = str(tmp_path / "points.log")
    grid = [{"a": a, "b": b, "log": log} for a in range(3) for b in range(4)]
    serial = [_value(p["a"], p["b"]) for p in grid]  # the reference: a serial run of the same points
    killed = []

    def kill_a_busy_worker(name, done, total):
        deadline = time.monotonic() + 10
        while not killed and time.monotonic() < deadline:
            running = _running(log)
            if running:  # a worker in the middle of a point: kill it (a process this test's cluster started)
                killed.append(next(iter(running.values())))
                os.kill(killed[0], signal.SIGKILL)
            else:
                time.sleep(0.01)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with using(Store(tmp_path / "store"), progress=kill_a_busy_worker):
            out = sweep(_slow_point, grid, "kill", map_fn=dask_map(client))
    assert killed, "no worker was busy with a point after the first one came back"
    starts = [line.split()[1:3] for line in open(log).read().splitlines() if line.startswith("start")]
    assert len(starts) > len(grid)  # the point the killed worker was running was run again elsewhere
    assert out == serial
    with using(Store(tmp_path / "store")):  # every point was stored: a rerun computes none
        assert sweep(lambda a, b, log: pytest.fail("recomputed a stored point"), grid, "kill") == serial
