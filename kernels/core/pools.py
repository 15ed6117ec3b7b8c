"""Pools that never hang and never leave a process behind.

The thread and process backends run their tasks through :func:`run_tasks` inside
:func:`process_pool` or :func:`thread_pool`. The pools are context managers: on every
path out (result, exception in a task, worker death, Ctrl-C) the workers are stopped and
joined before the call returns.

Why not ``multiprocessing.Pool``? When one of its workers dies (killed, out of memory,
or unable to unpickle its function, as happens under ``spawn``/``forkserver`` with a
function defined in a notebook) ``Pool`` silently replaces the worker and waits forever
for the lost task. :class:`concurrent.futures.ProcessPoolExecutor`, built on the same
:mod:`multiprocessing` machinery, notices the death and fails; we turn that failure into
a :class:`~kernels.errors.WorkerDiedError` that says what happened.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import multiprocessing
import pickle
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .errors import UnpicklableTaskError, WorkerDiedError
from .warm import WarmSet

# Seconds a worker gets to exit on its own before it is terminated.
JOIN_TIMEOUT = 5.0


def describe_exit(process: multiprocessing.process.BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return f"pid {process.pid} still running"
    if code < 0:
        try:
            return f"pid {process.pid} killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"pid {process.pid} killed by signal {-code}"
    return f"pid {process.pid} exited with code {code}"


def started(
    processes: Iterable[multiprocessing.process.BaseProcess],
) -> list[multiprocessing.process.BaseProcess]:
    """The processes that were started.

    A pool creates a worker's process object before it starts it; when the pool breaks
    in between (another worker died and the executor closed its queues while a task was
    being submitted), the object is recorded but never started, and has no pid.
    """
    return [p for p in processes if p.pid is not None]


def dead_workers(
    processes: Iterable[multiprocessing.process.BaseProcess],
) -> list[multiprocessing.process.BaseProcess]:
    """The processes that ended with an error or a signal (not a clean exit)."""
    return [p for p in processes if p.exitcode not in (0, None)]


def worker_died(processes: Iterable[multiprocessing.process.BaseProcess]) -> WorkerDiedError:
    """The error that says which worker died and the usual reasons why.

    Workers ended by SIGTERM are the pool's own clean-up after the first death (the
    executor and :func:`stop_processes` terminate the rest), so the others are named
    first, and the SIGTERMs only when nothing else is known.
    """
    dead = dead_workers(processes)
    cause = [p for p in dead if p.exitcode != -signal.SIGTERM] or dead
    exits = ", ".join(describe_exit(p) for p in cause) or "exit status unknown"
    return WorkerDiedError(
        f"a worker process died before finishing its task ({exits}). It was killed, "
        "crashed, or could not load its task: with the 'spawn' and 'forkserver' start "
        "methods a worker can only run functions it can import from a module, not ones "
        "defined in a notebook or in __main__ (use the 'multiprocess' library for those), "
        'and a script that starts processes needs an `if __name__ == "__main__":` guard. '
        "The worker's traceback, if any, is on stderr. The pool has been shut down."
    )


def stop_processes(processes: Iterable[multiprocessing.process.BaseProcess]) -> None:
    """Join each started process, terminating (then killing) one that does not exit."""
    for process in started(processes):
        process.join(JOIN_TIMEOUT)
        if process.is_alive():
            process.terminate()
            process.join(JOIN_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join()


class RecordingContext:
    """A multiprocessing context that remembers every worker process it creates."""

    def __init__(self, context: multiprocessing.context.BaseContext):
        self._context = context
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def Process(self, *args: Any, **kwargs: Any) -> multiprocessing.process.BaseProcess:
        process = self._context.Process(*args, **kwargs)
        self.processes.append(process)
        return process


# Pools kept running by warm_pools(), by (workers, start_method), each with the barrier
# its workers share: process_pool() lends them out instead of starting new workers.
_WARM = WarmSet()

# In a worker of a warm pool: a barrier of all the pool's workers (see keep_barrier).
POOL_BARRIER: Any = None


def keep_barrier(barrier: Any) -> None:
    """Pool initializer: keep the barrier every worker of the pool shares.

    A synchronisation object reaches a worker only as it starts, never with a task; a
    warm pool is started before any task is known, so it gets one barrier for all its
    workers, which a task that needs every worker at once (the heat stencil's row
    blocks, :func:`kernels.core.shared_memory.solve_in_blocks`) uses.
    """
    global POOL_BARRIER
    POOL_BARRIER = barrier


def start_with_barrier(
    stack: contextlib.ExitStack, open_pool: Callable[[Callable, tuple], Any], barrier: Any,
    workers: int,
) -> tuple[Any, Any]:  # fmt: skip
    """Open a pool whose workers all keep ``barrier``, and wait until every one is up.

    ``open_pool(initializer, initargs)`` is the pool's context manager (entered on
    ``stack``); the warm pools of :func:`warm_pools` and
    :func:`kernels.core.watched_pool.warm_watched_pools` are started this way. Returns
    ``(pool, barrier)``, what :func:`kept_barrier` reads back.
    """
    pool = stack.enter_context(open_pool(keep_barrier, (barrier,)))
    run_tasks(pool, abs, range(4 * workers))  # every worker up
    return pool, barrier


def kept_barrier(warm: WarmSet, key: Any) -> Any | None:
    """The barrier of the pool ``warm`` keeps under ``key``, or ``None`` when none is warm."""
    kept = warm.lend(key)
    return None if kept is None else kept[1]


def warm_barrier(workers: int, start_method: str = "spawn") -> Any | None:
    """The barrier of the warm pool of this size, or ``None`` when no pool is warm."""
    return kept_barrier(_WARM, (workers, start_method))


@contextlib.contextmanager
def warm_pools(worker_counts: Iterable[int], start_method: str = "spawn") -> Iterator[dict]:
    """Start one pool per worker count now; calls inside the block reuse them.

    While the block runs, :func:`process_pool` with one of these worker counts and
    start method (and no initializer) lends the running pool instead of starting
    workers, so a measurement times the work and not the start-up. On exit, every pool
    is shut down and its workers joined, as always.

    Returns
    -------
    dict
        Seconds each pool took to start (its workers up and idle), by worker count.

    Examples
    --------
    >>> with warm_pools([2]) as startup:
    ...     with process_pool(2) as pool:
    ...         lent = pool
    ...     with process_pool(2) as pool:
    ...         lent is pool and run_tasks(pool, abs, [-3])
    [3]
    """

    def start(stack: contextlib.ExitStack, workers: int):
        barrier = multiprocessing.get_context(start_method).Barrier(workers)
        opened = start_with_barrier(stack, functools.partial(process_pool, workers, start_method),
                                    barrier, workers)  # fmt: skip
        return (workers, start_method), opened

    with _WARM.keep(worker_counts, start) as startup:
        yield startup


@contextlib.contextmanager
def process_pool(
    workers: int,
    start_method: str = "spawn",
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[ProcessPoolExecutor]:
    """A process pool that is shut down, and its workers joined, on every path.

    Inside :func:`warm_pools`, a pool of the same size and start method (without an
    initializer) is lent instead, and stays running for the next call.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    start_method : {"spawn", "fork", "forkserver"}
        How the workers start (:data:`kernels.core.catalogue.START_METHOD`).
    initializer, initargs
        Run once in each worker before its first task (e.g. attach shared memory).

    Raises
    ------
    WorkerDiedError
        A worker died before finishing: the message names its exit code or signal.

    Examples
    --------
    >>> with process_pool(2) as pool:
    ...     run_tasks(pool, abs, [-1, -2])
    [1, 2]
    """
    warm = _WARM.lend((workers, start_method)) if initializer is None else None
    if warm is not None:
        try:
            yield warm[0]
        except BrokenProcessPool as exc:
            _WARM.forget((workers, start_method))
            raise WorkerDiedError(f"a worker of the warm pool of {workers} died: {exc}") from exc
        return
    context = RecordingContext(multiprocessing.get_context(start_method))
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs
    )
    clean = False
    try:
        yield executor
        clean = True
    except BrokenProcessPool as exc:
        stop_processes(context.processes)
        # The executor's own thread may be reaping a dead worker at this moment; until it
        # has stored the exit status, the worker's exitcode reads None. Give it a moment.
        deadline = time.monotonic() + 2.0
        running = started(context.processes)
        while any(p.exitcode is None for p in running) and time.monotonic() < deadline:
            time.sleep(0.01)
        raise worker_died(context.processes) from exc
    finally:
        if not clean:
            executor.shutdown(wait=False, cancel_futures=True)
            for process in started(context.processes):
                if process.is_alive():
                    process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        stop_processes(context.processes)
        if start_method == "forkserver":
            stop_forkserver("multiprocessing")


def stop_forkserver(library: str = "multiprocessing") -> None:
    """Stop the fork server, which would otherwise outlive the call by design.

    The standard library (and ``multiprocess``, its copy) keeps one fork server per
    interpreter and offers no public way to stop it; ``_stop`` is what its own test suite
    uses, and it restarts on next use.
    """
    forkserver = importlib.import_module(f"{library}.forkserver")
    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


@contextlib.contextmanager
def thread_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool whose pending tasks are cancelled and threads joined on every path."""
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kernels")
    try:
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def check_picklable(func: Callable[..., Any]) -> None:
    """Refuse, with a clear message, a function ``pickle`` cannot send to a worker.

    Found here, before any task is queued, this is a plain error; found by the pool's
    feeder thread it would break the pool on some Python versions.
    """
    try:
        pickle.dumps(func)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise UnpicklableTaskError(
            f"cannot send {func!r} to worker processes: {exc}. With the standard library "
            "a task function must be defined at the top level of an importable module "
            "(not a lambda, a nested function or a notebook cell under 'spawn'); the "
            "'multiprocess' library can send those."
        ) from exc


def run_tasks(executor: Executor, func: Callable[..., Any], tasks: Iterable[Any]) -> list[Any]:
    """Run ``func(task)`` for every task; return the results in task order.

    Tasks are handed out as workers become free (dynamic scheduling). The first exception
    raised by any task is re-raised here as soon as it happens, with its original type and
    message, and the tasks not yet started are cancelled. ``executor`` is a
    :class:`concurrent.futures.Executor` or a :class:`~kernels.multiprocess.pool.WatchedPool`.
    """
    if hasattr(executor, "run_tasks"):
        return executor.run_tasks(func, tasks)
    tasks = list(tasks)
    if isinstance(executor, ProcessPoolExecutor):
        check_picklable(func)
    try:
        futures = [executor.submit(func, task) for task in tasks]
    except OSError as exc:
        if not isinstance(executor, ProcessPoolExecutor):
            raise
        # A worker died (say, it could not import the function) and the executor closed
        # its queues while ``submit`` was starting another worker with them.
        raise BrokenProcessPool(f"the pool broke while starting a worker: {exc}") from exc
    done, _ = wait_futures(futures, return_when=FIRST_EXCEPTION)
    for future in futures:
        if future in done and future.exception() is not None:
            for other in futures:
                other.cancel()
            raise future.exception()
    return [future.result() for future in futures]
