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

    A task computes its rows :data:`~kernels.problems.mandelbrot.BATCH_ROWS` at a time
    (:func:`~kernels.problems.mandelbrot.rows_in_batches`, as the reference and the MPI
    program do), so a point costs the same in a large task as in a small one. With all
    of a task's rows at once, NumPy's temporaries outgrow the caches as tasks grow: the
    four tasks of one worker took 0.78 s at 1000x750x500 done one after another, the
    eight of two workers 0.58 s (Intel Xeon), and one worker against two came out at a
    self-efficiency of 1.3, most of it the smaller tasks, not the second worker.

    Examples
    --------
    >>> plan = mandelbrot_plan(2, 12, 8, 20, "numpy")
    >>> len(plan.tasks)
    8
    """
    rows_fn = mandelbrot.rows_in_batches if kernel == "numpy" else mandelbrot.rows_python
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
