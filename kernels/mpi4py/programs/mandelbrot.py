"""Mandelbrot under MPI: rank ``r`` computes rows ``r, r + size, ...``; ``Gatherv`` to rank 0.

Interleaved rows give every rank a share of the expensive middle of the image (static
load balance). A rank computes its rows in small batches, which stay in cache
(``mandelbrot.rows_in_batches``).
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ...problems import mandelbrot


def solve(comm: MPI.Comm, width: int, height: int, max_iter: int) -> np.ndarray | None:
    rank, size = comm.rank, comm.size
    rows = np.arange(rank, height, size)
    local = mandelbrot.rows_in_batches(rows, width, height, max_iter)
    counts = [len(range(r, height, size)) * width for r in range(size)]
    gathered = np.empty(height * width, dtype=np.int32) if rank == 0 else None
    # Gatherv: each rank sends a different number of elements; rank 0 receives them
    # back to back, rank by rank (counts; the displacements default to their running sum).
    comm.Gatherv(local.ravel(), (gathered, counts) if rank == 0 else None, root=0)
    if rank != 0:
        return None
    image = np.empty((height, width), dtype=np.int32)
    offset = 0
    for r in range(size):
        image[r::size] = gathered[offset : offset + counts[r]].reshape(-1, width)
        offset += counts[r]
    return image
