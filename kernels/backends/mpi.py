"""``mpi``: the problems as SPMD programs under ``mpiexec``, one process per rank.

``kernels.run(problem, "mpi", workers=N)`` runs ``mpiexec -n N`` on the problem's
module in :mod:`kernels.mpi_programs` and returns rank 0's result. Ranks share nothing:
they exchange messages (``Gatherv``, ``Reduce``, ``Sendrecv``), as they would on the
nodes of a cluster. :func:`kernels.mpi_launch.launch` also reports the time the ranks
spent computing, without the start-up.
"""

from __future__ import annotations

import numpy as np

from ..mpi_launch import launch, mpiexec_missing
from ..registry import register_backend

REQUIRES = ("mpi4py",)


def _register(problem: str):
    return register_backend(
        "mpi", problem, parallel=True, requires=REQUIRES, available=mpiexec_missing
    )


@_register("mandelbrot")
def mandelbrot_mpi(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Rows dealt round-robin to the ranks, gathered with ``Gatherv``."""
    return launch("mandelbrot", workers, width=width, height=height, max_iter=max_iter).result


@_register("monte_carlo_pi")
def monte_carlo_pi_mpi(workers: int, samples: int, seed: int) -> float:
    """Chunks dealt round-robin to the ranks; hit counts summed with ``Reduce``."""
    return launch("monte_carlo_pi", workers, samples=samples, seed=seed).result


@_register("heat")
def heat_mpi(workers: int, n: int, steps: int) -> np.ndarray:
    """Row blocks with one-row halos exchanged by ``Sendrecv`` every step."""
    return launch("heat", workers, n=n, steps=steps).result
