"""What the dask chapter measures and draws, and its exercise checkers."""

from __future__ import annotations

import os

import dask
import numpy as np
import pandas as pd
import pytest
from checker_cases import assert_checker_contract, case_id
from conftest import require_program
from IPython.display import Image, Markdown

from kernels import dask_demos, exercises, tasks
from kernels.problems import heat


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


CASES = [
    (exercises.check_sum_of_squares_graph, sum_of_squares_graph, [
        lambda n: sum(i * i for i in range(n)),  # computed, not lazy
        lambda n: dask.delayed(sum(i * i for i in range(n))),  # one task, not n + 1
        lambda n: sum_of_squares_graph(n + 1),
    ]),
    (exercises.check_halo_step, halo_step, [
        halo_step_updating_edges, lambda block: block, lambda block: block[1:-1],
    ]),
    (exercises.check_fare_by_zone, mean_fare_by_zone, [lazy_mean_fare, median_fare]),
]  # fmt: skip


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs):
    assert_checker_contract(check, right, wrongs)
