"""Checkers for the head-to-head chapter: Karp-Flatt, break-even task size, a new backend."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..core import laws
from ..core.checking import CheckResult, call, failed, needs_function, passed


@needs_function
def check_karp_flatt(func: Callable[[float, int], float]) -> CheckResult:
    """Check ``func(speedup, workers)`` returns the experimentally determined serial fraction."""
    for speedup, workers in [(3.0, 4), (1.9, 2), (1.0, 8), (7.5, 8), (12.0, 16)]:
        try:
            got = call(func, speedup, workers)
        except Exception as exc:
            return failed(f"func({speedup}, {workers}) raised {type(exc).__name__}: {exc}",
                           "solve Amdahl's 1/S = f + (1 - f)/p for f.")  # fmt: skip
        want = laws.karp_flatt(speedup, workers)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(
            got, want, rel_tol=1e-9, abs_tol=1e-12
        ):
            return failed(f"func({speedup}, {workers}) returned {got!r}",
                           "f = (1/S - 1/p) / (1 - 1/p).")  # fmt: skip
    return passed("the Karp-Flatt serial fraction, right on five measurements.")


@needs_function
def check_break_even(func: Callable[[float, float], float]) -> CheckResult:
    """Check ``func(overhead_s, efficiency)`` returns the task time that reaches ``efficiency``."""
    for overhead, efficiency in [(1e-4, 0.9), (2e-3, 0.5), (5e-6, 0.99), (0.5, 0.75)]:
        try:
            got = call(func, overhead, efficiency)
        except Exception as exc:
            return failed(f"func({overhead}, {efficiency}) raised {type(exc).__name__}: {exc}",
                           "a task of t seconds with o seconds of overhead is t / (t + o) "
                           "efficient; solve for t.")  # fmt: skip
        want = overhead * efficiency / (1.0 - efficiency)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(
            got, want, rel_tol=1e-9
        ):
            return failed(f"func({overhead}, {efficiency}) returned {got!r}",
                           "efficiency = t / (t + o), so t = o * E / (1 - E).")  # fmt: skip
    for bad in (0.0, 1.0, 1.5, -0.1):
        try:
            call(func, 1e-3, bad)
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
    cases = [{"width": 48, "height": 36, "max_iter": 60},
             {"width": 7, "height": 3, "max_iter": 5},
             {"width": 33, "height": 17, "max_iter": 90}]  # fmt: skip
    counts = (1, 2, 3) if backend.parallel else (1,)
    for params in cases:
        want = api.reference("mandelbrot", **params)
        for workers in counts:
            try:
                got = api.run("mandelbrot", backend.name, workers=workers, **params)
            except Exception as exc:
                return failed(f"kernels.run('mandelbrot', {backend.name!r}, workers={workers}, "
                               f"**{params}) raised {type(exc).__name__}: {exc}",
                               "take (workers, width, height, max_iter) and return the int32 "
                               "counts of shape (height, width).")  # fmt: skip
            problem = api.get_problem("mandelbrot").compare(got, want, params, True)
            if problem:
                return failed(f"{backend.name} with {workers} worker(s) at {params}: {problem}",
                               "every worker count must give the reference's counts: split "
                               "the rows, never the arithmetic.")  # fmt: skip
    if not backend.parallel:
        return failed(
            f"{backend.name} is registered as serial (parallel=False)",
            "register it with parallel=True so that workers > 1 is allowed.",
        )
    return passed(f"{backend.name} is a Mandelbrot backend: exact for 1 to 3 workers.")
