"""loky's worker processes, started and stopped on the book's terms; a plan run by joblib.

loky keeps one reusable executor per program and leaves its workers running for the
next ``Parallel`` call (until 300 s idle). The book's backends stop them when a call
ends (:func:`stop_workers`), unless the calls run inside :func:`keep_workers`, which
keeps them for the block and stops them at its end.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from ..core.plans import Plan

# Not empty inside keep_workers(): calls then leave loky's workers running.
_KEPT: set[bool] = set()


def stop_workers() -> None:
    """Stop loky's reusable worker processes now, if there are any, and wait for them."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # loky's one reusable executor, or None
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
        reusable_executor._executor = None


@contextlib.contextmanager
def keep_workers(worker_counts=()) -> Iterator[dict]:
    """Keep loky's workers between the ``joblib`` backend's calls; stop them on exit.

    loky has one reusable executor, resized to each call's ``n_jobs`` (a larger count
    starts the missing workers, a smaller one stops the extra). For each count in
    ``worker_counts`` the workers are started from none and timed; the last count's are
    left running.

    Returns
    -------
    dict
        Seconds that starting each count's workers took, by count.
    """
    from joblib import Parallel, delayed

    startup = {}
    _KEPT.add(True)
    try:
        for workers in dict.fromkeys(worker_counts):
            stop_workers()
            start = time.perf_counter()
            Parallel(n_jobs=workers)(delayed(abs)(-k) for k in range(4 * workers))
            startup[workers] = time.perf_counter() - start
        yield startup
    finally:
        _KEPT.clear()
        stop_workers()


def run_plan(plan: Plan, workers: int) -> object:
    """``Parallel(n_jobs=workers)`` over the plan's tasks, in order; then combine."""
    from joblib import Parallel, delayed

    try:
        results = Parallel(n_jobs=workers)(delayed(plan.func)(task) for task in plan.tasks)
    finally:
        if not workers_kept():
            stop_workers()
    return plan.combine(results)


def workers_kept() -> bool:
    """Whether the calls now run inside :func:`keep_workers` (leave the workers running)."""
    return bool(_KEPT)
