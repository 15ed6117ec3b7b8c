"""``python``, ``numpy`` and ``threads``: the serial baselines and one process's threads.

* ``python``: plain Python loops, serial. The slow baseline every chapter starts from.
* ``numpy``: whole-array operations, serial. The reference implementations.
* ``threads``: a :class:`~concurrent.futures.ThreadPoolExecutor` in one process.
  Threads share memory, so there is nothing to copy, but only one thread at a time runs
  Python bytecode (the GIL). With ``kernel="python"`` the threads take turns and the run
  is no faster than one thread; with ``kernel="numpy"`` NumPy releases the GIL inside
  its loops and the threads do overlap.

The registry knows these functions by name (:mod:`kernels.core.catalogue`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..core.pools import run_tasks, thread_pool
from ..problems import heat, mandelbrot, monte_carlo_pi
from ..problems.plans import mandelbrot_plan, monte_carlo_pi_plan

# --- python ----------------------------------------------------------------------------


def mandelbrot_python(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts, one point at a time."""
    return mandelbrot.rows_python(range(height), width, height, max_iter)


def monte_carlo_pi_python(workers: int, samples: int, seed: int) -> float:
    """Hits counted one sample at a time (random numbers from NumPy's stream)."""
    hits = monte_carlo_pi.hits_python(range(monte_carlo_pi.n_chunks(samples)), samples, seed)
    return monte_carlo_pi.estimate(hits, samples)


def heat_python(workers: int, n: int, steps: int) -> np.ndarray:
    """The stencil on lists of lists, one point at a time."""
    return heat.solve_python(n, steps)


# --- numpy -----------------------------------------------------------------------------


def mandelbrot_numpy(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts in batches of 16 rows, updating only the points still iterating."""
    return mandelbrot.reference(width, height, max_iter)


def monte_carlo_pi_numpy(workers: int, samples: int, seed: int) -> float:
    """Hits counted a chunk at a time with vectorised comparisons."""
    return monte_carlo_pi.reference(samples, seed)


def heat_numpy(workers: int, n: int, steps: int) -> np.ndarray:
    """The stencil as whole-array slices, two buffers swapped each step."""
    return heat.reference(n, steps)


# --- threads ---------------------------------------------------------------------------


def mandelbrot_threads(workers: int, width: int, height: int, max_iter: int, kernel: str):
    """Interleaved row sets computed by a pool of threads."""
    with thread_pool(workers) as pool:
        return mandelbrot_plan(workers, width, height, max_iter, kernel).run(pool)


def monte_carlo_pi_threads(workers: int, samples: int, seed: int, kernel: str) -> float:
    """Groups of chunks counted by a pool of threads."""
    with thread_pool(workers) as pool:
        return monte_carlo_pi_plan(workers, samples, seed, kernel).run(pool)


def _apply_step(src: np.ndarray, dst: np.ndarray, block: tuple[int, int]) -> None:
    heat.step_rows(src, dst, *block)


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
