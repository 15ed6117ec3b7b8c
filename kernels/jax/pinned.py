"""``jax-sharded`` with one core per CPU device: the fair CPU scaling experiment.

One JAX CPU device already runs its operations on every core it may use (XLA's own
threads), so "1 device" is not "1 core", and 2 devices on the same cores show no
speedup. Pinned, a process that may use ``N`` cores gets ``N`` devices: 1 device on 1
core against 2 devices on 2 cores is the same experiment as 1 MPI rank against 2.
XLA's thread flags (``--xla_cpu_multi_thread_eigen=false``,
``intra_op_parallelism_threads=1``) did not stop a device from using both cores of the
book's machine; the CPU affinity mask, which XLA sizes its thread pool from, does.

:func:`measure_pinned` times each device count in a worker process of its own, pinned
with ``os.sched_setaffinity`` before JAX starts (:mod:`kernels.jax.server`), all of them
started first so that the runs alternate between the counts. Where the system has no
affinity call (macOS), the devices share all cores and the table says so in its
``pinned`` column. Inside a pinned worker, :func:`spread_threads` then holds each of
XLA's threads to one of its cores.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def pin_to_cores(count: int) -> bool:
    """Restrict this process to the first ``count`` cores it may use.

    Returns ``False`` where it cannot: the system has no affinity call, or the process
    may use fewer than ``count`` cores (the devices then share them).

    Raises
    ------
    ValueError
        ``count`` is below 1.
    """
    if count < 1:
        raise ValueError(f"devices must be >= 1, got {count}")
    if not can_pin(count):
        return False
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:count])
    return True


def start_jax_on_cores(count: int) -> bool:
    """Hold this process to ``count`` cores, then ask JAX for ``count`` CPU devices.

    Call it before JAX starts, in a process of its own (a worker). Returns whether the
    process was pinned (:func:`pin_to_cores`).
    """
    pinned = pin_to_cores(count)
    import jax

    jax.config.update("jax_num_cpu_devices", count)
    return pinned


def spread_threads(held: set[int]) -> None:
    """Hold each thread of this process but the main one to one core of its own, in turn.

    XLA runs each CPU device's program on a thread of its own, and splits some operations
    (heat's loops) over a pool of one thread per core; each of these threads may run on
    any core the process may use. Woken together by the main thread, the two device
    threads of a 2-core worker at times took turns on one core. Inside one worker, at
    1000x750x300, the slow two-device calls (over 22 ms, against 17 to 18 ms) took no
    more time on the cores than the fast ones, and in a slower one (21.7 ms) the device
    threads had waited 3.9 and 5.6 ms for a core (``/proc/self/task/*/schedstat``). Held
    this way, chapter 12's race gave ``jax-sharded`` 0.77 to 0.83 at two devices in
    eight runs on an Intel Xeon (AVX-512, 2 cores), against 0.62 to 0.82 in eight runs
    without. The threads are taken in the order of their ids, the order they were
    started in, and dealt to the cores round-robin, so that the threads of a pool,
    started one after another, land on different cores. Threads in
    ``held`` are left as they are, and the ones held here are added to it: call it
    again after a request, for the threads started since. Linux only; elsewhere it
    does nothing.

    Parameters
    ----------
    held : set of int
        Thread ids already held; updated in place.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    import psutil

    main = os.getpid()  # on Linux, the main thread's id
    threads = sorted(thread.id for thread in psutil.Process().threads() if thread.id != main)
    cores = sorted(os.sched_getaffinity(0))
    for index, tid in enumerate(threads):
        if tid in held:
            continue
        with contextlib.suppress(OSError):  # a thread that has ended since
            os.sched_setaffinity(tid, {cores[index % len(cores)]})
            held.add(tid)


def can_pin(count: int) -> bool:
    """Whether :func:`pin_to_cores` can hold a process to ``count`` cores here."""
    return hasattr(os, "sched_getaffinity") and count <= len(os.sched_getaffinity(0))


def measure_pinned(
    problems: dict[str, dict], workers: Iterable[int], repeat: int = 3,
    budget: float | None = None, number: int = 1,
) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Time ``jax-sharded`` with ``N`` devices on ``N`` cores, for each ``N`` and problem.

    One pinned worker process per device count is started first
    (:func:`kernels.jax.warm.warm_devices`) and kept for every problem; the runs then
    alternate between the device counts (:func:`kernels.core.bench.measure`), so a slow
    stretch of the machine falls on all of them alike.

    Parameters
    ----------
    problems : dict
        Problem name to its parameters, e.g. ``{"heat": {"n": 1024, "steps": 300}}``.
    workers : list of int
        Device counts (each on as many cores).
    repeat : int
        Timed runs per device count, after a warm-up run that compiles the program.
    budget : float, optional
        Seconds: more rounds of runs after the ``repeat`` ones, until the runs of a
        problem have taken this long (:func:`kernels.core.bench.measure`'s ``budget``).
    number : int
        Calls per timed run, back to back, their mean the run's time
        (:func:`kernels.core.bench.measure`'s ``number``).

    Returns
    -------
    dict of pandas.DataFrame
        By problem: :func:`kernels.core.bench.measure`'s columns (self-speedup against the
        one-device, one-core run), ``startup_s`` (what starting that worker cost, once)
        and ``pinned``: whether the worker really was held to ``N`` cores.

    Raises
    ------
    ValueError
        An unknown problem, before any worker starts.
    WorkerDiedError
        A worker failed; the message holds its error output.
    """
    from ..core import bench
    from ..core.registry import get_problem
    from .warm import warm_devices

    for problem in problems:
        get_problem(problem)
    counts = list(dict.fromkeys(workers))
    tables = {}
    with warm_devices(counts) as startup:
        for problem, params in problems.items():
            df = bench.measure(problem, ["jax-sharded"], workers=counts, repeat=repeat,
                               budget=budget, number=number, **params)  # fmt: skip
            df["startup_s"] = [startup[w] for w in df["workers"]]
            df["pinned"] = [can_pin(w) for w in df["workers"]]
            tables[problem] = df
    return tables
