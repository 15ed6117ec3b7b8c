"""MPI on one host and across simulated hosts: what crossing a network costs.

Each measurement runs once per *link* of :data:`kernels.core.hosts.LINKS` (or of the
``links`` given): both ranks on one host, on two hosts joined by plain virtual links, or
by links with a cluster network's bandwidth and latency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.hosts import LINKS, hosts_for
from . import examples, launch


def _round_trips(sizes_bytes: list[int], hosts=None) -> dict[int, float]:
    out = launch.run_script(examples.path("pingpong"), 2, *map(str, sizes_bytes), hosts=hosts)
    rows = [line.split("] ", 1)[1].split() for line in out.splitlines() if line.startswith("[0]")]
    return {int(size): float(seconds) for size, seconds in rows}


def pingpong_table(sizes_bytes: list[int], links: dict[str, dict | None] = LINKS) -> pd.DataFrame:
    """Round-trip time of ``Send``/``Recv`` between 2 ranks, by message size, in µs.

    One column per link in ``links`` (see the module's description). Needs root for
    every link but one host's (:class:`SimulatedHosts`).
    """
    columns = {}
    for name, link in links.items():
        with hosts_for(link) as hosts:
            columns[name] = _round_trips(sizes_bytes, hosts)
    table = pd.DataFrame(columns) * 1e6
    table.index.name = "bytes"
    return table.round(1)


def halo_table(links: dict[str, dict | None] = LINKS, **params) -> pd.DataFrame:
    """Heat on 2 ranks, halos exchanged with ``Sendrecv`` against overlapped, per link.

    Each rank's compute time in seconds (the slower rank's), for the programs ``heat``
    and ``heat_overlap`` with the heat parameters ``params``, on each link. Raises
    ``AssertionError`` if any run's field differs from the first one's: the link changes
    the time, never the result.
    """
    rows, first = [], None
    for name, link in links.items():
        with hosts_for(link) as hosts:
            blocking = launch.launch("heat", 2, hosts=hosts, **params)
            overlapped = launch.launch("heat_overlap", 2, hosts=hosts, **params)
        for run in (blocking, overlapped):
            first = run.result if first is None else first
            assert np.array_equal(run.result, first), f"{name}: the field changed"
        rows.append({"link": name, "Sendrecv (s)": blocking.compute_s,
                     "overlapped (s)": overlapped.compute_s})  # fmt: skip
    table = pd.DataFrame(rows).set_index("link")
    table["saved by overlapping"] = 1 - table["overlapped (s)"] / table["Sendrecv (s)"]
    return table.round(3)
