"""``Pool`` from ``multiprocessing`` or ``multiprocess``, watched so that it never hangs.

A plain ``Pool`` replaces a worker that dies (killed, out of memory, or unable to load
its function) and then waits forever for the task that worker held. :func:`watched_pool`
keeps the familiar ``Pool`` (and so ``multiprocess``'s ``dill`` serialisation) but
records every worker it starts; while results are awaited it checks them, and the first
one that died turns into a :class:`~kernels.errors.WorkerDiedError` naming its exit code
or signal. On every path out the pool is terminated or closed and its workers joined.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .pools import (
    RecordingContext,
    dead_workers,
    kept_barrier,
    start_with_barrier,
    stop_forkserver,
    stop_processes,
    worker_died,
)
from .warm import WarmSet

# How often (seconds) the waiting parent looks for dead workers. A finished result is
# noticed at once; only a death waits for the next look.
POLL_S = 0.05

LIBRARIES = ("multiprocess", "multiprocessing")


class WatchedPool:
    """A ``Pool`` whose results are awaited while its workers are watched.

    Use :func:`watched_pool` to make one. ``pool`` is the underlying ``Pool`` for the
    calls this class does not wrap.
    """

    def __init__(self, pool: Any, context: RecordingContext):
        self.pool = pool
        self._context = context

    def _await(self, async_result: Any) -> Any:
        while not async_result.ready():
            async_result.wait(POLL_S)
            if not async_result.ready() and dead_workers(self._context.processes):
                raise worker_died(self._context.processes)
        return async_result.get()

    def map(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1):
        """``Pool.map`` that raises :class:`WorkerDiedError` instead of hanging."""
        return self._await(self.pool.map_async(func, iterable, chunksize))

    def starmap(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int = 1):
        """``Pool.starmap`` that raises :class:`WorkerDiedError` instead of hanging."""
        return self._await(self.pool.starmap_async(func, iterable, chunksize))

    def run_tasks(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        """One task per message, handed to workers as they become free (dynamic)."""
        return self.map(func, tasks, chunksize=1)


# Pools kept running by warm_watched_pools(), by (workers, start_method, library), each
# with the barrier its workers share (pools.keep_barrier).
_WARM = WarmSet()


def warm_barrier(workers: int, start_method: str = "spawn", library: str = "multiprocess"):
    """The barrier of the warm watched pool of this size, or ``None`` when none is warm."""
    return kept_barrier(_WARM, (workers, start_method, library))


@contextlib.contextmanager
def warm_watched_pools(
    worker_counts: Iterable[int], start_method: str = "spawn", library: str = "multiprocess"
) -> Iterator[dict]:
    """Start one watched pool per worker count now; calls inside the block reuse them.

    The same as :func:`kernels.core.pools.warm_pools`, for :func:`watched_pool`: returns
    the seconds each pool took to start, by worker count.

    Examples
    --------
    >>> with warm_watched_pools([2]):
    ...     with watched_pool(2) as first:
    ...         pass
    ...     with watched_pool(2) as second:
    ...         first is second
    True
    """

    def start(stack: contextlib.ExitStack, workers: int):
        barrier = importlib.import_module(library).get_context(start_method).Barrier(workers)
        opened = start_with_barrier(
            stack, functools.partial(watched_pool, workers, start_method, library), barrier, workers
        )
        return (workers, start_method, library), opened

    with _WARM.keep(worker_counts, start) as startup:
        yield startup


@contextlib.contextmanager
def watched_pool(
    workers: int,
    start_method: str = "spawn",
    library: str = "multiprocess",
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[WatchedPool]:
    """A ``Pool`` of ``workers`` processes that fails instead of hanging, and cleans up.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    start_method : {"spawn", "fork", "forkserver"}
        How the workers start.
    library : {"multiprocess", "multiprocessing"}
        Where ``Pool`` comes from: ``multiprocess`` serialises with ``dill`` (lambdas and
        notebook functions work under every start method); ``multiprocessing`` uses
        ``pickle``.
    initializer, initargs
        Run once in each worker before its first task.

    Raises
    ------
    WorkerDiedError
        A worker died while results were awaited: the message names its exit status.

    Inside :func:`warm_watched_pools`, a running pool of the same size, start method
    and library (without an initializer) is lent instead, and stays running.

    Examples
    --------
    >>> with watched_pool(2) as pool:
    ...     pool.map(abs, [-1, -2, 3])
    [1, 2, 3]
    """
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {', '.join(LIBRARIES)}; got {library!r}")
    warm = _WARM.lend((workers, start_method, library)) if initializer is None else None
    if warm is not None:
        try:
            yield warm[0]
        except BaseException:
            _WARM.forget((workers, start_method, library))  # it may be broken now
            raise
        return
    module = importlib.import_module(library)
    context = RecordingContext(module.get_context(start_method))
    pool_module = importlib.import_module(f"{library}.pool")
    pool = pool_module.Pool(workers, initializer, initargs, context=context)
    try:
        yield WatchedPool(pool, context)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        stop_processes(context.processes)
        if start_method == "forkserver":
            stop_forkserver(library)
