"""Checkers for the Cython chapter: a typed row, a prange reduction, a typed stencil step.

The learner's functions come from ``%%cython`` cells. Each checker first asks that the
function really is compiled (a Cython function, not a Python one), then tests it on
cases of its own against the problems' references.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import machine
from ..core.checking import (
    RACE_SECONDS,
    CheckResult,
    attempt,
    attempts,
    busy_threads,
    failed,
    fresh_rng,
    needs_function,
    passed,
)
from ..core.races import race_reason, shared_element_updates
from ..problems import heat, mandelbrot

COMPILED_HINT = "write the function in a %%cython cell (run `%load_ext Cython` first)."


def is_cython_function(func: object) -> bool:
    """Whether ``func`` was compiled by Cython (a ``cython_function_or_method``)."""
    return type(func).__name__ in {"cython_function_or_method", "builtin_function_or_method"}


def _not_compiled(func: object) -> CheckResult:
    return failed(f"{getattr(func, '__name__', func)!s} is a plain Python function",
                   COMPILED_HINT)  # fmt: skip


def _parallel_problem(func: Callable, *args) -> CheckResult | None:
    """A failed check if ``func`` ignores its thread count or runs on one thread only.

    Measured by the operating system (:func:`busy_threads`): with one thread asked for,
    one thread must do the work; with two, two. Needs two usable cores to tell.
    """
    from threadpoolctl import threadpool_limits

    if machine.usable_cores() < 2:
        return None
    for threads in (1, 2):
        # OpenMP's default team: what a loop that ignores num_threads would get
        with threadpool_limits(limits=machine.usable_cores(), user_api="openmp"):
            busy = busy_threads(func, *args, threads)
        if threads == 1 and busy > 1:
            return failed(f"asked for 1 thread, {busy} threads did the work",
                           "pass num_threads on to prange: the caller decides how many "
                           "threads run.")  # fmt: skip
        if threads == 2 and busy < 2:
            return failed("asked for 2 threads, one thread did all the work",
                           "a prange loop (from cython.parallel) with nogil=True is what "
                           "spreads the iterations over threads.")  # fmt: skip
    return None


@needs_function
def check_escape_row(func: Callable) -> CheckResult:
    """Check ``func(re, ci, max_iter, out)`` fills ``out`` with one row's escape counts."""
    if not is_cython_function(func):
        return _not_compiled(func)
    rng = fresh_rng()
    for case in range(4):
        width, height = int(rng.integers(5, 80)), 2 * int(rng.integers(1, 20)) + 1
        max_iter, row = int(rng.integers(2, 250)), int(rng.integers(0, height))
        if case == 0:
            row = height // 2  # the row through c = -2, where |z|^2 stays exactly 4
        if case == 1:  # off the axis, through the set: points that iterate long
            height, max_iter = max(height, 9), max(max_iter, 50)
        re, im = mandelbrot.coordinates(width, height)
        if case == 1:  # a row of that band, now that the grid is known
            row = int(rng.choice(np.flatnonzero((im != 0) & (np.abs(im) < 0.7))))
        out = np.full(width, -1, dtype=np.int32)
        where = f"width {width}, row {row} of {height}, max_iter {max_iter}"
        attempt(func, re, float(im[row]), max_iter, out, what=f"{where}: it",
                hint="declare re as double[::1] and out as int[::1] (int32), ci as "
                     "double, max_iter as int.")  # fmt: skip
        want = mandelbrot.reference(width, height, max_iter)[row]
        differ = int(np.count_nonzero(out != want))
        if differ:
            return failed(f"{where}: {differ} of {width} counts differ from the reference",
                           "compare with the specification (help(mandelbrot)): where z "
                           "and n start, when the loop stops, and what is "
                           "stored.")  # fmt: skip
    return passed("a compiled row of escape counts, identical to the reference.")


@needs_function
def check_count_hits(func: Callable) -> CheckResult:
    """Check ``func(x, y, num_threads)`` counts ``x*x + y*y <= 1`` on that many threads.

    The count must never change, whatever the thread count (a race loses updates), and
    the operating system must see the threads at work. The ``prange`` loop is also read
    from the cell's source (:mod:`kernels.core.races`): an array element that every
    iteration updates is a race, whether or not a given run loses an update.
    """
    if not is_cython_function(func):
        return _not_compiled(func)
    shared = shared_element_updates(func)
    if shared:
        return failed(race_reason(shared[0]),
                       "which variables does Cython make private to a thread, and which "
                       "stay shared?")  # fmt: skip
    rng = fresh_rng()
    sizes = [0, 1, int(rng.integers(100, 2000)), int(rng.integers(2_000_000, 3_000_000))]
    for size in sizes:
        x, y = rng.random(size), rng.random(size)
        x[: size // 7], y[: size // 7] = 1.0, 0.0  # on the circle: 1*1 + 0*0 <= 1 counts
        want = int(np.count_nonzero(x * x + y * y <= 1.0))
        for threads in (1, 2, 3, 4):
            racing = threads > 1 and size > 1000  # where a race can show: keep trying
            for _ in attempts(3 if size > 1000 else 1, RACE_SECONDS if racing else 0.0):
                got = attempt(func, x, y, threads,
                              what=f"{size} points on {threads} thread(s): it",
                              hint="take x and y as double[::1] and num_threads as int; "
                                   "return the count.")  # fmt: skip
                if got != want:
                    return failed(f"{size} points on {threads} thread(s): a wrong count",
                                   "if it is right on one thread and wrong on more, "
                                   "threads are losing each other's updates: which "
                                   "variables does Cython make private to a thread, "
                                   "and which stay shared?")  # fmt: skip
    big = rng.random(6_000_000), rng.random(6_000_000)
    problem = _parallel_problem(func, *big)
    if problem is not None:
        return problem
    return passed("the same count for 1 to 4 threads, and the threads really worked.")


@needs_function
def check_heat_step(func: Callable) -> CheckResult:
    """Check ``func(src, dst)`` writes one heat step of the interior of ``src`` into ``dst``."""
    if not is_cython_function(func):
        return _not_compiled(func)
    rng = fresh_rng()
    for n in (3, *(int(v) for v in rng.integers(4, 60, 2))):
        src = rng.random((n, n))
        dst = src.copy()
        dst[0, :], dst[-1, :], dst[:, 0], dst[:, -1] = rng.random((4, n))  # left alone
        want = dst.copy()
        heat.step_rows(src, want, 1, n - 1)
        original = src.copy()
        attempt(func, src, dst, what=f"func(src, dst) on a {n}x{n} grid",
                hint="take both grids as double[:, ::1] and loop over the interior "
                     "rows and columns 1 .. n-2.")  # fmt: skip
        if not np.array_equal(src, original):
            return failed(f"on a {n}x{n} grid your step changed src",
                           "a step reads the old field and writes the new one: two "
                           "arrays, so no value is read after it was updated.")  # fmt: skip
        if not np.max(np.abs(dst - want)) <= heat.TOLERANCE:
            return failed(f"on a {n}x{n} grid your step differs from the reference",
                           "write only the interior of dst (its boundary is not yours), "
                           "with the specification's update (help(heat)).")  # fmt: skip
    return passed("one compiled stencil step, equal to the reference within round-off.")
