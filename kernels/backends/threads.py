"""``threads``: a :class:`~concurrent.futures.ThreadPoolExecutor` in one process.

Threads share memory, so there is nothing to copy, but only one thread at a time runs
Python bytecode (the GIL). With ``kernel="python"`` the threads take turns and the run is
no faster than one thread; with ``kernel="numpy"`` NumPy releases the GIL inside its
loops and the threads do overlap.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..problems import heat
from ..registry import register_backend
from .plans import KERNEL, mandelbrot_plan, monte_carlo_pi_plan
from .pools import run_tasks, thread_pool


def _run_plan(plan, workers: int):
    with thread_pool(workers) as pool:
        return plan.run(pool)


@register_backend("threads", "mandelbrot", parallel=True, options=[KERNEL])
def mandelbrot_threads(workers: int, width: int, height: int, max_iter: int, kernel: str):
    """Interleaved row sets computed by a pool of threads."""
    return _run_plan(mandelbrot_plan(workers, width, height, max_iter, kernel), workers)


@register_backend("threads", "monte_carlo_pi", parallel=True, options=[KERNEL])
def monte_carlo_pi_threads(workers: int, samples: int, seed: int, kernel: str) -> float:
    """Groups of chunks counted by a pool of threads."""
    return _run_plan(monte_carlo_pi_plan(workers, samples, seed, kernel), workers)


def _apply_step(src: np.ndarray, dst: np.ndarray, block: tuple[int, int]) -> None:
    heat.step_rows(src, dst, *block)


@register_backend("threads", "heat", parallel=True)
def heat_threads(workers: int, n: int, steps: int) -> np.ndarray:
    """Row blocks of each step updated by a pool of threads, in place in shared arrays.

    The pool waits for every block before the next step starts: that wait is the
    synchronisation a stencil needs, since each block reads its neighbours' edge rows.
    """
    blocks = heat.row_blocks(n, workers)
    u = heat.initial(n)
    new = u.copy()
    with thread_pool(workers) as pool:
        for _ in range(steps):
            run_tasks(pool, partial(_apply_step, u, new), blocks)
            u, new = new, u
    return u
