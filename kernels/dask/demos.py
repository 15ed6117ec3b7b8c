"""What the dask chapter shows live: task graphs, chunk sizes, scheduler overheads, tables.

Each ``measure_...`` function returns a :class:`pandas.DataFrame` and each ``plot_...``
draws one with a caption naming the machine. Every cluster or pool started here is
closed before the function returns.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import shutil
import textwrap
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dask
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..core import tasks
from ..core.figures import footnote
from ..core.subprocesses import run_python
from ..core.timing import best_of
from ..problems import mandelbrot
from .cluster import local_cluster
from .graphs import heat_array, mandelbrot_array

SCHEDULERS = ("synchronous", "threads", "processes", "distributed")


# --- task graphs -------------------------------------------------------------------------


def _short(key: Any) -> str:
    """A task key without its long hash: ``('square-3f2a9c...', 0)`` -> ``square-3f2a#0``."""
    name, index = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
    words = []
    for word in str(name).split("-"):
        if len(word) >= 8 and all(c in "0123456789abcdef" for c in word):
            words.append(word[:4])
            break
        words.append(word)
    return "-".join(words) + "".join(f"#{i}" for i in index)


def graph_text(obj: Any) -> str:
    """The task graph of a dask collection as text: one line per task and what it needs."""
    from dask.core import get_dependencies

    graph = dict(obj.__dask_graph__())
    lines = []
    for key in graph:
        needs = sorted(_short(k) for k in get_dependencies(graph, key))
        lines.append(f"{_short(key)}  <-  {', '.join(needs) if needs else '(no inputs)'}")
    return "\n".join(sorted(lines))


def task_graph_picture(obj: Any, rankdir: str = "TB"):
    """A picture of ``obj``'s task graph drawn by graphviz, or text saying why it can't be.

    Returns
    -------
    IPython.display.Image or IPython.display.Markdown
        The PNG when the ``graphviz`` package and its ``dot`` program are installed;
        otherwise a note naming what is missing and how to install it, followed by the
        graph as text (so a page built without graphviz still shows the graph).
    """
    from IPython.display import Markdown

    why = None
    if shutil.which("dot") is None:
        why = (
            "Graphviz's `dot` program is not installed on this machine "
            "(`sudo apt install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`)"
        )
    else:
        try:
            return dask.visualize(obj, filename=None, format="png", rankdir=rankdir)
        except ImportError as exc:
            why = f"the Python package `graphviz` is missing ({exc})"
        except Exception as exc:  # graphviz's own errors: a broken dot, a font problem
            why = f"graphviz could not draw it ({type(exc).__name__}: {exc})"
    text = textwrap.indent(graph_text(obj), "    ")
    return Markdown(f"**No picture:** {why}. The same graph as text:\n\n{text}\n")


# --- chunk sizes -------------------------------------------------------------------------


def measure_mandelbrot_chunks(
    width: int, height: int, max_iter: int, chunk_rows: Iterable[int], workers: int = 2,
    repeat: int = 3,
) -> pd.DataFrame:  # fmt: skip
    """Time :func:`mandelbrot_array` on the threaded scheduler for each chunk height.

    Returns
    -------
    pandas.DataFrame
        Columns ``chunk_rows``, ``chunks`` and ``seconds`` (best of ``repeat``).
    """
    rows = []
    for size in chunk_rows:
        image = mandelbrot_array(width, height, max_iter, size)
        run = lambda image=image: image.compute(scheduler="threads", num_workers=workers)  # noqa: E731
        rows.append({"chunk_rows": size, "chunks": image.numblocks[0],
                     "seconds": best_of(run, repeat)})  # fmt: skip
    return pd.DataFrame(rows)


def measure_heat_chunks(
    n: int, steps: int, blocks: Iterable[int], halo_steps: Iterable[int] = (1, 16),
    workers: int = 2, repeat: int = 3,
) -> pd.DataFrame:  # fmt: skip
    """Time :func:`heat_array` (threads) for each number of blocks and halo depth.

    Returns
    -------
    pandas.DataFrame
        Columns ``blocks``, ``halo_steps``, ``tasks`` (in the graph) and ``seconds``.
    """
    rows = []
    for halo in halo_steps:
        for count in blocks:
            field = heat_array(n, steps, count, halo)
            run = lambda field=field: field.compute(scheduler="threads", num_workers=workers)  # noqa: E731
            rows.append({"blocks": count, "halo_steps": halo,
                         "tasks": len(field.__dask_graph__()),
                         "seconds": best_of(run, repeat)})  # fmt: skip
    return pd.DataFrame(rows)


def plot_chunks(mandelbrot_df: pd.DataFrame, heat_df: pd.DataFrame):
    """Two panels: Mandelbrot time against chunk count; heat time against blocks per halo."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    left.semilogx(mandelbrot_df["chunks"], mandelbrot_df["seconds"], "o-")
    left.set_xlabel("chunks (row blocks)")
    left.set_ylabel("seconds (best of repeats)")
    left.set_title("Mandelbrot as a dask.array")
    for halo, part in heat_df.groupby("halo_steps"):
        right.semilogx(part["blocks"], part["seconds"], "o-", label=f"halo exchange every {halo}")
    right.set_xlabel("row blocks")
    right.set_title("Heat stencil with map_overlap")
    right.legend()
    footnote(fig, "Threaded scheduler, two threads.")
    return fig


# --- scheduler overhead ------------------------------------------------------------------


def tiny_graph(count: int) -> list:
    """``count`` independent tasks that square an integer: a graph of nothing but overhead."""
    return [dask.delayed(tasks.square, pure=True)(i) for i in range(count)]


def measure_scaling(
    problems: dict[str, dict], workers: Iterable[int], repeat: int
) -> dict[str, pd.DataFrame]:
    """Strong scaling of ``dask`` (threads) and ``dask-distributed`` on warm clusters.

    ``problems`` maps a problem name to its parameters. The threaded scheduler is timed
    first, with no cluster running. Then one :func:`local_cluster` per worker count is
    started (:func:`~kernels.core.warm.measured_on_warm_workers`, as for chapter 12's
    race) and serves every ``dask-distributed`` point of every problem (the chapter
    measures start-up on its own); its start-up time is in ``startup_s`` (0 for the
    threaded scheduler). Idle clusters are not free for threads in this process: their
    schedulers' event loops run in it, and their workers wake to send heartbeats. On the
    Intel Xeon, with both clusters up, the threaded heat at 1024x1024 for 200 steps took
    0.77-0.83 s at two threads (median 0.81 s, self-efficiency 0.75-0.83) against
    0.72-0.79 s (median 0.755 s, 0.77-0.93) with none, six measurements each, taken in
    turns. Each point is warmed up by one run at the problem's quick sizes (imports on
    the workers, the task's code shipped to them) instead of a run at the measured size.

    Returns
    -------
    dict of pandas.DataFrame
        By problem: :func:`kernels.core.bench.measure`'s columns, with speedups over
        both backends, and ``startup_s``.
    """
    from ..core import bench, sizes
    from ..core.warm import measured_on_warm_workers

    workers = list(workers)

    def measure(backend: str) -> pd.DataFrame:  # every problem, one backend
        return pd.concat([bench.measure(problem, [backend], workers=workers, repeat=repeat,
                                        warmup=sizes.params(problem, "quick"), **params)
                          for problem, params in problems.items()], ignore_index=True)  # fmt: skip

    threaded = measured_on_warm_workers([], workers, lambda: measure("dask"))
    distributed = measured_on_warm_workers(["dask-distributed"], workers,
                                           lambda: measure("dask-distributed"))  # fmt: skip
    both = pd.concat([threaded, distributed], ignore_index=True)
    return {problem: bench.add_speedups(both[both["problem"] == problem].reset_index(drop=True))
            for problem in problems}  # fmt: skip


def measure_task_overhead(
    counts: tuple[int, int] = (100, 500), workers: int = 2, repeat: int = 3,
    schedulers: Iterable[str] = SCHEDULERS,
) -> pd.DataFrame:  # fmt: skip
    """Cost per task of each scheduler, from the time of two graphs of tiny tasks.

    The slope between ``counts[0]`` and ``counts[1]`` tasks is the cost of one task
    (scheduling, dispatch, moving a result); the intercept is the fixed cost of one
    ``compute`` (e.g. starting the process pool). The distributed cluster is started
    before timing; its start-up is reported separately in ``startup_s``.

    Returns
    -------
    pandas.DataFrame
        Columns ``scheduler``, ``per_task_us``, ``fixed_s`` and ``startup_s``.
    """
    small, large = counts
    rows = []
    for scheduler in schedulers:
        with _scheduler(scheduler, workers) as (kwargs, startup):
            times = {}
            if scheduler != "processes":  # which starts a new pool for every compute
                dask.compute(*tiny_graph(small), **kwargs)  # warm-up: imports, caches
            for count in (small, large):
                graph = tiny_graph(count)
                times[count] = best_of(lambda g=graph: dask.compute(*g, **kwargs), repeat)
        per_task, fixed = cost_per_task(times)
        rows.append({"scheduler": scheduler, "per_task_us": per_task * 1e6,
                     "fixed_s": fixed, "startup_s": startup})  # fmt: skip
    return pd.DataFrame(rows)


def cost_per_task(times: dict[int, float]) -> tuple[float, float]:
    """``(seconds per task, fixed seconds)`` from the times of two graph sizes.

    The line through ``(tasks, seconds)`` of the two: its slope is the cost of one task,
    its intercept (at least 0) the cost of a ``compute`` with no tasks. On a busy machine
    the slope can come out negative; it is reported as measured.

    Examples
    --------
    >>> cost_per_task({100: 0.5 + 100e-4, 500: 0.5 + 500e-4})
    (0.0001, 0.5)
    """
    (small, t_small), (large, t_large) = sorted(times.items())
    per_task = (t_large - t_small) / (large - small)
    return round(per_task, 12), round(max(t_small - small * per_task, 0.0), 12)


@contextlib.contextmanager
def _scheduler(name: str, workers: int):
    """``(dask.compute keywords, start-up seconds)`` for a scheduler name.

    For ``"distributed"`` a LocalCluster is started (and timed) and closed afterwards.
    """
    if name == "synchronous":
        yield {"scheduler": "synchronous"}, 0.0
        return
    if name != "distributed":
        yield {"scheduler": name, "num_workers": workers}, 0.0
        return
    from distributed import Client

    start = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster, set_as_default=False) as client:
        client.submit(tasks.square, 1).result()  # the workers are up and answering
        yield {"scheduler": client}, time.perf_counter() - start


def plot_task_overhead(df: pd.DataFrame):
    """Bars of microseconds per task for each scheduler, labelled with the fixed costs."""
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    bars = ax.barh(df["scheduler"], df["per_task_us"].clip(lower=0))
    ax.invert_yaxis()
    for bar, (_, row) in zip(bars, df.iterrows(), strict=True):
        fixed = row["startup_s"] or row["fixed_s"]
        label = f" {row['per_task_us']:,.0f} µs/task; fixed {fixed:.2f} s"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center")
    ax.set_xlabel("microseconds per task")
    ax.set_title("What one tiny task costs each dask scheduler")
    ax.set_xlim(0, max(df["per_task_us"].max(), 1) * 1.6)
    footnote(fig, "Slope between two graphs of tiny tasks; fixed: per compute or cluster.")
    return fig


# --- schedulers on GIL-releasing and GIL-holding code ------------------------------------


def measure_schedulers(
    problem: str, params: dict, workers: int = 2, repeat: int = 1,
    kernels_: Iterable[str] = ("numpy", "python"),
) -> pd.DataFrame:  # fmt: skip
    """Time ``problem`` on every scheduler with NumPy tasks and with pure-Python tasks.

    ``distributed`` includes starting and closing its LocalCluster, as a call does.

    Returns
    -------
    pandas.DataFrame
        Columns ``kernel``, ``scheduler`` and ``seconds`` (best of ``repeat``, or of the
        runs that fit in a second: a run longer than that is timed once).
    """
    from ..core import api

    rows = []
    for kernel in kernels_:
        for scheduler in SCHEDULERS:
            if scheduler == "distributed":
                backend, options = "dask-distributed", {}
            else:
                backend, options = "dask", {"scheduler": scheduler}
            run = functools.partial(
                api.run, problem, backend, workers, kernel=kernel, **options, **params
            )
            seconds = best_of(run, repeat, time_limit=1.0)  # a slow run once: it is clear
            rows.append({"kernel": kernel, "scheduler": scheduler, "seconds": seconds})
    return pd.DataFrame(rows)


def plot_schedulers(df: pd.DataFrame, title: str):
    """Grouped bars: seconds per scheduler, one group per kernel."""
    table = df.pivot(index="scheduler", columns="kernel", values="seconds").reindex(SCHEDULERS)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    table.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("seconds (lower is better)")
    ax.set_xlabel("")
    ax.set_title(title)
    ax.legend(title="tasks run")
    footnote(fig, "Two workers; 'distributed' includes starting its LocalCluster.")
    return fig


# --- a worker setting that matters ------------------------------------------------------


def measure_malloc_trim(width: int, height: int, max_iter: int, repeat: int = 2) -> pd.DataFrame:
    """CPU seconds of the NumPy Mandelbrot kernel in a worker, with and without trimming.

    Returns
    -------
    pandas.DataFrame
        Columns ``worker memory setting`` and ``cpu_s`` (best of ``repeat``).
    """
    from distributed import Client

    rows = []
    settings = {"MALLOC_TRIM_THRESHOLD_=65536 (distributed's)": True, "glibc's default": False}
    for label, trim in settings.items():
        with (
            local_cluster(1, trim_memory=trim) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            args = (mandelbrot.rows_numpy, list(range(height)), width, height, max_iter)
            seconds = min(
                client.submit(tasks.timed_call, *args, pure=False).result()[1]
                for _ in range(repeat)
            )
        rows.append({"worker memory setting": label, "cpu_s": seconds})
    return pd.DataFrame(rows)


# --- dask.dataframe vs pandas ------------------------------------------------------------

ZONES = [f"zone-{i:02d}" for i in range(40)]
PAYMENTS = ["card", "cash", "app"]


def make_trips(rows: int, seed: int = 0, start: str = "2026-01-01") -> pd.DataFrame:
    """A synthetic table of taxi trips: pickup time, zone, passengers, distance, fare, payment.

    Realistic enough to aggregate: busy and quiet zones, more trips by day than by night,
    fares that grow with distance plus noise. The same ``seed`` gives the same table.
    """
    rng = np.random.default_rng(seed)
    minutes = rng.integers(0, 365 * 24 * 60, rows)
    hour = (minutes // 60) % 24
    day_trip = rng.random(rows) < 0.6 + 0.3 * np.sin(np.pi * hour / 24)
    minutes = np.where(day_trip, minutes, rng.integers(0, 365 * 24 * 60, rows))
    weights = np.linspace(3.0, 0.2, len(ZONES))
    zone = rng.choice(len(ZONES), rows, p=weights / weights.sum())
    distance = rng.gamma(2.0, 2.5, rows).round(2)
    fare = (3.0 + 1.9 * distance + rng.normal(0, 1.5, rows).clip(-2, 8)).round(2)
    return pd.DataFrame({
        "pickup": pd.Timestamp(start) + pd.to_timedelta(np.sort(minutes), unit="min"),
        "zone": pd.Categorical.from_codes(zone, ZONES),
        "passengers": rng.choice([1, 1, 1, 1, 2, 2, 3, 4, 5, 6], rows).astype(np.int8),
        "distance_km": distance,
        "fare": fare,
        "payment": pd.Categorical.from_codes(rng.integers(0, 3, rows), PAYMENTS),
    })  # fmt: skip


def write_trips(folder: str | Path, rows: int, partitions: int, seed: int = 0) -> list[Path]:
    """Write :func:`make_trips` as ``partitions`` Parquet files (a month or so each)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = make_trips(rows, seed)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(rows), partitions)):
        path = folder / f"part-{i:03d}.parquet"
        table.iloc[part].to_parquet(path, index=False)
        paths.append(path)
    return paths


# The same question asked of pandas and of dask.dataframe, each in a fresh interpreter so
# that its peak memory (ru_maxrss) is its own.
_DATAFRAME_SCRIPT = """
import json, resource, sys, time
folder, library = {folder!r}, {library!r}
columns = ["zone", "fare", "distance_km"]
start = time.perf_counter()
if library == "pandas":
    import pandas as pd
    trips = pd.read_parquet(folder, columns=columns)
    by_zone = trips.groupby("zone", observed=True).agg(
        trips=("fare", "size"), mean_fare=("fare", "mean"), km=("distance_km", "sum"))
else:
    import dask
    import dask.dataframe as dd
    trips = dd.read_parquet(folder, columns=columns)
    by_zone = trips.groupby("zone", observed=True).agg(
        trips=("fare", "size"), mean_fare=("fare", "mean"), km=("distance_km", "sum")
    ).compute(scheduler="threads", num_workers={workers})
seconds = time.perf_counter() - start
{peak}
by_zone = by_zone.sort_index()
print(json.dumps({{"seconds": seconds, "peak_mib": peak_mib,
                  "result": by_zone.reset_index().astype({{"zone": str}}).to_dict("list")}}))
"""

# Peak resident memory of this process. Linux keeps ru_maxrss across exec (a child of a
# big notebook would start at the notebook's size), so read the fresh VmHWM there.
_PEAK = """
try:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    peak_mib = kib / 2**10
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
"""

_BASELINE_SCRIPT = (
    "import json, resource, sys\nimport pandas, pyarrow, dask.dataframe\n"
    + _PEAK
    + "print(json.dumps({'peak_mib': peak_mib}))\n"
)


def _run_json(source: str) -> dict:
    code, output = run_python(source, timeout=600)
    if code != 0:
        raise RuntimeError(f"the measuring script failed (exit {code}):\n{output[-2000:]}")
    return json.loads(output.strip().splitlines()[-1])


def measure_dataframe(folder: str | Path, workers: int = 2) -> pd.DataFrame:
    """Trips per zone, mean fare and kilometres, by pandas and by dask.dataframe.

    Each runs in a fresh interpreter. ``peak_mib`` is that process's peak resident
    memory less the peak of one that only imports the libraries, so it is the data's.

    Returns
    -------
    pandas.DataFrame
        Columns ``library``, ``seconds``, ``peak_mib`` and ``result`` (the per-zone table
        as a dict of columns; both libraries' must agree).
    """
    baseline = _run_json(_BASELINE_SCRIPT)["peak_mib"]
    rows = []
    for library in ("pandas", "dask.dataframe"):
        out = _run_json(
            _DATAFRAME_SCRIPT.format(
                folder=str(folder), library=library, workers=workers, peak=_PEAK
            )
        )
        rows.append({"library": library, "seconds": out["seconds"],
                     "peak_mib": max(out["peak_mib"] - baseline, 0.0),
                     "result": out["result"]})  # fmt: skip
    return pd.DataFrame(rows)


def plot_dataframe(df: pd.DataFrame, rows: int, partitions: int):
    """Two bar panels: seconds and peak memory of pandas and dask.dataframe."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    left.bar(df["library"], df["seconds"], color=["C0", "C1"])
    left.set_ylabel("seconds")
    left.set_title("read + group by zone")
    right.bar(df["library"], df["peak_mib"], color=["C0", "C1"])
    right.set_ylabel("MiB above the libraries' own")
    right.set_title("peak memory")
    footnote(fig, f"{rows:,} trips in {partitions} Parquet files, each run in a fresh process.")
    return fig


def partitions_for(rows: int, rows_per_partition: int = 250_000) -> int:
    """How many Parquet files to write: about ``rows_per_partition`` rows each."""
    return max(2, math.ceil(rows / rows_per_partition))
