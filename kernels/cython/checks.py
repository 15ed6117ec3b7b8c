"""Checkers for the Cython chapter: a typed row, a prange reduction, a typed stencil step.

The learner's functions come from ``%%cython`` cells. Each checker first asks that the
function really is compiled (a Cython function, not a Python one), then tests it on
cases of its own against the problems' references.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, call, failed, needs_function, passed
from ..problems import heat, mandelbrot

COMPILED_HINT = "write the function in a %%cython cell (run `%load_ext Cython` first)."


def is_cython_function(func: object) -> bool:
    """Whether ``func`` was compiled by Cython (a ``cython_function_or_method``)."""
    return type(func).__name__ in {"cython_function_or_method", "builtin_function_or_method"}


def _not_compiled(func: object) -> CheckResult:
    return failed(f"{getattr(func, '__name__', func)!s} is a plain Python function",
                   COMPILED_HINT)  # fmt: skip


@needs_function
def check_escape_row(func: Callable) -> CheckResult:
    """Check ``func(re, ci, max_iter, out)`` fills ``out`` with one row's escape counts."""
    if not is_cython_function(func):
        return _not_compiled(func)
    for width, height, max_iter, row in [(40, 30, 50, 15), (7, 5, 3, 0), (33, 11, 200, 4)]:
        re, im = mandelbrot.coordinates(width, height)
        out = np.full(width, -1, dtype=np.int32)
        try:
            call(func, re, float(im[row]), max_iter, out)
        except Exception as exc:
            return failed(f"func(re, ci, {max_iter}, out) raised {type(exc).__name__}: {exc}",
                           "declare re as double[::1] and out as int[::1] (int32), "
                           "ci as double, max_iter as int.")  # fmt: skip
        want = mandelbrot.reference(width, height, max_iter)[row]
        differ = int(np.count_nonzero(out != want))
        if differ:
            return failed(f"{differ} of {width} counts differ from the reference "
                           f"(width {width}, row {row}, max_iter {max_iter})",
                           "start every point at z = 0 and n = 0; iterate while "
                           "n < max_iter and zr*zr + zi*zi <= 4.0, and store n.")  # fmt: skip
    return passed("a compiled row of escape counts, identical to the reference.")


@needs_function
def check_count_hits(func: Callable) -> CheckResult:
    """Check ``func(x, y, num_threads)`` counts ``x*x + y*y <= 1`` for any thread count."""
    if not is_cython_function(func):
        return _not_compiled(func)
    rng = np.random.default_rng(11)
    for size in (0, 1, 999, 100_003):
        x, y = rng.random(size), rng.random(size)
        want = int(np.count_nonzero(x * x + y * y <= 1.0))
        for threads in (1, 2, 3, 4):
            try:
                got = call(func, x, y, threads)
            except Exception as exc:
                return failed(f"func(x, y, {threads}) with {size} points raised "
                               f"{type(exc).__name__}: {exc}",
                               "take x and y as double[::1] and num_threads as int; "
                               "return the count.")  # fmt: skip
            if got != want:
                return failed(f"{size} points on {threads} thread(s): got {got!r}, "
                               f"expected {want}",
                               "add to a local total with `total += 1` inside the prange "
                               "loop: Cython turns it into a reduction, one private "
                               "total per thread.")  # fmt: skip
    return passed("the same count for 1 to 4 threads: a correct reduction.")


@needs_function
def check_heat_step(func: Callable) -> CheckResult:
    """Check ``func(src, dst)`` writes one heat step of the interior of ``src`` into ``dst``."""
    if not is_cython_function(func):
        return _not_compiled(func)
    rng = np.random.default_rng(5)
    for n in (3, 8, 37):
        src = rng.random((n, n))
        src[0, :] = src[-1, :] = src[:, 0] = src[:, -1] = 0.0
        dst = src.copy()
        want = src.copy()
        heat.step_rows(src, want, 1, n - 1)
        try:
            call(func, src, dst)
        except Exception as exc:
            return failed(f"func(src, dst) on a {n}x{n} grid raised {type(exc).__name__}: "
                           f"{exc}",
                           "take both grids as double[:, ::1] and loop over the interior "
                           "rows and columns 1 .. n-2.")  # fmt: skip
        error = float(np.max(np.abs(dst - want)))
        if not error <= heat.TOLERANCE:
            return failed(f"on a {n}x{n} grid your step differs from the reference by up "
                           f"to {error:.3g}",
                           "read only src, write only dst, leave the boundary alone, and "
                           "use the specification's expression with R = 0.2.")  # fmt: skip
    return passed("one compiled stencil step, equal to the reference within round-off.")
