"""``python gil_probe.py``: what this interpreter's threads do with pure Python code.

Standard library only, so that any Python 3 on the machine can run it (a free-threaded
3.13t or 3.14t, a 3.14 with ``InterpreterPoolExecutor``) without the book's packages.
Prints one JSON object: the version, whether the build is free-threaded and the GIL is
on now, and the best of 5 wall times of the same pure-Python work split among 1 and 2
threads (the rounds alternating), and, where the interpreter has it, among 1 and 2
subinterpreters.
"""

import json
import sys
import sysconfig
import time
from concurrent import futures

WORK = 2_000_000  # loop iterations per call, split among the workers (about 0.1 s)


def spin(count: int) -> int:
    """Pure Python arithmetic that holds the GIL wherever there is one."""
    total = 0
    for k in range(count):
        total = (total + k * k) % 1_000_003
    return total


def best_times(executor_class, rounds: int = 5) -> dict[int, float]:
    """Best wall time of ``WORK`` iterations split among 1 and among 2 workers.

    Both pools are started first, and the rounds alternate between them, so that a noisy
    moment on the machine (another process, a clock change) slows both alike instead of
    only the one measured then.
    """
    with executor_class(1) as one, executor_class(2) as two:
        pools = {1: one, 2: two}
        for workers, pool in pools.items():
            list(pool.map(spin, [1] * workers))  # every worker up
        times = {workers: [] for workers in pools}
        for _ in range(rounds):
            for workers, pool in pools.items():
                start = time.perf_counter()
                list(pool.map(spin, [WORK // workers] * workers))
                times[workers].append(time.perf_counter() - start)
    return {workers: min(spent) for workers, spent in times.items()}


def main() -> None:
    """Measure and print the JSON line."""
    interpreters = getattr(futures, "InterpreterPoolExecutor", None)
    gil_check = getattr(sys, "_is_gil_enabled", None)
    report = {
        "python": sys.version.split()[0],
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_check() if gil_check else True,
        "threads": best_times(futures.ThreadPoolExecutor),
        "interpreters": best_times(interpreters) if interpreters else None,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
