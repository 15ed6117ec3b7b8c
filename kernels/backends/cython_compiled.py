"""``cython`` and ``cython-parallel``: the Cython extension modules in :mod:`kernels.compiled`.

The extensions are compiled by the package build (``setup.py``) with ``-O3`` and, where
the compiler has it, OpenMP. ``cython`` runs their serial loops; ``cython-parallel``
shares the loops among ``workers`` OpenMP threads with ``prange``, all without the GIL.
Built without OpenMP, ``cython-parallel`` still gives the right answer, on one thread:
``python -m kernels info`` says which build you have.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from ..params import ChoiceOption
from ..problems import heat, mandelbrot, monte_carlo_pi
from ..registry import register_backend

SCHEDULE = ChoiceOption(
    "schedule",
    "dynamic",
    ("dynamic", "static", "guided"),
    "OpenMP schedule of the rows: 'dynamic' (one row at a time to a free thread), "
    "'static' (one contiguous block per thread) or 'guided' (shrinking blocks)",
)


def extensions_missing() -> str | None:
    """Why the compiled extensions cannot be imported, or ``None`` when they can."""
    for name in ("openmp", "mandelbrot", "heat", "monte_carlo_pi"):
        if importlib.util.find_spec(f"kernels.compiled.{name}") is None:
            return (
                f"the extension kernels.compiled.{name} was not compiled; reinstall with "
                "`pip install -e .` (needs a C compiler) and read its messages"
            )
    return None


def _register(name: str, problem: str, **kwargs):
    return register_backend(name, problem, available=extensions_missing, **kwargs)


def _mandelbrot(width: int, height: int, max_iter: int, threads: int, schedule: str):
    from ..compiled import mandelbrot as compiled

    re, im = mandelbrot.coordinates(width, height)
    out = np.empty((height, width), dtype=np.int32)
    if threads == 0:
        compiled.counts(re, im, max_iter, out)
    else:
        compiled.counts_parallel(re, im, max_iter, out, threads, schedule)
    return out


def _heat(n: int, steps: int, threads: int) -> np.ndarray:
    from ..compiled import heat as compiled

    u = heat.initial(n)
    new = u.copy()
    return (u, new)[compiled.run(u, new, steps, threads)]


def _monte_carlo_pi(samples: int, seed: int, threads: int) -> float:
    from ..compiled import monte_carlo_pi as compiled

    buffers = np.empty((max(threads, 1), min(samples, monte_carlo_pi.CHUNK_SAMPLES)))
    hits = 0
    for batch in monte_carlo_pi.chunk_batches(samples):
        generators = monte_carlo_pi.chunk_bit_generators(seed, batch)
        sizes = monte_carlo_pi.chunk_sizes(samples, batch)
        hits += compiled.hits(generators, sizes, buffers, threads)
    return monte_carlo_pi.estimate(hits, samples)


@_register("cython", "mandelbrot", parallel=False)
def mandelbrot_cython(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Typed C loops over the rows, serial; the counts equal the reference's."""
    return _mandelbrot(width, height, max_iter, 0, "dynamic")


@_register("cython-parallel", "mandelbrot", parallel=True, options=[SCHEDULE])
def mandelbrot_cython_parallel(
    workers: int, width: int, height: int, max_iter: int, schedule: str
) -> np.ndarray:
    """Rows shared among OpenMP threads by ``prange`` with the chosen ``schedule``."""
    return _mandelbrot(width, height, max_iter, workers, schedule)


@_register("cython", "heat", parallel=False, exact=False)
def heat_cython(workers: int, n: int, steps: int) -> np.ndarray:
    """One C pass over the grid per step, two buffers alternating."""
    return _heat(n, steps, 0)


@_register("cython-parallel", "heat", parallel=True, exact=False)
def heat_cython_parallel(workers: int, n: int, steps: int) -> np.ndarray:
    """Each step's rows in contiguous blocks, one per thread; threads meet every step."""
    return _heat(n, steps, workers)


@_register("cython", "monte_carlo_pi", parallel=False)
def monte_carlo_pi_cython(workers: int, samples: int, seed: int) -> float:
    """NumPy's per-chunk PCG64 streams drawn through their C interface, counted in C."""
    return _monte_carlo_pi(samples, seed, 0)


@_register("cython-parallel", "monte_carlo_pi", parallel=True)
def monte_carlo_pi_cython_parallel(workers: int, samples: int, seed: int) -> float:
    """Chunks handed one at a time to OpenMP threads; hit counts summed (a reduction)."""
    return _monte_carlo_pi(samples, seed, workers)
