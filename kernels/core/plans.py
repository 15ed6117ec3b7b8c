"""A plan: a problem split into tasks for a pool, and how the task results combine.

The thread, process and dask backends share plans (the problems define theirs in
:mod:`kernels.problems.plans`): a picklable task function, the list of tasks, and a
function combining the task results in task order. The split never changes the
arithmetic, so the result is the same for any number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .pools import run_tasks

# More tasks than workers lets free workers pick up the remaining work (dynamic balance).
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class Plan:
    """Tasks for a pool: ``combine([func(t) for t in tasks])`` is the result.

    Examples
    --------
    >>> plan = Plan(abs, [-1, -2, 3], sum)
    >>> plan.combine([plan.func(t) for t in plan.tasks])
    6
    """

    func: Callable[[Any], Any]
    tasks: list[Any]
    combine: Callable[[list[Any]], Any]

    def run(self, pool: Any) -> Any:
        """Run the tasks in ``pool`` (any pool :func:`.pools.run_tasks` accepts); combine."""
        return self.combine(run_tasks(pool, self.func, self.tasks))
