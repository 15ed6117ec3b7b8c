"""JAX worker processes started once and reused: ``jax-sharded`` at its best.

``jax-sharded`` on ``N`` CPU devices needs a process whose JAX was started with ``N``
devices; called on its own, it starts one per call (:func:`kernels.jax.devices.run_in_worker`),
which costs the interpreter, JAX's start-up and every compilation again. Inside
:func:`warm_devices`, the calls with one of its device counts go to a worker already
running (:mod:`kernels.jax.server`), held to ``N`` cores, its compiled programs cached:
what a long-running JAX program pays per call.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator

from ..core.errors import WorkerDiedError
from ..core.servers import ServedProcess
from ..core.warm import WarmSet

# Seconds a worker may take to start JAX and connect, and a request to finish.
START_TIMEOUT = 120.0
CALL_TIMEOUT = 3600.0

# The workers kept running by warm_devices(), by device count.
_WARM = WarmSet()


def _start(count: int) -> ServedProcess:
    what = f"the warm jax-sharded worker ({count} CPU devices)"

    def command(address: str, authkey: str) -> list[str]:
        return [sys.executable, "-m", "kernels.jax.server", address, authkey, str(count)]

    def failure(code: int, stderr: str) -> WorkerDiedError:
        return WorkerDiedError(f"{what} exited with code {code}:\n{stderr.strip()[-2000:]}")

    try:
        return ServedProcess(command, failure, what, START_TIMEOUT)
    except TimeoutError as exc:
        raise WorkerDiedError(str(exc)) from None


def _ask(server: ServedProcess, problem: str, params: dict, timeout: float):
    """The worker's answer to one request; a worker that does not answer is an error."""
    try:
        return server.call({"problem": problem, "params": params}, timeout)
    except TimeoutError as exc:
        raise WorkerDiedError(str(exc)) from None


def run_warm(problem: str, workers: int, params: dict):
    """Run on the warm worker with ``workers`` devices, or return ``None`` if there is none."""
    server = _WARM.lend(workers)
    if server is None:
        return None
    try:
        result = _ask(server, problem, params, CALL_TIMEOUT)
    except BaseException:
        _WARM.discard(workers)  # gone, or stuck: the next call starts its own
        raise
    return float(result) if result.ndim == 0 else result


@contextlib.contextmanager
def warm_devices(device_counts: Iterable[int]) -> Iterator[dict[int, float]]:
    """Start one pinned JAX worker per device count now; ``jax-sharded`` reuses them.

    Yields the seconds each worker took to start (the interpreter, JAX, the first
    request's compilation), by device count. On exit every worker is stopped.
    """

    def start(stack: contextlib.ExitStack, count: int):
        server = _start(count)
        stack.callback(server.close)
        # JAX is up, and the first program compiled
        _ask(server, "monte_carlo_pi", {"samples": 1000, "seed": 0}, START_TIMEOUT)
        return count, server

    with _WARM.keep(device_counts, start) as startup:
        yield startup
