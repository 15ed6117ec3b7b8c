"""Checkers for chapter 02's exercises: read a profile, predict from it, vectorise a step.

Every call builds fresh programs (random function names and costs) or fresh fields, so
no table of answers passes, and no message shows an expected value or the formula.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tracemalloc
from collections.abc import Callable

import numpy as np

from ..core import laws
from ..core.checking import (
    CheckResult,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
)
from .profilers import cumulative_seconds

VERBS = ("load", "parse", "smooth", "scale", "merge", "filter", "solve", "update", "fit",
         "sort", "render", "encode", "reduce", "index", "clean", "sample")  # fmt: skip
NOUNS = ("table", "field", "mesh", "rows", "image", "spectrum", "signal", "graph", "batch",
         "records", "grid", "model", "matrix", "stream", "events", "particles")  # fmt: skip
# Iterations of a busy loop per unit of work: a few milliseconds on a laptop.
UNIT = 60_000
# Profiles of one case before a timing answer counts as wrong (noise, not the answer).
TRIES = 3

BUSY = """
def {name}(k):
    total = 0
    for i in range(k):
        total += i
    return total
"""


def _names(rng: np.random.Generator, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{int(rng.integers(10, 99))}")
    return list(names)


def _build(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<checker program>", "exec"), namespace)
    return namespace


def _top_program(rng: np.random.Generator):
    """A program of four busy leaves (2.2x apart), a wrapper, many cheap calls and ``main``.

    Returns the program, the leaves from most to least own time, the names ordered by
    cumulative time, and the name called most often.
    """
    main, stage, tiny, *leaves = _names(rng, 7)
    work = dict(zip(leaves, (10.0, 4.5, 2.0, 0.9), strict=True))
    staged = [str(x) for x in rng.permutation(leaves)[:2]]
    others = [name for name in leaves if name not in staged]
    source = "".join(BUSY.format(name=name) for name in (*leaves, tiny))
    source += f"\ndef {stage}():\n" + "".join(
        f"    {name}({int(work[name] * UNIT)})\n" for name in staged)  # fmt: skip
    source += f"\ndef {main}():\n    {stage}()\n" + "".join(
        f"    {name}({int(work[name] * UNIT)})\n" for name in others)  # fmt: skip
    source += f"    for _ in range(400):\n        {tiny}(3)\n"
    program = _build(source)[main]
    by_cumulative = [main, *sorted([*leaves, stage],
                                   key=lambda n: -(sum(work[s] for s in staged) if n == stage
                                                   else work[n]))]  # fmt: skip
    return program, leaves, by_cumulative, tiny


@needs_function
def check_top_functions(func: Callable) -> CheckResult:
    """Check ``func(program, n)`` names the ``n`` functions with the most own time, in order."""
    rng = fresh_rng()
    for _ in range(3):
        program, leaves, by_cumulative, tiny = _top_program(rng)
        n = int(rng.integers(2, 4))
        # A busy machine can pre-empt a function mid-run and swap two neighbours of the
        # ranking: a case passes if any of three profiles of it gets the order right.
        for _ in range(TRIES):
            got = attempt(func, program, n, what="calling it",
                          hint="profile `program()` with cProfile, read pstats.")  # fmt: skip
            if not isinstance(got, (list, tuple)) or not all(isinstance(x, str) for x in got):
                return failed(f"it returned {type(got).__name__}, not a list of function "
                              "names",
                              "return names as strings: the last part of a pstats "
                              "key.")  # fmt: skip
            got = list(got)
            if len(got) != n:
                return failed(f"asked for {n} functions, it returned {len(got)}",
                              "keep the first `n` rows of the sorted profile.")  # fmt: skip
            if got == leaves[:n]:
                break
        if got == leaves[:n]:
            continue
        if got[:1] == by_cumulative[:1] or got == by_cumulative[:n]:
            return failed("the list starts with a function that mostly calls others",
                          "sort by the time spent in a function's own code, not including "
                          "the functions it calls.")  # fmt: skip
        if tiny in got:
            return failed("a cheap function called many times is in the list",
                          "many calls are not much time: sort by time, not by calls.")  # fmt: skip
        if sorted(got) == sorted(leaves[:n]) or got == leaves[::-1][:n]:
            return failed("the right kind of functions, in the wrong order (or the wrong end)",
                          "costliest first.")  # fmt: skip
        return failed("these are not the functions with the most own time",
                      "profile the program on each call, then sort its table.")  # fmt: skip
    return passed("the functions with the most own time, costliest first.")


def _amdahl_program(rng: np.random.Generator, parallel_share: float):
    """``main`` runs a serial set-up, a parallel part (40 calls of a helper), a serial report.

    The parallel function's own code is cheap: its time is in the helper it calls.
    """
    main, setup, parallel, helper, report = _names(rng, 5)
    total = 18.0
    serial = total * (1 - parallel_share)
    split = float(rng.uniform(0.3, 0.7))
    calls = 40
    source = "".join(BUSY.format(name=name) for name in (setup, helper, report))
    source += (f"\ndef {parallel}():\n    for _ in range({calls}):\n"
               f"        {helper}({int(total * parallel_share * UNIT / calls)})\n")  # fmt: skip
    source += (f"\ndef {main}():\n    {setup}({int(serial * split * UNIT)})\n    {parallel}()\n"
               f"    {report}({int(serial * (1 - split) * UNIT)})\n")  # fmt: skip
    return _build(source)[main], parallel


def _profiled_share(program: Callable, name: str) -> float:
    profiler = cProfile.Profile()
    profiler.runcall(program)
    stats = pstats.Stats(profiler)
    return cumulative_seconds(stats, name) / stats.total_tt


@needs_function
def check_amdahl_from_profile(func: Callable) -> CheckResult:
    """Check ``func(program, parallel, workers)`` predicts the speedup from a profile."""
    rng = fresh_rng()
    for _ in range(2):
        program, parallel = _amdahl_program(rng, float(rng.uniform(0.6, 0.9)))
        workers = int(rng.integers(3, 17))
        for _ in range(TRIES):  # as above: noise gets three chances, a wrong rule none
            before = _profiled_share(program, parallel)
            got = attempt(func, program, parallel, workers, what="calling it",
                          hint="profile `program()`, then find the parallel function "
                               "by name.")  # fmt: skip
            if isinstance(got, bool) or not isinstance(got, (int, float, np.integer,
                                                             np.floating)):  # fmt: skip
                return failed(f"it returned {type(got).__name__}, not a speedup",
                              "return one number: the predicted speedup.")  # fmt: skip
            after = _profiled_share(program, parallel)
            predictions = [laws.amdahl_speedup(workers, 1 - p) for p in (before, after)]
            close = any(abs(got - s) <= 0.08 * s for s in predictions)
            if close:
                break
        if close:
            continue
        if abs(got - workers) < 1e-9:
            return failed("the prediction is the number of workers",
                          "only part of the program runs in parallel.")  # fmt: skip
        if got < 1.2:
            return failed("the prediction leaves almost nothing to gain",
                          "the parallel function's time includes what it calls.")  # fmt: skip
        if any(got > s * 1.08 for s in predictions):
            return failed("the prediction is higher than the profile allows",
                          "the serial part keeps its whole time however many workers "
                          "there are: the problem's size is fixed here.")  # fmt: skip
        return failed("the prediction does not follow from the profile",
                      "which share of the time is in the parallel function, and which "
                      "share is not?")  # fmt: skip
    return passed("the parallel share read from the profile, and Amdahl's law.")


class _TooManyLines(Exception):
    pass


def _count_lines(func: Callable, limit: int, *args) -> int:
    """Run ``func(*args)`` counting the Python lines executed; stop past ``limit``."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                raise _TooManyLines
        return local

    def tracer(frame, event, arg):
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        func(*args)
    finally:
        sys.settrace(previous)
    return count


def _field(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.0, float(rng.uniform(0.5, 3.0)), size=(n, n))


def _expected(src: np.ndarray, r: float) -> np.ndarray:
    c = src[1:-1, 1:-1]
    return c + r * ((src[:-2, 1:-1] + src[2:, 1:-1]) + (src[1:-1, :-2] + src[1:-1, 2:]) - 4.0 * c)


@needs_function
def check_step_in_place(func: Callable) -> CheckResult:
    """Check ``func(src, dst, r)`` writes the heat step into ``dst``: vectorised, no temporaries."""
    rng = fresh_rng()
    for _ in range(2):
        n = int(rng.integers(40, 90))
        r = float(rng.uniform(0.05, 0.25))
        src = _field(rng, n)
        dst = np.full((n, n), float(rng.uniform(-9, -1)))
        src_before, dst_before = src.copy(), dst.copy()
        attempt(func, src, dst, r, what="calling it", hint="write into `dst` with slices of `src`.")
        if not np.array_equal(src, src_before):
            return failed("`src` changed", "read `src`, write only `dst`.")
        edge = np.ones((n, n), bool)
        edge[1:-1, 1:-1] = False
        if not np.array_equal(dst[edge], dst_before[edge]):
            return failed("the boundary of `dst` changed",
                          "write the interior only: the boundary is held fixed.")  # fmt: skip
        if np.array_equal(dst, dst_before):
            return failed("`dst` was not written",
                          "the result goes into `dst` (returning it is not enough).")  # fmt: skip
        if not np.allclose(dst[1:-1, 1:-1], _expected(src, r), rtol=0, atol=1e-12 * src.max()):
            return failed("the interior is not one step of the update (with this `r`)",
                          "compare with the update written in the heat problem's "
                          "specification.")  # fmt: skip
    n = int(rng.integers(900, 1100))
    src, dst = _field(rng, n), np.zeros((n, n))
    limit = n // 2
    try:
        _count_lines(func, limit, src, dst, heat_r := float(rng.uniform(0.05, 0.25)))
    except _TooManyLines:
        return failed(f"it ran more than {limit} Python lines for one step of a {n} x {n} field",
                      "a loop over rows or points runs in the interpreter: use whole-array "
                      "operations on slices.")  # fmt: skip
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        attempt(
            func,
            src,
            dst,
            heat_r,
            what=f"func(<{n} x {n} field>, dst, r)",
            hint="the same step as for the small fields above.",
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    allowed = src.nbytes // 8
    if peak - before > allowed:
        return failed(f"the step allocated {(peak - before) / src.nbytes:.1f} times the field's "
                      "size in temporary arrays",
                      "every operator on whole slices makes a new array: give each operation "
                      "an `out=` (or use `+=` and friends) so results land in `dst`.")  # fmt: skip
    return passed("vectorised, written into `dst`, with no field-sized temporaries.")
