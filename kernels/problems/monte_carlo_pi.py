"""Monte Carlo estimate of pi: an embarrassingly parallel reduction over random numbers.

Specification
-------------
Parameters ``samples``, ``seed``. The samples are split into chunks of
:data:`CHUNK_SAMPLES` (the last chunk may be shorter). Chunk ``k`` draws from its own
stream, ``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(k,)))``,
which is exactly ``SeedSequence(seed).spawn(n_chunks)[k]``: first ``x = rng.random(m)``,
then ``y = rng.random(m)``. A sample hits when ``x*x + y*y <= 1.0``. The result is
``4.0 * hits / samples`` as a Python float.

The chunking is part of the problem, not of the parallel split: workers receive whole
chunks, and the hit counts are integers, so the estimate is the same for any number of
workers, bit for bit. A backend with its own random number generator (e.g. numba) must
keep that property within itself and is compared with the reference statistically.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..core.params import IntParam
from ..core.registry import Problem, register_problem

CHUNK_SAMPLES = 100_000


def n_chunks(samples: int) -> int:
    """Number of chunks that ``samples`` is split into."""
    return -(-samples // CHUNK_SAMPLES)


def chunk_rng(seed: int, k: int) -> np.random.Generator:
    """The random generator of chunk ``k``: child ``k`` of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))


def chunk_size(samples: int, k: int) -> int:
    """Number of samples in chunk ``k``."""
    return min(CHUNK_SAMPLES, samples - k * CHUNK_SAMPLES)


def chunk_points(samples: int, seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``x`` and ``y`` coordinates drawn by chunk ``k``."""
    rng = chunk_rng(seed, k)
    m = chunk_size(samples, k)
    x = rng.random(m)
    y = rng.random(m)
    return x, y


def chunk_bit_generators(seed: int, chunks) -> list[np.random.PCG64]:
    """The ``PCG64`` bit generators of the given chunks (what :func:`chunk_rng` wraps).

    Compiled kernels draw from these through NumPy's C interface (``bitgen_t``), so they
    see exactly the reference's numbers.
    """
    return [np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(k,))) for k in chunks]


def chunk_batches(samples: int, batch: int = 4096) -> list[range]:
    """All chunk indices in consecutive batches of at most ``batch`` chunks.

    Compiled kernels take a batch of bit generators at a time: making all of them at
    once for 10**11 samples would hold a million generators in memory.
    """
    total = n_chunks(samples)
    return [range(a, min(a + batch, total)) for a in range(0, total, batch)]


def chunk_sizes(samples: int, chunks: range) -> np.ndarray:
    """Samples in each of the given chunks, as an ``intp`` array."""
    return np.array([chunk_size(samples, k) for k in chunks], dtype=np.intp)


def hits_numpy(chunks, samples: int, seed: int) -> int:
    """Number of hits in the given chunks (NumPy).

    The chunks are drawn into the same three buffers each time (``Generator.random``
    with ``out=`` draws the same numbers as without): allocating and freeing 800 KB
    arrays thousands of times made glibc return the memory to the OS and fault it back
    in, which doubled the serial time (measured: 1.87 s against 0.93 s at 160 million
    samples with glibc's trimming switched off).
    """
    x = np.empty(CHUNK_SAMPLES)
    y = np.empty(CHUNK_SAMPLES)
    inside = np.empty(CHUNK_SAMPLES, dtype=bool)
    hits = 0
    for k in chunks:
        rng = chunk_rng(seed, k)
        m = chunk_size(samples, k)
        xk, yk, ink = x[:m], y[:m], inside[:m]
        rng.random(out=xk)
        rng.random(out=yk)
        np.multiply(xk, xk, out=xk)  # x * x + y * y <= 1.0, in place
        np.multiply(yk, yk, out=yk)
        np.add(xk, yk, out=xk)
        np.less_equal(xk, 1.0, out=ink)
        hits += int(np.count_nonzero(ink))
    return hits


def hits_python(chunks, samples: int, seed: int) -> int:
    """Number of hits in the given chunks, counted with a plain Python loop.

    The random numbers still come from NumPy's generator so that every backend sees the
    same stream; the counting loop is pure Python.
    """
    hits = 0
    for k in chunks:
        x, y = chunk_points(samples, seed, k)
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            if xi * xi + yi * yi <= 1.0:
                hits += 1
    return hits


def estimate(hits: int, samples: int) -> float:
    """The estimate of pi from the total number of hits."""
    return 4.0 * hits / samples


def chunk_groups(samples: int, tasks: int) -> list[range]:
    """Split the chunk indices into at most ``tasks`` contiguous groups of similar size."""
    total = n_chunks(samples)
    tasks = max(1, min(tasks, total))
    bounds = [total * t // tasks for t in range(tasks + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def reference(samples: int, seed: int) -> float:
    """The estimate by the specification (NumPy, serial)."""
    return estimate(hits_numpy(range(n_chunks(samples)), samples, seed), samples)


def standard_error(samples: int) -> float:
    """Standard error of the estimate: ``4 * sqrt(p (1 - p) / samples)`` with ``p = pi/4``."""
    p = math.pi / 4
    return 4.0 * math.sqrt(p * (1 - p) / samples)


def compare(result, expected, params: dict, exact: bool) -> str | None:
    """Exact equality, or within 6 standard errors for a backend with its own generator."""
    if not isinstance(result, float):
        return f"expected a Python float, got {type(result).__name__}"
    if exact:
        return None if result == expected else f"{result!r} != {expected!r}"
    bound = 6 * standard_error(params["samples"])
    if abs(result - expected) > bound:
        return f"|{result} - {expected}| > {bound:.3g} (6 standard errors)"
    return None


def memory_bytes(samples: int, seed: int) -> int:
    """Peak memory: a few float64 arrays of one chunk, whatever the number of samples."""
    return 6 * 8 * min(samples, CHUNK_SAMPLES)


def weak_scale(params: dict, workers: int) -> dict:
    """Grow the work ``workers`` times by drawing more samples."""
    return {**params, "samples": params["samples"] * workers}


PROBLEM = register_problem(
    Problem(
        name="monte_carlo_pi",
        summary="Monte Carlo estimate of pi: embarrassingly parallel reduction",
        params=(
            # 1e11 samples take hours with NumPy: larger is refused rather than left to hang.
            IntParam("samples", 2_000_000, 1, 10**11, "random points drawn"),
            IntParam("seed", 2024, 0, 2**63 - 1, "seed of the SeedSequence"),
        ),
        reference=reference,
        memory_bytes=memory_bytes,
        weak_scale=weak_scale,
        sizes={
            "test": {"samples": 1_050_000, "seed": 7},  # 11 chunks, the last one short
            "quick": {"samples": 1_000_000, "seed": 2024},
            "live": {"samples": 40_000_000, "seed": 2024},
            "bench": {"samples": 160_000_000, "seed": 2024},
        },
        compare=compare,
    )
)
