"""Where `clipcheck verify` runs the grid points of its long claims: here, on a running dask scheduler
(`--dask ADDRESS`), or on a local cluster of N worker processes (`--workers N`). Needs the `dask` extra."""
import contextlib
import logging
import os

from .errors import UsageError
from .verify import code_digest

CONNECT_TIMEOUT_S = 10.0  # how long to try to reach a scheduler before calling its address bad input


def _worker_code_digest():
    """Run on a worker: the digest of the clipcheck code it would run."""
    from clipcheck.verify import code_digest as worker_digest
    return worker_digest()


def _check_same_code(client, where):
    """Results are stored under this process's code digest: workers running other code would fill the cache
    with results of other mathematics."""
    digests = client.run(_worker_code_digest)
    other = {addr: d for addr, d in digests.items() if d != code_digest()}
    if other:
        addr, digest = next(iter(other.items()))
        raise UsageError(f"{where}: worker {addr} runs other clipcheck code (digest {digest}, here {code_digest()});"
                         f" install this version on every worker")


@contextlib.contextmanager
def executor(address=None, workers=None):
    """None (run here) when neither is given; else a synthetic.sweep.DaskExecutor on the scheduler at `address`
    or on a new local cluster of `workers` processes, closed when the block ends. A scheduler that cannot be
    reached, or workers that run other code, are bad input (UsageError), found before any work starts."""
    if not address and not workers:
        yield None
        return
    where = f"--dask {address}" if address else f"--workers {workers}"
    try:
        import dask
        import distributed
    except ImportError:
        raise UsageError(f"{where}: needs the dask extra (pip install 'clipcheck[dask]')") from None
    from clipcheck.synthetic.sweep import DaskExecutor

    with contextlib.ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(distributed.Client(address, timeout=CONNECT_TIMEOUT_S))
            except (OSError, TimeoutError, ValueError) as err:  # ValueError: not an address
                raise UsageError(f"{where}: cannot reach the scheduler ({err})") from None
        else:
            # spawn, not fork: Numba's OpenMP layer does not survive fork. Each worker runs one point at a time
            # and its kernels on its share of the cores.
            threads = str(max(1, (os.cpu_count() or 1) // workers))
            with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": threads}))
            client = stack.enter_context(distributed.Client(cluster))
        _check_same_code(client, where)
        yield DaskExecutor(client)
