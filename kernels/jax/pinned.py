"""``jax-sharded`` with one core per CPU device: the fair CPU scaling experiment.

One JAX CPU device already runs its operations on every core it may use (XLA's own
threads), so "1 device" is not "1 core", and 2 devices on the same cores show no
speedup. Pinned, a process that may use ``N`` cores gets ``N`` devices: 1 device on 1
core against 2 devices on 2 cores is the same experiment as 1 MPI rank against 2.
XLA's thread flags (``--xla_cpu_multi_thread_eigen=false``,
``intra_op_parallelism_threads=1``) did not stop a device from using both cores of the
book's machine; the CPU affinity mask, which XLA sizes its thread pool from, does.

:func:`measure_pinned` times each device count in its own process, pinned with
``os.sched_setaffinity`` before JAX starts (``python -m kernels.jax.pinned``). Where
the system has no affinity call (macOS), the devices share all cores and the table
says so in its ``pinned`` column.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .devices import run_module


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
    if not hasattr(os, "sched_setaffinity"):
        return False
    cores = sorted(os.sched_getaffinity(0))
    if count > len(cores):
        return False
    os.sched_setaffinity(0, cores[:count])
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


def measure_pinned(problem: str, workers: Iterable[int], repeat: int = 3, **params):
    """Time ``jax-sharded`` on ``problem`` with ``N`` devices on ``N`` cores, for each ``N``.

    Returns
    -------
    pandas.DataFrame
        :func:`kernels.core.bench.measure`'s columns (self-speedup against the one-device,
        one-core run) and ``pinned``: whether the process really was held to ``N`` cores.

    Raises
    ------
    WorkerDiedError
        A measuring process failed; the message holds its error output.
    """
    import pandas as pd

    from ..core import bench

    rows = []
    for count in dict.fromkeys(workers):
        spec = {"problem": problem, "devices": count, "repeat": repeat, "params": params}
        data = run_module("kernels.jax.pinned", spec,
                          f"measuring jax-sharded on {count} pinned device(s)",
                          "rows.json")  # fmt: skip
        rows.extend(json.loads(data))
    df = bench.add_speedups(pd.DataFrame(rows))
    return df[[*bench.COLUMNS, "pinned"]]


def main(argv: list[str]) -> int:
    """Pin, start JAX with that many devices, measure, and write the rows as JSON."""
    spec = json.loads(argv[0])
    count = spec["devices"]
    pinned = start_jax_on_cores(count)
    from ..core import bench

    df = bench.measure(spec["problem"], ["jax-sharded"], workers=[count],
                       repeat=spec["repeat"], **spec["params"])  # fmt: skip
    df["pinned"] = pinned
    Path(argv[1]).write_text(json.dumps(bench.to_records(df), default=_plain))
    return 0


def _plain(value):
    return value.item() if isinstance(value, np.generic) else str(value)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
