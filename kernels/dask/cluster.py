"""Dask clusters that close with the call: a :class:`~distributed.LocalCluster` or a
connection to a scheduler someone else started.

:func:`dask_client` is what the ``dask-distributed`` backend runs in. With no address it
starts a ``LocalCluster`` of worker processes and closes it (workers joined) before it
returns; with an address (the ``address`` option, or ``DASK_SCHEDULER_ADDRESS``) it only
connects, and leaves that cluster running for whoever started it.

:func:`command_line_cluster` starts a cluster the way an operator does, with the
``dask scheduler`` and ``dask worker`` commands as separate OS processes on loopback,
and stops them all afterwards; the chapter and the tests use it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dask

from ..core.catalogue import ADDRESS
from ..core.errors import WorkerDiedError
from ..core.machine import find_command
from ..core.subprocesses import stop_process_trees
from ..core.warm import WarmSet

# How long to try to reach a scheduler named by address before giving up.
CONNECT_TIMEOUT = "10s"

# distributed's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc
# hand every freed temporary array back to the OS at once; the page faults of getting it
# back cost NumPy code that allocates in a loop up to 7x (measured on the Mandelbrot
# kernel). Our clusters leave glibc's default unless asked. One BLAS thread per worker
# (the nanny's OMP_NUM_THREADS=1) stays.
MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"

# What a cluster without a dashboard leaves out: each worker's statistical profiler
# (a thread that samples the running task's stack every 10 ms, for the dashboard's
# profile page) and the 20 ms admin tick of every process. An idle 1- and 2-worker
# cluster took 12.5% of a core with them and 6.5% without, measured while the other
# processes of a chapter were being timed.
QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "500ms"}


def scheduler_address(address: str | None = None) -> str | None:
    """The scheduler to connect to: ``address``, else ``DASK_SCHEDULER_ADDRESS``, else None."""
    if address:
        return ADDRESS.validate(address, "dask-distributed")
    from_env = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if from_env:
        return ADDRESS.validate(from_env, "DASK_SCHEDULER_ADDRESS")
    return None


@contextlib.contextmanager
def restored_environment() -> Iterator[None]:
    """Undo what a ``LocalCluster``'s nannies write into this process's ``os.environ``.

    The nanny sets its workers' variables (``OMP_NUM_THREADS=1``, ...) in its own
    process before starting them; in a ``LocalCluster`` that process is ours, and every
    process started later (e.g. a ``multiprocessing`` pool) would inherit them.
    """
    saved = dict(os.environ)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # left by a nanny of an earlier cluster
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)


@contextlib.contextmanager
def local_cluster(workers: int, *, dashboard: bool = False, trim_memory: bool = False,
                  log_level: int = logging.ERROR):  # fmt: skip
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes, closed on exit.

    Parameters
    ----------
    workers : int
        Worker processes, one thread each.
    dashboard : bool
        Serve the dashboard (``client.dashboard_link``; needs ``bokeh``), with the
        workers' profiler on; without it, the cluster is kept quiet for timing
        (:data:`QUIET`). Either way the scheduler's HTTP server listens on a free port
        of 127.0.0.1: without an address it takes 8787, and a second cluster on the
        machine (the reader's own, say) then fails to start with "Port 8787 is already
        in use" (seen in a test run).
    trim_memory : bool
        Start the workers with distributed's ``MALLOC_TRIM_THRESHOLD_=65536`` (memory
        goes back to the OS sooner, NumPy temporaries cost page faults) instead of
        glibc's default.
    log_level : int
        The workers' and scheduler's log messages below this level are silenced.
    """
    from distributed import LocalCluster

    with (
        restored_environment(),
        dask.config.set(
            {MALLOC_TRIM: 65536 if trim_memory else None, **({} if dashboard else QUIET)}
        ),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": dashboard},
            silence_logs=log_level,
        ) as cluster,
    ):
        yield cluster


# A client of each cluster kept running by warm_clusters(), by worker count:
# dask_client() lends it instead of starting a LocalCluster (or connecting) per call.
_WARM = WarmSet()


@contextlib.contextmanager
def warm_clusters(worker_counts) -> Iterator[dict]:
    """Start one :func:`local_cluster` per worker count now; calls inside reuse them.

    While the block runs, ``dask-distributed`` without an address runs on the warm
    cluster of its worker count instead of starting one, so a measurement times the
    work. Each cluster keeps one client for the whole block, as a session would: opening
    and closing a client costs a round of messages with the scheduler (about 16 ms here,
    on calls of a tenth of a second). Returns the seconds each cluster and its client
    took to start, by worker count; all are closed on exit.
    """
    from distributed import Client

    def start(stack: contextlib.ExitStack, workers: int):
        cluster = stack.enter_context(local_cluster(workers))
        return workers, stack.enter_context(Client(cluster, set_as_default=False))

    with _WARM.keep(worker_counts, start) as startup:
        yield startup


def connect(address: str):
    """A :class:`distributed.Client` of the scheduler at ``address``, or a clear error."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:
        raise ConnectionError(
            f"no dask scheduler answered at {address} within {CONNECT_TIMEOUT}: start one "
            "with `dask scheduler` (and workers with `dask worker ADDRESS`), or leave "
            "address unset (and DASK_SCHEDULER_ADDRESS empty) to start a LocalCluster"
        ) from exc


@contextlib.contextmanager
def dask_client(workers: int, address: str | None = None):
    """A :class:`distributed.Client` for one call: of ``address``, the one
    :func:`warm_clusters` keeps for ``workers``, or of a new LocalCluster.

    A task whose workers keep dying raises :class:`~kernels.errors.WorkerDiedError`.
    """
    from distributed import Client, KilledWorker

    address = scheduler_address(address)
    kept = None if address else _WARM.lend(workers)
    with contextlib.ExitStack() as stack:
        if kept is not None:
            client = kept  # warm_clusters() closes it
        elif address is None:
            cluster = stack.enter_context(local_cluster(workers))
            client = stack.enter_context(Client(cluster, set_as_default=False))
        else:
            client = stack.enter_context(connect(address))
        try:
            yield client
        except KilledWorker as exc:
            raise WorkerDiedError(
                f"dask gave up on a task after it was running on workers that died "
                f"({exc}). Dask moves the tasks of a lost worker elsewhere, but one task "
                "that kills every worker it runs on (a crash, running out of memory) is "
                "stopped after `distributed.scheduler.allowed-failures` attempts."
            ) from exc


def dask_command() -> str:
    """The ``dask`` command of this Python environment."""
    found = find_command("dask")
    if found is None:
        raise FileNotFoundError(
            "the `dask` command is not installed: `pip install distributed` provides it"
        )
    return found


@dataclass
class CommandLineCluster:
    """A scheduler and workers started by :func:`command_line_cluster` with ``dask``."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    commands: list[str]
    logs: Path

    def log(self, name: str) -> str:
        """The log a process wrote so far: ``"scheduler"`` or ``"worker-0"``, ``"worker-1"``..."""
        return (self.logs / f"{name}.log").read_text()


def _start(command: list[str], log: Path, files: list, env: dict | None = None) -> subprocess.Popen:
    out = open(log, "w")
    files.append(out)
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, **env} if env else None)  # fmt: skip


def _wait_for(condition, timeout: float, what: str, processes: list[subprocess.Popen]):
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: `{shlex.join(process.args)}` exited early")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} took longer than {timeout} s")
        time.sleep(0.1)


@contextlib.contextmanager
def command_line_cluster(
    workers: int = 2, timeout: float = 60.0, hosts=None, worker_ttl: str | None = None
) -> Iterator[CommandLineCluster]:
    """Start ``dask scheduler`` and ``workers`` × ``dask worker`` on 127.0.0.1; stop them after.

    With ``hosts`` (a :class:`kernels.core.hosts.SimulatedHosts` of two or more), the
    scheduler runs on the first host and the workers on the others in turn, each
    listening on its host's address: a cluster across machines, simulated.
    ``worker_ttl`` (``"1s"``) is how long the scheduler waits for a silent worker before it
    counts it lost and reruns its tasks elsewhere, and how often it looks (distributed's
    default: 5 minutes). distributed waits at least ten heartbeats whatever it says: 5 s
    for up to ten workers.

    Every process is a separate OS process listening on a free port of the loopback
    interface, exactly as an operator would start them by hand (the commands are in
    ``.commands``). The workers run without a nanny, one thread each, so killing a worker
    process really loses it. On exit every process is terminated and waited for.

    Examples
    --------
    >>> import kernels
    >>> with command_line_cluster(2) as cluster:
    ...     image = kernels.run("mandelbrot", "dask-distributed", address=cluster.address,
    ...                         width=20, height=10)
    >>> image.shape
    (10, 20)
    """
    dask_cli = dask_command()
    with tempfile.TemporaryDirectory(prefix="kernels-dask-") as folder:
        logs = Path(folder)
        scheduler_file = logs / "scheduler.json"
        files: list = []
        if hosts is not None and len(hosts) < 2:
            raise ValueError("a cluster across hosts needs two or more: one for the scheduler")
        places = [None] if hosts is None else list(hosts)

        def where(k: int):
            """The host of process k (0: the scheduler), or None for this machine."""
            return places[0] if k == 0 or hosts is None else places[1 + (k - 1) % (len(places) - 1)]

        def address(k: int) -> str:
            return "127.0.0.1" if where(k) is None else where(k).address

        def on_host(k: int, command: list[str]) -> list[str]:
            return command if where(k) is None else where(k).command(command)

        scheduler_cmd = [
            dask_cli, "scheduler", "--host", address(0), "--port", "0",
            "--dashboard-address", "127.0.0.1:0", "--no-dashboard",
            "--scheduler-file", str(scheduler_file),
        ]  # fmt: skip
        worker_cmds = [[
            dask_cli, "worker", "--scheduler-file", str(scheduler_file), "--host",
            address(k), "--nthreads", "1", "--no-nanny",
            "--dashboard-address", "127.0.0.1:0", "--no-dashboard",
        ] for k in range(1, workers + 1)]  # fmt: skip
        started: list[subprocess.Popen] = []
        try:
            ttl = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": worker_ttl} if worker_ttl else {}
            scheduler = _start(on_host(0, scheduler_cmd), logs / "scheduler.log", files, ttl)
            started.append(scheduler)
            _wait_for(scheduler_file.exists, timeout, "starting the scheduler", started)
            worker_procs = []
            for i, command in enumerate(worker_cmds):
                worker_procs.append(
                    _start(on_host(i + 1, command), logs / f"worker-{i}.log", files)
                )
            started += worker_procs
            address = json.loads(scheduler_file.read_text())["address"]
            with connect(address) as client:
                client.wait_for_workers(workers, timeout=timeout)
            yield CommandLineCluster(
                address,
                scheduler,
                worker_procs,
                [shlex.join(scheduler_cmd), *map(shlex.join, worker_cmds)],
                logs,
            )
        finally:
            stop_process_trees(started[1:])  # workers first: the scheduler sees them go
            stop_process_trees(started[:1])
            for out in files:
                out.close()
