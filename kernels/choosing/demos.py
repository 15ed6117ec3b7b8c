"""The head-to-head chapter's measurements: every backend, the C ceiling, start-up costs.

:func:`head_to_head` times every available Mandelbrot backend at each worker count;
:func:`c_ceiling` times the C program (:mod:`kernels.c_baseline`) at the same thread
counts; :func:`distances` states each tool's serial speed against pure Python and its
distance from C; :func:`startup_costs` measures what it costs to get going with each
tool (a pool, a cluster, ``mpiexec``, a compilation), which decides the short jobs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..c import baseline as c_baseline
from ..core import api, bench, sizes, tasks
from ..core.figures import footnote
from ..core.warm import measured_on_warm_workers

# Backends that compile nothing, start no workers and run ten times slower than the
# rest: one timed run is enough, its spread small beside that distance.
TIMED_ONCE = frozenset({"python"})

# Backends whose warm-up must be at the measured size: JAX compiles a program for each
# shape of image. Every other backend warms up at the quick size (its workers import the
# code, numba compiles for the argument types, whatever their sizes), a fraction of a
# full run (seconds, for pure Python).
WARM_UP_AT_SIZE = frozenset({"jax", "jax-sharded"})

# Backends whose calls take milliseconds, each timed run a mean of CALLS_PER_RUN calls
# made back to back (``bench.measure``'s ``number``), as a program that calls them in a
# loop makes them. A run at two workers follows one at one worker, in which the other
# core idled: on a virtual machine, waking it can take milliseconds. ``jax-sharded``'s
# self-efficiency at two devices (calls of 30 to 40 ms at the race's size) was 0.57 and
# 0.69 in two builds of the book; in two runs of the race's measurement alone (AMD EPYC
# Zen 4, 2 cores), 0.70 and 0.75 with one call per run, 0.83 and 0.78 with three.
TIMED_IN_RUNS = frozenset({"cython", "cython-parallel", "numba", "numba-parallel",
                           "jax", "jax-sharded"})  # fmt: skip
CALLS_PER_RUN = 3


def head_to_head(
    params: dict, workers: Iterable[int], repeat: int, backends: Iterable[str] | None = None,
    progress: bool = False, warm: bool = True, budget: float | None = None,
) -> pd.DataFrame:  # fmt: skip
    """:func:`kernels.bench.measure` of Mandelbrot with every available backend.

    Each tool gets ``repeat`` rounds, then, with ``budget``, more until its runs have
    taken that many seconds (:func:`kernels.core.bench.measure`): a compiled tool's
    calls take a few milliseconds at the chapter's size, and tens of them give a median
    that one disturbed run does not move. Pure Python is timed once (:data:`TIMED_ONCE`).
    Each tool is warmed up first by a run at the quick size, JAX at the measured one
    (:data:`WARM_UP_AT_SIZE`). The compiled tools' and JAX's runs are each the mean of
    :data:`CALLS_PER_RUN` calls made back to back (:data:`TIMED_IN_RUNS`).

    With ``warm``, the process pools and dask clusters are started before the clock
    runs and reused (:func:`~kernels.core.warm.warm_workers`), and so are ``mpi``'s ranks and
    ``jax-sharded``'s pinned worker processes: each tool is timed at its best, doing the
    work, and what starting its workers cost is in ``startup_s`` (0 where nothing is
    started). One tool's workers run at a time, started before its measurement and
    stopped after it: idle, a dask cluster or a set of MPI ranks still wakes every few
    milliseconds (here 5 to 7% of a core for one tool's workers of 1 and 2), which
    the next tool's two-worker runs would pay and its one-worker runs, with a core to
    spare, would not.
    """
    chosen = list(backends) if backends is not None else api.backends("mandelbrot")
    workers = list(workers)
    tables = []
    for backend in chosen:
        once = backend in TIMED_ONCE
        warmup = True if backend in WARM_UP_AT_SIZE else sizes.params("mandelbrot", "quick")
        measure = functools.partial(
            bench.measure, "mandelbrot", [backend], workers=workers,
            repeat=1 if once else repeat, progress=progress,
            budget=None if once else budget, warmup=warmup,
            number=CALLS_PER_RUN if backend in TIMED_IN_RUNS else 1, **params,
        )  # fmt: skip
        tables.append(measured_on_warm_workers([backend] if warm else [], workers, measure))
    return bench.add_speedups(pd.concat(tables, ignore_index=True))


def c_ceiling(params: dict, workers: Iterable[int], repeat: int) -> pd.DataFrame:
    """Seconds of the C program's loop (64 lanes, OpenMP) at each thread count.

    Returns
    -------
    pandas.DataFrame
        Columns ``workers`` and ``seconds`` (best of ``repeat``); the counts are checked
        against the reference.
    """
    expected = api.reference("mandelbrot", **params)
    rows = []
    for threads in workers:
        run = c_baseline.best_time(**params, threads=threads, repeat=repeat)
        if not np.array_equal(run.counts, expected):
            raise AssertionError("the C program's counts differ from the reference")
        rows.append({"workers": threads, "seconds": run.seconds})
    return pd.DataFrame(rows)


def distances(df: pd.DataFrame, ceiling: pd.DataFrame | None) -> pd.DataFrame:
    """Each backend's serial time against Python's and its best time against C's.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`head_to_head` (must include the ``python`` backend).
    ceiling : pandas.DataFrame or None
        From :func:`c_ceiling`; ``None`` where there is no C compiler.

    Returns
    -------
    pandas.DataFrame
        One row per backend: ``serial_s`` (1 worker), ``x_python`` (Python's serial time
        over it), ``best_s`` and ``at_workers`` (its fastest run), ``c_s`` (C at that many
        threads) and ``of_c_speed`` (``c_s / best_s``: 1 is as fast as C).
    """
    python = df[(df.backend == "python") & (df.workers == 1)]["median_s"]
    if python.empty:
        raise ValueError("the table needs the python backend at 1 worker as the baseline")
    c_time = ceiling.set_index("workers")["seconds"] if ceiling is not None else None
    rows = []
    for backend, part in df.groupby("backend", sort=False):
        serial = part[part.workers == 1]["median_s"]
        best = part.loc[part["median_s"].idxmin()]
        row = {
            "backend": backend,
            "serial_s": float(serial.iloc[0]) if len(serial) else np.nan,
            "x_python": float(python.iloc[0] / serial.iloc[0]) if len(serial) else np.nan,
            "best_s": float(best["median_s"]),
            "at_workers": int(best["workers"]),
        }
        if c_time is not None and row["at_workers"] in c_time.index:
            row["c_s"] = float(c_time[row["at_workers"]])
            row["of_c_speed"] = row["c_s"] / row["best_s"]
        rows.append(row)
    return pd.DataFrame(rows)


COMPILED = ("cython", "cython-parallel", "numba", "numba-parallel")


def hardware_shares(df: pd.DataFrame, ceiling: pd.DataFrame | None, peak=None) -> pd.DataFrame:
    """The compiled tools' and C's useful rate against the cores' peak.

    The useful work is exact: the escape counts summed (``checksum``) are the iterations
    the image needs, :data:`~kernels.core.peak.MANDELBROT_FLOPS` operations each.

    Returns
    -------
    pandas.DataFrame
        One row per compiled backend (and ``C``) and worker count: ``gflops`` (useful,
        per second) and ``of_peak`` (of that many cores' peak without FMA).
    """
    from ..core.peak import rates

    iterations = int(df["checksum"].iloc[0])
    runs = [(r.backend, int(r.workers), float(r.median_s))
            for r in df[df.backend.isin(COMPILED)].itertuples()]  # fmt: skip
    if ceiling is not None:
        runs += [("C", int(r.workers), float(r.seconds)) for r in ceiling.itertuples()]
    table = pd.DataFrame(runs, columns=["backend", "threads", "seconds"])
    shares = rates(table, iterations, peak)
    return shares.rename(columns={"threads": "workers"}).drop(columns="seconds")


def plot_head_to_head(df: pd.DataFrame, ceiling: pd.DataFrame | None):
    """Speed against pure Python (log scale) for every backend and worker count, C dashed."""
    python = float(df[(df.backend == "python") & (df.workers == 1)]["median_s"].iloc[0])
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    markers = "os^vD<>phx*+"
    for k, (backend, part) in enumerate(df.groupby("backend", sort=False)):
        ax.plot(part["workers"], python / part["median_s"], marker=markers[k % len(markers)],
                label=backend)  # fmt: skip
    if ceiling is not None:
        ax.plot(ceiling["workers"], python / ceiling["seconds"], "k--", lw=2,
                label="C with OpenMP (ceiling)")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(sorted(df["workers"].unique()))
    ax.set_xlabel("workers (processes, threads, ranks or devices)")
    ax.set_ylabel("times faster than pure Python, 1 worker (log)")
    ax.set_title("Mandelbrot, every tool on this machine")
    ax.legend(fontsize=8, ncol=2)
    params = df["params"].iloc[0]
    footnote(fig, f"mandelbrot {params}, median of repeats.")
    return fig


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def startup_costs(workers: int = 2, repeat: int = 2) -> pd.DataFrame:
    """Seconds to get going with each tool, before any useful work.

    Returns
    -------
    pandas.DataFrame
        Columns ``tool``, ``what`` and ``seconds`` (best of ``repeat`` where repeatable).
    """
    from ..dask.cluster import local_cluster
    from ..joblib.demos import measure_startup as joblib_startup
    from ..multiprocess.demos import measure_pool_startup

    rows = []

    def thread_pool() -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(tasks.square, range(workers)))

    rows.append(("threads", f"start {workers} threads, one task each, stop",
                 bench.best_of(thread_pool, repeat)))  # fmt: skip
    pools = measure_pool_startup(workers, repeat)
    for library, seconds in zip(pools["library"], pools["seconds"], strict=True):
        rows.append((library, f"start a spawn pool of {workers}, one task each, stop", seconds))

    loky = joblib_startup(workers, repeat).set_index("what")["seconds"]
    rows.append(("joblib", f"first Parallel(n_jobs={workers}) call: start loky's workers, one "
                 "task each, stop", loky["first call"]))  # fmt: skip
    rows.append(("joblib", f"the same call with loky's {workers} workers still running",
                 loky["workers reused"]))  # fmt: skip

    def cluster() -> None:
        with local_cluster(workers):
            pass

    rows.append(("dask-distributed", f"start and stop a LocalCluster of {workers} workers",
                 bench.best_of(cluster, 1)))  # fmt: skip
    if "mpi" in api.backends("mandelbrot"):
        from ..mpi4py.launch import launch

        run = launch("monte_carlo_pi", workers, samples=1, seed=0)
        rows.append(("mpi", f"mpiexec -n {workers}: processes, imports, MPI_Init", run.startup_s))
    if "numba" in api.backends("mandelbrot"):
        import numba

        from ..numba import compute as numba_kernels

        fresh = numba.njit(numba_kernels.escape_count.py_func)
        rows.append(("numba", "compile the escape loop (first call)",
                     _timed(functools.partial(fresh, 0.0, 0.0, 10))))  # fmt: skip
    if "jax" in api.backends("mandelbrot"):
        import jax

        from ..jax import compute as jax_kernels

        fresh = jax.jit(lambda cr, ci: jax_kernels.escape_counts(cr, ci, 10))
        grid = np.zeros((4, 4), dtype=np.float32)
        rows.append(("jax", "trace and compile the grid loop (first call)",
                     _timed(lambda: fresh(grid, grid).block_until_ready())))  # fmt: skip
    rows.append(("cython", "nothing at run time: compiled when the package was installed", 0.0))
    return pd.DataFrame(rows, columns=["tool", "what", "seconds"])


def pool_task_cost(workers: int = 2, counts: tuple[int, int] = (400, 2000)) -> float:
    """Seconds per task of a running ``multiprocess`` pool (``chunksize=1``), by slope."""
    from ..core.watched_pool import watched_pool
    from ..dask.demos import cost_per_task

    with watched_pool(workers, "spawn", "multiprocess") as pool:
        pool.map(tasks.square, range(workers))
        times = {n: bench.best_of(functools.partial(pool.map, tasks.square, range(n), 1), 2)
                 for n in counts}  # fmt: skip
    return cost_per_task(times)[0]
