"""Small task functions for the process chapters (02, 03, 04, 10), importable by any worker.

A worker started with ``spawn`` or ``forkserver`` receives a function *by name* and
imports it, so the functions a ``multiprocessing`` pool runs must live in a module like
this one, not in a notebook.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tracing


def square(x: int) -> int:
    """``x * x``: a task so small that sending it costs more than computing it."""
    return x * x


def slow_square(x: int, seconds: float = 0.1) -> int:
    """``x * x`` after sleeping ``seconds`` (to see ordering and overlap)."""
    time.sleep(seconds)
    return x * x


def reciprocal(x: float) -> float:
    """``1 / x``: raises :class:`ZeroDivisionError` for 0, to see how errors travel."""
    return 1 / x


def collatz_steps(n: int) -> int:
    """Steps for ``n`` to reach 1 under ``n -> n / 2`` (even) or ``3 n + 1`` (odd).

    >>> collatz_steps(6)
    8
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def longest_collatz(lo: int, hi: int) -> tuple[int, int]:
    """``(steps, n)`` of the ``n`` in ``lo..hi-1`` with the most steps (smallest on ties).

    An empty range gives ``(-1, 0)``, which loses to the result of any other range.
    """
    tracing.record("longest_collatz", lo=lo, hi=hi)
    steps, minus_n = max(((collatz_steps(n), -n) for n in range(lo, hi)), default=(-1, 0))
    return steps, -minus_n


def block_mean(x: np.ndarray, lo: int, hi: int) -> float:
    """Mean of ``x[lo:hi]``; notes (for a checker) whether ``x`` arrived memory-mapped."""
    tracing.record("block_mean", lo=int(lo), hi=int(hi), memmap=isinstance(x, np.memmap))
    return float(x[lo:hi].mean())


def block_sum(x: np.ndarray, lo: int, hi: int) -> float:
    """Sum of ``x[lo:hi]``: one block of a large array that every task shares."""
    return float(x[lo:hi].sum())


def array_sum(array: np.ndarray) -> float:
    """Sum of an array that was pickled and sent to the worker."""
    return float(array.sum())


def shared_array_sum(name: str, shape: tuple[int, ...], library: str = "multiprocessing"):
    """Sum of a float64 array the worker maps from shared memory by ``name`` (no copy)."""
    from .shared_memory import attach

    shared = attach([name], shape, library)
    total = float(shared.arrays[0].sum())
    shared.arrays.clear()
    for segment in shared.segments:
        segment.close()
    return total


def blas_threads_here() -> int:
    """How many threads NumPy's BLAS would use in this process."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info()), default=1)


def silence_stderr() -> None:
    """Pool initializer: send this worker's error output to the null device.

    Only for demonstrations in which workers fail over and over on purpose.
    """
    import sys

    sys.stderr = open(os.devnull, "w")  # kept open as long as the worker lives


def count_primes_slowly(lo: int, hi: int) -> int:
    """Primes ``p`` with ``lo <= p < hi``, by trial division (deliberately plain Python)."""
    count = 0
    for n in range(max(lo, 2), hi):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count


def sleep_then_return(job: tuple[int, float]) -> int:
    """``job = (value, seconds)``: sleep, then return ``value`` (to watch result order)."""
    value, seconds = job
    time.sleep(seconds)
    return value


def loaded_modules(_: object = None) -> list[str]:
    """The top-level modules imported in this process (to see what a worker paid for).

    Examples
    --------
    >>> "sys" in loaded_modules()
    True
    """
    import sys

    return sorted({name.partition(".")[0] for name in sys.modules})


def timed_call(func: Callable[..., Any], *args: Any) -> tuple[int, float]:
    """Call ``func(*args)``; return ``(worker pid, CPU seconds spent)``.

    CPU time, not wall time: with more workers than cores the workers take turns, and
    the waiting must not count as work.

    Examples
    --------
    >>> pid, seconds = timed_call(sum, range(1000))
    >>> pid == os.getpid() and seconds >= 0
    True
    """
    start = time.process_time()
    func(*args)
    return os.getpid(), time.process_time() - start
