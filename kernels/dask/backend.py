"""``dask`` and ``dask-distributed``: task graphs on dask's schedulers.

``dask`` runs the graphs (:mod:`.graphs`) with one of dask's local schedulers, chosen
by the ``scheduler`` option: ``"threads"`` (the default: a thread pool in this process,
fast for NumPy code, which releases the GIL), ``"processes"`` (a process pool, for pure
Python code that holds the GIL; tasks and results are pickled) or ``"synchronous"``
(one task at a time in the calling thread, for debugging with ``pdb`` and plain
tracebacks).

``dask-distributed`` runs the same graphs on a ``distributed`` cluster. With no address
the call starts a ``LocalCluster`` of ``workers`` single-threaded worker processes and
closes it before returning; with an address (the ``address`` option or
``DASK_SCHEDULER_ADDRESS``) it runs on that scheduler's workers, which may be on other
machines, and ``workers`` only sets how finely the work is split. The scheduler hands
tasks to free workers and, if a worker is lost, runs its tasks again elsewhere
(:mod:`.cluster`).
"""

from __future__ import annotations

import numpy as np

from ..core.plans import Plan
from ..problems.plans import mandelbrot_plan, monte_carlo_pi_plan
from .cluster import dask_client
from .graphs import compute_plan, heat_array, heat_round_blocks

# --- dask (local schedulers) -----------------------------------------------------------


def _compute_kwargs(workers: int, scheduler: str) -> dict:
    if scheduler == "synchronous":
        return {"scheduler": "synchronous"}
    return {"scheduler": scheduler, "num_workers": workers}


def mandelbrot_dask(
    workers: int, width: int, height: int, max_iter: int, scheduler: str, kernel: str
) -> np.ndarray:
    """One delayed task per interleaved row set (4 per worker), run by a local scheduler."""
    plan = mandelbrot_plan(workers, width, height, max_iter, kernel)
    return compute_plan(plan, **_compute_kwargs(workers, scheduler))


def monte_carlo_pi_dask(workers: int, samples: int, seed: int, scheduler: str, kernel: str):
    """One delayed task per group of whole chunks; the hit counts are summed."""
    plan = monte_carlo_pi_plan(workers, samples, seed, kernel)
    return compute_plan(plan, **_compute_kwargs(workers, scheduler))


def heat_dask(workers: int, n: int, steps: int, scheduler: str) -> np.ndarray:
    """``map_overlap`` over one row block per worker; deep halos, exchanged every k steps."""
    return heat_array(n, steps, workers).compute(**_compute_kwargs(workers, scheduler))


# --- dask-distributed ------------------------------------------------------------------


def run_plan(plan: Plan, workers: int, address: str | None):
    """Submit one future per task (``client.map``), gather them in order, and combine.

    ``pure=False`` gives every call's tasks new keys: on a client kept between calls
    (:func:`~.cluster.warm_clusters`), a task is computed again, never answered from an
    earlier call's results still on the cluster.
    """
    with dask_client(workers, address) as client:
        futures = client.map(plan.func, plan.tasks, pure=False)
        return plan.combine(client.gather(futures))


def mandelbrot_dask_distributed(
    workers: int, width: int, height: int, max_iter: int, kernel: str, address: str | None
) -> np.ndarray:
    """Interleaved row sets (4 per worker) as futures on the cluster's workers."""
    return run_plan(mandelbrot_plan(workers, width, height, max_iter, kernel), workers, address)


def monte_carlo_pi_dask_distributed(
    workers: int, samples: int, seed: int, kernel: str, address: str | None
) -> float:
    """Groups of whole chunks as futures; the hit counts are summed."""
    return run_plan(monte_carlo_pi_plan(workers, samples, seed, kernel), workers, address)


def heat_dask_distributed(workers: int, n: int, steps: int, address: str | None) -> np.ndarray:
    """One task per row block and round (:func:`~kernels.dask.graphs.heat_round_blocks`);
    the blocks are gathered here and joined.

    The graph's keys are new at every call (``pure=False``), as :func:`run_plan`'s are.
    """
    with dask_client(workers, address) as client:
        blocks = client.compute(heat_round_blocks(n, steps, workers, pure=False))
        return np.concatenate(client.gather(blocks))
