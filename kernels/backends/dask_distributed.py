"""``dask-distributed``: the same graphs on a ``distributed`` cluster.

With no address the call starts a ``LocalCluster`` of ``workers`` single-threaded
worker processes and closes it before returning; with an address (the ``address``
option or ``DASK_SCHEDULER_ADDRESS``) it runs on that scheduler's workers, which may be
on other machines, and ``workers`` only sets how finely the work is split. The
scheduler hands tasks to free workers and, if a worker is lost, runs its tasks again
elsewhere (:mod:`.dask_cluster`).
"""

from __future__ import annotations

import numpy as np

from ..registry import register_backend
from .dask_cluster import ADDRESS, dask_client
from .dask_graphs import heat_array
from .plans import KERNEL, Plan, mandelbrot_plan, monte_carlo_pi_plan

REQUIRES = ("dask", "distributed")
OPTIONS = [KERNEL, ADDRESS]


def run_plan(plan: Plan, workers: int, address: str | None):
    """Submit one future per task (``client.map``), gather them in order, and combine."""
    with dask_client(workers, address) as client:
        futures = client.map(plan.func, plan.tasks)
        return plan.combine(client.gather(futures))


@register_backend(
    "dask-distributed", "mandelbrot", parallel=True, options=OPTIONS, requires=REQUIRES
)
def mandelbrot_dask_distributed(
    workers: int, width: int, height: int, max_iter: int, kernel: str, address: str | None
) -> np.ndarray:
    """Interleaved row sets (4 per worker) as futures on the cluster's workers."""
    return run_plan(mandelbrot_plan(workers, width, height, max_iter, kernel), workers, address)


@register_backend(
    "dask-distributed", "monte_carlo_pi", parallel=True, options=OPTIONS, requires=REQUIRES
)
def monte_carlo_pi_dask_distributed(
    workers: int, samples: int, seed: int, kernel: str, address: str | None
) -> float:
    """Groups of whole chunks as futures; the hit counts are summed."""
    return run_plan(monte_carlo_pi_plan(workers, samples, seed, kernel), workers, address)


@register_backend("dask-distributed", "heat", parallel=True, options=[ADDRESS], requires=REQUIRES)
def heat_dask_distributed(workers: int, n: int, steps: int, address: str | None) -> np.ndarray:
    """The ``map_overlap`` graph of the ``dask`` backend, computed on the cluster."""
    with dask_client(workers, address) as client:
        return client.compute(heat_array(n, steps, workers)).result()
