"""Shared fixtures."""
import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors run faster on one thread, and far faster when other jobs share the 2 cores."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_collection_modifyitems(items):
    """Run the tests marked slow first. Under pytest-xdist (setup.cfg runs two workers) a long test that starts
    last is the whole suite's tail; started first, it runs beside the rest. The order within each group is kept,
    and every worker collects the same order, as xdist requires."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
