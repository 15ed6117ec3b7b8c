"""Checkers for the numba chapter: make it compile, fix a prange race, write a ufunc, and
run compiled code on Python threads without the GIL."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from ..core import machine
from ..core.checking import (
    RACE_SECONDS,
    CheckResult,
    ChildWatch,
    ThreadStarts,
    attempt,
    attempts,
    busy_threads,
    failed,
    fresh_rng,
    needs_function,
    passed,
)
from ..core.races import race_reason, shared_element_updates
from ..problems import mandelbrot


def _dispatcher_kind(func: object) -> str | None:
    """``"jit"`` for an ``@njit`` function, ``"ufunc"`` for ``@vectorize``, else ``None``."""
    from numba.core.registry import CPUDispatcher
    from numba.np.ufunc.dufunc import DUFunc

    if isinstance(func, CPUDispatcher):
        return "jit"
    if isinstance(func, (DUFunc, np.ufunc)):
        return "ufunc"
    return None


def _not_jitted(func: object, what: str) -> CheckResult:
    return failed(f"{getattr(func, '__name__', func)!s} is not {what}",
                   f"decorate the function with {what}.")  # fmt: skip


@needs_function
def check_histogram(func: Callable) -> CheckResult:
    """Check an ``@njit`` ``func(counts, bins)`` returns the histogram of ``counts`` as an array."""
    if _dispatcher_kind(func) != "jit":
        return _not_jitted(func, "@njit")
    rng = fresh_rng()
    for size, bins in [(0, 4), (1, 1), *((int(rng.integers(10, 20_000)), int(rng.integers(2, 300)))
                                         for _ in range(2))]:  # fmt: skip
        counts = rng.integers(0, bins, size).astype(np.int32)
        got = attempt(func, counts, bins, what=f"func(counts, {bins})",
                      hint="numba's nopython mode has no dict of lists; count into "
                           "np.zeros(bins, dtype=np.int64) instead.")  # fmt: skip
        want = np.bincount(counts, minlength=bins)
        if not isinstance(got, np.ndarray) or got.shape != want.shape or (got != want).any():
            return failed(f"{size} counts in {bins} bins: a wrong histogram",
                           "return an array of length bins, where element k is how many "
                           "counts equal k.")  # fmt: skip
    return passed("compiled in nopython mode, and the histogram is right.")


@needs_function
def check_race_free_hits(func: Callable) -> CheckResult:
    """Check a parallel ``@njit`` ``func(x, y)`` counts ``x*x + y*y <= 1`` on any thread count.

    It must be compiled with ``parallel=True``, have no ``prange`` iteration update one
    shared element (read from its source: :mod:`kernels.core.races`), give the same count
    run after run on 1 to 4 threads, and keep two cores busy on two threads (measured,
    not assumed).
    """
    if _dispatcher_kind(func) != "jit":
        return _not_jitted(func, "@njit(parallel=True)")
    if not func.targetoptions.get("parallel"):
        return failed("it is compiled without parallel=True, so prange runs as a plain "
                       "range on one thread",
                       "the exercise is to fix the race and keep the loop "
                       "parallel.")  # fmt: skip
    shared = shared_element_updates(func)
    if shared:
        return failed(race_reason(shared[0]),
                       "two threads that read it at the same moment each write back their "
                       "own result, and one update is lost; keep a total that numba can "
                       "give each thread its own copy of.")  # fmt: skip
    from .compute import numba

    rng = fresh_rng()
    size = int(rng.integers(2_000_000, 3_000_000))
    x, y = rng.random(size), rng.random(size)
    x[: size // 9], y[: size // 9] = 1.0, 0.0  # on the circle: counts
    want = int(np.count_nonzero(x * x + y * y <= 1.0))
    before = numba.get_num_threads()
    try:
        for threads in range(1, min(4, numba.config.NUMBA_NUM_THREADS) + 1):
            numba.set_num_threads(threads)
            # A race loses updates only while two threads really run at once: on a busy
            # machine they may take turns for a while, so each count of threads above
            # one gets RACE_SECONDS of runs (and 3 at least), not 3 runs.
            for run in attempts(3, RACE_SECONDS if threads > 1 else 0.0):
                got = attempt(func, x, y, what="func(x, y)",
                              hint="keep the signature func(x, y) and return an int.")  # fmt: skip
                if got != want:
                    return failed(f"on {threads} thread(s), run {run}: a wrong count",
                                   "if the count is right on one thread and changes on "
                                   "more, threads are overwriting each other's updates of "
                                   "one shared value.")  # fmt: skip
        if machine.usable_cores() >= 2 and numba.config.NUMBA_NUM_THREADS >= 2:
            numba.set_num_threads(2)
            if busy_threads(func, x, y) < 2:
                return failed("on 2 threads, one thread did all the work: the loop ran "
                               "serially",
                               "the loop itself must be a prange for numba to split it "
                               "between threads.")  # fmt: skip
    finally:
        numba.set_num_threads(before)
    return passed("the same count on every thread count, run after run, on two busy cores.")


@needs_function
def check_escape_ufunc(func: Callable) -> CheckResult:
    """Check a ``@vectorize`` ``func(cr, ci, max_iter)`` gives the reference counts (int32)."""
    if _dispatcher_kind(func) != "ufunc":
        return _not_jitted(func, "@vectorize")
    rng = fresh_rng()
    sizes = mandelbrot.checker_sizes(rng)
    for width, height, max_iter in sizes:
        re, im = mandelbrot.coordinates(width, height)
        cr, ci = np.meshgrid(re, im)
        got = attempt(func, cr, ci, max_iter, what=f"func(cr, ci, {max_iter})",
                      hint="give @vectorize a signature such as "
                           "['int32(float64, float64, int64)'].")  # fmt: skip
        want = mandelbrot.reference(width, height, max_iter)
        if getattr(got, "dtype", None) != np.int32:
            return failed(f"the result has dtype {getattr(got, 'dtype', type(got))}, "
                           "expected int32",
                           "make int32 the return type in the signature.")  # fmt: skip
        differ = int(np.count_nonzero(got != want))
        if differ:
            return failed(f"{differ} of {want.size} counts differ ({width}x{height}, "
                           f"max_iter {max_iter})",
                           "compare with the specification (help(mandelbrot)): where z "
                           "and n start, when the loop stops, and how z is "
                           "updated.")  # fmt: skip
    return passed("a compiled ufunc whose counts equal the reference.")


def _nogil_functions_named(func: Callable) -> list[str]:
    """Names, in ``func``'s code (nested functions and lambdas too), of ``nogil`` @njit globals."""
    codes, names = [getattr(func, "__code__", None)], set()
    while codes:
        code = codes.pop()
        if code is None:
            continue
        names.update(code.co_names)
        codes += [c for c in code.co_consts if hasattr(c, "co_names")]
    found = getattr(func, "__globals__", {})
    return sorted(name for name in names if _dispatcher_kind(found.get(name)) == "jit"
                  and found[name].targetoptions.get("nogil"))  # fmt: skip


@contextlib.contextmanager
def _calls_noted(
    func: Callable, names: list[str], together: threading.Barrier
) -> Iterator[list[tuple[int, float, float]]]:
    """Note ``(thread, start, end)`` of each call of the named globals of ``func``.

    Each named compiled function is swapped, in ``func``'s module, for a wrapper that
    notes when the call began and ended; the original comes back on leaving. The switch
    interval is made long meanwhile, so a thread keeps the GIL until it lets go of it:
    another thread then starts a call only while the first is inside code that released
    the GIL. Calls that overlap in time are compiled code running on two threads at
    once, whatever else the machine is doing.
    """
    found, spans = func.__globals__, []
    originals = {name: found[name] for name in names}

    # The first two calls start together at ``together`` (a barrier for 2), so that the
    # second thread is awake and waiting for the GIL when the first enters compiled code
    # (on a busy machine the operating system may otherwise wake it only after the first
    # call ended). A call that waits out the barrier's timeout without company (a lock
    # around the call, a single call) breaks it, and later calls go on alone at once.
    def noted(compiled):
        def wrapper(*args, **kwargs):
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait()
            start = time.perf_counter()
            try:
                return compiled(*args, **kwargs)
            finally:
                spans.append((threading.get_ident(), start, time.perf_counter()))

        return wrapper

    interval = sys.getswitchinterval()
    found.update({name: noted(compiled) for name, compiled in originals.items()})
    sys.setswitchinterval(60.0)
    try:
        yield spans
    finally:
        sys.setswitchinterval(interval)
        found.update(originals)


def _overlapping(spans: list[tuple[int, float, float]]) -> bool:
    """Whether two calls on different threads were ever in progress at the same time."""
    return any(a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a in spans for b in spans)


#: How long the nogil checker keeps trying to see two calls in progress at once.
OVERLAP_SECONDS = 3.0


@needs_function
def check_threads_without_gil(func: Callable) -> CheckResult:
    """Check ``func(x, workers)``: Python threads summing squares in compiled, GIL-free code.

    The function must call an ``@njit(nogil=True)`` function; the sum must be exact;
    Python threads must be started (a thread pool, not ``prange`` or processes); and
    calls of the compiled function on 2 threads must be in progress at the same time,
    which they cannot be while it (or a lock around it) holds the GIL. That is seen in
    the order of events, not in timings, so a busy machine does not fail a right answer.
    """
    names = _nogil_functions_named(func)
    if not names:
        return failed("no @njit(nogil=True) function is called by your function",
                       "compile the per-piece sum with @njit(nogil=True), and call it "
                       "from the threads.")  # fmt: skip
    rng = fresh_rng()
    cases = [(rng.integers(-1000, 1000, int(rng.integers(1, 50))), 1)]
    for w in (2, 3):  # sizes that do not divide evenly: every element must be counted
        size = int(rng.integers(200_000, 400_000)) // w * w + int(rng.integers(1, w))
        cases.append((rng.integers(-1000, 1000, size), w))
    most_threads = 0
    for x, workers in cases:
        case = f"sum_of_squares_on_threads(<{x.size} ints>, {workers})"
        with ChildWatch() as children, ThreadStarts() as threads:
            got = attempt(func, x, workers, what=case,
                          hint="split x into `workers` pieces, sum the squares of each in "
                               "an @njit function, on a ThreadPoolExecutor.")  # fmt: skip
        if children.pids:
            return failed(f"{case} started {len(children.pids)} process(es)",
                           "this exercise is about threads in one process.")  # fmt: skip
        if (
            isinstance(got, bool)
            or not isinstance(got, (int, np.integer))
            or got != int(np.dot(x, x))
        ):
            return failed(f"{case}: the sum is wrong or not an integer",
                           "every element once, squared; add the pieces' sums as integers "
                           "(int64 in the compiled function).")  # fmt: skip
        most_threads = max(most_threads, threads.count)
    # A pool may hand a short second piece to the thread that finished the first, so one
    # thread per call is all that is asked here; two at once is seen below.
    if most_threads < 1:
        return failed("calls with 2 and 3 workers started no Python thread",
                       "hand the pieces to a ThreadPoolExecutor(workers): the point is "
                       "Python threads running compiled code.")  # fmt: skip
    big = rng.integers(-1000, 1000, 8_000_000)
    # The second thread overlaps only if the operating system gives it a core while the
    # first is in compiled code (a few ms): a busy machine may run the threads in turn
    # for a while, so keep trying for a few seconds. A GIL-holding answer never overlaps.
    together = threading.Barrier(2, timeout=1.0)
    for _ in attempts(10, OVERLAP_SECONDS):
        with _calls_noted(func, names, together) as spans:
            attempt(
                func,
                big,
                2,
                what=f"sum_of_squares_on_threads(<{big.size} ints>, 2)",
                hint="call your compiled function by its name, in the threads.",
            )
        if _overlapping(spans):
            break
    else:
        shown = ", ".join(names)
        if not spans:
            return failed(f"sum_of_squares_on_threads(<{big.size} ints>, 2) never called "
                           f"{shown}",
                           "call your compiled function by its name, in the threads.")  # fmt: skip
        if len({thread for thread, _, _ in spans}) < 2:
            return failed(f"sum_of_squares_on_threads(<{big.size} ints>, 2) ran {shown} "
                           "on one thread only",
                           "one piece per worker, each handed to the pool: "
                           "ThreadPoolExecutor(workers).")  # fmt: skip
        return failed(f"calls of {shown} on 2 threads never ran at the same time",
                       "does the compiled function release the GIL while it runs? "
                       "Threads take turns while it, or any lock around the call, is "
                       "held.")  # fmt: skip
    return passed("threads ran your compiled function at the same time, and the sums are "
                  "exact.")  # fmt: skip
