"""``multiprocess``: the ``multiprocessing`` API, serialising with ``dill``.

``multiprocess`` is a fork of the standard library's ``multiprocessing`` that pickles
with ``dill``, so lambdas, closures and functions or classes defined in a notebook can
be sent to workers under every start method. The pool is ``multiprocess.Pool``, watched
so that a dying worker raises instead of hanging (:mod:`.watched_pool`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..registry import register_backend
from . import heat_processes
from .plans import KERNEL, mandelbrot_plan, monte_carlo_pi_plan
from .pools import START_METHOD
from .watched_pool import watched_pool

OPTIONS = [KERNEL, START_METHOD]
REQUIRES = ("multiprocess", "dill")


@register_backend("multiprocess", "mandelbrot", parallel=True, options=OPTIONS, requires=REQUIRES)
def mandelbrot_multiprocess(
    workers: int, width: int, height: int, max_iter: int, kernel: str, start_method: str
) -> np.ndarray:
    """Interleaved row sets (4 per worker) handed out dynamically by ``multiprocess.Pool``."""
    with watched_pool(workers, start_method) as pool:
        return mandelbrot_plan(workers, width, height, max_iter, kernel).run(pool)


@register_backend(
    "multiprocess", "monte_carlo_pi", parallel=True, options=OPTIONS, requires=REQUIRES
)
def monte_carlo_pi_multiprocess(
    workers: int, samples: int, seed: int, kernel: str, start_method: str
) -> float:
    """Groups of whole chunks counted by ``multiprocess.Pool`` workers; counts summed."""
    with watched_pool(workers, start_method) as pool:
        return monte_carlo_pi_plan(workers, samples, seed, kernel).run(pool)


@register_backend("multiprocess", "heat", parallel=True, options=[START_METHOD], requires=REQUIRES)
def heat_multiprocess(workers: int, n: int, steps: int, start_method: str) -> np.ndarray:
    """Row blocks kept by ``multiprocess`` workers for all steps; fields in shared memory."""
    open_pool = partial(watched_pool, library="multiprocess")
    return heat_processes.solve(open_pool, "multiprocess", workers, n, steps, start_method)
