"""What ``python -m kernels bench`` adds to a measurement: the C ceiling and fresh processes.

``--ceiling`` appends the C program (:mod:`kernels.c.baseline`, the compiled backends'
algorithm built with the extensions' flags) at the same thread counts as rows of backend
``C``, so numba/C and Cython/C read off one table. ``--processes N`` repeats the whole
measurement in N fresh Python processes and reports, per backend and worker count, the
median of their medians and the range: a compiled loop's speed can change from one
process to the next (where its code and arrays land in memory), by more than the
differences between the tools.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

from ..core.subprocesses import run_command

C_BACKEND = "C"
# Seconds one fresh process may take for its whole measurement.
PROCESS_TIMEOUT = 3600


def with_ceiling(df: pd.DataFrame, params: dict, workers: list[int], repeat: int) -> pd.DataFrame:
    """``df`` with rows of the C program for Mandelbrot at each worker count (its threads).

    Raises
    ------
    ValueError
        The problem is not Mandelbrot (the C program computes only that).
    """
    from ..c import baseline
    from ..core.bench import add_speedups, checksum

    if set(df["problem"]) != {"mandelbrot"}:
        raise ValueError("--ceiling is for mandelbrot only: the C program computes nothing else")
    image = {k: params[k] for k in ("width", "height", "max_iter")}
    rows = []
    for threads in workers:
        runs = baseline.runs(**image, threads=threads, repeat=repeat)
        seconds = [r.seconds for r in runs]
        rows.append({
            "problem": "mandelbrot", "backend": C_BACKEND, "workers": threads, "params": image,
            "seconds": seconds, "median_s": statistics.median(seconds), "best_s": min(seconds),
            "checksum": checksum(runs[0].counts), "scaling": "strong",
            **({"startup_s": 0.0} if "startup_s" in df else {}),  # it starts no workers
        })  # fmt: skip
    both = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
    return add_speedups(both)[df.columns]


def of_ceiling(df: pd.DataFrame) -> pd.DataFrame:
    """The C program's time over each backend's, at the same worker count (1 = C's speed)."""
    c_time = df[df["backend"] == C_BACKEND].set_index("workers")["median_s"]
    shown = df[df["backend"] != C_BACKEND][["backend", "workers", "median_s"]].copy()
    shown["of_C_speed"] = shown["workers"].map(c_time) / shown["median_s"]
    return shown


def in_fresh_processes(argv: list[str], processes: int) -> pd.DataFrame:
    """Run ``python -m kernels bench ARGV --json ...`` in ``processes`` fresh processes.

    Returns
    -------
    pandas.DataFrame
        One row per backend and worker count: ``median_s`` (the median of the processes'
        medians), ``fastest_s`` and ``slowest_s`` (of those medians), ``processes``.
    """
    if processes < 2:
        raise ValueError(f"--processes must be 2 or more, got {processes}")
    records = []
    with tempfile.TemporaryDirectory(prefix="kernels-bench-") as folder:
        for k in range(processes):
            out = Path(folder, f"run{k}.json")
            done = run_command([sys.executable, "-m", "kernels", "bench", *argv, "--json",
                                str(out)], PROCESS_TIMEOUT)  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"bench process {k + 1} of {processes} failed:\n"
                                   f"{done.stderr.strip()[-2000:]}")  # fmt: skip
            records += json.loads(out.read_text())
    runs = pd.DataFrame(records)
    grouped = runs.groupby(["backend", "workers"], sort=False)["median_s"]
    table = grouped.agg(median_s="median", fastest_s="min", slowest_s="max", processes="count")
    return table.reset_index()
