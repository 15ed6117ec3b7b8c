"""Checkers for the numba chapter: make it compile, fix a prange race, write a ufunc."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, call, failed, needs_function, passed
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
    rng = np.random.default_rng(3)
    for size, bins in [(0, 4), (1, 1), (500, 10), (10_000, 200)]:
        counts = rng.integers(0, bins, size).astype(np.int32)
        try:
            got = call(func, counts, bins)
        except Exception as exc:
            return failed(f"func(counts, {bins}) raised {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0]}",
                           "numba's nopython mode has no dict of lists; count into "
                           "np.zeros(bins, dtype=np.int64) instead.")  # fmt: skip
        want = np.bincount(counts, minlength=bins)
        if not isinstance(got, np.ndarray) or got.shape != want.shape or (got != want).any():
            return failed(f"{size} counts in {bins} bins: got {got!r}",
                           "return an array of length bins, where element k is how many "
                           "counts equal k.")  # fmt: skip
    return passed("compiled in nopython mode, and the histogram is right.")


@needs_function
def check_race_free_hits(func: Callable) -> CheckResult:
    """Check a parallel ``@njit`` ``func(x, y)`` counts ``x*x + y*y <= 1`` on any thread count."""
    if _dispatcher_kind(func) != "jit":
        return _not_jitted(func, "@njit(parallel=True)")
    from .compute import numba

    rng = np.random.default_rng(8)
    x, y = rng.random(400_000), rng.random(400_000)
    want = int(np.count_nonzero(x * x + y * y <= 1.0))
    before = numba.get_num_threads()
    try:
        for threads in range(1, min(4, numba.config.NUMBA_NUM_THREADS) + 1):
            numba.set_num_threads(threads)
            for attempt in range(3):
                try:
                    got = call(func, x, y)
                except Exception as exc:
                    return failed(f"func(x, y) raised {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0]}",
                                   "keep the signature func(x, y) and return an int.")  # fmt: skip
                if got != want:
                    return failed(f"on {threads} thread(s), run {attempt + 1}: got {got!r}, "
                                   f"expected {want}",
                                   "threads must not update one shared array element; "
                                   "accumulate into a scalar (`hits += 1`), which numba "
                                   "turns into a reduction.")  # fmt: skip
    finally:
        numba.set_num_threads(before)
    return passed("the same count on every thread count, run after run: no race.")


@needs_function
def check_escape_ufunc(func: Callable) -> CheckResult:
    """Check a ``@vectorize`` ``func(cr, ci, max_iter)`` gives the reference counts (int32)."""
    if _dispatcher_kind(func) != "ufunc":
        return _not_jitted(func, "@vectorize")
    for width, height, max_iter in [(30, 20, 40), (5, 3, 1), (64, 17, 150)]:
        re, im = mandelbrot.coordinates(width, height)
        cr, ci = np.meshgrid(re, im)
        try:
            got = call(func, cr, ci, max_iter)
        except Exception as exc:
            return failed(f"func(cr, ci, {max_iter}) raised {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0]}",
                           "give @vectorize a signature such as "
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
                           "iterate while n < max_iter and zr*zr + zi*zi <= 4.0, "
                           "updating zr and zi together, and return n.")  # fmt: skip
    return passed("a compiled ufunc whose counts equal the reference.")
