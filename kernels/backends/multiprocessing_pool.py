"""``multiprocessing``: worker processes from the standard library.

Each worker is a separate interpreter with its own GIL, so pure-Python work runs in
parallel; the price is starting the processes and pickling tasks and results. The pool
is :class:`concurrent.futures.ProcessPoolExecutor` on a :mod:`multiprocessing` context
(see :mod:`kernels.backends.pools` for why not ``multiprocessing.Pool``).
"""

from __future__ import annotations

import numpy as np

from ..problems import heat
from ..registry import register_backend
from . import shared_arrays
from .plans import KERNEL, mandelbrot_plan, monte_carlo_pi_plan
from .pools import START_METHOD, process_pool, run_tasks

OPTIONS = [KERNEL, START_METHOD]


def _run_plan(plan, workers: int, start_method: str):
    with process_pool(workers, start_method) as pool:
        return plan.combine(run_tasks(pool, plan.func, plan.tasks))


@register_backend("multiprocessing", "mandelbrot", parallel=True, options=OPTIONS)
def mandelbrot_multiprocessing(
    workers: int, width: int, height: int, max_iter: int, kernel: str, start_method: str
) -> np.ndarray:
    """Interleaved row sets (4 per worker) handed out dynamically to worker processes."""
    plan = mandelbrot_plan(workers, width, height, max_iter, kernel)
    return _run_plan(plan, workers, start_method)


@register_backend("multiprocessing", "monte_carlo_pi", parallel=True, options=OPTIONS)
def monte_carlo_pi_multiprocessing(
    workers: int, samples: int, seed: int, kernel: str, start_method: str
) -> float:
    """Groups of whole chunks counted in worker processes; the hit counts are summed."""
    return _run_plan(monte_carlo_pi_plan(workers, samples, seed, kernel), workers, start_method)


# Set in each worker by _attach_grids: the two shared fields.
_WORKER_GRIDS: shared_arrays.SharedArrays | None = None


def _attach_grids(segment_names: list[str], n: int) -> None:
    global _WORKER_GRIDS
    _WORKER_GRIDS = shared_arrays.attach(segment_names, (n, n))


def _step_block(task: tuple[int, int, int]) -> None:
    src, lo, hi = task
    grids = _WORKER_GRIDS.arrays
    heat.step_rows(grids[src], grids[1 - src], lo, hi)


@register_backend("multiprocessing", "heat", parallel=True, options=[START_METHOD])
def heat_multiprocessing(workers: int, n: int, steps: int, start_method: str) -> np.ndarray:
    """Row blocks updated by worker processes in two fields held in shared memory.

    Nothing but a few integers crosses between processes each step; the parent waits
    for every block before starting the next step (the workers read their neighbours'
    edge rows, so a step must be complete everywhere first).
    """
    blocks = heat.row_blocks(n, workers)
    with shared_arrays.shared_arrays((n, n), 2) as shared:
        shared.arrays[0][...] = heat.initial(n)
        shared.arrays[1][...] = shared.arrays[0]
        with process_pool(workers, start_method, _attach_grids, (shared.names, n)) as pool:
            for step in range(steps):
                run_tasks(pool, _step_block, [(step % 2, lo, hi) for lo, hi in blocks])
        return shared.arrays[steps % 2].copy()
