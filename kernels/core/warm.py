"""Workers kept running for the calls of a block: the frame of every ``warm_*`` helper.

A measurement inside ``warm_pools``, ``warm_watched_pools``, ``warm_clusters``,
``warm_ranks`` or ``warm_devices`` times the work, not the start-up: the block starts
the workers once per count, and the calls inside it borrow them. Each tool keeps its
running workers in a :class:`WarmSet`; what a worker is (a pool, a scheduler's address,
a set of MPI ranks, a JAX process) is the tool's business. :func:`warm_workers` starts
the right ones for a list of backend names.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: The backends that start workers, and the context manager (``module:function``) that
#: starts them once per worker count and has the backend's calls reuse them. Imported
#: only when used: ``import kernels`` does not pay for dask, MPI or JAX.
STARTERS = {
    "multiprocessing": "kernels.core.pools:warm_pools",
    "multiprocess": "kernels.core.watched_pool:warm_watched_pools",
    "joblib": "kernels.joblib.pool:keep_workers",
    "dask-distributed": "kernels.dask.cluster:warm_clusters",
    "mpi": "kernels.mpi4py.warm:warm_ranks",
    "jax-sharded": "kernels.jax.warm:warm_devices",
}

#: ``start(stack, count)``: start the workers for ``count`` (their clean-up entered on
#: ``stack``), wait until they answer, and return ``(key, what to lend)``.
Starter = Callable[[contextlib.ExitStack, int], tuple[Hashable, Any]]


class WarmSet:
    """Running workers, by key, lent to the calls made while their ``keep`` block runs.

    Examples
    --------
    >>> started = WarmSet()
    >>> with started.keep([2, 2, 4], lambda stack, count: (count, f"{count} workers")):
    ...     started.lend(2), started.lend(3)
    ('2 workers', None)
    >>> len(started)  # the block has ended
    0
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, Any] = {}

    def __len__(self) -> int:
        return len(self._running)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._running

    def lend(self, key: Hashable) -> Any | None:
        """What is kept under ``key``, or ``None`` when nothing is."""
        return self._running.get(key)

    def forget(self, key: Hashable) -> Any | None:
        """Stop lending ``key`` (broken workers: the next call starts its own)."""
        return self._running.pop(key, None)

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` and stop its workers at once (a call on them failed or hung).

        For workers with a ``close(graceful)`` method (:class:`kernels.core.servers.
        ServedProcess` and what wraps one); the block's own clean-up finds them closed.
        """
        running = self.forget(key)
        if running is not None:
            running.close(graceful=False)

    @contextlib.contextmanager
    def keep(self, counts: Iterable[int], start: Starter) -> Iterator[dict[int, float]]:
        """Start workers for each count now and lend them until the block ends.

        Yields the seconds each start took, by count (repeated counts start once). On
        exit, or if a start fails, everything started is forgotten and cleaned up.
        """
        startup = {}
        with contextlib.ExitStack() as stack:
            for count in dict.fromkeys(counts):
                begun = time.perf_counter()
                key, running = start(stack, count)
                self._running[key] = running
                stack.callback(self.forget, key)
                startup[count] = time.perf_counter() - begun
            yield startup


@contextlib.contextmanager
def warm_workers(backends: Iterable[str], workers: Iterable[int]) -> Iterator[dict]:
    """Pools and clusters for ``backends`` started now, for every worker count.

    Inside the block, ``multiprocessing``, ``multiprocess``, ``joblib``,
    ``dask-distributed``, ``mpi`` and ``jax-sharded`` (:data:`STARTERS`) reuse them
    instead of starting workers (ranks, a JAX process with its devices, each held to as
    many cores) on every call; other backends start nothing and are left as they are.
    Yields ``{backend: {workers: start-up seconds}}`` for the backends that got warm
    workers. Everything started is stopped when the block ends, or fails.

    Examples
    --------
    >>> with warm_workers(["numpy", "threads"], [1, 2]) as startup:
    ...     startup
    {}
    """
    counts = list(workers)
    with contextlib.ExitStack() as stack:
        started = {}
        for name in dict.fromkeys(backends):
            if name in STARTERS:
                module, function = STARTERS[name].split(":")
                start = getattr(importlib.import_module(module), function)
                started[name] = stack.enter_context(start(counts))
        yield started


def measured_on_warm_workers(backends: Iterable[str], workers: Iterable[int], measure):
    """``measure()``, a :func:`~kernels.core.bench.measure` table, with ``backends``'
    workers started first (:func:`warm_workers`) and stopped after it.

    The table gains ``startup_s``: the seconds its row's workers took to start, 0 where
    none were started (a backend without workers, or one not in ``backends``).
    """
    with warm_workers(backends, workers) as startup:
        df = measure()
    rows = zip(df["backend"], df["workers"], strict=True)
    started = [startup.get(b, {}).get(w, 0.0) for b, w in rows]
    return df.assign(startup_s=started)


def measured_tool_by_tool(
    backends: Sequence[str], workers: Iterable[int], measure: Callable[[list[str]], pd.DataFrame]
) -> pd.DataFrame:
    """``measure(group)`` for groups of ``backends``, each tool's workers started first.

    The backends that start workers (:data:`STARTERS`) are measured one at a time, each
    inside its own :func:`warm_workers` block, as chapter 12's race does: the work is
    timed, not the start-up (in ``startup_s``), and no other tool's idle workers wake up
    beside it (an idle dask cluster or set of MPI ranks took 5 to 7% of a core). The
    other backends start nothing and are measured together, their runs alternating.

    Parameters
    ----------
    backends : list of str
        The backends, in the order the rows should come back in.
    workers : list of int
        Worker counts to start workers for.
    measure : callable
        ``measure(group)``: a :func:`~kernels.core.bench.measure` table of the backends
        in ``group``.

    Returns
    -------
    pandas.DataFrame
        The tables together, in ``backends``' order, with ``startup_s`` and the speedup
        columns (:func:`~kernels.core.bench.add_speedups`) over all of them.
    """
    import pandas as pd

    from .bench import add_speedups

    chosen, counts = list(backends), list(workers)
    together = [b for b in chosen if b not in STARTERS]
    groups = ([together] if together else []) + [[b] for b in chosen if b in STARTERS]
    df = pd.concat([measured_on_warm_workers(group, counts, functools.partial(measure, group))
                    for group in groups], ignore_index=True)  # fmt: skip
    order = {name: k for k, name in enumerate(chosen)}  # each backend's rows in chosen's order
    df = df.sort_values("backend", key=lambda c: c.map(order), kind="stable", ignore_index=True)
    return add_speedups(df)
