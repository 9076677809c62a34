"""synthetic.sweep's store heals (issue 10, item 6): a damaged entry is reported by file name, ignored and
recomputed, and writers never share a temporary file."""
import json
import threading

import pytest

from clipcheck.synthetic.sweep import Store, sweep, using

DAMAGE = {
    "empty": b"",
    "truncated": b'{"params": {"sweep": "d", "a": 1}, "result": {"sq',
    "not JSON": b"<html>proxy error</html>",
    "not an entry": b"[1, 2, 3]",
    "not UTF-8": b'{"params": "\xff\xfe"}',
    "other parameters": json.dumps({"params": {"sweep": "d", "a": 99}, "result": {"sq": -1}}).encode(),
}


GRID = [{"a": a} for a in range(3)]


def _damaged_rerun(folder, kind, store):
    """Sweep the squares, damage point a = 1's entry, sweep again; returns (results, points computed again)."""
    calls = []

    def square(a):
        calls.append(a)
        return {"sq": a * a}

    with using(store):
        sweep(square, GRID, "d")
        store._path({"sweep": "d", "a": 1}).write_bytes(DAMAGE[kind])
        calls.clear()
        return sweep(square, GRID, "d"), calls


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_entry_is_ignored_and_recomputed(tmp_path, kind):
    out, calls = _damaged_rerun(tmp_path, kind, Store(tmp_path))
    # expected: the analytic squares, with only the damaged point computed again
    assert out == [{"sq": 0}, {"sq": 1}, {"sq": 4}] and calls == [1]
    assert Store(tmp_path).get({"sweep": "d", "a": 1}) == {"sq": 1}  # the entry is whole again


@pytest.mark.parametrize("kind", ["truncated", "other parameters"])
def test_damaged_entry_is_reported_by_file_name(tmp_path, kind):
    heard = []
    store = Store(tmp_path, on_damage=lambda path, why: heard.append((path, why)))
    _damaged_rerun(tmp_path, kind, store)
    assert len(heard) == 1 and heard[0][0] == store._path({"sweep": "d", "a": 1}) and heard[0][1]


def test_concurrent_writers_of_one_entry_never_collide(tmp_path):
    # two runs into one folder write the same entries; with one shared temporary name one writer's rename
    # finds the file gone (FileNotFoundError) or publishes the other's half-written text
    store, errors = Store(tmp_path), []

    def writer(k):
        try:
            for i in range(200):
                store.put({"p": i % 5}, {"writer": k, "i": i})
        except Exception as err:  # noqa: BLE001 - any error is the failure this test is about
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(store.get({"p": i}) is not None for i in range(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(store._path({"p": i}).name for i in range(5))


def test_atomic_write_leaves_no_temporary_file_when_it_fails(tmp_path):
    from clipcheck.synthetic.sweep import atomic_write
    target = tmp_path / "a-folder"
    target.mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(OSError):
        atomic_write(target, "text")
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder"]


def test_store_without_reuse_recomputes_but_still_keeps_what_finishes(tmp_path):
    # `clipcheck verify --no-cache`: everything is computed again, and an interrupted run still loses nothing
    calls = []
    with using(Store(tmp_path)):
        sweep(lambda a: calls.append(a) or {"sq": a * a}, GRID, "d")
    with using(Store(tmp_path, reuse=False)):
        sweep(lambda a: calls.append(a) or {"sq": a * a}, GRID, "d")
    assert calls == [0, 1, 2, 0, 1, 2]
    assert Store(tmp_path).get({"sweep": "d", "a": 2}) == {"sq": 4}
