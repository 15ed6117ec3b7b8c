"""Task functions for the pool tests (importable by spawned workers)."""

from __future__ import annotations

import os
import signal
import sys
import time
import types


def square(x: int) -> int:
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"task {x} failed on purpose")
    time.sleep(0.05)
    return x


def die_on_two(x: int) -> int:
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x


def sleep_long(x: int) -> int:
    if x == 0:
        raise RuntimeError("first task fails while the others sleep")
    time.sleep(600)
    return x


def function_only_the_parent_can_import():
    """A function whose module exists only in this process, like one defined in a notebook.

    Under ``spawn``/``forkserver`` a worker unpickles a function by importing its module;
    this one cannot be imported there, as a function defined in ``__main__`` of a
    notebook cannot.
    """
    module = types.ModuleType("ghost_module_for_tests")
    exec("def cube(x):\n    return x ** 3\n", module.__dict__)
    sys.modules[module.__name__] = module
    return module.cube


def step_rows_failing_on_the_second_block(src, dst, lo, hi):
    """A heat update that raises in the worker holding any block but the first."""
    if lo > 1:
        raise ValueError(f"rows {lo}:{hi} failed")
    dst[lo:hi] = src[lo:hi]
