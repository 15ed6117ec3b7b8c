"""How each problem is split into tasks and the results combined.

The same plans serve the thread and the process backends (and later chapters' pools):
a plan is a picklable task function, the list of tasks, and a function combining the
task results in task order. The split never changes the arithmetic, so the result is the
same for any number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ..params import ChoiceOption
from ..problems import mandelbrot, monte_carlo_pi
from .pools import run_tasks

# More tasks than workers lets free workers pick up the remaining work (dynamic balance).
TASKS_PER_WORKER = 4

KERNEL = ChoiceOption(
    "kernel",
    "numpy",
    ("numpy", "python"),
    "what each task runs: 'numpy' (vectorised; releases the GIL in its inner loops) or "
    "'python' (plain loops that hold the GIL, to show what the GIL does to threads)",
)


@dataclass(frozen=True)
class Plan:
    """Tasks for a pool: ``combine([func(t) for t in tasks])`` is the result."""

    func: Callable[[Any], Any]
    tasks: list[Any]
    combine: Callable[[list[Any]], Any]

    def run(self, pool: Any) -> Any:
        """Run the tasks in ``pool`` (any pool :func:`.pools.run_tasks` accepts); combine."""
        return self.combine(run_tasks(pool, self.func, self.tasks))


def mandelbrot_plan(workers: int, width: int, height: int, max_iter: int, kernel: str) -> Plan:
    """Interleaved row sets, ``TASKS_PER_WORKER`` per worker, assembled into the image."""
    rows_fn = mandelbrot.rows_numpy if kernel == "numpy" else mandelbrot.rows_python
    tasks = mandelbrot.interleaved_rows(height, TASKS_PER_WORKER * workers)

    def combine(results: list[np.ndarray]) -> np.ndarray:
        image = np.empty((height, width), dtype=np.int32)
        for rows, counts in zip(tasks, results, strict=True):
            image[rows] = counts
        return image

    func = partial(rows_fn, width=width, height=height, max_iter=max_iter)
    return Plan(func, tasks, combine)


def monte_carlo_pi_plan(workers: int, samples: int, seed: int, kernel: str) -> Plan:
    """Groups of whole chunks; the integer hit counts are summed, so the split is invisible."""
    hits_fn = monte_carlo_pi.hits_numpy if kernel == "numpy" else monte_carlo_pi.hits_python
    tasks = monte_carlo_pi.chunk_groups(samples, TASKS_PER_WORKER * workers)

    def combine(results: list[int]) -> float:
        return monte_carlo_pi.estimate(sum(results), samples)

    return Plan(partial(hits_fn, samples=samples, seed=seed), tasks, combine)
