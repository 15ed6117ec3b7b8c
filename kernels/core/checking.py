"""What every exercise checker shares: the result type and the pass/fail messages.

Each chapter's checkers are in its folder's ``checks.py`` (``kernels.dask.checks``, ...).
A checker returns a :class:`CheckResult`, shown as a clear pass or fail with a hint. It
is truthy when the answer passes, so ``assert check_...(answer)`` works too.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import psutil


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a checker: ``passed`` and the message a learner reads."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        # `assert check(...)` in a notebook raises a bare AssertionError: the reason goes
        # to stderr first, so a failed check says why wherever it is read.
        if not self.passed:
            print(self.message, file=sys.stderr)
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        return f'<p style="color:{color}; font-weight:bold">{self.message}</p>'


def passed(what: str) -> CheckResult:
    return CheckResult(True, f"✅ Correct: {what}")


def failed(problem: str, hint: str) -> CheckResult:
    return CheckResult(False, f"❌ Not yet: {problem}\nHint: {hint}")


#: Seconds of repeated runs per thread count (above one) in which a race must show: a
#: busy machine can run the threads by turns for a while, and a race needs them at once.
RACE_SECONDS = 0.3


def attempts(at_least: int, seconds: float) -> Iterator[int]:
    """1, 2, 3, ...: at least ``at_least`` attempts, and more until ``seconds`` have passed.

    For a check that must see something the operating system decides (two threads on
    two cores at once): a busy machine may withhold it for a while, so a few tries are
    not enough; the caller stops early once it has seen it.

    Examples
    --------
    >>> list(attempts(3, 0.0))
    [1, 2, 3]
    """
    deadline = time.monotonic() + seconds
    attempt = 0
    while attempt < at_least or time.monotonic() < deadline:
        attempt += 1
        yield attempt


def what_it_raised(exc: BaseException) -> str:
    """``"ValueError: <first line of the message>"``: a learner's error, named briefly.

    Examples
    --------
    >>> what_it_raised(ValueError("no workers\\nmore detail"))
    'ValueError: no workers'
    >>> what_it_raised(KeyError())
    'KeyError'
    """
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class CheckFailed(Exception):
    """Ends a checker with the failed ``result`` (raised by :func:`attempt`).

    :func:`needs_function`, which wraps every checker, returns the result.
    """

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


def attempt(func: Callable, *args, what: str, hint: str):
    """``func(*args)``; if the learner's function raises, the check fails.

    The failure reads "``what`` raised ``<the error>``" with ``hint``.

    Examples
    --------
    >>> @needs_function
    ... def check_half(func):
    ...     return passed("halves") if attempt(func, 4, what="func(4)", hint="h.") == 2 else None
    >>> print(check_half(lambda x: x / 0).message)
    ❌ Not yet: func(4) raised ZeroDivisionError: division by zero
    Hint: h.
    """
    try:
        return func(*args)
    except Exception as exc:
        raise CheckFailed(failed(f"{what} raised {what_it_raised(exc)}", hint)) from None


def needs_function(
    checker: Callable[[Callable], CheckResult],
) -> Callable[[Callable], CheckResult]:
    """Turn "no function given yet" into a failed check instead of an exception."""

    @functools.wraps(checker)
    def wrapper(func):
        if not callable(func):
            return failed(
                f"expected your function, got {type(func).__name__} {func!r}",
                "define the function in the cell above and pass its name, without calling it.",
            )
        try:
            return checker(func)
        except CheckFailed as stop:
            return stop.result

    return wrapper


def fresh_rng() -> np.random.Generator:
    """A generator for a checker's cases, different on every call.

    Fresh cases mean no table of answers copied from an earlier attempt can pass. Set
    ``KERNELS_CHECK_SEED`` to replay one set of cases (to reproduce a report).
    """
    seed = os.environ.get("KERNELS_CHECK_SEED")
    return np.random.default_rng(None if seed is None else int(seed))


def cores_used(func: Callable, *args, wall_seconds: float = 0.3, most_calls: int = 50):
    """Call ``func(*args)`` for at least ``wall_seconds``; how many cores did it keep busy?

    Returns ``(result, cores)``: the last call's result, and the CPU time of all of this
    process's threads (those that ended included) divided by the wall time. Serial code
    gives about 1, code that runs on two threads about 2 (on a machine with two free
    cores): a measurement by the operating system, whatever the code claims. Work done
    in child processes is not counted.
    """
    me = psutil.Process()
    start, used = time.perf_counter(), me.cpu_times()
    result = None
    for _ in range(most_calls):
        result = func(*args)
        if time.perf_counter() - start >= wall_seconds:
            break
    now = me.cpu_times()
    cpu = (now.user - used.user) + (now.system - used.system)
    return result, cpu / (time.perf_counter() - start)


def _thread_seconds() -> dict[int, float]:
    try:
        return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}
    except psutil.Error:
        return {}


def busy_threads(func: Callable, *args, wall_seconds: float = 0.4, most_calls: int = 200) -> int:
    """Threads of this process that each did a fifth or more of the CPU work of the calls.

    ``func(*args)`` is called for at least ``wall_seconds``; the operating system's CPU
    time per thread, before and after, says which threads worked. Unlike a ratio of CPU
    to wall time, the count holds when other programs share the cores, but it sees only
    threads that outlive the calls (the pools of OpenMP and numba do).
    """
    before = _thread_seconds()
    start = time.perf_counter()
    for _ in range(most_calls):
        func(*args)
        if time.perf_counter() - start >= wall_seconds:
            break
    grew = [used - before.get(tid, 0.0) for tid, used in _thread_seconds().items()]
    total = sum(g for g in grew if g > 0)
    return sum(1 for g in grew if total and g >= 0.2 * total)


def most_cores(
    func: Callable, *args, enough: float, tries: int = 3, time_limit: float | None = None
) -> float:
    """The most cores :func:`cores_used` saw in up to ``tries`` runs (stops at ``enough``).

    Another program on the machine can only lower the figure of parallel code, so the
    best of a few tries is the fair one to judge it by. With ``time_limit`` (seconds), no
    try starts once the tries have taken that long: a serial answer of a second per
    run is judged on a few runs, not ``tries`` of them.
    """
    best, start = 0.0, time.perf_counter()
    for _ in range(tries):
        best = max(best, cores_used(func, *args)[1])
        if best >= enough or (time_limit is not None and time.perf_counter() - start >= time_limit):
            break
    return best


class _Sampler:
    """Call ``sample()`` every 10 ms on a thread of its own while a ``with`` block runs."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _python_worker(command: list[str]) -> bool:
    """Whether a child's command line is a Python interpreter's, not a resource tracker's."""
    return os.path.basename(command[0]).startswith("python") and not any(
        "resource_tracker" in part for part in command
    )


class ChildWatch(_Sampler):
    """The worker processes started while a ``with`` block runs, seen every 10 ms.

    ``pids`` holds every descendant of this process that was alive at some sample,
    except those already running when the block began (a warm pool), the resource
    trackers that ``multiprocessing`` starts once per interpreter, and programs that are
    not Python (a dask worker once ran ``uname -p``, for ``platform.processor()``, and a
    one-worker cluster passed for two).

    A child caught between its ``fork`` and its ``exec`` still shows this process's
    command line (and during its ``exec``, an empty one), so a resource tracker seen
    that early would pass for a worker. Such a child is looked at again at each sample
    until its command line changes; one that never changes (a ``fork`` worker, which
    never calls ``exec``) counts as a worker when it ends or when the block does.

    ``most`` is the most of them (past their ``exec``) alive at one sample: a worker
    process started again (one dask worker once showed two processes, one after the
    other) is in ``pids`` twice, and in ``most`` once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pids: set[int] = set()
        self._seen: set[int] | None = None
        self._forked: set[int] = set()  # children not yet past their exec
        self._own = psutil.Process().cmdline()
        self.most = 0

    def sample(self) -> None:
        try:
            now = psutil.Process().children(recursive=True)
        except psutil.Error:
            return
        if self._seen is None:
            self._seen = {p.pid for p in now}
            return
        alive = {process.pid for process in now}
        self.pids |= self._forked - alive  # ended before any exec: fork workers
        self._forked &= alive
        for process in now:
            if process.pid in self._seen:
                continue
            try:
                command = process.cmdline()
            except psutil.Error:
                continue
            if not command or command == self._own:  # empty while it is mid-exec
                self._forked.add(process.pid)
                continue
            self._seen.add(process.pid)
            self._forked.discard(process.pid)
            if _python_worker(command):
                self.pids.add(process.pid)
        self.most = max(self.most, len(self.pids & alive))

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.pids |= self._forked  # still as forked: fork workers
        self._forked.clear()


class ThreadStarts:
    """Counts the Python threads started while a ``with`` block runs (``count``).

    ``threading.Thread.start`` is wrapped for the block, so a thread pool's threads are
    counted however briefly they live; numba's and OpenMP's native threads are not
    Python threads and are not counted.
    """

    def __init__(self) -> None:
        self.count = 0
        self._original = threading.Thread.start

    def __enter__(self):
        original, watch = self._original, self

        def start(thread: threading.Thread) -> None:
            watch.count += 1
            original(thread)

        threading.Thread.start = start
        return self

    def __exit__(self, *exc) -> None:
        threading.Thread.start = self._original
