"""``cython`` and ``cython-parallel``: the extension modules in :mod:`kernels.cython.compiled`.

The extensions are compiled by the package build (``setup.py``) with ``-O3`` and, where
the compiler has it, OpenMP. ``cython`` runs their serial loops; ``cython-parallel``
shares the loops among ``workers`` OpenMP threads with ``prange``, all without the GIL.
Built without OpenMP, ``cython-parallel`` still gives the right answer, on one thread:
``python -m kernels info`` says which build you have.
"""

from __future__ import annotations

import numpy as np

from ..problems import heat, mandelbrot, monte_carlo_pi


def extensions_status() -> str:
    """How the extensions were built: with OpenMP (and its version), serial, or not at all,
    and the Mandelbrot counts' C type the build timed faster."""
    from ..core.registry import BACKENDS

    why = BACKENDS[("mandelbrot", "cython")].missing()
    if why is not None:
        return f"not built: {why}"
    from .compiled import mandelbrot as compiled
    from .compiled import openmp

    counts = f"Mandelbrot kernel with {compiled.COUNT_TYPE} counts, {compiled.LANE_COUNT} lanes"
    version = openmp.openmp_version()
    if version == 0:
        serial = "cython-parallel gives the right answers on one thread"
        return f"built without OpenMP: {serial}; {counts}"
    return f"built with OpenMP {version} ({openmp.max_threads()} threads by default); {counts}"


def _mandelbrot(width: int, height: int, max_iter: int, threads: int, schedule: str):
    from .compiled import mandelbrot as compiled

    re, im = mandelbrot.coordinates(width, height)
    out = np.empty((height, width), dtype=np.int32)
    if threads == 0:
        compiled.counts(re, im, max_iter, out)
    else:
        compiled.counts_parallel(re, im, max_iter, out, threads, schedule)
    return out


def _heat(n: int, steps: int, threads: int) -> np.ndarray:
    from .compiled import heat as compiled

    u = heat.initial(n)
    new = u.copy()
    return (u, new)[compiled.run(u, new, steps, threads)]


def _monte_carlo_pi(samples: int, seed: int, threads: int) -> float:
    from .compiled import monte_carlo_pi as compiled

    buffers = np.empty((max(threads, 1), min(samples, monte_carlo_pi.CHUNK_SAMPLES)))
    hits = 0
    for batch in monte_carlo_pi.chunk_batches(samples):
        generators = monte_carlo_pi.chunk_bit_generators(seed, batch)
        sizes = monte_carlo_pi.chunk_sizes(samples, batch)
        hits += compiled.hits(generators, sizes, buffers, threads)
    return monte_carlo_pi.estimate(hits, samples)


def mandelbrot_cython(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Typed C loops over the rows, serial; the counts equal the reference's."""
    return _mandelbrot(width, height, max_iter, 0, "dynamic")


def mandelbrot_cython_parallel(
    workers: int, width: int, height: int, max_iter: int, schedule: str
) -> np.ndarray:
    """Rows shared among OpenMP threads by ``prange`` with the chosen ``schedule``."""
    return _mandelbrot(width, height, max_iter, workers, schedule)


def heat_cython(workers: int, n: int, steps: int) -> np.ndarray:
    """One C pass over the grid per step, two buffers alternating."""
    return _heat(n, steps, 0)


def heat_cython_parallel(workers: int, n: int, steps: int) -> np.ndarray:
    """Each step's rows in contiguous blocks, one per thread; threads meet every step."""
    return _heat(n, steps, workers)


def monte_carlo_pi_cython(workers: int, samples: int, seed: int) -> float:
    """NumPy's per-chunk PCG64 streams drawn through their C interface, counted in C."""
    return _monte_carlo_pi(samples, seed, 0)


def monte_carlo_pi_cython_parallel(workers: int, samples: int, seed: int) -> float:
    """Chunks handed one at a time to OpenMP threads; hit counts summed (a reduction)."""
    return _monte_carlo_pi(samples, seed, workers)
