"""``multiprocessing``: worker processes from the standard library.

Each worker is a separate interpreter with its own GIL, so pure-Python work runs in
parallel; the price is starting the processes and pickling tasks and results. The pool
is :class:`concurrent.futures.ProcessPoolExecutor` on a :mod:`multiprocessing` context
(see :mod:`kernels.backends.pools` for why not ``multiprocessing.Pool``).
"""

from __future__ import annotations

import numpy as np

from ..registry import register_backend
from . import heat_processes
from .plans import KERNEL, mandelbrot_plan, monte_carlo_pi_plan
from .pools import START_METHOD, process_pool

OPTIONS = [KERNEL, START_METHOD]


@register_backend("multiprocessing", "mandelbrot", parallel=True, options=OPTIONS)
def mandelbrot_multiprocessing(
    workers: int, width: int, height: int, max_iter: int, kernel: str, start_method: str
) -> np.ndarray:
    """Interleaved row sets (4 per worker) handed out dynamically to worker processes."""
    with process_pool(workers, start_method) as pool:
        return mandelbrot_plan(workers, width, height, max_iter, kernel).run(pool)


@register_backend("multiprocessing", "monte_carlo_pi", parallel=True, options=OPTIONS)
def monte_carlo_pi_multiprocessing(
    workers: int, samples: int, seed: int, kernel: str, start_method: str
) -> float:
    """Groups of whole chunks counted in worker processes; the hit counts are summed."""
    with process_pool(workers, start_method) as pool:
        return monte_carlo_pi_plan(workers, samples, seed, kernel).run(pool)


@register_backend("multiprocessing", "heat", parallel=True, options=[START_METHOD])
def heat_multiprocessing(workers: int, n: int, steps: int, start_method: str) -> np.ndarray:
    """Row blocks kept by worker processes for all steps; fields in shared memory.

    The workers meet at a barrier after each step (see :mod:`.heat_processes`).
    """
    return heat_processes.solve(process_pool, "multiprocessing", workers, n, steps, start_method)
