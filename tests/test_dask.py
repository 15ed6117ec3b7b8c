"""The dask backends against real clusters: processes started by the `dask` command."""

from __future__ import annotations

import os
import socket
import threading
import time

import dask
import numpy as np
import psutil
import pytest
from distributed import Client

import kernels
from kernels import sizes
from kernels.backends import dask_cluster
from kernels.backends.dask_cluster import command_line_cluster, dask_client, local_cluster
from kernels.backends.dask_graphs import heat_array, mandelbrot_array
from kernels.problems import heat, mandelbrot


@pytest.fixture(scope="module")
def cluster():
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped after the module."""
    with command_line_cluster(2) as running:
        yield running
    for process in [running.scheduler, *running.workers]:
        assert process.poll() is not None
        assert not psutil.pid_exists(process.pid) or psutil.Process(process.pid).status() == (
            psutil.STATUS_ZOMBIE
        )


def test_cluster_processes_listen_on_loopback_only(cluster):
    assert cluster.address.startswith("tcp://127.0.0.1:")
    for process in [cluster.scheduler, *cluster.workers]:
        for conn in psutil.Process(process.pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                assert conn.laddr.ip == "127.0.0.1", (process.args, conn)
    assert "dask scheduler --host 127.0.0.1 --port 0" in cluster.commands[0]
    assert "Scheduler at:" in cluster.log("scheduler")


@pytest.mark.parametrize("problem", kernels.problems())
def test_every_problem_on_the_command_line_cluster(cluster, problem):
    params = sizes.params(problem, "test")
    result = kernels.run(problem, "dask-distributed", workers=2, address=cluster.address, **params)
    expected = kernels.reference(problem, **params)
    assert kernels.registry.PROBLEMS[problem].compare(result, expected, params, True) is None


def test_dask_scheduler_address_environment_variable(cluster, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.address)
    with Client(cluster.address, set_as_default=False) as observer:
        before = observer.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
        result = kernels.run("monte_carlo_pi", "dask-distributed", workers=2, samples=10_000)
        after = observer.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    assert result == kernels.reference("monte_carlo_pi", samples=10_000)
    assert after != before  # the tasks went to this cluster, not to a new LocalCluster


def test_bad_address_in_environment_is_named(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "localhost:8786")
    with pytest.raises(ValueError, match="DASK_SCHEDULER_ADDRESS: address must look like"):
        kernels.run("monte_carlo_pi", "dask-distributed", samples=10)


def test_no_scheduler_at_address_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{unused_port()}"
    with pytest.raises(ConnectionError, match=f"no dask scheduler answered at {address}"):
        kernels.run("monte_carlo_pi", "dask-distributed", samples=10, address=address)


def unused_port() -> int:
    """A loopback port nothing listens on (bound by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_killing_a_worker_mid_run_loses_no_work(cluster):
    """SIGKILL one worker while it runs tasks: the scheduler reruns them on the other."""
    params = {"width": 400, "height": 300, "max_iter": 2000}
    expected = kernels.reference("mandelbrot", **params)
    victim, survivor = cluster.workers
    outcome = {}

    def run():
        try:
            outcome["result"] = kernels.run(
                "mandelbrot", "dask-distributed", workers=4, address=cluster.address, **params
            )
        except BaseException as exc:  # reported in the main thread
            outcome["error"] = exc

    with Client(cluster.address, set_as_default=False) as observer:
        pids = observer.run(os.getpid)
        victim_address = next(address for address, pid in pids.items() if pid == victim.pid)
        runner = threading.Thread(target=run)
        runner.start()
        deadline = time.monotonic() + 30
        while not observer.processing().get(victim_address) and time.monotonic() < deadline:
            time.sleep(0.01)
        busy = observer.processing().get(victim_address)
        victim.kill()
        runner.join(120)
        assert not runner.is_alive()
        pids_left = observer.run(os.getpid)
    assert busy, "the victim never got a task"
    assert victim.wait(10) == -9
    assert "error" not in outcome, outcome.get("error")
    np.testing.assert_array_equal(outcome["result"], expected)
    assert list(pids_left.values()) == [survivor.pid]
    assert survivor.poll() is None


@pytest.mark.parametrize("blocks", [1, 2, 3, 5])
@pytest.mark.parametrize("halo_steps", [1, 3, 16])
def test_heat_map_overlap_is_bit_exact(blocks, halo_steps):
    result = heat_array(31, 20, blocks, halo_steps).compute(scheduler="synchronous")
    np.testing.assert_array_equal(result, heat.reference(31, 20))


@pytest.mark.parametrize("chunk_rows", [1, 7, 40])
def test_mandelbrot_array_by_blocks(chunk_rows):
    image = mandelbrot_array(50, 40, 60, chunk_rows)
    assert image.numblocks == (-(-40 // chunk_rows), 1)
    np.testing.assert_array_equal(image.compute(), mandelbrot.reference(50, 40, 60))


def test_local_cluster_keeps_our_environment_and_glibc_defaults():
    before = dict(os.environ)
    with local_cluster(1) as cluster, Client(cluster, set_as_default=False) as client:
        seen = client.run(lambda: dict(os.environ))
    (worker_env,) = seen.values()
    assert "MALLOC_TRIM_THRESHOLD_" not in worker_env or "MALLOC_TRIM_THRESHOLD_" in before
    assert worker_env.get("OMP_NUM_THREADS") == "1"  # one BLAS thread per worker
    assert dict(os.environ) == before


def test_a_task_that_kills_every_worker_is_a_worker_died_error():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with pytest.raises(kernels.WorkerDiedError, match="dask gave up on a task"):
            with dask_client(1) as client:
                client.submit(os._exit, 3).result()
