"""Checkers for the foundations chapter: timing, Amdahl, Gustafson, balanced rows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from ..core import laws
from ..core.checking import CheckResult, call, failed, needs_function, passed


def _check_law(func: Callable, law: Callable, name: str, hint: str) -> CheckResult:
    cases = [(1, 0.1), (2, 0.0), (8, 0.1), (64, 0.05), (1000, 0.5), (16, 1.0)]
    for p, f in cases:
        try:
            got = call(func, p, f)
        except Exception as exc:  # a learner's function may raise anything
            return failed(f"{name}({p}, {f}) raised {type(exc).__name__}: {exc}", hint)
        want = law(p, f)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(
            got, want, rel_tol=1e-9
        ):
            return failed(f"{name}({p}, {f}) returned {got!r}, which is not right", hint)
    return passed(f"{name} agrees with the law on {len(cases)} cases.")


@needs_function
def check_amdahl(func: Callable[[int, float], float]) -> CheckResult:
    """Check ``func(workers, serial_fraction)`` returns Amdahl's speedup."""
    return _check_law(
        func, laws.amdahl_speedup, "amdahl",
        "time on p workers is f*T + (1-f)*T/p; the speedup is T divided by that.",
    )  # fmt: skip


@needs_function
def check_gustafson(func: Callable[[int, float], float]) -> CheckResult:
    """Check ``func(workers, serial_fraction)`` returns Gustafson's scaled speedup."""
    return _check_law(
        func, laws.gustafson_speedup, "gustafson",
        "on p workers the serial part f stays, the parallel part (1-f) is done p times over; "
        "compare with the time one worker would need for that much work.",
    )  # fmt: skip


@needs_function
def check_timer(func: Callable[[Callable[[], object], int], float]) -> CheckResult:
    """Check ``func(fn, repeat)`` warms up once, times ``repeat`` calls, returns the median."""
    calls = []
    durations = [0.25, 0.02, 0.06, 0.01, 0.03, 0.05]  # warm-up first, then 5 timed calls

    def workload() -> None:
        calls.append(None)
        time.sleep(durations[min(len(calls) - 1, len(durations) - 1)])

    try:
        got = call(func, workload, 5)
    except Exception as exc:
        return failed(f"calling it raised {type(exc).__name__}: {exc}", "call fn() yourself.")
    if len(calls) != 6:
        return failed(
            f"fn was called {len(calls)} times for repeat=5",
            "call it once before timing (the warm-up, not counted), then repeat times.",
        )
    if not isinstance(got, (int, float)) or not 0.025 <= got <= 0.045:
        return failed(
            f"returned {got!r}, which is not the median of the timed calls",
            "use time.perf_counter() around each call and statistics.median; leave out "
            "the warm-up.",
        )
    return passed("one warm-up, five timed calls, and their median.")


@needs_function
def check_balanced_rows(func: Callable[[int, int], list]) -> CheckResult:
    """Check ``func(height, workers)`` splits the Mandelbrot rows so the work is balanced."""
    from ..problems.mandelbrot import reference

    counts = reference(120, 90, 200)
    cost = counts.sum(axis=1)
    for workers in (2, 3, 4):
        try:
            parts = [list(map(int, part)) for part in call(func, 90, workers)]
        except Exception as exc:
            return failed(f"func(90, {workers}) raised {type(exc).__name__}: {exc}",
                           "return a list with one list of row indices per worker.")  # fmt: skip
        if len(parts) != workers:
            return failed(f"func(90, {workers}) gave {len(parts)} parts",
                           "return exactly one list of rows per worker.")  # fmt: skip
        rows = sorted(r for part in parts for r in part)
        if rows != list(range(90)):
            return failed(f"with {workers} workers, not every row appears exactly once",
                           "every row 0..height-1 must be in exactly one part.")  # fmt: skip
        shares = [cost[part].sum() for part in parts]
        imbalance = max(shares) / (sum(shares) / workers)
        if imbalance > 1.05:
            return failed(
                f"with {workers} workers the busiest does {imbalance:.2f}x the average work",
                "rows in the middle of the image are the expensive ones: give every "
                "worker some of them.",
            )
    return passed("every row once, and no worker does more than 5% above the average.")
