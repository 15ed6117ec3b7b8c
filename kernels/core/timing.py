"""Honest timings: a warm-up first, then repeats; the best and the median."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import require_count


def checksum(result: Any) -> float:
    """Sum of an array result, or the scalar result itself, as a float.

    Integers are summed exactly; floats with ``math.fsum``, exactly rounded. NumPy's own
    sum groups the terms by memory layout and alignment, so equal arrays (one that came
    back from a worker process, say) could differ in the last bit.
    """
    if isinstance(result, np.ndarray):
        if np.issubdtype(result.dtype, np.integer):
            return float(np.sum(result, dtype=np.int64))
        return math.fsum(np.asarray(result, dtype=np.float64).ravel())
    return float(result)


def time_call(
    func: Callable[[], Any], repeat: int, warmup: bool = True, time_limit: float | None = None,
    number: int = 1,
) -> tuple[list[float], Any]:  # fmt: skip
    """Wall times of ``repeat`` calls of ``func`` (after one uncounted warm-up call).

    The warm-up absorbs one-off costs (JIT compilation, imports, caches); each timed call
    still pays whatever a real call pays, pool start-up included. With ``time_limit``
    (seconds), the timed calls stop once they have taken that long in all, after one call
    at least. With ``number`` above 1, each time is the mean of that many calls made back
    to back, as ``timeit``'s ``number``: the time per call of a program that calls it in
    a loop, where only the first call follows a pause.

    Examples
    --------
    >>> seconds, result = time_call(lambda: sum(range(1000)), repeat=3)
    >>> len(seconds), result
    (3, 499500)
    >>> calls = []
    >>> seconds, result = time_call(lambda: calls.append(1), repeat=2, warmup=False, number=3)
    >>> len(seconds), len(calls)
    (2, 6)
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    require_count("number", number)
    result = func() if warmup else None
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            result = func()
        seconds.append((time.perf_counter() - start) / number)
        if time_limit is not None and number * sum(seconds) >= time_limit:
            break
    return seconds, result


def best_of(func: Callable[[], Any], repeat: int, time_limit: float | None = None) -> float:
    """The shortest wall time of ``repeat`` calls of ``func`` (no warm-up call).

    For the chapters' small demonstrations, where the fastest run is the least disturbed
    by the rest of the machine. With ``time_limit`` (seconds), the calls stop once they have
    taken that long in all, after one call at least: a slow call (pure Python, seconds
    long) is timed once, a fast one ``repeat`` times. (A limit, not a budget:
    :func:`kernels.core.bench.measure`'s ``budget`` adds runs until that much is spent.)

    Examples
    --------
    >>> calls = []
    >>> seconds = best_of(lambda: calls.append(1), repeat=3)
    >>> len(calls)
    3
    >>> seconds = best_of(lambda: calls.append(time.sleep(0.02)), repeat=3, time_limit=0.01)
    >>> len(calls)
    4
    """
    return min(time_call(func, repeat, warmup=False, time_limit=time_limit)[0])


def best_time(
    func: Callable[..., Any], *args: Any, repeat: int = 3, time_limit: float | None = 1.0,
    expected: Any = None, **kwargs: Any,
) -> float:  # fmt: skip
    """The shortest wall time of ``func(*args, **kwargs)``, checked against ``expected``.

    :func:`best_of` for the compiled chapters' loops, one call of which may take seconds
    (pure Python at full size): with the default ``time_limit`` such a call is timed once.
    With ``expected``, the result of the timed calls must equal it (``numpy.array_equal``),
    so that a slow function is timed and checked by the same call, not run again to check.
    ``repeat``, ``time_limit`` and ``expected`` are this function's own: ``func`` cannot
    take keyword arguments with those names through it.

    Raises
    ------
    ValueError
        When the result differs from ``expected``.

    Examples
    --------
    >>> seconds = best_time(sorted, [3, 1, 2], repeat=2, expected=[1, 2, 3])
    >>> best_time(sorted, [3, 1, 2], repeat=2, expected=[3, 2, 1])
    Traceback (most recent call last):
    ...
    ValueError: sorted: the timed call's result is not the expected one
    """
    call = functools.partial(func, *args, **kwargs)
    seconds, result = time_call(call, repeat, warmup=False, time_limit=time_limit)
    if expected is not None and not np.array_equal(result, expected):
        name = getattr(func, "__name__", repr(func))
        raise ValueError(f"{name}: the timed call's result is not the expected one")
    return min(seconds)
