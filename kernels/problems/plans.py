"""How the Mandelbrot and Monte Carlo problems split into tasks for a pool.

A :class:`~kernels.core.plans.Plan` per problem, shared by the ``threads``,
``multiprocessing``, ``multiprocess``, ``dask`` and ``dask-distributed`` backends:
the rows or chunks are dealt into ``TASKS_PER_WORKER`` tasks per worker, and the
results are assembled in task order, so the answer is the same for any worker count.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..core.plans import TASKS_PER_WORKER, Plan
from . import mandelbrot, monte_carlo_pi


def mandelbrot_plan(workers: int, width: int, height: int, max_iter: int, kernel: str) -> Plan:
    """Interleaved row sets, ``TASKS_PER_WORKER`` per worker, assembled into the image.

    Examples
    --------
    >>> plan = mandelbrot_plan(2, 12, 8, 20, "numpy")
    >>> len(plan.tasks)
    8
    """
    rows_fn = mandelbrot.rows_numpy if kernel == "numpy" else mandelbrot.rows_python
    tasks = mandelbrot.interleaved_rows(height, TASKS_PER_WORKER * workers)

    def combine(results: list[np.ndarray]) -> np.ndarray:
        image = np.empty((height, width), dtype=np.int32)
        for rows, counts in zip(tasks, results, strict=True):
            image[rows] = counts
        return image

    func = partial(rows_fn, width=width, height=height, max_iter=max_iter)
    return Plan(func, tasks, combine)


def monte_carlo_pi_plan(workers: int, samples: int, seed: int, kernel: str) -> Plan:
    """Groups of whole chunks; the integer hit counts are summed, so the split is invisible."""
    hits_fn = monte_carlo_pi.hits_numpy if kernel == "numpy" else monte_carlo_pi.hits_python
    tasks = monte_carlo_pi.chunk_groups(samples, TASKS_PER_WORKER * workers)

    def combine(results: list[int]) -> float:
        return monte_carlo_pi.estimate(sum(results), samples)

    return Plan(partial(hits_fn, samples=samples, seed=seed), tasks, combine)
