"""Checker for chapter 04's joblib exercise: block means of a large array, without copies.

Cases are drawn afresh on every call; messages never show the expected values. The
checker traces :func:`kernels.core.tasks.block_mean` in loky's workers: it sees which
processes computed which blocks, and whether the array reached them memory-mapped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import tasks, tracing
from ..core.checking import (
    CheckResult,
    ChildWatch,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
)
from .pool import stop_workers

# Arrays this large (in float64 values) are memory-mapped by joblib's default (> 1 MB).
LARGE = 400_000


@needs_function
def check_block_means(func: Callable[[np.ndarray, int, int], list]) -> CheckResult:
    """Check ``func(x, blocks, workers)``: joblib tasks ``block_mean(x, lo, hi)``, x shared."""
    rng = fresh_rng()
    cases = []
    for workers in (2, 3):
        blocks = int(rng.integers(workers + 1, 4 * workers))
        size = int(rng.integers(LARGE, 2 * LARGE)) // blocks * blocks + int(rng.integers(1, blocks))
        cases.append((rng.normal(size=size), blocks, workers))  # unequal blocks
    for x, blocks, workers in cases:
        case = f"block_means(<{x.size} values>, {blocks}, {workers})"
        stop_workers()  # fresh workers, started inside the trace
        with tracing.traced() as trace, ChildWatch() as watch:
            try:
                got = attempt(func, x, blocks, workers, what=case,
                              hint="one delayed(tasks.block_mean)(x, lo, hi) per block, run "
                                   "by Parallel(n_jobs=workers).")  # fmt: skip
            finally:
                stop_workers()
        bounds = [(int(p[0]), int(p[-1]) + 1) for p in np.array_split(np.arange(x.size), blocks)]
        want = [tasks.block_mean(x, lo, hi) for lo, hi in bounds]
        if got is None or len(got) != blocks:
            return failed(f"{case} returned {len(got) if got is not None else None} values",
                           "one mean per block, in block order.")  # fmt: skip
        if [float(v) for v in got] != want:
            return failed(f"{case}: the means are wrong or out of order",
                           "the blocks are those of np.array_split(x, blocks), each the "
                           "mean of x[lo:hi]; keep the results in block order.")  # fmt: skip
        events = trace.of("block_mean")
        if sorted((e["lo"], e["hi"]) for e in events) != bounds:
            return failed(f"{case}: the block_mean calls did not cover the blocks once each",
                           "call tasks.block_mean(x, lo, hi) with the whole array and the "
                           "bounds of each block.")  # fmt: skip
        in_workers = all(e["pid"] in watch.pids for e in events)
        if not in_workers or len(watch.pids) < workers:
            return failed(f"{case}: {len(watch.pids)} worker process(es) started, "
                           f"{'all' if in_workers else 'not all'} blocks computed in them",
                           "hand the tasks to joblib's Parallel with n_jobs=workers and its "
                           "default (process) backend.")  # fmt: skip
        if not all(e["memmap"] for e in events):
            return failed(f"{case}: the workers got copies of the array",
                           "leave Parallel's max_nbytes at its default, so that joblib "
                           "shares a large array as a memory map.")  # fmt: skip
    return passed("joblib's workers computed the blocks, and the array was shared, not "
                  "copied.")  # fmt: skip
