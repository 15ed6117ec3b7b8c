"""What a dask task costs when the scheduler, the workers and the client are on other hosts.

Each measurement runs once per *link* of :data:`kernels.core.hosts.LINKS` (or of the
``links`` given): a cluster of command-line processes on this machine, or the scheduler
on one simulated host and a worker on each of two others, joined by plain virtual links
or by links with a cluster network's bandwidth and latency. The client is this process,
which reaches the hosts through the same switch, as a login node would.
"""

from __future__ import annotations

import dask
import pandas as pd

from ..core import tasks
from ..core.hosts import LINKS, hosts_for
from ..core.timing import best_of
from .cluster import command_line_cluster, connect
from .demos import cost_per_task, tiny_graph


def task_cost(client, counts: tuple[int, int] = (200, 1000), repeat: int = 3) -> dict:
    """Per-task cost of many tiny tasks, and the time of one task waited for, on ``client``.

    Parameters
    ----------
    client : distributed.Client
        A client of the cluster to measure.
    counts : tuple of int
        The two graph sizes whose time difference gives the cost of one task (as in
        :func:`kernels.dask.demos.measure_task_overhead`).
    repeat : int
        Timings per graph; the best is kept.

    Returns
    -------
    dict
        ``per task, many at once (µs)``: the slope, with many tasks in flight together;
        ``one task, submit to result (ms)``: a round trip through the scheduler to a
        worker and back, as each step of a chain of dependent tasks pays.
    """
    compute = {"scheduler": client}
    dask.compute(*tiny_graph(counts[0]), **compute)  # warm-up
    times = {}
    for count in counts:
        graph = tiny_graph(count)
        times[count] = best_of(lambda g=graph: dask.compute(*g, **compute), repeat)
    numbers = iter(range(10**9))  # a new key each time: nothing comes from a cache
    one = best_of(lambda: client.submit(tasks.square, next(numbers)).result(), 5 * repeat)
    per_task, _ = cost_per_task(times)
    return {"per task, many at once (µs)": round(per_task * 1e6, 1),
            "one task, submit to result (ms)": round(one * 1e3, 1)}  # fmt: skip


def task_costs(links: dict[str, dict | None] = LINKS, counts: tuple[int, int] = (200, 1000),
               workers: int = 2, repeat: int = 3) -> pd.DataFrame:  # fmt: skip
    """:func:`task_cost` on a cluster across each link, one row per link.

    ``links`` maps a name to ``None`` (every process on this machine) or
    :class:`~kernels.core.hosts.SimulatedHosts` keywords; the scheduler gets a host of its
    own and each of the ``workers`` (one thread each) another.
    """
    rows = {}
    for name, link in links.items():
        with (
            hosts_for(link, workers + 1) as hosts,
            command_line_cluster(workers, hosts=hosts) as cluster,
            connect(cluster.address) as client,
        ):
            rows[name] = task_cost(client, counts, repeat)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("link")
