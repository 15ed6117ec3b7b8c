"""``numba`` and ``numba-parallel``: the functions of :mod:`.compute`.

``numba`` runs the ``@njit`` serial functions; ``numba-parallel`` the ``parallel=True``
ones, whose ``prange`` loops numba shares among ``workers`` threads of its own pool
(``numba.set_num_threads``), without the GIL. The first call in a process compiles
(about a second per function; cached on disk for the next process where numba can).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..problems import heat, mandelbrot, monte_carlo_pi


@contextlib.contextmanager
def numba_threads(workers: int):
    """Run numba's parallel loops on ``workers`` threads, then restore the previous count.

    Raises
    ------
    ValueError
        When ``workers`` exceeds numba's thread pool, which is fixed when numba starts.
    """
    import numba

    pool = numba.config.NUMBA_NUM_THREADS
    if workers > pool:
        raise ValueError(
            f"numba-parallel: workers must be <= {pool}, got {workers}: numba's thread pool "
            f"has {pool} threads (NUMBA_NUM_THREADS, fixed when numba is first imported; "
            "call kernels.prepare(workers) before numba starts for more)"
        )
    threads = numba.get_num_threads()
    numba.set_num_threads(workers)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _mandelbrot(width: int, height: int, max_iter: int, workers: int, schedule: str | None):
    from . import compute as numba_kernels

    re, im = mandelbrot.coordinates(width, height)
    out = np.empty((height, width), dtype=np.int32)
    if schedule is None:
        numba_kernels.mandelbrot_counts(re, im, max_iter, out)
    else:
        with numba_threads(workers):
            if schedule == "interleaved":
                numba_kernels.mandelbrot_counts_parallel(re, im, max_iter, out, workers)
            else:
                numba_kernels.mandelbrot_counts_blocks(re, im, max_iter, out)
    return out


def _heat(n: int, steps: int, workers: int | None) -> np.ndarray:
    from . import compute as numba_kernels

    u = heat.initial(n)
    if workers is None:
        return numba_kernels.heat_run(u, u.copy(), steps)
    with numba_threads(workers):
        return numba_kernels.heat_run_parallel(u, u.copy(), steps)


def _monte_carlo_pi(samples: int, seed: int, workers: int | None) -> float:
    from . import compute as numba_kernels

    buffers = np.empty((workers or 1, min(samples, monte_carlo_pi.CHUNK_SAMPLES)))
    hits = 0
    for batch in monte_carlo_pi.chunk_batches(samples):
        generators = monte_carlo_pi.chunk_bit_generators(seed, batch)
        states = np.array([g.ctypes.state_address for g in generators], dtype=np.uint64)
        sizes = monte_carlo_pi.chunk_sizes(samples, batch)
        if workers is None:
            hits += numba_kernels.monte_carlo_hits(states, sizes, buffers)
        else:
            with numba_threads(workers):
                hits += numba_kernels.monte_carlo_hits_parallel(states, sizes, buffers)
    return monte_carlo_pi.estimate(int(hits), samples)


def mandelbrot_numba(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """``@njit`` loops over the rows, serial; the counts equal the reference's."""
    return _mandelbrot(width, height, max_iter, 1, None)


def mandelbrot_numba_parallel(
    workers: int, width: int, height: int, max_iter: int, schedule: str
) -> np.ndarray:
    """Rows shared among numba's threads by ``prange``, handed out as ``schedule`` says."""
    return _mandelbrot(width, height, max_iter, workers, schedule)


def heat_numba(workers: int, n: int, steps: int) -> np.ndarray:
    """One compiled pass over the grid per step, two buffers alternating."""
    return _heat(n, steps, None)


def heat_numba_parallel(workers: int, n: int, steps: int) -> np.ndarray:
    """Each step's rows in blocks, one per thread; the threads meet every step."""
    return _heat(n, steps, workers)


def monte_carlo_pi_numba(workers: int, samples: int, seed: int) -> float:
    """NumPy's per-chunk PCG64 streams called from compiled code through ctypes."""
    return _monte_carlo_pi(samples, seed, None)


def monte_carlo_pi_numba_parallel(workers: int, samples: int, seed: int) -> float:
    """Chunks handed one at a time to numba's threads; hit counts summed (a reduction)."""
    return _monte_carlo_pi(samples, seed, workers)
