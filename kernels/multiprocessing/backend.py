"""``multiprocessing``: worker processes from the standard library.

Each worker is a separate interpreter with its own GIL, so pure-Python work runs in
parallel; the price is starting the processes and pickling tasks and results. The pool
is :class:`concurrent.futures.ProcessPoolExecutor` on a :mod:`multiprocessing` context
(see :mod:`kernels.core.pools` for why not ``multiprocessing.Pool``).
"""

from __future__ import annotations

import numpy as np

from ..core.pools import process_pool, warm_barrier
from ..core.shared_memory import solve_in_blocks
from ..problems import heat
from ..problems.plans import mandelbrot_plan, monte_carlo_pi_plan


def mandelbrot_multiprocessing(
    workers: int, width: int, height: int, max_iter: int, kernel: str, start_method: str
) -> np.ndarray:
    """Interleaved row sets (4 per worker) handed out dynamically to worker processes."""
    with process_pool(workers, start_method) as pool:
        return mandelbrot_plan(workers, width, height, max_iter, kernel).run(pool)


def monte_carlo_pi_multiprocessing(
    workers: int, samples: int, seed: int, kernel: str, start_method: str
) -> float:
    """Groups of whole chunks counted in worker processes; the hit counts are summed."""
    with process_pool(workers, start_method) as pool:
        return monte_carlo_pi_plan(workers, samples, seed, kernel).run(pool)


def heat_multiprocessing(workers: int, n: int, steps: int, start_method: str) -> np.ndarray:
    """Row blocks kept by worker processes for all steps; fields in shared memory.

    The workers meet at a barrier after each step
    (:func:`~kernels.core.shared_memory.solve_in_blocks`).
    """
    blocks = heat.row_blocks(n, workers)
    return solve_in_blocks(process_pool, "multiprocessing", start_method, heat.initial(n),
                           blocks, steps, heat.step_rows, warm_barrier)  # fmt: skip
