"""Checkers for the dask distributed chapter: data sent once, failed futures, a clean cluster.

Each check runs the answer against a real ``LocalCluster`` of two worker processes (or
lets the answer start its own), with fresh data on every call, and watches what the
cluster did: the tasks its workers ran (``get_task_stream``), the warnings of graphs
that carry large data, the worker processes started and left behind.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable

import numpy as np
import psutil

from ..core.checking import (
    CheckResult,
    ChildWatch,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
)
from .cluster import local_cluster


@contextlib.contextmanager
def _client():
    from distributed import Client

    # Failed tasks are part of an exercise: keep the workers' error logs off the page.
    with local_cluster(2, log_level=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client


def _ran(stream, name: str) -> list[dict]:
    """The task-stream records of tasks whose key starts with ``name``."""
    return [t for t in stream.data if str(t.get("key", "")).strip("('").startswith(name)]


@needs_function
def check_block_sums(func: Callable) -> CheckResult:
    """Check ``func(client, data, bounds)``: one task per block, the array sent once."""
    from distributed import get_task_stream

    rng = fresh_rng()
    data = rng.random(int(rng.integers(1_800_000, 2_400_000)))  # about 16 MB: "large"
    cuts = np.sort(rng.choice(np.arange(1, data.size), int(rng.integers(5, 11)), replace=False))
    bounds = [(int(a), int(b)) for a, b in zip([0, *cuts], [*cuts, data.size], strict=True)]
    with _client() as client:
        with warnings.catch_warnings(record=True) as caught, get_task_stream(client) as stream:
            warnings.simplefilter("always")
            got = attempt(func, client, data, bounds, what="calling it",
                          hint="submit tasks.block_sum(data, lo, hi) per block.")  # fmt: skip
    want = [float(data[lo:hi].sum()) for lo, hi in bounds]
    if not isinstance(got, (list, tuple)) or len(got) != len(bounds):
        return failed("the result is not one sum per block, in the order of `bounds`",
                      "return a list with one number per (lo, hi).")  # fmt: skip
    if not np.allclose(np.asarray(got, dtype=float), want, rtol=1e-12, atol=0):
        return failed("some sums differ from the blocks' sums",
                      "each task sums data[lo:hi] of its own block.")  # fmt: skip
    ran = _ran(stream, "block_sum")
    if len(ran) < len(bounds):
        return failed(f"the cluster's workers ran {len(ran)} block_sum task(s) for "
                      f"{len(bounds)} blocks",
                      "the sums are to be computed by the workers: client.submit or "
                      "client.map, one task per block.")  # fmt: skip
    if any("large graph" in str(w.message) for w in caught):
        return failed("the array travelled inside the tasks (distributed warned about a "
                      "large graph)",
                      "put the array on the workers once, and pass the tasks its "
                      "future.")  # fmt: skip
    return passed("one task per block on the workers, the array sent once.")


@needs_function
def check_reciprocals_or_none(func: Callable) -> CheckResult:
    """Check ``func(client, xs)``: ``1/x`` per item from the cluster, ``None`` where it failed."""
    from distributed import get_task_stream

    rng = fresh_rng()
    for _ in range(2):
        xs = [int(v) for v in rng.integers(-9, 10, int(rng.integers(6, 12)))]
        xs[int(rng.integers(len(xs)))] = 0
        want = [None if x == 0 else 1 / x for x in xs]
        with _client() as client, get_task_stream(client) as stream:
            got = attempt(func, client, xs, what="calling it",
                          hint="a failed task's error comes back when you ask for its "
                               "result: ask each future on its own.")  # fmt: skip
        if not isinstance(got, (list, tuple)) or len(got) != len(xs):
            return failed("the result does not have one entry per input, in order",
                          "keep a place for every input, failed or not.")  # fmt: skip
        if any(isinstance(g, BaseException) for g in got):
            return failed("an exception object is in the result",
                          "None marks a failed task.")  # fmt: skip
        if [g is None for g in got] != [w is None for w in want]:
            return failed("None is not exactly where the tasks failed",
                          "check each future's status (or catch the error of each "
                          "result on its own).")  # fmt: skip
        if any(g != w for g, w in zip(got, want, strict=True) if w is not None):
            return failed("some reciprocals are wrong", "1 / x for each x.")
        ran = _ran(stream, "reciprocal")
        distinct = len(set(xs))  # client.map runs equal inputs once (pure tasks)
        if len(ran) < distinct:
            return failed(f"the workers ran {len(ran)} reciprocal task(s) for "
                          f"{distinct} different inputs",
                          "submit one task per input to the client.")  # fmt: skip
    return passed("every task ran on the cluster, and each failure became None.")


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _stop(pids: set[int]) -> None:
    """Kill processes an answer left behind (the check must leave nothing running)."""
    processes = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            process.kill()
            processes.append(process)
    psutil.wait_procs(processes, timeout=10)


@contextlib.contextmanager
def _closing_what_it_leaves():
    """Close the clients and clusters created in the block that are still open after it.

    An answer that forgets to close its cluster leaves a scheduler in this process whose
    nannies restart any worker that is killed: closing the cluster is the only clean stop.
    """
    from distributed import Client
    from distributed.deploy.spec import SpecCluster

    clients, clusters = set(Client._instances), set(SpecCluster._instances)
    try:
        yield
    finally:
        for client in set(Client._instances) - clients:
            with contextlib.suppress(Exception):
                client.close()
        for cluster in set(SpecCluster._instances) - clusters:
            with contextlib.suppress(Exception):
                cluster.close()


@needs_function
def check_squares_on_own_cluster(func: Callable) -> CheckResult:
    """Check ``func(numbers, workers)`` starts worker processes, squares, and stops them."""
    rng = fresh_rng()
    workers = int(rng.integers(2, 4))
    numbers = [int(v) for v in rng.integers(-50, 50, int(rng.integers(5, 15)))]
    before = _descendants()
    with _closing_what_it_leaves():
        with ChildWatch() as watch:
            got = attempt(
                func,
                numbers,
                workers,
                what="calling it",
                hint="start a LocalCluster, connect a Client, map, gather.",
            )
        deadline = time.monotonic() + 5
        while (left := _live(_descendants() - before)) and time.monotonic() < deadline:
            time.sleep(0.1)
    if left:
        _stop(_live(_descendants() - before))
        return failed(f"{len(left)} process(es) of the cluster were still running after it "
                      "returned",
                      "close the client and the cluster before returning: `with` blocks "
                      "do it even when a task fails.")  # fmt: skip
    if list(got or []) != [x * x for x in numbers]:
        return failed("the result is not the squares of `numbers`, in order",
                      "gather the futures in the order they were submitted.")  # fmt: skip
    # A LocalCluster's nannies spawn one process per worker, and may start one again
    # (one worker once showed two, one after the other): the most running at once.
    started = watch.most
    if started < workers:
        return failed(f"{started} worker process(es) ran at once for workers={workers}",
                      "a cluster of worker processes, one per worker (threads would stay "
                      "in this process).")  # fmt: skip
    return passed("the cluster's worker processes did the work and were all stopped.")


def _live(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(
                    process.cmdline()):  # fmt: skip
                alive.add(pid)
    return alive
