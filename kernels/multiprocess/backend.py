"""``multiprocess``: the ``multiprocessing`` API, serialising with ``dill``.

``multiprocess`` is a fork of the standard library's ``multiprocessing`` that pickles
with ``dill``, so lambdas, closures and functions or classes defined in a notebook can
be sent to workers under every start method. The pool is ``multiprocess.Pool``, watched
so that a dying worker raises instead of hanging (:mod:`.pool`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..core.shared_memory import solve_in_blocks
from ..core.watched_pool import warm_barrier, watched_pool
from ..problems import heat
from ..problems.plans import mandelbrot_plan, monte_carlo_pi_plan


def mandelbrot_multiprocess(
    workers: int, width: int, height: int, max_iter: int, kernel: str, start_method: str
) -> np.ndarray:
    """Interleaved row sets (4 per worker) handed out dynamically by ``multiprocess.Pool``."""
    with watched_pool(workers, start_method) as pool:
        return mandelbrot_plan(workers, width, height, max_iter, kernel).run(pool)


def monte_carlo_pi_multiprocess(
    workers: int, samples: int, seed: int, kernel: str, start_method: str
) -> float:
    """Groups of whole chunks counted by ``multiprocess.Pool`` workers; counts summed."""
    with watched_pool(workers, start_method) as pool:
        return monte_carlo_pi_plan(workers, samples, seed, kernel).run(pool)


def heat_multiprocess(workers: int, n: int, steps: int, start_method: str) -> np.ndarray:
    """Row blocks kept by ``multiprocess`` workers for all steps; fields in shared memory."""
    open_pool = partial(watched_pool, library="multiprocess")
    blocks = heat.row_blocks(n, workers)
    return solve_in_blocks(open_pool, "multiprocess", start_method, heat.initial(n), blocks,
                           steps, heat.step_rows, warm_barrier)  # fmt: skip
