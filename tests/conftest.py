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
