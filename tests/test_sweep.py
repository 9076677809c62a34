"""synthetic.sweep: a sweep interrupted midway keeps what it finished, and keys ignore parameter order."""
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from clipcheck.synthetic.sweep import Store, cached, sweep, using


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    calls = []

    def fn(a, b):
        calls.append((a, b))
        if len(calls) == 3 and not stop_once_done:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the third point
        return {"sum": a + b, "inf": math.inf}

    grid = [{"a": i, "b": 10 * i} for i in range(5)]
    stop_once_done = False
    with using(Store(tmp_path)):
        with pytest.raises(KeyboardInterrupt):
            sweep(fn, grid, "demo")
        stop_once_done = True
        calls.clear()
        out = sweep(fn, grid, "demo")
    assert [r["sum"] for r in out] == [11 * i for i in range(5)]
    assert calls == [(2, 20), (3, 30), (4, 40)]  # the two finished points were read back, not rerun
    assert out[0]["inf"] == math.inf  # non-finite floats survive the JSON store


def test_keys_do_not_depend_on_parameter_order(tmp_path):
    store = Store(tmp_path)
    store.put({"x": 1, "y": 2}, [1.5])
    assert store.get({"y": 2, "x": 1}) == [1.5]
    assert store.get({"x": 1, "y": 3}) is None


def test_cached_without_store_just_computes():
    assert cached({"k": 1}, lambda: 42) == 42


def test_executor_seam(tmp_path):
    with ThreadPoolExecutor(2) as pool, using(Store(tmp_path)):
        out = sweep(lambda a: a * a, [{"a": i} for i in range(6)], "squares", map_fn=pool.map)
    assert out == [i * i for i in range(6)]


def test_editing_an_inlined_source_drops_cached_kernels(tmp_path):
    # Numba checks only the compiled function's own file; an edit to any file of the package must drop the cache
    from clipcheck.synthetic._kernel_cache import drop_stale_kernels
    (tmp_path / "profiles.py").write_text("A = 1\n")
    drop_stale_kernels(tmp_path)
    kernel = tmp_path / "__pycache__" / "cpu.run_batch-1.py311.nbi"
    kernel.write_text("cached")
    drop_stale_kernels(tmp_path)
    assert kernel.exists()  # nothing changed: the cache stays
    (tmp_path / "profiles.py").write_text("A = 2\n")
    drop_stale_kernels(tmp_path)
    assert not kernel.exists()


def test_progress_hears_every_finished_point(tmp_path):
    heard = []
    with using(Store(tmp_path), progress=lambda name, done, total: heard.append((name, done, total))):
        sweep(lambda a: a, [{"a": 1}, {"a": 2}], "p")
        sweep(lambda a: a, [{"a": 1}, {"a": 2}, {"a": 3}], "p")  # two stored, one new
    assert heard == [("p", 1, 2), ("p", 2, 2), ("p", 3, 3)]


def test_dask_executor_seam(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    from clipcheck.synthetic.sweep import dask_map
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        with using(Store(tmp_path)):
            out = sweep(lambda a: a + 1, [{"a": i} for i in range(5)], "dask", map_fn=dask_map(client))
    assert out == [1, 2, 3, 4, 5]
