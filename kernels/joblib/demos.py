"""Chapter 04's joblib measurements: start-up, memory-mapping against copies, batching.

Each runs now, on this machine, and stops loky's workers before returning; where the
point is not start-up, the workers are started first (:func:`~.backend.keep_workers`)
and reused by every timed call.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ..core import tasks
from ..core.figures import loglog_by
from ..core.timing import best_of
from .pool import keep_workers, stop_workers

if TYPE_CHECKING:
    import pandas as pd


def measure_startup(workers: int, repeat: int = 3) -> pd.DataFrame:
    """Seconds for ``Parallel(n_jobs=workers)`` over one tiny task per worker.

    ``"first call"`` starts loky's workers (and stops them after); ``"workers reused"``
    is the same call while the workers from the call before are still running, which is
    what loky does between calls in a long-running program.
    """
    import pandas as pd
    from joblib import Parallel, delayed

    def call() -> None:
        Parallel(n_jobs=workers)(delayed(tasks.square)(k) for k in range(workers))

    def cold() -> None:
        stop_workers()
        call()

    try:
        first = best_of(cold, repeat)
    finally:
        stop_workers()
    with keep_workers([workers]):
        reused = best_of(call, repeat)
    return pd.DataFrame({"library": "joblib (loky)", "workers": workers,
                         "what": ["first call", "workers reused"],
                         "seconds": [first, reused]})  # fmt: skip


def measure_memmapping(sizes_mb: Iterable[float], workers: int = 2, repeat: int = 3):
    """Seconds to send an array of each size to ``2 * workers`` tasks that sum it.

    ``"memory-mapped"`` is joblib's default (arrays over 1 MB are dumped once to a file
    in ``/dev/shm`` or a temporary folder, and each task gets the file's name);
    ``"pickled copies"`` is ``max_nbytes=None`` (every task gets its own pickled copy).
    Best of ``repeat`` calls, or of the calls that fit in a second: 100 MB of copies
    (2 s a call on the book's machine) is timed once.
    """
    import pandas as pd
    from joblib import Parallel, delayed

    rows = []
    with keep_workers([workers]):
        for k, size_mb in enumerate(sizes_mb):
            array = np.ones(max(1, int(size_mb * 1e6 / 8)))
            for method, max_nbytes in (("memory-mapped", "1M"), ("pickled copies", None)):

                def send(max_nbytes=max_nbytes, array=array) -> None:
                    # A new Parallel per call, as code usually does: a memory map is
                    # written for the call and deleted when it ends.
                    parallel = Parallel(n_jobs=workers, max_nbytes=max_nbytes)
                    totals = parallel(delayed(tasks.array_sum)(array) for _ in range(2 * workers))
                    assert totals == [float(array.size)] * len(totals)

                if k == 0:  # uncounted: each method's first call sets itself up
                    send()
                rows.append({"size_mb": size_mb, "method": method,
                             "seconds": best_of(send, repeat, time_limit=1.0)})  # fmt: skip
    return pd.DataFrame(rows)


def plot_memmapping(df: pd.DataFrame):
    """Seconds against array size, one line per method (log-log)."""
    return loglog_by(df, "method", "size_mb", "seconds", xlabel="array size (MB)",
                     ylabel="seconds (tasks that sum the array)",
                     title="joblib: memory-mapped arrays against pickled copies",
                     note="Best of repeats; loky's workers already running.")  # fmt: skip


def measure_batching(workers: int = 2, tasks_count: int = 2000) -> pd.DataFrame:
    """Seconds per tiny task with ``batch_size=1`` and with joblib's ``"auto"`` batching."""
    import pandas as pd
    from joblib import Parallel, delayed

    rows = []
    with keep_workers([workers]):
        for batch_size in (1, "auto"):
            parallel = Parallel(n_jobs=workers, batch_size=batch_size)
            parallel(delayed(tasks.square)(k) for k in range(4 * workers))
            start = time.perf_counter()
            parallel(delayed(tasks.square)(k) for k in range(tasks_count))
            seconds = time.perf_counter() - start
            rows.append({"batch_size": str(batch_size), "tasks": tasks_count,
                         "us_per_task": seconds / tasks_count * 1e6})  # fmt: skip
    return pd.DataFrame(rows)
