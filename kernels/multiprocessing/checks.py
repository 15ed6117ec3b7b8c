"""Checkers for the multiprocessing chapter: chunksize, a spawn-safe task, a parallel loop."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..core import tasks
from ..core.checking import CheckResult, call, failed, needs_function, passed
from ..core.errors import UnpicklableTaskError, WorkerDiedError
from ..core.pools import check_picklable, process_pool, run_tasks


@needs_function
def check_chunksize(func: Callable[[int, int], int]) -> CheckResult:
    """Check ``func(n_tasks, workers)`` picks a chunksize that balances and batches.

    Good means: at least 2 batches per worker (so a worker that finishes early can take
    another) and at most 64 per worker (so messages stay few), for many shapes of input.
    """
    cases = [(10_000, 2), (10_000, 8), (1_000_000, 4), (100, 2), (64, 16), (7, 4), (1, 1)]
    for n_tasks, workers in cases:
        try:
            size = call(func, n_tasks, workers)
        except Exception as exc:
            return failed(f"func({n_tasks}, {workers}) raised {type(exc).__name__}: {exc}",
                           "return an int >= 1.")  # fmt: skip
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return failed(f"func({n_tasks}, {workers}) returned {size!r}",
                           "a chunksize is an int >= 1.")  # fmt: skip
        batches = math.ceil(n_tasks / size)
        # Small inputs cannot give 2 batches per worker; then one task per batch is right.
        fewest = min(2 * workers, n_tasks)
        if batches < fewest:
            return failed(
                f"{n_tasks} tasks on {workers} workers in chunks of {size} is only {batches} "
                "batches: a worker that finishes early has nothing left to take",
                "aim for a few batches per worker, e.g. n_tasks / (4 * workers), rounded up.",
            )
        if batches > 64 * workers:
            return failed(
                f"{n_tasks} tasks on {workers} workers in chunks of {size} is {batches} "
                "messages: each costs a pickle and a pipe round trip",
                "fewer, bigger chunks: a handful per worker is enough to balance.",
            )
    return passed("a few batches per worker for every input: balanced and cheap to send.")


@needs_function
def check_spawn_fix(func: Callable[[int, int], int]) -> CheckResult:
    """Check ``func(lo, hi)`` (the number of primes in ``lo..hi-1``) runs under ``spawn``."""
    if getattr(func, "__module__", None) == "__main__":
        return failed(
            "your function still lives in __main__ (the notebook): a spawned worker cannot "
            "import it",
            "write it into a .py file (a module) and import it from there.",
        )
    ranges = [(0, 100), (100, 1000), (1000, 5000)]
    try:
        check_picklable(func)
        with process_pool(2, "spawn") as pool:
            got = run_tasks(pool, _call_pair, [(func, lo, hi) for lo, hi in ranges])
    except UnpicklableTaskError as exc:
        hint = "define it with def at the top level of a .py module, and import it."
        return failed(f"pickle cannot send it: {exc}", hint)
    except WorkerDiedError as exc:
        hint = "is the module importable from the notebook's folder or sys.path?"
        return failed(f"the workers could not run it: {exc}", hint)
    except Exception as exc:
        hint = "count primes p with lo <= p < hi."
        return failed(f"it raised {type(exc).__name__}: {exc}", hint)
    want = [25, 143, 501]
    if got != want:
        return failed(f"counts {got} for {ranges}; expected {want}",
                       "count the primes p with lo <= p < hi (0 and 1 are not prime).")  # fmt: skip
    return passed("a spawned worker imported your function and counted correctly.")


def _call_pair(task):
    func, lo, hi = task
    return func(lo, hi)


@needs_function
def check_parallel_loop(func: Callable[[int, int], tuple[int, int]]) -> CheckResult:
    """Check ``func(limit, workers)`` finds the longest Collatz chain below ``limit``.

    The answer must be ``(steps, n)`` with the smallest ``n`` on ties, and the same for
    every number of workers.
    """
    for limit in (2, 10, 1000, 30_000):
        want = tasks.longest_collatz(1, limit)
        for workers in (1, 2, 3):
            try:
                got = call(func, limit, workers)
            except Exception as exc:
                hint = "split range(1, limit) into chunks; map longest_collatz."
                return failed(f"func({limit}, {workers}) raised {type(exc).__name__}: {exc}", hint)
            if got is None or tuple(got) != want:
                return failed(
                    f"func({limit}, {workers}) returned {got!r}, expected {want}",
                    "each chunk gives (steps, n); combine with max over (steps, -n) so ties "
                    "go to the smallest n, whatever the split.",
                )
    return passed("the same (steps, n) as the serial loop for 1, 2 and 3 workers.")
