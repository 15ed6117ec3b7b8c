"""Checkers for the multiprocess chapter: notebook objects, what dill sends, a seed sweep.

Cases are drawn afresh on every call; messages never show the expected values. The
pool exercises are watched: the checker sees the worker processes the call started
and, for the sweep, in which process each estimate was computed.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Callable

import numpy as np

from ..core import tracing
from ..core.checking import (
    CheckResult,
    ChildWatch,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
)


def _too_few_workers(case: str, started: int, workers: int) -> CheckResult:
    return failed(f"{case} started {started} worker process(es)",
                   "start a multiprocess pool with `workers` processes and hand it the "
                   "work: the point is that the notebook's objects travel to "
                   "them.")  # fmt: skip


@needs_function
def check_closure_map(func: Callable[[list, list, int], list]) -> CheckResult:
    """Check ``func(coefficients, xs, workers)`` evaluates the polynomial in a pool."""
    rng = fresh_rng()
    cases = [([float(rng.integers(-5, 6))], [float(rng.uniform(-3, 3))], 1), ([1.0, 2.0], [], 2)]
    for workers in (2, 3):
        coefficients = _coefficients_not_a_palindrome(rng)
        xs = [float(x) for x in np.round(rng.uniform(-4, 4, int(rng.integers(8, 30))), 3)]
        cases.append((coefficients, xs, workers))
    for coefficients, xs, workers in cases:
        case = f"evaluate_all({coefficients}, <{len(xs)} numbers>, {workers})"
        with ChildWatch() as watch:
            got = attempt(func, coefficients, xs, workers, what=case,
                          hint="make a Polynomial of the coefficients and map it over xs "
                               "in a multiprocess pool.")  # fmt: skip
        want = np.polyval(coefficients, xs) if xs else np.empty(0)
        if got is None or len(got) != len(xs):
            return failed(f"{case} returned {len(got) if got is not None else None} values "
                           f"for {len(xs)} numbers",
                           "one value per x, as a list.")  # fmt: skip
        if not np.allclose(np.asarray(got, dtype=float), want, rtol=1e-9, atol=1e-9):
            return failed(f"{case}: some values are wrong",
                           "coefficients run from the highest power down, as in "
                           "numpy.polyval; keep the results in the order of xs.")  # fmt: skip
        if xs and workers > 1 and len(watch.pids) < workers:
            return _too_few_workers(case, len(watch.pids), workers)
    return passed("a notebook-defined class went to the workers and back.")


def _coefficients_not_a_palindrome(rng) -> list[float]:
    """2 to 5 integer coefficients that differ from their reverse, so that a polynomial
    evaluated from the wrong end (lowest power first) gives other values."""
    while True:
        coefficients = [float(c) for c in rng.integers(-9, 10, int(rng.integers(2, 6)))]
        if coefficients != coefficients[::-1]:
            return coefficients


def _generator():
    yield 1


def _serialiser_cases(rng) -> list[tuple[str, object, str]]:
    offset = int(rng.integers(1, 100))

    class Local:
        pass

    def inner(x):
        return x + offset

    cases = [
        ("an int", int(rng.integers(-1000, 1000)), "pickle"),
        ("a dict of lists", {"a": [1, 2], "b": list(range(offset))}, "pickle"),
        ("numpy.sqrt", np.sqrt, "pickle"),
        ("a NumPy array", rng.random(offset), "pickle"),
        ("os.getpid", os.getpid, "pickle"),
        ("a lambda", lambda x: x * offset, "dill"),
        ("a closure", inner, "dill"),
        ("a class defined in a function", Local, "dill"),
        ("an instance of that class", Local(), "dill"),
        ("a generator", _generator(), "neither"),
        ("a lock", threading.Lock(), "dill"),
        ("a memoryview", memoryview(bytes(offset)), "neither"),
        ("a database connection", sqlite3.connect(":memory:"), "neither"),
    ]
    # Two of each answer at least: an answer that is wrong only for pickle's objects
    # (dill tried first) would pass the draws that left all five of them out.
    by_answer = {want: [k for k, case in enumerate(cases) if case[2] == want]
                 for want in ("pickle", "dill", "neither")}  # fmt: skip
    picked = [int(i) for ks in by_answer.values() for i in rng.permutation(ks)[:2]]
    rest = [k for k in range(len(cases)) if k not in picked]
    picked += [int(i) for i in rng.choice(rest, size=8 - len(picked), replace=False)]
    return [cases[i] for i in picked]


@needs_function
def check_needs_dill(func: Callable[[object], str]) -> CheckResult:
    """Check ``func(obj)`` names the simplest serialiser that can send ``obj``."""
    rng = fresh_rng()
    sock = socket.socket()
    cases = [*_serialiser_cases(rng), ("a socket", sock, "neither")]
    try:
        for i in rng.permutation(len(cases)):
            label, obj, want = cases[i]
            got = attempt(func, obj, what=f"func({label})",
                          hint="a serialiser that cannot send something raises: catch it "
                               "and try the next.")  # fmt: skip
            if got not in ("pickle", "dill", "neither"):
                return failed(f"func({label}) returned {got!r}",
                               "return one of 'pickle', 'dill' or 'neither'.")  # fmt: skip
            if got != want:
                return failed(f"func({label}) returned {got!r}: that is not the simplest "
                               "serialiser that can send it",
                               "try them in order, simplest first, and actually call "
                               "dumps: whether it raises is the answer.")  # fmt: skip
    finally:
        sock.close()
        for _, obj, _ in cases:
            if isinstance(obj, sqlite3.Connection):
                obj.close()
    return passed(f"right on all {len(cases)} objects.")


@needs_function
def check_seed_sweep(func: Callable[[list, int, int], dict]) -> CheckResult:
    """Check ``func(seeds, samples, workers)`` returns ``{seed: pi estimate}`` from a pool."""
    import kernels

    rng = fresh_rng()
    seeds = [int(s) for s in rng.choice(10**6, size=int(rng.integers(4, 8)), replace=False)]
    samples = int(rng.integers(100_000, 300_000))
    want = {seed: kernels.run("monte_carlo_pi", "numpy", samples=samples, seed=seed)
            for seed in seeds}  # fmt: skip
    # Seeds whose estimates happen to rise in the order given would let results matched to
    # seeds by the order they sort in (or arrive in) pass: give them in another order.
    while [want[seed] for seed in seeds] == sorted(want.values()):
        rng.shuffle(seeds)
    for workers in (1, 2):
        case = f"pi_for_seeds(<{len(seeds)} seeds>, {samples}, {workers})"
        with tracing.traced() as trace, ChildWatch() as watch:
            got = attempt(func, seeds, samples, workers, what=case,
                          hint="one task per seed in a multiprocess pool; each task "
                               "returns (seed, estimate).")  # fmt: skip
        if not isinstance(got, dict) or set(got) != set(seeds):
            return failed(f"{case} did not return a dict with one entry per seed",
                           "return {seed: estimate} for every seed given.")  # fmt: skip
        if any(got[seed] != want[seed] for seed in seeds):
            return failed(f"{case}: some estimates differ from kernels.run with that seed",
                           "every task must call kernels.run('monte_carlo_pi', 'numpy', "
                           "samples=samples, seed=its seed): results are put back by seed, "
                           "not by the order they arrive.")  # fmt: skip
        runs = trace.of("run")
        if os.getpid() in trace.pids("run") or len(runs) < len(seeds):
            return failed(f"{case}: the estimates were computed in this process",
                           "run one task per seed in the pool's worker "
                           "processes.")  # fmt: skip
        if workers > 1 and len(watch.pids) < workers:
            return _too_few_workers(case, len(watch.pids), workers)
    return passed("every seed's estimate, computed in the pool's workers, the same for 1 "
                  "and 2 workers.")  # fmt: skip
