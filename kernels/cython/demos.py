"""Memory bandwidth: what the heat stencil achieves, and a NumPy copy as the ceiling.

The stencil does a few floating-point operations per value it reads, so its speed is
set by how fast memory delivers the grid, not by arithmetic. At best each step reads
the ``n*n`` grid once and writes its ``(n-2)**2`` interior once (neighbours come from
cache). :func:`heat_bandwidth` turns a measured time into that many bytes per second;
:func:`copy_bandwidth` measures ``numpy.copyto`` of the same grid, which reads and writes
each value once: a practical ceiling for this machine.
"""

from __future__ import annotations

import numpy as np

from ..core.bench import best_of

ITEM = 8  # bytes per float64


def heat_bytes(n: int, steps: int) -> int:
    """Bytes the stencil must move at least: read the grid, write the interior, per step.

    Examples
    --------
    >>> heat_bytes(4, 1)  # 16 values read, 4 written, 8 bytes each
    160
    """
    return ITEM * (n * n + (n - 2) ** 2) * steps


def heat_bandwidth(n: int, steps: int, seconds: float) -> float:
    """Achieved bandwidth in bytes per second of a heat run that took ``seconds``."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    return heat_bytes(n, steps) / seconds


def copy_bandwidth(n: int, repeat: int = 20) -> float:
    """Bytes per second of ``numpy.copyto`` between two ``n`` x ``n`` float64 grids.

    A copy reads and writes every value once (``2 * 8 * n * n`` bytes); the best of
    ``repeat`` copies is taken, with the pages already touched.
    """
    src = np.random.default_rng(0).random((n, n))
    dst = np.empty_like(src)
    np.copyto(dst, src)
    seconds = best_of(lambda: np.copyto(dst, src), repeat)
    return 2 * ITEM * n * n / seconds
