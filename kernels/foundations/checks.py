"""Checkers for the foundations chapter: a fair timer, Amdahl's law used, a fit, balance.

Every call draws fresh cases, and no message shows a case's expected value or the
formula that answers the exercise.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
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

# Seconds each timed call of check_timer sleeps (shuffled per check), and the warm-up:
# the median, the mean, the median with the warm-up and the extremes are 0.03 s apart.
TIMED = {5: (0.04, 0.06, 0.09, 0.15, 0.40), 7: (0.04, 0.05, 0.06, 0.09, 0.15, 0.30, 0.35)}
WARM_UP = 0.45
CLOSE = 0.014


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@needs_function
def check_timer(func: Callable[[Callable[[], object], int], float]) -> CheckResult:
    """Check ``func(fn, repeat)`` warms up once, times ``repeat`` calls, returns the median."""
    rng = fresh_rng()
    repeat = int(rng.choice([5, 7]))
    durations = [float(d) for d in rng.permutation(TIMED[repeat])]
    calls = []

    def workload() -> None:
        calls.append(None)
        time.sleep(WARM_UP if len(calls) == 1 else durations[min(len(calls) - 2, repeat - 1)])

    got = attempt(func, workload, repeat, what="calling it", hint="call fn() yourself.")
    if len(calls) != repeat + 1:
        return failed(
            f"fn was called {len(calls)} times for repeat={repeat}",
            "one warm-up call that is not timed, then exactly `repeat` timed calls.",
        )
    if not _is_number(got):
        return failed(f"it returned {type(got).__name__}, not a number of seconds",
                       "return one number: seconds, as time.perf_counter() differences "
                       "are.")  # fmt: skip
    timed = sorted(durations)
    suspects = {
        "the mean of the timed calls": statistics.mean(timed),
        "the median with the warm-up counted": statistics.median([WARM_UP, *timed]),
        "the fastest call": timed[0],
        "the slowest timed call": timed[-1],
        "the total time": sum(timed),
    }
    median = statistics.median(timed)
    if abs(got - median) <= CLOSE:
        return passed("one warm-up, then the median of the timed calls.")
    closest = min(suspects, key=lambda name: abs(suspects[name] - got))
    if abs(suspects[closest] - got) <= CLOSE:
        return failed(f"that looks like {closest}",
                       "the warm-up is there to be left out, and the median is the middle "
                       "value: robust to one slow or fast call.")  # fmt: skip
    return failed("the value is not the median of the timed calls",
                   "time each call on its own with time.perf_counter(), in seconds.")  # fmt: skip


def _workers_cases(rng: np.random.Generator) -> list[tuple[float, float]]:
    cases = []
    for _ in range(12):
        f = float(rng.uniform(0.01, 0.4))
        cases.append((float(rng.uniform(1.2, 0.95 / f)), f))  # reachable
    f = float(rng.uniform(0.05, 0.3))
    cases += [(1.0, f), (float(rng.uniform(1.0, 1.6)) / f, f)]  # one worker; beyond the cap
    # a target met exactly at a whole number of workers: rounding must not add one
    p, f = int(rng.integers(3, 40)), float(rng.uniform(0.02, 0.2))
    cases.append((float(laws.amdahl_speedup(p, f)), f))
    return [cases[i] for i in rng.permutation(len(cases))]


def _fewest_workers(target: float, f: float) -> int | None:
    if target <= 1.0:
        return 1
    if target >= 1.0 / f * (1 - 1e-12):
        return None
    p = max(1, math.floor((1.0 - f) / (1.0 / target - f)) - 1)
    while laws.amdahl_speedup(p, f) < target * (1 - 1e-9):
        p += 1
    return p


@needs_function
def check_workers_needed(func: Callable[[float, float], int | None]) -> CheckResult:
    """Check ``func(target, serial_fraction)``: the fewest workers reaching ``target``, or None."""
    for target, f in _workers_cases(fresh_rng()):
        case = f"workers_needed({target:.6g}, {f:.6g})"
        got = attempt(func, target, f, what=case,
                      hint="when no number of workers reaches the target, return None "
                           "instead of raising.")  # fmt: skip
        want = _fewest_workers(target, f)
        if want is None:
            if got is not None:
                return failed(f"{case} returned {got!r}, but no number of workers gets there",
                               "Amdahl's law has a ceiling as p grows: compare the "
                               "target with it first.")  # fmt: skip
            continue
        if got is None or not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            return failed(f"{case} returned {got!r}, not a whole number of workers",
                           "workers come in whole numbers: round the way that still "
                           "reaches the target.")  # fmt: skip
        if got < want:
            return failed(f"{case}: {got} workers fall short of the target",
                           "round up, not down: the speedup must reach the target.")  # fmt: skip
        if got > want:
            return failed(f"{case}: {got} workers reach it, but fewer would too",
                           "the smallest count: when the exact solution is a whole "
                           "number, it is the answer itself.")  # fmt: skip
    return passed("the fewest workers for every reachable target, None beyond the ceiling.")


def _timing_case(rng: np.random.Generator):
    f = float(rng.uniform(0.02, 0.4))
    one = float(rng.uniform(0.5, 20.0))
    many = rng.choice(np.arange(5, 33), size=int(rng.integers(3, 6)), replace=False)
    workers = np.sort(np.concatenate([[2, rng.integers(3, 5)], many]))
    seconds = one * (f + (1 - f) / workers) * rng.uniform(0.99, 1.01, workers.size)
    return f, [int(w) for w in workers], [float(s) for s in seconds]


@needs_function
def check_fit_serial_fraction(func: Callable[[list, list], float]) -> CheckResult:
    """Check ``func(workers, seconds)`` fits Amdahl's serial fraction without ``T(1)``."""
    rng = fresh_rng()
    for _ in range(8):
        f, workers, seconds = _timing_case(rng)
        got = attempt(func, list(workers), list(seconds),
                      what=f"on times for workers {workers} it",
                      hint="take two lists of equal length and return one number.")  # fmt: skip
        if not _is_number(got) or not math.isfinite(got):
            return failed(f"it returned {got!r}, not a fraction",
                           "return one float between 0 and 1.")  # fmt: skip
        if abs(got - f) > 0.02:
            return failed(f"on times measured with workers {workers}, your fraction is "
                           "off by more than 0.02",
                           "no one-worker time was measured: it is an unknown of the fit, "
                           "like f. Amdahl's time is a straight line in 1/p; use every "
                           "point.")  # fmt: skip
    return passed("the serial fraction read off noisy times, without a one-worker run.")


@functools.lru_cache(maxsize=64)
def _mandelbrot_row_costs(width: int, height: int, max_iter: int) -> np.ndarray:
    """Each row's iterations (cached: a seed replayed draws the same image again)."""
    from ..problems.mandelbrot import reference

    costs = reference(width, height, max_iter).sum(axis=1).astype(np.int64)
    costs.flags.writeable = False
    return costs


def _row_costs(rng: np.random.Generator) -> np.ndarray:
    height = int(rng.integers(40, 160))
    if rng.random() < 0.5:
        return _mandelbrot_row_costs(int(rng.integers(60, 200)), height, int(rng.integers(50, 300)))
    return np.maximum(1, rng.lognormal(3.0, 1.0, height)).astype(np.int64)


def _busiest_share(cost: np.ndarray, parts: list) -> float:
    """The busiest part's cost over the fair share (the mean, or the largest row)."""
    fair = max(cost.sum() / len(parts), cost.max())
    return max(cost[list(part)].sum() for part in parts) / fair


def _longest_first(cost: np.ndarray, workers: int) -> list[list[int]]:
    parts, loads = [[] for _ in range(workers)], [0] * workers
    for row in sorted(range(cost.size), key=lambda r: -cost[r]):
        k = loads.index(min(loads))
        parts[k].append(row)
        loads[k] += cost[row]
    return parts


# Fixed patterns that fit some shapes of costs and not others; every call has a case
# that each of them gets wrong (and that placing the big rows first gets right).
_PATTERNS = {
    "interleaved": lambda n, w, order: [list(range(k, n, w)) for k in range(w)],
    "blocks": lambda n, w, order: [list(b) for b in np.array_split(np.arange(n), w)],
    "sorted, dealt in turn": lambda n, w, order: [list(order[k::w]) for k in range(w)],
}


def _pattern_breaker(rng: np.random.Generator, pattern: str) -> tuple[np.ndarray, int]:
    """Fresh costs and a worker count on which ``pattern`` is over 5% unfair."""
    while True:
        workers = int(rng.integers(2, 7))
        rows = workers * int(rng.integers(8, 30)) + int(rng.integers(0, workers))
        shape = int(rng.integers(3))
        if shape == 0:  # every workers-th row heavy
            cost = rng.integers(50, 100, rows) + (np.arange(rows) % workers == 0) * int(
                rng.integers(100, 300)
            )
        elif shape == 1:  # the expensive rows together
            cost = rng.integers(10, 40, rows)
            start = int(rng.integers(0, rows // 2))
            cost[start : start + rows // 3] += int(rng.integers(100, 400))
        else:  # steeply rising costs
            cost = (np.arange(1, rows + 1) ** float(rng.uniform(1.5, 3))).astype(np.int64) + 1
        cost = cost.astype(np.int64)
        order = sorted(range(rows), key=lambda r: cost[r])
        wrong = _busiest_share(cost, _PATTERNS[pattern](rows, workers, order))
        if wrong > 1.1 and _busiest_share(cost, _longest_first(cost, workers)) <= 1.04:
            return cost, workers


@needs_function
def check_balanced_rows(func: Callable[[list, int], list]) -> CheckResult:
    """Check ``func(costs, workers)`` deals rows so that no worker does 5% above its share."""
    rng = fresh_rng()
    cases = [(_row_costs(rng), int(rng.integers(2, 7))) for _ in range(7)]
    cases += [_pattern_breaker(rng, pattern) for pattern in _PATTERNS]
    rng.shuffle(cases)
    for cost, workers in cases:
        height = cost.size
        case = f"{height} rows on {workers} workers"
        as_ints = lambda *args: [list(map(int, part)) for part in func(*args)]  # noqa: E731
        parts = attempt(as_ints, [int(c) for c in cost], workers, what=case,
                        hint="return a list with one list of row indices per worker.")  # fmt: skip
        if len(parts) != workers:
            return failed(f"{case}: {len(parts)} parts",
                           "return exactly one list of rows per worker.")  # fmt: skip
        if sorted(r for part in parts for r in part) != list(range(height)):
            return failed(f"{case}: not every row appears exactly once",
                           "every row 0..len(costs)-1 must be in exactly one part.")  # fmt: skip
        share = _busiest_share(cost, parts)
        if share > 1.05:
            return failed(f"{case}: the busiest worker does {share:.2f}x its fair share",
                           "a fixed pattern of rows fits one shape of costs, not all: look "
                           "at the costs, and place the big rows while there is still room "
                           "to even out.")  # fmt: skip
    return passed("every row once, and no worker more than 5% above its fair share.")
