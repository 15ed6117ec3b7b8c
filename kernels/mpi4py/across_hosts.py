"""Ping-pong on one host and across simulated hosts: what crossing a network costs."""

from __future__ import annotations

import pandas as pd

from ..core.hosts import SimulatedHosts
from . import examples, launch


def _round_trips(sizes_bytes: list[int], hosts=None) -> dict[int, float]:
    out = launch.run_script(examples.path("pingpong"), 2, *map(str, sizes_bytes), hosts=hosts)
    rows = [line.split("] ", 1)[1].split() for line in out.splitlines() if line.startswith("[0]")]
    return {int(size): float(seconds) for size, seconds in rows}


def pingpong_table(sizes_bytes: list[int], rate: str = "1gbit") -> pd.DataFrame:
    """Round-trip time of ``Send``/``Recv`` between 2 ranks, by message size, in µs.

    Columns: both ranks on one host (shared memory), on two simulated hosts (TCP over
    virtual links, as fast as this machine copies), and on two hosts whose links are
    limited to ``rate`` (``tc tbf``, e.g. ``"1gbit"``). Needs root (:class:`SimulatedHosts`).
    """
    columns = {"one host": _round_trips(sizes_bytes)}
    with SimulatedHosts(2) as hosts:
        columns["two hosts"] = _round_trips(sizes_bytes, hosts)
    with SimulatedHosts(2, rate=rate) as hosts:
        columns[f"two hosts, {rate} links"] = _round_trips(sizes_bytes, hosts)
    table = pd.DataFrame(columns) * 1e6
    table.index.name = "bytes"
    return table.round(1)
