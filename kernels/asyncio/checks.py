"""Checkers for the asyncio chapter: a semaphore, a timeout, a race."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from ..core.checking import CheckResult, failed, fresh_rng, needs_function, passed, what_it_raised
from . import races
from .demos import run_coroutine
from .service import local_service

# Seconds the slow endpoint of check_timeout takes to answer.
SLOW_ANSWER = 30


def _run(func: Callable, *args):
    try:
        return run_coroutine(func, *args), None
    except Exception as exc:
        return None, what_it_raised(exc)


@needs_function
def check_semaphore(func: Callable) -> CheckResult:
    """Check ``await func(url, items, limit)``: every item's JSON, at most ``limit`` at once."""
    rng = fresh_rng()
    cases = []
    for _ in range(2):
        limit = int(rng.integers(3, 7))  # batches of two would reach a limit of 2
        first = int(rng.integers(0, 1000))
        cases.append((range(first, first + 3 * limit + int(rng.integers(0, 5))), limit))
    with local_service(latency=0.05) as service:
        for items, limit in cases:
            service.reset()
            got, error = _run(func, service.url, items, limit)
            if error:
                return failed(f"func(url, {items}, {limit}) raised {error}",
                               "use async with semaphore: around each request, and "
                               "return the JSON answers in order.")  # fmt: skip
            want = [{"item": i} for i in items]
            if got != want:
                return failed(f"func(url, {items}, {limit}) did not return every item's "
                               "answer, in the order of items",
                               "fetch f'{url}/item/{i}' for each i and return the JSON "
                               "answers in the order of items, whatever order they "
                               "arrive in.")  # fmt: skip
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
            if most < limit:
                return failed(f"the service saw at most {most} requests at once; {limit} "
                               "were allowed",
                               "the limit is a ceiling to reach, not to stay under: "
                               "let `limit` requests run at once.")  # fmt: skip
    return passed("all answers arrived and never more than `limit` were in flight.")


@needs_function
def check_timeout(func: Callable) -> CheckResult:
    """Check ``await func(url, seconds)`` returns the JSON, or ``None`` after ``seconds``."""
    rng = fresh_rng()
    fast_item, slow_item = (int(i) for i in rng.integers(0, 1000, 2))
    seconds = float(rng.uniform(0.2, 0.5))
    with local_service(latency=0.0) as service:
        fast = f"{service.url}/item/{fast_item}"
        got, error = _run(func, fast, 5.0)
        if error or got != {"item": fast_item}:
            what = f"raised {error}" if error else f"returned {got!r}"
            return failed(f"on a fast answer func {what}",
                           "await the request inside async with asyncio.timeout(seconds): "
                           "and return await response.json().")  # fmt: skip
        slow = f"{service.url}/item/{slow_item}?delay={SLOW_ANSWER}"
        start = time.perf_counter()
        got, error = _run(func, slow, seconds)
        took = time.perf_counter() - start
        if error:
            return failed(f"on a slow answer func raised {error}",
                           "catch TimeoutError (raised by asyncio.timeout) and return "
                           "None.")  # fmt: skip
        if got is not None or took > SLOW_ANSWER / 2:
            return failed(f"on an answer that takes {SLOW_ANSWER} s, with {seconds:.2f} s "
                           f"allowed, func returned {got!r} after {took:.1f} s",
                           "the timeout must cut the request short and return None.")  # fmt: skip
        if took < seconds * 0.9:
            return failed(f"with {seconds:.2f} s allowed, func gave up after {took:.2f} s",
                           "wait as long as `seconds` allows before giving up.")  # fmt: skip
    return passed("fast answers come back, slow ones give None on time.")


class _WatchedCounter:
    """A stand-in for :class:`races.Counter` that notes which thread wrote each value."""

    created: ClassVar[list[_WatchedCounter]] = []

    def __init__(self, value: int = 0) -> None:
        self._value = value
        self.lock = threading.Lock()
        self.writes: collections.Counter[int] = collections.Counter()
        _WatchedCounter.created.append(self)

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self.writes[threading.get_ident()] += 1
        self._value = new


@needs_function
def check_race_fixed(func: Callable) -> CheckResult:
    """Check ``func(threads, times)``: ``threads`` threads add 1 ``times`` times, none lost.

    The checker swaps ``races.Counter`` for one that notes every write, so it sees that
    the threads really counted (each its share) rather than a computed total.
    """
    rng = fresh_rng()
    cases = [(int(rng.integers(2, 9)), int(rng.integers(100, 400))) for _ in range(3)]
    for threads, times in cases:
        _WatchedCounter.created.clear()
        original, races.Counter = races.Counter, _WatchedCounter
        try:
            got = func(threads, times)
        except Exception as exc:
            return failed(f"func({threads}, {times}) raised {what_it_raised(exc)}",
                           "start the threads, join them, return counter.value.")  # fmt: skip
        finally:
            races.Counter = original
        if not _WatchedCounter.created:
            return failed(f"func({threads}, {times}) used no races.Counter",
                           "the threads must really count, on one shared "
                           "races.Counter.")  # fmt: skip
        counter = _WatchedCounter.created[-1]
        writers = [n for tid, n in counter.writes.items() if tid != threading.get_ident()]
        if len(writers) != threads or any(n != times for n in writers):
            return failed(f"func({threads}, {times}): {len(writers)} thread(s) wrote the "
                           "counter, not each of the threads `times` times",
                           "every thread adds 1, `times` times, to the shared "
                           "counter.")  # fmt: skip
        if got != counter.value or got != threads * times:
            return failed(f"func({threads}, {times}) lost updates",
                           "a lock only protects what happens while it is held: between "
                           "reading the value and writing it back, who else may "
                           "write?")  # fmt: skip
    return passed("no update lost: the lock makes read-modify-write one step.")
