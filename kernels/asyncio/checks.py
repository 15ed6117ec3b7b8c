"""Checkers for the asyncio chapter: a semaphore, a timeout, a race."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..core.checking import CheckResult, failed, needs_function, passed
from .demos import run_coroutine
from .service import local_service

# Seconds the slow endpoint of check_timeout takes to answer.
SLOW_ANSWER = 30


def _run(func: Callable, *args):
    try:
        return run_coroutine(func, *args), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


@needs_function
def check_semaphore(func: Callable) -> CheckResult:
    """Check ``await func(url, items, limit)``: every item's JSON, at most ``limit`` at once."""
    with local_service(latency=0.05) as service:
        for items, limit in ((range(24), 4), (range(7), 2)):
            service.reset()
            got, error = _run(func, service.url, items, limit)
            if error:
                return failed(f"func(url, {items}, {limit}) raised {error}",
                               "use async with semaphore: around each request, and "
                               "return the JSON answers in order.")  # fmt: skip
            want = [{"item": i} for i in items]
            if got != want:
                return failed(f"func(url, {items}, {limit}) returned {str(got)[:120]}",
                               "fetch f'{url}/item/{i}' for each i and return "
                               "await response.json() in the order of items.")  # fmt: skip
            most = service.stats()["most_in_progress"]
            if most > limit:
                return failed(f"the service saw {most} requests at once; the limit was "
                               f"{limit}",
                               "create one asyncio.Semaphore(limit) and hold it while "
                               "each request is in flight.")  # fmt: skip
            if most < 2:
                return failed("the requests went one at a time",
                               "start them all as tasks (gather or a TaskGroup); the "
                               "semaphore alone limits them.")  # fmt: skip
    return passed("all answers arrived and never more than `limit` were in flight.")


@needs_function
def check_timeout(func: Callable) -> CheckResult:
    """Check ``await func(url, seconds)`` returns the JSON, or ``None`` after ``seconds``."""
    with local_service(latency=0.0) as service:
        fast = f"{service.url}/item/5"
        got, error = _run(func, fast, 5.0)
        if error or got != {"item": 5}:
            what = f"raised {error}" if error else f"returned {got!r}"
            return failed(f"on a fast answer func {what}",
                           "await the request inside async with asyncio.timeout(seconds): "
                           "and return await response.json().")  # fmt: skip
        slow = f"{service.url}/item/6?delay={SLOW_ANSWER}"
        start = time.perf_counter()
        got, error = _run(func, slow, 0.3)
        took = time.perf_counter() - start
        if error:
            return failed(f"on a slow answer func raised {error}",
                           "catch TimeoutError (raised by asyncio.timeout) and return "
                           "None.")  # fmt: skip
        if got is not None or took > SLOW_ANSWER / 2:
            return failed(f"on an answer that takes {SLOW_ANSWER} s, func returned {got!r} after "
                           f"{took:.1f} s",
                           "the timeout must cut the request short and return None.")  # fmt: skip
    return passed("fast answers come back, slow ones give None on time.")


@needs_function
def check_race_fixed(func: Callable) -> CheckResult:
    """Check ``func(threads, times)`` counts exactly ``threads * times`` every time."""
    for threads, times in ((4, 300), (8, 150), (2, 500)):
        try:
            got = func(threads, times)
        except Exception as exc:
            return failed(f"func({threads}, {times}) raised {type(exc).__name__}: {exc}",
                           "start the threads, join them, return counter.value.")  # fmt: skip
        if got != threads * times:
            return failed(f"func({threads}, {times}) counted {got}, expected "
                           f"{threads * times}",
                           "hold counter.lock around the whole read-sleep-write, not "
                           "only around the write.")  # fmt: skip
    return passed("no update lost: the lock makes read-modify-write one step.")
