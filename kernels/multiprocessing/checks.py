"""Checkers for the multiprocessing chapter: chunksize, a spawn-safe task, a parallel loop.

Cases are drawn afresh on every call; messages say what went wrong, never the expected
values. The parallel loop's checker traces :func:`kernels.core.tasks.longest_collatz`
in the worker processes, so it sees which processes did the work and on which chunks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

from ..core import tasks, tracing
from ..core.checking import (
    CheckResult,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
    what_it_raised,
)
from ..core.errors import UnpicklableTaskError, WorkerDiedError
from ..core.pools import check_picklable, process_pool, run_tasks

# A chunk must carry at least this many times the per-message cost in work.
AMORTISE = 9


def chunksize_bounds(n_tasks: int, workers: int, task_s: float, message_s: float):
    """``(smallest, largest)`` chunksizes that amortise messages and keep the balance."""
    largest = max(1, n_tasks // (2 * workers))
    smallest = math.ceil(AMORTISE * message_s / task_s * (1 - 1e-12))
    return min(smallest, largest), largest


def _chunksize_regime(n_tasks, workers, task_s, message_s):
    """Which rule sets the answer: ``"messages"``, ``"balance"`` or ``"one"`` (tiny messages)."""
    amortising = AMORTISE * message_s / task_s
    largest = max(1, n_tasks // (2 * workers))
    if amortising <= 1:
        # Pool's own rule (a quarter of each worker's share) must be wrong here too.
        return "one" if n_tasks >= 16 * workers else None
    if math.ceil(amortising) > largest + 1:
        return "balance"
    if 3 <= amortising < largest - 1 and amortising % 1 > 1e-6:
        return "messages"
    return None


def _chunksize_cases(rng, per_regime: int = 5):
    """Fresh cases, ``per_regime`` of each: messages decide, balance decides, size one."""
    cases = {"messages": [], "balance": [], "one": []}
    while any(len(found) < per_regime for found in cases.values()):
        workers = int(rng.choice([1, 2, 3, 4, 8, 16]))
        n_tasks = int(10 ** rng.uniform(0, 6.5))
        task_s = float(10 ** rng.uniform(-7, 0))
        message_s = float(10 ** rng.uniform(-5.5, -3.5))
        regime = _chunksize_regime(n_tasks, workers, task_s, message_s)
        if regime is not None and len(cases[regime]) < per_regime:
            cases[regime].append((n_tasks, workers, task_s, message_s))
    drawn = [case for found in cases.values() for case in found]
    rng.shuffle(drawn)
    return drawn


@needs_function
def check_chunksize(func: Callable[[int, int, float, float], int]) -> CheckResult:
    """Check ``func(n_tasks, workers, task_s, message_s)`` picks a chunksize from costs."""
    for n_tasks, workers, task_s, message_s in _chunksize_cases(fresh_rng()):
        case = f"pick_chunksize({n_tasks}, {workers}, {task_s:.3g}, {message_s:.3g})"
        size = attempt(func, n_tasks, workers, task_s, message_s, what=case,
                       hint="return an int >= 1.")  # fmt: skip
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return failed(f"{case} returned {size!r}", "a chunksize is an int >= 1.")
        smallest, largest = chunksize_bounds(n_tasks, workers, task_s, message_s)
        if size > largest:
            return failed(f"{case}: chunks of {size} leave some worker without a second "
                           "batch",
                           "when there are enough tasks, every worker needs at least two "
                           "batches, so that one that finishes early can take "
                           "another.")  # fmt: skip
        if size < smallest:
            return failed(f"{case}: chunks of {size} spend more than a tenth of their time "
                           "on messages",
                           "a chunk's work is its size times the task time; make it large "
                           "beside the cost of one message, unless balance forbids "
                           "it.")  # fmt: skip
        if size > smallest + 1 and size > 1:
            return failed(f"{case}: chunks of {size} are bigger than they need to be",
                           "the smallest chunk that pays for its message balances best "
                           "and returns first results soonest; larger only adds "
                           "waiting.")  # fmt: skip
    return passed("the smallest chunks that pay for their messages, and balance when they "
                  "conflict.")  # fmt: skip


@needs_function
def check_spawn_fix(func: Callable[[int, int], int]) -> CheckResult:
    """Check ``func(lo, hi)`` (the number of primes in ``lo..hi-1``) runs under ``spawn``."""
    if getattr(func, "__module__", None) == "__main__":
        return failed(
            "your function still lives in __main__ (the notebook): a spawned worker cannot "
            "import it",
            "write it into a .py file (a module) and import it from there.",
        )
    rng = fresh_rng()
    primes = [n for n in range(2, 5000) if tasks.count_primes_slowly(n, n + 1)]
    first, last = (int(p) for p in rng.choice(primes, 2))
    # from 0 (are 0 and 1 primes?), from a prime, up to a prime (is hi included?), any
    ranges = [(0, int(rng.integers(2, 50))), (first, first + int(rng.integers(1, 2000))),
              (max(0, last - int(rng.integers(1, 2000))), last)]  # fmt: skip
    lo = int(rng.integers(0, 5000))
    ranges.append((lo, lo + int(rng.integers(1, 2000))))
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
        return failed(f"it raised {what_it_raised(exc)}", hint)
    for (lo, hi), count in zip(ranges, got, strict=True):
        if count != tasks.count_primes_slowly(lo, hi):
            return failed(f"a spawned worker ran it, but the count for lo={lo}, hi={hi} is "
                           "wrong",
                           "count the primes p with lo <= p < hi (0 and 1 are not "
                           "prime).")  # fmt: skip
    return passed("a spawned worker imported your function and counted correctly.")


def _call_pair(task):
    func, lo, hi = task
    return func(lo, hi)


def _check_chunks(chunks: list[tuple[int, int]], limit: int, case: str) -> CheckResult | None:
    covered = sorted((lo, hi) for lo, hi in chunks if hi > lo)
    position = 1
    for lo, hi in covered:
        if lo < position:
            return failed(f"{case}: two chunks overlap, so some numbers were done twice",
                           "make each chunk start where the previous one ended.")  # fmt: skip
        if lo > position:
            return failed(f"{case}: some numbers of range(1, limit) were in no chunk",
                           "the chunks must cover range(1, limit) with no gaps, the last "
                           "one ending at limit.")  # fmt: skip
        position = hi
    if position != limit:
        return failed(f"{case}: the chunks do not end at limit",
                       "range(1, limit) stops before limit; the chunks must too.")  # fmt: skip
    return None


@needs_function
def check_parallel_loop(func: Callable[[int, int], tuple[int, int]]) -> CheckResult:
    """Check ``func(limit, workers)`` finds the longest Collatz chain in worker processes.

    The answer must be ``(steps, n)`` with the smallest ``n`` on ties, the same for every
    number of workers; the chunks must cover ``range(1, limit)`` once, and with two
    workers (the long case) at least two worker processes, not this one, must have run
    chunks. The three-worker case is short: the first worker up may rightly run them all.
    """
    rng = fresh_rng()
    cases = [(int(rng.integers(2, 40)), 1), (int(rng.integers(120_000, 180_000)), 2),
             (int(rng.integers(2_000, 20_000)), 3)]  # fmt: skip
    for limit, workers in cases:
        case = f"parallel_longest({limit}, {workers})"
        with tracing.traced() as trace:
            got = attempt(func, limit, workers, what=case,
                          hint="split range(1, limit) into chunks; run "
                               "tasks.longest_collatz on each in a pool.")  # fmt: skip
        if got is None or len(tuple(got)) != 2 or tuple(got) != tasks.longest_collatz(1, limit):
            return failed(f"{case} returned {got!r}, which is not the serial loop's answer",
                           "each chunk gives (steps, n); combine them so that ties go to "
                           "the smallest n, whatever the split.")  # fmt: skip
        calls = trace.of("longest_collatz")
        problem = _check_chunks([(c["lo"], c["hi"]) for c in calls], limit, case)
        if problem is not None:
            return problem
        if os.getpid() in trace.pids("longest_collatz"):
            return failed(f"{case}: chunks ran in this process, not in the pool's workers",
                           "hand the chunks to the pool (pool.starmap or pool.map); don't "
                           "call tasks.longest_collatz yourself.")  # fmt: skip
        if workers == 2 and len(trace.pids("longest_collatz")) < 2:  # the long case
            return failed(f"{case}: one worker process did all the work",
                           "split the range into several chunks (a few per worker) so "
                           "that every worker gets some.")  # fmt: skip
    return passed("the serial loop's answer, from chunks that covered the range once, "
                  "run by several worker processes.")  # fmt: skip
