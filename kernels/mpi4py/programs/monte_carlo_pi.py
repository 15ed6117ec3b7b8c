"""Monte Carlo pi under MPI: rank ``r`` counts chunks ``r, r + size, ...``; ``Reduce`` sums.

The chunks and their random streams are the specification's, so the hit count, an
integer, is the same for any number of ranks.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ...problems import monte_carlo_pi


def solve(comm: MPI.Comm, samples: int, seed: int) -> float | None:
    chunks = range(comm.rank, monte_carlo_pi.n_chunks(samples), comm.size)
    hits = np.array([monte_carlo_pi.hits_numpy(chunks, samples, seed)], dtype=np.int64)
    total = np.zeros(1, dtype=np.int64) if comm.rank == 0 else None
    comm.Reduce(hits, total, op=MPI.SUM, root=0)
    return monte_carlo_pi.estimate(int(total[0]), samples) if comm.rank == 0 else None
