"""``dask``: task graphs run by one of dask's local schedulers.

The scheduler is an option: ``"threads"`` (the default: a thread pool in this process,
fast for NumPy code, which releases the GIL), ``"processes"`` (a process pool, for pure
Python code that holds the GIL; tasks and results are pickled) or ``"synchronous"``
(one task at a time in the calling thread, for debugging with ``pdb`` and plain
tracebacks). The graphs are in :mod:`.dask_graphs`.
"""

from __future__ import annotations

import numpy as np

from ..params import ChoiceOption
from ..registry import register_backend
from .dask_graphs import compute_plan, heat_array
from .plans import KERNEL, mandelbrot_plan, monte_carlo_pi_plan

SCHEDULER = ChoiceOption(
    "scheduler",
    "threads",
    ("threads", "processes", "synchronous"),
    "dask's local scheduler: 'threads' (one process; NumPy code runs in parallel), "
    "'processes' (a pool of worker processes, for pure Python code) or 'synchronous' "
    "(one task at a time in the caller, for debugging)",
)
REQUIRES = ("dask", "dask.array")


def _compute_kwargs(workers: int, scheduler: str) -> dict:
    if scheduler == "synchronous":
        return {"scheduler": "synchronous"}
    return {"scheduler": scheduler, "num_workers": workers}


@register_backend(
    "dask", "mandelbrot", parallel=True, options=[SCHEDULER, KERNEL], requires=REQUIRES
)
def mandelbrot_dask(
    workers: int, width: int, height: int, max_iter: int, scheduler: str, kernel: str
) -> np.ndarray:
    """One delayed task per interleaved row set (4 per worker), run by a local scheduler."""
    plan = mandelbrot_plan(workers, width, height, max_iter, kernel)
    return compute_plan(plan, **_compute_kwargs(workers, scheduler))


@register_backend(
    "dask", "monte_carlo_pi", parallel=True, options=[SCHEDULER, KERNEL], requires=REQUIRES
)
def monte_carlo_pi_dask(workers: int, samples: int, seed: int, scheduler: str, kernel: str):
    """One delayed task per group of whole chunks; the hit counts are summed."""
    plan = monte_carlo_pi_plan(workers, samples, seed, kernel)
    return compute_plan(plan, **_compute_kwargs(workers, scheduler))


@register_backend("dask", "heat", parallel=True, options=[SCHEDULER], requires=REQUIRES)
def heat_dask(workers: int, n: int, steps: int, scheduler: str) -> np.ndarray:
    """``map_overlap`` over one row block per worker; deep halos, exchanged every k steps."""
    return heat_array(n, steps, workers).compute(**_compute_kwargs(workers, scheduler))
