"""JAX's device count: fixed when JAX starts, so more devices need a worker process.

On a CPU, JAX normally sees one device that uses every core. It can split the CPU into
several devices (``jax.config.update("jax_num_cpu_devices", N)``, or the older
``XLA_FLAGS=--xla_force_host_platform_device_count=N``), but only before its first
operation; after that the count is fixed for the life of the process. So ``jax-sharded``
with ``workers=N`` runs in this process when it already has ``N`` devices (chapter 08
and ``python -m kernels bench`` ask for them with :func:`request_devices` at the start),
and otherwise in a worker process started with ``N`` CPU devices (:mod:`kernels.jax.worker`).
On a machine with GPUs the same code uses them: the default devices are the GPUs.
"""

from __future__ import annotations

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


def run_in_worker(problem: str, workers: int, params: dict):
    """Run ``jax-sharded`` on ``workers`` CPU devices in a fresh Python process.

    Returns the result; raises :class:`~kernels.errors.WorkerDiedError` with the worker's
    error output if it fails or dies.
    """
    with tempfile.TemporaryDirectory(prefix="kernels-jax-") as folder:
        out = Path(folder, "result.npy")
        spec = json.dumps({"problem": problem, "workers": workers, "params": params})
        try:
            done = run_command([sys.executable, "-m", "kernels.jax.worker", spec, str(out)],
                               timeout=WORKER_TIMEOUT)  # fmt: skip
        except CommandTimeoutError:
            raise WorkerDiedError(
                f"the jax-sharded worker process ({workers} CPU devices) ran longer than "
                f"{WORKER_TIMEOUT} s and was stopped"
            ) from None
        if done.returncode != 0 or not out.exists():
            raise WorkerDiedError(
                f"the jax-sharded worker process ({workers} CPU devices) failed with exit "
                f"code {done.returncode}:\n{done.stderr.strip()[-2000:]}"
            )
        result = np.load(out)
    return float(result) if result.ndim == 0 else result
