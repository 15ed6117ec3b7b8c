"""Checkers for the head-to-head chapter: Karp-Flatt, break-even task size, a new backend."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from ..core import laws, machine
from ..core.checking import (
    CheckResult,
    ChildWatch,
    attempt,
    failed,
    fresh_rng,
    most_cores,
    needs_function,
    passed,
    what_it_raised,
)


@needs_function
def check_karp_flatt(func: Callable[[float, int], float]) -> CheckResult:
    """Check ``func(speedup, workers)`` returns the experimentally determined serial fraction."""
    rng = fresh_rng()
    cases = [(1.0, int(rng.integers(2, 64)))]  # no speedup at all: everything serial
    for _ in range(6):
        workers = int(rng.integers(2, 129))
        cases.append((round(float(rng.uniform(1.05, workers * 0.98)), 3), workers))
    for speedup, workers in cases:
        got = attempt(func, speedup, workers, what=f"func({speedup}, {workers})",
                      hint="take Amdahl's law for the speedup on p workers and solve "
                           "it for the serial fraction.")  # fmt: skip
        want = laws.karp_flatt(speedup, workers)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(
            got, want, rel_tol=1e-9, abs_tol=1e-12
        ):
            return failed(f"func({speedup}, {workers}) returned {got!r}, which Amdahl's law "
                           f"does not turn into a speedup of {speedup} on {workers} "
                           "workers",
                           "check your answer by putting it back into Amdahl's law: it "
                           "must give the measured speedup.")  # fmt: skip
    return passed(f"the Karp-Flatt serial fraction, right on {len(cases)} measurements.")


@needs_function
def check_break_even(func: Callable[[float, float], float]) -> CheckResult:
    """Check ``func(overhead_s, efficiency)`` returns the task time that reaches ``efficiency``."""
    rng = fresh_rng()
    cases = [(float(10 ** rng.uniform(-6, 0)), round(float(rng.uniform(0.05, 0.995)), 3))
             for _ in range(6)]  # fmt: skip
    for overhead, efficiency in cases:
        got = attempt(func, overhead, efficiency, what=f"func({overhead:.3g}, {efficiency})",
                      hint="a task of t seconds with o seconds of overhead is t / (t + o) "
                           "efficient; solve that for t.")  # fmt: skip
        want = overhead * efficiency / (1.0 - efficiency)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(
            got, want, rel_tol=1e-9
        ):
            return failed(f"func({overhead:.3g}, {efficiency}) returned {got!r}: a task that "
                           "long does not reach that efficiency exactly",
                           "put your t back into t / (t + o): it must give the efficiency "
                           "asked for.")  # fmt: skip
    for bad in (0.0, 1.0, 1.5, -0.1):
        try:
            func(1e-3, bad)
        except ValueError:
            continue
        except Exception as exc:
            return failed(
                f"func(0.001, {bad}) raised {type(exc).__name__}, not ValueError",
                "raise ValueError naming the allowed range 0 < efficiency < 1.",
            )
        return failed(f"func(0.001, {bad}) returned instead of refusing an impossible "
                       "efficiency",
                       "an efficiency must be strictly between 0 and 1: raise ValueError "
                       "otherwise.")  # fmt: skip
    return passed("break-even task times right, impossible efficiencies refused.")


@needs_function
def check_own_backend(func: Callable) -> CheckResult:
    """Check a function registered with ``register_backend`` for Mandelbrot keeps the contract."""
    from ..core import api
    from ..core.registry import BACKENDS

    entries = [b for (p, _), b in BACKENDS.items() if p == "mandelbrot" and b.func is func]
    if not entries:
        return failed("your function is not registered as a Mandelbrot backend",
                       'decorate it with @register_backend("my-name", "mandelbrot", '
                       "parallel=True).")  # fmt: skip
    backend = entries[0]
    rng = fresh_rng()
    cases = [{"width": 7, "height": 3, "max_iter": 5}]
    cases += [{"width": int(rng.integers(8, 64)), "height": int(rng.integers(4, 48)),
               "max_iter": int(rng.integers(10, 150))} for _ in range(2)]  # fmt: skip
    counts = (1, 2, 3) if backend.parallel else (1,)
    for params in cases:
        want = api.reference("mandelbrot", **params)
        for workers in counts:
            try:
                got = api.run("mandelbrot", backend.name, workers=workers, **params)
            except Exception as exc:
                return failed(f"kernels.run('mandelbrot', {backend.name!r}, workers={workers}, "
                               f"**{params}) raised {what_it_raised(exc)}",
                               "take (workers, width, height, max_iter) and return the int32 "
                               "counts of shape (height, width).")  # fmt: skip
            problem = api.get_problem("mandelbrot").compare(got, want, params, True)
            if problem is not None:
                return failed(f"{backend.name} with {workers} worker(s) at {params}: {problem}",
                               "every worker count must give the reference's counts: split "
                               "the rows, never the arithmetic.")  # fmt: skip
    if not backend.parallel:
        return failed(
            f"{backend.name} is registered as serial (parallel=False)",
            "register it with parallel=True so that workers > 1 is allowed.",
        )
    if machine.usable_cores() >= 2:
        params = _long_enough(backend.name, {"width": 480, "height": 360, "max_iter": 200})
        with ChildWatch() as watch:
            # up to 10 tries, 6 s of them at most: a busy machine may take a core from the
            # run for a while, and an answer that stays serial is not run for a minute
            cores = most_cores(lambda: api.run("mandelbrot", backend.name, workers=2, **params),
                               enough=1.25, tries=10, time_limit=6.0)  # fmt: skip
        if cores < 1.25 and len(watch.pids) < 2:
            return failed(f"with workers=2, {backend.name} kept {cores:.1f} core of this "
                           f"process busy and started {len(watch.pids)} process(es): it ran "
                           "serially",
                           "the workers must share the rows: threads running code that "
                           "releases the GIL, or processes.")  # fmt: skip
    return passed(f"{backend.name} is a parallel Mandelbrot backend: exact for 1 to 3 "
                  "workers, and two workers really ran.")  # fmt: skip


# A call of the parallel check lasts at least this long (seconds), on a taller image if
# need be: in a call of a few milliseconds, starting and joining the threads and handing
# the GIL between them (tens of microseconds each on a virtual machine) are so large a
# part that a correct answer with threads kept 0.8 to 1.1 cores busy at 480x360x200
# (4.5 ms a call), and 1.5 to 1.8 on 1440 and 3600 rows.
LONG_ENOUGH_S = 0.025
# The most rows the check multiplies the image's height by.
MOST_TALLER = 10


def _long_enough(name: str, params: dict) -> dict:
    """``params`` with as many more rows as make one two-worker call last ``LONG_ENOUGH_S``.

    Same width and iterations, so every row costs what it did; a slow answer (pure
    Python, or a pool started on every call) is judged at the size given.
    """
    from ..core import api

    start = time.perf_counter()
    api.run("mandelbrot", name, workers=2, **params)
    taller = math.ceil(LONG_ENOUGH_S / max(time.perf_counter() - start, 1e-6))
    return {**params, "height": params["height"] * min(max(taller, 1), MOST_TALLER)}
