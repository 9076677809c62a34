"""Independent tasks (the claims of one verify) on a few local worker processes, longest first.

Why processes: most of a cold verify is Numba compiling, which holds the GIL, so only processes use the second
core. Why not concurrent.futures: a Ctrl-C must stop everything within a second and keep what finished, and a
worker that dies must be named by the task it was running. So each worker has its own pipe; the parent hands out
one task at a time (the next longest to whichever worker is free), relays the worker's progress events to the
caller's hooks in the main thread, and on any way out (Ctrl-C, an error) terminates the workers.

The workers are spawned, not forked: Numba's OpenMP threading layer does not survive fork. They are born with
SIGINT blocked and then ignore it (a Ctrl-C in the terminal reaches the whole process group: the parent alone
decides what it means), and they die with the parent (Linux: PR_SET_PDEATHSIG; everywhere: a thread that
watches the parent's sentinel). What a worker sends back is checked to load in the parent first. A worker killed
mid-task loses only that task's unfinished part: results are written through synthetic.sweep.atomic_write, whole
or not at all.
"""
import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler

POLL_S = 0.2  # how often the parent wakes to see whether a worker died without a word


class WorkerDied(RuntimeError):
    """A worker process ended while it was running a task (killed, out of memory, a crash in compiled code)."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (attached as the cause of the exception re-raised)."""

    def __str__(self):
        return self.args[0]


@dataclass
class Task:
    """One unit of work: `label` names it in errors and progress, `weight` orders the tasks (largest first),
    `payload` goes to the worker's function."""

    label: str
    payload: object
    weight: float = 1.0


def run(tasks, jobs, work, on_start=None, on_event=None, setup=None, env=None):
    """[work(task.payload, emit) for task in tasks], computed on `jobs` worker processes.

    work: a module-level function (it is pickled by reference) run in a worker; emit(*event) sends an event to the
    parent, where on_event(*event) hears it, in the main thread. on_start(task) hears of a task when it is handed
    out. setup: a picklable callable (a module-level function, or a functools.partial of one) called once in
    each worker before its first task.
    env: environment variables the workers start with (e.g. the number of Numba threads).
    An exception in a task is raised again here, with the worker's traceback as its cause; a worker that dies
    raises WorkerDied. Either way, and on KeyboardInterrupt, every worker is terminated before this returns."""
    results = [None] * len(tasks)
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].weight)
    ctx = multiprocessing.get_context("spawn")
    busy = {}  # connection -> (process, index of its task)
    _start_resource_tracker()
    try:
        for _ in range(max(1, min(jobs, len(tasks)))):
            parent_end, child_end = ctx.Pipe()
            process = ctx.Process(target=_worker, args=(child_end, work, setup, os.getpid()), daemon=True,
                                  name="clipcheck-worker")
            with _starting(), _environment(env or {}):
                process.start()  # born with SIGINT blocked: see _worker
                busy[parent_end] = (process, None)  # known to _stop before any Ctrl-C can surface
            child_end.close()
        for conn in list(busy):
            _hand_out(conn, busy, order, tasks, on_start)
        while True:
            working = [conn for conn, (_, index) in busy.items() if index is not None]
            if not working:
                return results
            for conn in multiprocessing.connection.wait(working, timeout=POLL_S):
                process, index = busy[conn]
                try:
                    kind, *body = conn.recv()
                except (EOFError, OSError):
                    process.join(1.0)
                    raise WorkerDied(f"the worker process running {tasks[index].label} died (exit code "
                                     f"{process.exitcode})") from None
                if kind == "event":
                    if on_event is not None:
                        on_event(*body)
                elif kind == "done":
                    results[index] = body[0]
                    _hand_out(conn, busy, order, tasks, on_start)
                else:  # "error"
                    exc, text = body
                    raise exc from RemoteTraceback(f"in the worker running {tasks[index].label}:\n{text}")
            for conn, (process, index) in busy.items():
                if index is not None and not process.is_alive() and not conn.poll():
                    raise WorkerDied(f"the worker process running {tasks[index].label} died (exit code "
                                     f"{process.exitcode})")
    finally:
        _stop(busy)


def _hand_out(conn, busy, order, tasks, on_start):
    process, _ = busy[conn]
    if not order:
        busy[conn] = (process, None)
        conn.send(("stop",))  # no more work: the worker returns
        return
    index = order.pop(0)
    busy[conn] = (process, index)
    if on_start is not None:
        on_start(tasks[index])
    conn.send(("task", tasks[index].payload))


def _stop(busy):
    """Terminate every worker (SIGTERM, then SIGKILL after a second) and wait for them."""
    for conn, (process, _) in busy.items():
        if process.is_alive():
            process.terminate()
    for conn, (process, _) in busy.items():
        process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        conn.close()


def _start_resource_tracker():
    """Start multiprocessing's resource tracker now, before _starting blocks SIGINT: the first spawn of a process
    starts it, and starting it unblocks SIGINT in this thread (multiprocessing.resource_tracker.ensure_running),
    so the first worker would be born with SIGINT deliverable, and a Ctrl-C while it imports would print a
    KeyboardInterrupt traceback."""
    if os.name == "posix":
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()


@contextlib.contextmanager
def _starting():
    """While a worker starts: SIGINT blocked in this thread, so that the worker inherits the blocked mask across fork
    and exec and a Ctrl-C can never reach it before it ignores SIGINT; and a KeyboardInterrupt held back until the
    block is done. Python runs its SIGINT handler in the main thread even when another thread (the CLI's watchdog)
    took the signal, so without that a KeyboardInterrupt raised inside start() would leave a worker nobody
    terminates, or one whose start-up data is cut short and which prints a traceback."""
    held = []
    here = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if here else None
    if previous is not None:  # None: a handler installed outside Python, left alone
        signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGINT held by the mask is delivered here
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
            if held:
                signal.raise_signal(signal.SIGINT)  # to the handler that was there: it decides what it means


@contextlib.contextmanager
def _environment(values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _die_with_parent(parent_pid):
    """Linux: have the kernel kill this process when its parent ends (also when the parent is killed itself)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if os.getppid() != parent_pid:  # the parent ended before the line above (adopted by init or a reaper)
                os._exit(1)


def _end_with(parent):
    """Everywhere (no PR_SET_PDEATHSIG on macOS or Windows, and a parent killed outright runs no clean-up): end this
    worker as soon as its parent has ended, so that it writes nothing more into a report folder the parent no
    longer holds. The parent's sentinel is readable once the parent is gone."""
    parent.join()
    os._exit(1)


def _send(conn, data):
    """Bytes to the parent; a parent that is gone (no PR_SET_PDEATHSIG on macOS or Windows; on Linux the kernel
    closes a dead parent's pipes before it sends the death signal) ends this worker at once and quietly: no
    traceback on the user's terminal, no more work written into the report folder."""
    try:
        conn.send_bytes(data)
    except OSError:
        os._exit(1)


def _packed(message):
    """(`message` pickled, None), or (None, the traceback of why not) when it does not pickle or its pickle does not
    load again (an exception whose __init__ takes other arguments than its args): that would fail in the parent's
    recv, far from its cause and without the task's name."""
    try:
        data = ForkingPickler.dumps(message)
        ForkingPickler.loads(data)
        return data, None
    except Exception:  # noqa: BLE001 - whatever pickle raises, the message cannot travel
        return None, traceback.format_exc()


def _reply(reply):
    """A ("done", result) or ("error", exception, traceback text) message, as bytes that load in the parent."""
    data, problem = _packed(reply)
    if data is not None:
        return data
    if reply[0] == "error":  # the exception does not travel: its type, text and traceback do
        _, exc, text = reply
        return ForkingPickler.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), text))
    return ForkingPickler.dumps(("error", RuntimeError(f"the task's result ({type(reply[1]).__name__}) cannot be "
                                                       "sent to the parent process"), problem))


def _worker(conn, work, setup, parent_pid):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a Ctrl-C held back since birth
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent(parent_pid)
    parent = multiprocessing.parent_process()  # None only when _worker is called outside a spawned process
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="clipcheck-parent-watch", daemon=True).start()
    if setup is not None:
        setup()

    def emit(*event):
        _send(conn, ForkingPickler.dumps(("event", *event)))

    while True:
        try:
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if kind == "stop":
            return
        try:
            reply = ("done", work(payload[0], emit))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent, which decides
            reply = ("error", exc, traceback.format_exc())
        _send(conn, _reply(reply))
