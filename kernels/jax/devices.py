"""JAX's device count: fixed when JAX starts, so more devices need a worker process.

On a CPU, JAX normally sees one device that uses every core. It can split the CPU into
several devices (``jax.config.update("jax_num_cpu_devices", N)``, or the older
``XLA_FLAGS=--xla_force_host_platform_device_count=N``), but only before its first
operation; after that the count is fixed for the life of the process. So ``jax-sharded``
with ``workers=N`` runs in this process when it already has ``N`` devices (chapter 10
and ``python -m kernels bench`` ask for them with :func:`request_devices` at the start),
and otherwise in a worker process started with ``N`` CPU devices (:mod:`kernels.jax.worker`).
On a machine with GPUs the same code uses them: the default devices are the GPUs.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..core.errors import CommandTimeoutError, WorkerDiedError
from ..core.subprocesses import run_command

WORKER_TIMEOUT = 3600  # seconds: far beyond any size the book uses


def devices(n: int):
    """The first ``n`` default devices of this process, or ``None`` if it has fewer."""
    import jax

    available = jax.devices()
    return available[:n] if len(available) >= n else None


def run_module(module: str, spec: dict, what: str, out_name: str) -> bytes:
    """Run ``python -m module SPEC OUT`` in a fresh process; return what it wrote to ``OUT``.

    The module reads the JSON ``spec`` and writes its result to ``OUT``. ``what`` names
    the work in errors: a :class:`~kernels.errors.WorkerDiedError` with the process's
    error output when it fails, dies or runs past :data:`WORKER_TIMEOUT`.
    """
    with tempfile.TemporaryDirectory(prefix="kernels-jax-") as folder:
        out = Path(folder, out_name)
        command = [sys.executable, "-m", module, json.dumps(spec), str(out)]
        try:
            done = run_command(command, timeout=WORKER_TIMEOUT)
        except CommandTimeoutError:
            raise WorkerDiedError(
                f"{what} ran longer than {WORKER_TIMEOUT} s and was stopped"
            ) from None
        if done.returncode != 0 or not out.exists():
            raise WorkerDiedError(
                f"{what} failed with exit code {done.returncode}:\n{done.stderr.strip()[-2000:]}"
            )
        return out.read_bytes()


def run_in_worker(problem: str, workers: int, params: dict):
    """Run ``jax-sharded`` on ``workers`` CPU devices in a fresh Python process.

    Returns the result; raises :class:`~kernels.errors.WorkerDiedError` with the worker's
    error output if it fails or dies.
    """
    spec = {"problem": problem, "workers": workers, "params": params}
    data = run_module("kernels.jax.worker", spec,
                      f"the jax-sharded worker process ({workers} CPU devices)",
                      "result.npy")  # fmt: skip
    result = np.load(io.BytesIO(data))
    return float(result) if result.ndim == 0 else result
