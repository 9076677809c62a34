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


@pytest.fixture(autouse=True)
def sigint_put_back():
    """Isolation: SIGINT's handler and mask in the main thread are put back after every test, with a warning that
    names the test that changed them. A process started afterwards inherits an ignored or blocked SIGINT and cannot be
    stopped with Ctrl-C, and raise_signal raises nothing: one CI run (2026-12-02) failed two later SIGINT tests of
    one xdist worker that way, and the change did not happen again in three runs, so the warning is how to find it."""
    import signal
    import threading
    import warnings
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    yield
    if not main:
        return
    problems = []
    if hasattr(signal, "pthread_sigmask") and signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
        problems.append("blocked")
    now = signal.getsignal(signal.SIGINT)
    if now is not handler:
        signal.signal(signal.SIGINT, handler)
        problems.append(f"handler {handler!r} replaced by {now!r}")
    if problems:
        warnings.warn(f"the test left SIGINT {' and '.join(problems)} in the main thread (put back)")
