"""``mpi``: the problems as SPMD programs under ``mpiexec``, one process per rank.

``kernels.run(problem, "mpi", workers=N)`` runs ``mpiexec -n N`` on the problem's
module in :mod:`kernels.mpi4py.programs` and returns rank 0's result. Ranks share
nothing: they exchange messages (``Gatherv``, ``Reduce``, ``Sendrecv``), as they would on
the nodes of a cluster. :func:`kernels.mpi4py.launch.launch` also reports the time the
ranks spent computing, without the start-up.
"""

from __future__ import annotations

import numpy as np

from .launch import launch


def mandelbrot_mpi(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Rows dealt round-robin to the ranks, gathered with ``Gatherv``."""
    return launch("mandelbrot", workers, width=width, height=height, max_iter=max_iter).result


def monte_carlo_pi_mpi(workers: int, samples: int, seed: int) -> float:
    """Chunks dealt round-robin to the ranks; hit counts summed with ``Reduce``."""
    return launch("monte_carlo_pi", workers, samples=samples, seed=seed).result


def heat_mpi(workers: int, n: int, steps: int) -> np.ndarray:
    """Row blocks with one-row halos exchanged by ``Sendrecv`` every step."""
    return launch("heat", workers, n=n, steps=steps).result
