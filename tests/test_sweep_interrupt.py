"""synthetic.sweep keeps every point that finished (issue 10, items 1 and 9): results are stored as each point
completes, not when the whole sweep is gathered, so a sweep stopped by Ctrl-C keeps what finished elsewhere."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from clipcheck.synthetic.sweep import Store, sweep, using

GRID = [{"a": a} for a in range(4)]
_release, _returned = threading.Event(), []  # module level: dask pickles the point function by reference


def _point(a):
    if a == 0:
        _release.wait(10)  # still running when Ctrl-C arrives
    _returned.append(a)
    return {"a": a}


def _stopped_sweep(map_fn, store):
    """Point 0 is still running while points 1-3 finish; then Ctrl-C arrives (raised from the progress hook, as
    the CLI's guard does). The sweep must raise KeyboardInterrupt."""
    release, returned = _release, _returned
    release.clear()
    returned.clear()

    def ctrl_c(name, done, total):
        deadline = time.monotonic() + 10
        while len(returned) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # margin for the executor to mark the returned points done (it takes microseconds)
        raise KeyboardInterrupt

    try:
        with using(store, progress=ctrl_c):
            with pytest.raises(KeyboardInterrupt):
                sweep(_point, GRID, "stop", map_fn=map_fn)
    finally:
        release.set()


def _kept(store):
    return {p["a"] for p in GRID if store.get({"sweep": "stop", **p}) is not None}


def test_points_finished_in_a_pool_are_kept_when_the_sweep_is_interrupted(tmp_path):
    from clipcheck.synthetic.sweep import FuturesExecutor
    store = Store(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        _stopped_sweep(FuturesExecutor(pool), store)
    assert _kept(store) == {1, 2, 3}
    computed = []
    with using(store):
        out = sweep(lambda a: computed.append(a) or {"a": a}, GRID, "stop")
    assert out == GRID and computed == [0]  # the rerun computes only the point that had not finished


def test_points_finished_on_dask_are_kept_when_the_sweep_is_interrupted(tmp_path):
    # issue 10, item 9: "it gathers all results at the end, so an interrupted distributed sweep loses everything
    # finished" (worker threads in this process, so that point 0 can wait on an event of the test)
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    from clipcheck.synthetic.sweep import dask_map
    store = Store(tmp_path)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=4, dashboard_address=None) as client:
        _stopped_sweep(dask_map(client), store)
    assert _kept(store) == {1, 2, 3}
