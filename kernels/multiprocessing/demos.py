"""Measurements chapter 03 shows live: chunksize, load balance, data transfer.

Each ``measure_...`` function returns a :class:`pandas.DataFrame`; each ``plot_...``
draws it with a caption naming the machine. Pools are started before timing starts (a
pool is started once and reused in real programs) and always shut down.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ..core import shared_memory as shared_arrays
from ..core import tasks
from ..core.figures import footnote, loglog_by
from ..core.timing import best_of
from ..core.watched_pool import watched_pool
from ..problems import mandelbrot

if TYPE_CHECKING:
    import pandas as pd


def measure_chunksize(
    n_tasks: int,
    chunksizes: Iterable[int],
    workers: int = 2,
    library: str = "multiprocessing",
    repeat: int = 3,
) -> pd.DataFrame:
    """Time ``Pool.map(square, range(n_tasks), chunksize)`` for each chunksize.

    Returns
    -------
    pandas.DataFrame
        Columns ``chunksize``, ``messages`` (how many batches were sent) and
        ``seconds`` (best of ``repeat``, or of the runs that fit in a second: the
        slowest chunk sizes, seconds long and far from the rest, are timed once), plus a
        row ``chunksize=None`` for ``Pool``'s own choice (``n_tasks / (4 * workers)``,
        rounded up).
    """
    import pandas as pd

    rows = []
    with watched_pool(workers, "spawn", library) as pool:
        pool.map(tasks.square, range(workers))  # workers are up and have imported kernels
        for chunksize in [*chunksizes, None]:
            size = chunksize or math.ceil(n_tasks / (4 * workers))

            def run(size: int = size) -> None:
                pool.map(tasks.square, range(n_tasks), chunksize=size)

            rows.append({
                "chunksize": chunksize, "size": size,
                "messages": math.ceil(n_tasks / size),
                "seconds": best_of(run, repeat, time_limit=1.0),
            })  # fmt: skip
    return pd.DataFrame(rows)


def plot_chunksize(df: pd.DataFrame):
    """Time against chunksize (log-log), with Pool's default marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    fixed = df[df["chunksize"].notna()]
    ax.loglog(fixed["size"], fixed["seconds"], "o-", label="chunksize given")
    auto = df[df["chunksize"].isna()]
    ax.loglog(auto["size"], auto["seconds"], "s", ms=10, label="Pool's default")
    ax.set_xlabel("chunksize (tasks per message)")
    ax.set_ylabel("seconds (best run)")
    n_tasks = int(df["messages"].iloc[0] * df["size"].iloc[0])
    ax.set_title(f"Pool.map of {n_tasks:,} tiny tasks")
    ax.legend()
    footnote(fig, "Each message costs a pickle, a pipe write and a wake-up.")
    return fig


def measure_balance(
    workers: int, width: int, height: int, max_iter: int, repeat: int = 1
) -> pd.DataFrame:
    """Busy time of each worker for three ways of splitting the Mandelbrot rows.

    ``static blocks``: one contiguous block of rows per worker; ``interleaved``: row ``i``
    to worker ``i % workers``; ``dynamic``: 8 small blocks per worker handed out as
    workers become free (``imap_unordered``, ``chunksize=1``).

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``worker`` (0, 1, ... per strategy), ``busy_s`` (CPU
        seconds computing), ``wall_s`` (the whole map, best of ``repeat``).
    """
    import pandas as pd

    def blocks(count: int) -> list[list[int]]:
        bounds = [height * k // count for k in range(count + 1)]
        return [list(range(a, b)) for a, b in itertools.pairwise(bounds)]

    strategies = {
        "static blocks": blocks(workers),
        "interleaved": mandelbrot.interleaved_rows(height, workers),
        "dynamic": blocks(8 * workers),
    }
    rows = []
    with watched_pool(workers, "spawn", "multiprocessing") as pool:
        pool.map(tasks.square, range(workers))
        for strategy, parts in strategies.items():
            args = [(mandelbrot.rows_numpy, list(part), width, height, max_iter) for part in parts]
            best = None
            for _ in range(repeat):
                start = time.perf_counter()
                results = pool.starmap(tasks.timed_call, args)
                wall = time.perf_counter() - start
                if best is None or wall < best[0]:
                    best = (wall, results)
            busy: dict[int, float] = {}
            for pid, seconds in best[1]:
                busy[pid] = busy.get(pid, 0.0) + seconds
            for worker, seconds in enumerate(sorted(busy.values(), reverse=True)):
                rows.append({"strategy": strategy, "worker": worker, "busy_s": seconds,
                             "wall_s": best[0]})  # fmt: skip
    return pd.DataFrame(rows)


def plot_balance(df: pd.DataFrame):
    """Bars of each worker's busy time per strategy, with the wall time marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    strategies = list(dict.fromkeys(df["strategy"]))
    workers = int(df["worker"].max()) + 1
    width = 0.8 / workers
    for w in range(workers):
        busy = [df[(df.strategy == s) & (df.worker == w)]["busy_s"].sum() for s in strategies]
        ax.bar(np.arange(len(strategies)) + w * width, busy, width, label=f"worker {w}")
    for i, s in enumerate(strategies):
        wall = df[df.strategy == s]["wall_s"].iloc[0]
        ax.hlines(wall, i - width / 2, i + workers * width - width / 2, colors="k")
    ax.set_xticks(np.arange(len(strategies)) + (workers - 1) * width / 2, strategies)
    ax.set_ylabel("CPU seconds computing (black line: wall time)")
    ax.set_title("Who waits? Mandelbrot rows split three ways")
    ax.legend()
    footnote(fig, "Busy time per worker, sorted busiest first.")
    return fig


def measure_transfer(megabytes: Iterable[float], repeat: int = 3) -> pd.DataFrame:
    """Time for a worker to sum an array sent by pickling vs one it maps from shared memory.

    Returns
    -------
    pandas.DataFrame
        Columns ``megabytes``, ``method`` (``"pickled copy"`` or ``"shared memory"``),
        ``seconds`` (best of ``repeat``, the whole round trip of one ``apply``).
    """
    import pandas as pd

    rows = []
    with watched_pool(1, "spawn", "multiprocessing") as pool:
        pool.map(tasks.square, [0])
        for mb in megabytes:
            n = max(int(mb * 2**20 / 8), 1)
            with shared_arrays.shared_arrays((n,), 1) as shared:
                shared.arrays[0][:] = 1.0
                array = shared.arrays[0].copy()
                name = shared.names[0]
                send = functools.partial(pool.pool.apply, tasks.array_sum, (array,))
                share = functools.partial(pool.pool.apply, tasks.shared_array_sum, (name, (n,)))
                pickled, mapped = best_of(send, repeat), best_of(share, repeat)
            rows.append({"megabytes": mb, "method": "pickled copy", "seconds": pickled})
            rows.append({"megabytes": mb, "method": "shared memory", "seconds": mapped})
    return pd.DataFrame(rows)


def plot_transfer(df: pd.DataFrame):
    """Round-trip time against array size for both ways of getting data to a worker."""
    return loglog_by(df, "method", "megabytes", "seconds", xlabel="array size (MiB)",
                     ylabel="seconds for one task (best of repeats)",
                     title="Sending an array to a worker vs sharing it",
                     note="The worker sums the array; both include the task round "
                          "trip.")  # fmt: skip
