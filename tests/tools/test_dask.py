"""The dask backends against real clusters: processes started by the `dask` command."""

from __future__ import annotations

import os
import socket
import threading
import time

import dask
import numpy as np
import pandas as pd
import psutil
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws, case_id
from conftest import require_program
from distributed import Client
from IPython.display import Image, Markdown

import kernels
from kernels.core import bench, sizes, tasks
from kernels.core.registry import get_problem
from kernels.dask import checks
from kernels.dask import cluster as dask_cluster
from kernels.dask import demos as dask_demos
from kernels.dask.cluster import command_line_cluster, dask_client, local_cluster
from kernels.dask.graphs import heat_array, heat_rounds, mandelbrot_array
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
    assert get_problem(problem).compare(result, expected, params, True) is None


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


@pytest.mark.parametrize("blocks", [1, 2, 3, 5, 31, 40])
@pytest.mark.parametrize("halo_steps", [None, 1, 3, 16])
def test_heat_rounds_is_bit_exact_with_one_task_per_block_and_round(blocks, halo_steps):
    graph = heat_rounds(31, 20, blocks, halo_steps)
    np.testing.assert_array_equal(graph.compute(scheduler="synchronous"), heat.reference(31, 20))
    used = min(blocks, 31)
    depth = 20 if used == 1 else min(halo_steps or heat.default_halo_steps(31 // used), 31 // used)
    rounds = -(-20 // depth)
    # one task per block and round (the first builds its rows and halos from the
    # initial field), and the final join
    assert len(dict(graph.__dask_graph__())) == used * rounds + 1


@pytest.mark.parametrize("chunk_rows", [1, 7, 40])
def test_mandelbrot_array_by_blocks(chunk_rows):
    image = mandelbrot_array(50, 40, 60, chunk_rows)
    assert image.numblocks == (-(-40 // chunk_rows), 1)
    np.testing.assert_array_equal(image.compute(), mandelbrot.reference(50, 40, 60))


def _profiler_on() -> bool:
    return dask.config.get("distributed.worker.profile.enabled")


def test_local_cluster_keeps_our_environment_and_glibc_defaults():
    before = dict(os.environ)
    with local_cluster(1) as cluster, Client(cluster, set_as_default=False) as client:
        seen = client.run(lambda: dict(os.environ))
        profiling = client.run(_profiler_on)
    (worker_env,) = seen.values()
    assert "MALLOC_TRIM_THRESHOLD_" not in worker_env or "MALLOC_TRIM_THRESHOLD_" in before
    assert worker_env.get("OMP_NUM_THREADS") == "1"  # one BLAS thread per worker
    assert dict(os.environ) == before
    assert list(profiling.values()) == [False]  # quiet for timing: no 10 ms stack sampler
    assert _profiler_on()  # and only inside the cluster's workers


def test_a_task_that_kills_every_worker_is_a_worker_died_error():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with pytest.raises(kernels.WorkerDiedError, match="dask gave up on a task"):
            with dask_client(1) as client:
                client.submit(os._exit, 3).result()


@pytest.fixture
def graph():
    squares = [dask.delayed(tasks.square, pure=True)(i) for i in range(3)]
    return dask.delayed(sum)(squares)


def test_graph_text_lists_every_task_and_its_inputs(graph):
    lines = dask_demos.graph_text(graph).splitlines()
    assert len(lines) == 4
    (total,) = [line for line in lines if line.startswith("sum-")]
    assert total.count("square-") == 3
    assert sum("(no inputs)" in line for line in lines) == 3


def test_task_graph_picture_with_graphviz(graph):
    require_program("dot", "apt install graphviz")
    picture = dask_demos.task_graph_picture(graph)
    assert isinstance(picture, Image)
    assert picture.data[:8] == b"\x89PNG\r\n\x1a\n" and len(picture.data) > 1_000


def test_task_graph_picture_says_why_without_graphviz(graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on this PATH
    picture = dask_demos.task_graph_picture(graph)
    assert isinstance(picture, Markdown)
    assert "`dot` program is not installed" in picture.data
    assert "apt install graphviz" in picture.data
    assert dask_demos.graph_text(graph).splitlines()[0] in picture.data


def test_chunk_measurements():
    mandel = dask_demos.measure_mandelbrot_chunks(40, 30, 20, [30, 7, 1], repeat=1)
    assert mandel["chunks"].tolist() == [1, 5, 30]
    assert (mandel["seconds"] > 0).all()
    heat_df = dask_demos.measure_heat_chunks(20, 8, [1, 2], halo_steps=(1, 4), repeat=1)
    assert len(heat_df) == 4
    tasks_per = heat_df.set_index(["halo_steps", "blocks"])["tasks"]
    assert tasks_per[(1, 2)] > tasks_per[(4, 2)]  # fewer exchanges, fewer tasks
    assert dask_demos.plot_chunks(mandel, heat_df).axes


def test_task_overhead_measures_each_scheduler():
    df = dask_demos.measure_task_overhead(counts=(50, 300), repeat=2)
    assert df["scheduler"].tolist() == list(dask_demos.SCHEDULERS)
    assert np.isfinite(df["per_task_us"]).all() and (df["fixed_s"] >= 0).all()
    by = df.set_index("scheduler")
    assert by["startup_s"]["distributed"] > 0 and by["startup_s"]["threads"] == 0
    # (No comparison of the measured costs: timing on a shared machine is noisy.)
    assert dask_demos.plot_task_overhead(df).axes


def test_scaling_runs_both_problems_on_one_warm_cluster_per_worker_count(monkeypatch):
    problems = {"mandelbrot": {"width": 40, "height": 30, "max_iter": 20},
                "heat": {"n": 24, "steps": 4}}  # fmt: skip
    measured, measure = [], bench.measure

    def watched(problem, backends, **options):
        measured.append((problem, tuple(backends), len(dask_cluster._WARM)))
        return measure(problem, backends, **options)

    monkeypatch.setattr(bench, "measure", watched)
    tables = dask_demos.measure_scaling(problems, [1, 2], repeat=2)
    # The threaded scheduler is timed while no cluster runs, dask-distributed on both.
    assert measured == [("mandelbrot", ("dask",), 0), ("heat", ("dask",), 0),
                        ("mandelbrot", ("dask-distributed",), 2),
                        ("heat", ("dask-distributed",), 2)]  # fmt: skip
    assert list(tables) == ["mandelbrot", "heat"]
    for problem, df in tables.items():
        assert df[["backend", "workers"]].values.tolist() == [
            ["dask", 1],
            ["dask", 2],
            ["dask-distributed", 1],
            ["dask-distributed", 2],
        ]
        assert all(len(s) == 2 for s in df["seconds"])
        assert df["checksum"].nunique() == 1 and df["params"].iloc[0] == problems[problem]
        started = df.set_index(["backend", "workers"])["startup_s"]
        assert started["dask"].eq(0).all() and started["dask-distributed"].gt(0).all()
    # The clusters were started once: both problems report the same start-up times.
    assert (tables["mandelbrot"]["startup_s"].tolist()
            == tables["heat"]["startup_s"].tolist())  # fmt: skip


def test_warm_clusters_lend_one_kept_client_and_each_call_computes_again(monkeypatch):
    small = sizes.params("mandelbrot", "test")
    expected = kernels.reference("mandelbrot", **small)
    with dask_cluster.warm_clusters([1, 2]):
        with dask_client(2) as first:
            pass
        with dask_client(2) as again, dask_client(1) as other:
            assert again is first and first.status == "running"  # the call did not close it
            assert other is not first
        keys, map_ = [], first.map

        def spy(*args, **kwargs):
            futures = map_(*args, **kwargs)
            keys.append({f.key for f in futures})
            return futures

        monkeypatch.setattr(first, "map", spy)
        for _ in range(2):
            got = kernels.run("mandelbrot", "dask-distributed", 2, **small)
            assert np.array_equal(got, expected)
        assert len(keys) == 2 and not keys[0] & keys[1]  # new tasks, not the last call's
        # heat's graph too: with the last call's keys, a call back to back was answered
        # from results still on the cluster, or failed when they were released under it
        graphs, compute = [], first.compute

        def spy_compute(blocks, *args, **kwargs):
            graphs.append({key for block in blocks for key in dict(block.__dask_graph__())})
            return compute(blocks, *args, **kwargs)

        monkeypatch.setattr(first, "compute", spy_compute)
        heat_params = sizes.params("heat", "test")
        for _ in range(3):
            got = kernels.run("heat", "dask-distributed", 2, **heat_params)
            np.testing.assert_array_equal(got, heat.reference(**heat_params))
        assert len(graphs) == 3 and all(graphs)
        assert not (graphs[0] & graphs[1] or graphs[1] & graphs[2])
    assert first.status == "closed" and not dask_cluster._WARM


def test_cost_per_task_is_the_slope_and_intercept():
    assert dask_demos.cost_per_task({100: 0.51, 500: 0.55}) == (0.0001, 0.5)
    assert dask_demos.cost_per_task({500: 0.55, 100: 0.51}) == (0.0001, 0.5)
    slower_small = dask_demos.cost_per_task({100: 0.9, 500: 0.5})  # noise: reported as is
    assert slower_small[0] < 0 and slower_small[1] > 0


def test_schedulers_measurement():
    df = dask_demos.measure_schedulers("monte_carlo_pi", {"samples": 1000, "seed": 1})
    assert len(df) == 2 * len(dask_demos.SCHEDULERS) and (df["seconds"] > 0).all()
    assert dask_demos.plot_schedulers(df, "t").axes


def test_malloc_trim_measurement():
    before = dict(os.environ)
    df = dask_demos.measure_malloc_trim(60, 40, 30, repeat=1)
    assert len(df) == 2 and (df["cpu_s"] >= 0).all()
    assert dict(os.environ) == before  # the nannies' variables did not leak into ours


def test_trips_are_reproducible_and_plausible():
    a, b = dask_demos.make_trips(2_000, seed=3), dask_demos.make_trips(2_000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["pickup"].is_monotonic_increasing
    assert (a["fare"] > 0).all() and a["passengers"].between(1, 6).all()
    assert set(a["zone"].cat.categories) == set(dask_demos.ZONES)


def test_dataframe_measurement_agrees_with_pandas(tmp_path):
    paths = dask_demos.write_trips(tmp_path, 20_000, 3)
    assert [p.name for p in paths] == ["part-000.parquet", "part-001.parquet", "part-002.parquet"]
    df = dask_demos.measure_dataframe(tmp_path)
    assert df["library"].tolist() == ["pandas", "dask.dataframe"]
    assert (df["seconds"] > 0).all() and (df["peak_mib"] >= 0).all()
    pandas_result, dask_result = (pd.DataFrame(r) for r in df["result"])
    assert pandas_result["trips"].sum() == 20_000
    assert pandas_result["trips"].equals(dask_result["trips"])
    assert np.allclose(pandas_result["mean_fare"], dask_result["mean_fare"])
    assert dask_demos.plot_dataframe(df, 20_000, 3).axes


def sum_of_squares_graph(n):
    return dask.delayed(sum)([dask.delayed(tasks.square, pure=True)(i) for i in range(n)])


def halo_step(block):
    new = block.copy()
    c = block[1:-1, 1:-1]
    new[1:-1, 1:-1] = c + heat.R * (
        (block[:-2, 1:-1] + block[2:, 1:-1]) + (block[1:-1, :-2] + block[1:-1, 2:]) - 4.0 * c
    )
    return new


def halo_step_updating_edges(block):
    new = halo_step(block)
    new[0, 1:-1] = new[1, 1:-1]  # overwrites the fixed boundary / halo row
    return new


def mean_fare_by_zone(folder):
    import dask.dataframe as dd

    return dd.read_parquet(folder).groupby("zone", observed=True)["fare"].mean().compute()


def lazy_mean_fare(folder):
    import dask.dataframe as dd

    return dd.read_parquet(folder).groupby("zone", observed=True)["fare"].mean()


def median_fare(folder):
    import dask.dataframe as dd

    return dd.read_parquet(folder).groupby("zone", observed=True)["fare"].max().compute()


def halo_step_in_place(block):  # new values read while updating: not one step
    new = block.copy()
    for i in range(1, block.shape[0] - 1):
        c = new[i, 1:-1]
        new[i, 1:-1] = c + heat.R * (new[i - 1, 1:-1] + new[i + 1, 1:-1] + new[i, :-2]
                                     + new[i, 2:] - 4.0 * c)  # fmt: skip
    return new


def fare_with_pandas(folder):  # right numbers, but dask never ran
    import pandas as pd

    return pd.read_parquet(folder).groupby("zone", observed=True)["fare"].mean()


def fare_of_first_file(folder):
    import pathlib

    import dask.dataframe as dd

    first = sorted(pathlib.Path(folder).glob("*.parquet"))[0]
    return dd.read_parquet(first).groupby("zone", observed=True)["fare"].mean().compute()


CASES = [
    (checks.check_sum_of_squares_graph, sum_of_squares_graph, [
        lambda n: sum(i * i for i in range(n)),  # computed, not lazy
        lambda n: dask.delayed(sum(i * i for i in range(n))),  # one task, not n + 1
        lambda n: dask.delayed(sum)([i * i for i in range(n)]),  # the squares not tasks
        lambda n: sum_of_squares_graph(n + 1),
        lambda n: dask.delayed(sum)([dask.delayed(tasks.square)(i) for i in range(1, n + 1)]),
    ]),
    (checks.check_halo_step, halo_step, [
        halo_step_updating_edges, lambda block: block, lambda block: block[1:-1],
        halo_step_in_place,
    ]),
    (checks.check_fare_by_zone, mean_fare_by_zone, [
        lazy_mean_fare, median_fare, fare_with_pandas, fare_of_first_file,
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs):
    assert_checker_contract(check, right, wrongs)


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES[:2], ids=case_id)
def test_graph_and_halo_checkers_on_many_draws(check, right, wrongs, monkeypatch):
    # Quick to check (fare_by_zone reads files): a near miss that a rare draw lets
    # through would be a wrong answer passed.
    assert_contract_on_many_draws(check, right, wrongs, monkeypatch, draws=50)
