"""The heat stencil in worker processes that keep their row block for every step.

The two fields live in shared memory. Each worker owns one block of rows for the whole
run and, after every step, waits at a barrier for the others: a block reads its
neighbours' edge rows, so no one may start step ``k + 1`` before all finished step ``k``.
Nothing but the block bounds ever crosses between processes, and the parent is not
involved in the per-step synchronisation at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ..problems import heat
from . import shared_arrays
from .pools import run_tasks

# Set in each worker by _attach: the shared fields and the step barrier.
_WORKER: dict[str, Any] = {}


def _attach(segment_names: list[str], n: int, barrier: Any, library: str) -> None:
    _WORKER["grids"] = shared_arrays.attach(segment_names, (n, n), library)
    _WORKER["barrier"] = barrier


def _solve_block(task: tuple[int, int, int]) -> None:
    lo, hi, steps = task
    grids, barrier = _WORKER["grids"].arrays, _WORKER["barrier"]
    try:
        for step in range(steps):
            heat.step_rows(grids[step % 2], grids[1 - step % 2], lo, hi)
            barrier.wait()
    except BaseException:
        barrier.abort()  # release the other workers instead of leaving them waiting
        raise


def solve(
    open_pool: Callable[..., Any], library: str, workers: int, n: int, steps: int, start_method: str
) -> np.ndarray:
    """Run the stencil with one long-lived task per worker.

    Parameters
    ----------
    open_pool : callable
        ``open_pool(workers, start_method, initializer=..., initargs=...)``, a context
        manager giving a pool that :func:`~kernels.backends.pools.run_tasks` accepts. The
        pool must run all ``workers`` tasks at once (one per worker), as both process
        pools in :mod:`kernels.backends` do.
    library : {"multiprocessing", "multiprocess"}
        The pool's library: the barrier and the shared memory must come from it too.
    workers, n, steps, start_method
        As for the ``heat`` problem and the backend.
    """
    blocks = heat.row_blocks(n, workers)
    context = importlib.import_module(library).get_context(start_method)
    barrier = context.Barrier(len(blocks))
    with shared_arrays.shared_arrays((n, n), 2, library) as shared:
        shared.arrays[0][...] = heat.initial(n)
        shared.arrays[1][...] = shared.arrays[0]
        initargs = (shared.names, n, barrier, library)
        with open_pool(len(blocks), start_method, initializer=_attach, initargs=initargs) as pool:
            run_tasks(pool, _solve_block, [(lo, hi, steps) for lo, hi in blocks])
        return shared.arrays[steps % 2].copy()
