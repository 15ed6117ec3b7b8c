"""``joblib``: ``Parallel(n_jobs=workers)(delayed(f)(task) for task in tasks)``.

joblib's default backend, loky, runs tasks in worker processes that it keeps for the
next call (a *reusable executor*), sends functions with ``cloudpickle`` (so functions
defined in a notebook work) and hands large NumPy arrays to the workers as memory-mapped
files instead of pickled copies. This is the process pool most research code meets,
through scikit-learn.

The book's rule holds here too: no worker outlives the call that started it. Each call
stops loky's workers when it ends, unless it runs inside
:func:`~kernels.joblib.pool.keep_workers`, which keeps them for every call in the block
(as a long-running program would) and stops them at its end.

Heat has no barrier between joblib's workers: every ``halo`` steps is one round of tasks,
each advancing one row block (with ``halo`` rows of its neighbours) in two fields that
live in memory-mapped files.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from ..problems import heat
from ..problems.plans import mandelbrot_plan, monte_carlo_pi_plan
from .pool import run_plan, stop_workers, workers_kept


def mandelbrot_joblib(workers: int, width: int, height: int, max_iter: int, kernel: str):
    """Interleaved row sets (4 per worker) as ``delayed`` tasks on loky's workers."""
    return run_plan(mandelbrot_plan(workers, width, height, max_iter, kernel), workers)


def monte_carlo_pi_joblib(workers: int, samples: int, seed: int, kernel: str) -> float:
    """Groups of whole chunks as ``delayed`` tasks; the hit counts are summed."""
    return run_plan(monte_carlo_pi_plan(workers, samples, seed, kernel), workers)


def advance_rows(src: np.ndarray, dst: np.ndarray, lo: int, hi: int, steps: int) -> None:
    """Write rows ``lo:hi`` of the field ``steps`` steps after ``src`` into ``dst``.

    Reads rows ``lo - steps .. hi + steps`` of ``src`` (the halo; fewer at the grid's
    fixed edges) and advances that slab on its own (:func:`kernels.problems.heat.advance`).
    """
    a, b = max(0, lo - steps), min(src.shape[0], hi + steps)
    slab = heat.advance(np.asarray(src[a:b]), steps, top_halo=a > 0, bottom_halo=b < src.shape[0])
    dst[lo:hi] = slab[lo - a : hi - a]


def heat_joblib(workers: int, n: int, steps: int) -> np.ndarray:
    """Rounds of ``delayed(advance_rows)`` tasks, one row block each, on memory-mapped fields.

    The fields are ``numpy.memmap`` files; joblib sends a memmap to a worker as its file
    name, so the worker writes its rows straight into the shared field.
    """
    from joblib import Parallel, delayed

    blocks = heat.row_blocks(n, workers)
    halo = heat.default_halo_steps(math.ceil(n / workers))
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="kernels-joblib-",
                                     dir=shm if shm.is_dir() else None) as folder:  # fmt: skip
        fields = [np.lib.format.open_memmap(Path(folder, f"u{k}.npy"), mode="w+",
                                            dtype=np.float64, shape=(n, n))
                  for k in range(2)]  # fmt: skip
        for field in fields:
            field[...] = heat.initial(n)
        try:
            with Parallel(n_jobs=workers) as parallel:
                done = 0
                while done < steps:
                    k = min(halo, steps - done)
                    src, dst = fields[0], fields[1]
                    parallel(delayed(advance_rows)(src, dst, lo, hi, k) for lo, hi in blocks)
                    fields.reverse()
                    done += k
        finally:
            if not workers_kept():
                stop_workers()
        result = np.array(fields[0])
        del fields
    return result
