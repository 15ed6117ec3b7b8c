"""Checkers for the multiprocess chapter: notebook objects, what dill sends, a seed sweep."""

from __future__ import annotations

import socket
from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, call, failed, needs_function, passed


@needs_function
def check_closure_map(func: Callable[[list, list, int], list]) -> CheckResult:
    """Check ``func(coefficients, xs, workers)`` evaluates the polynomial at every x."""
    cases = [([1.0, 0.0, -2.0], [0.0, 1.0, 2.5, -3.0]), ([2.0], [1.0, 2.0]), ([1, 1], [])]
    for coefficients, xs in cases:
        want = [float(v) for v in np.polyval(coefficients, xs)] if xs else []
        for workers in (1, 2):
            try:
                got = call(func, coefficients, xs, workers)
            except Exception as exc:
                return failed(f"func({coefficients}, {xs}, {workers}) raised "
                               f"{type(exc).__name__}: {exc}",
                               "build the Polynomial, then pool.map(poly, xs) in a "
                               "multiprocess pool.")  # fmt: skip
            if got is None or len(got) != len(want) or not np.allclose(got, want):
                return failed(f"func({coefficients}, {xs}, {workers}) returned {got!r}, "
                               f"expected {want}",
                               "coefficients run from the highest power down, as in "
                               "numpy.polyval; keep the results in the order of xs.")  # fmt: skip
    return passed("a notebook-defined class went to the workers and back.")


def _generator():
    yield 1


@needs_function
def check_needs_dill(func: Callable[[object], str]) -> CheckResult:
    """Check ``func(obj)`` names the simplest serialiser that can send ``obj``."""
    offset = 3

    class Local:
        pass

    sock = socket.socket()
    try:
        cases = [
            ("an int", 42, "pickle"),
            ("a dict of lists", {"a": [1, 2]}, "pickle"),
            ("numpy.sqrt", np.sqrt, "pickle"),
            ("a lambda", lambda x: x, "dill"),
            ("a closure", lambda x: x + offset, "dill"),
            ("a class defined in a function", Local, "dill"),
            ("a generator", _generator(), "neither"),
            ("a socket", sock, "neither"),
        ]
        for label, obj, want in cases:
            try:
                got = call(func, obj)
            except Exception as exc:
                return failed(f"func({label}) raised {type(exc).__name__}: {exc}",
                               "catch the errors of pickle.dumps and dill.dumps.")  # fmt: skip
            if got != want:
                return failed(f"func({label}) returned {got!r}, expected {want!r}",
                               "try pickle.dumps first, then dill.dumps; if both raise, "
                               "return 'neither'.")  # fmt: skip
    finally:
        sock.close()
    return passed(f"right on all {len(cases)} objects.")


@needs_function
def check_seed_sweep(func: Callable[[list, int, int], dict]) -> CheckResult:
    """Check ``func(seeds, samples, workers)`` returns ``{seed: pi estimate}`` for each seed."""
    import kernels

    seeds, samples = [3, 1, 4, 1_000_003], 200_000
    want = {seed: kernels.run("monte_carlo_pi", "numpy", samples=samples, seed=seed)
            for seed in seeds}  # fmt: skip
    for workers in (1, 2):
        try:
            got = call(func, seeds, samples, workers)
        except Exception as exc:
            hint = "one task per seed; imap_unordered yields (seed, estimate) pairs."
            error = f"{type(exc).__name__}: {exc}"
            return failed(f"func(seeds, samples, {workers}) raised {error}", hint)
        if not isinstance(got, dict) or got != want:
            return failed(f"with {workers} workers got {got!r}, expected {want!r}",
                           "return a dict {seed: estimate}; call kernels.run('monte_carlo_pi', "
                           "'numpy', samples=samples, seed=seed) in each task.")  # fmt: skip
    return passed("every seed's estimate, the same for 1 and 2 workers.")
