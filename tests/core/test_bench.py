"""Benchmarks: the table's shape and meaning, warm-up, weak scaling, bad arguments."""

from __future__ import annotations

import time

import numpy as np
import pytest

from kernels.core import bench

SMALL = {"n": 24, "steps": 4}


def test_measure_table_shape_and_meaning():
    df = bench.measure(
        "heat", ["numpy", "threads", "multiprocessing"], workers=[1, 2], repeat=2, **SMALL
    )
    assert df[["backend", "workers"]].values.tolist() == [
        ["numpy", 1], ["threads", 1], ["threads", 2],
        ["multiprocessing", 1], ["multiprocessing", 2],
    ]  # fmt: skip
    assert list(df.columns) == bench.COLUMNS
    assert all(len(s) == 2 for s in df["seconds"])
    assert (df["median_s"] >= df["best_s"]).all()
    assert df["checksum"].nunique() == 1  # every backend computed the same field
    fastest_serial = df.loc[df["workers"] == 1, "median_s"].min()
    np.testing.assert_allclose(df["speedup"], fastest_serial / df["median_s"])
    np.testing.assert_allclose(df["efficiency"], df["speedup"] / df["workers"])
    own = df[df.backend == "threads"].set_index("workers")["median_s"]
    row = df[(df.backend == "threads") & (df.workers == 2)].iloc[0]
    assert row["self_speedup"] == pytest.approx(own[1] / own[2])


def test_warm_up_call_is_not_counted():
    calls = []
    seconds, result = bench.time_call(lambda: calls.append(1) or len(calls), repeat=3)
    assert len(calls) == 4 and len(seconds) == 3 and result == 4


def test_best_time_checks_the_timed_call_and_stops_at_its_time_limit():
    from kernels.core import timing

    calls = []

    def counts(n):
        calls.append(n)
        return np.arange(n)

    assert timing.best_time(counts, 4, repeat=3, expected=np.arange(4)) >= 0
    assert calls == [4, 4, 4]  # no extra call to check the result
    with pytest.raises(ValueError, match="counts: the timed call's result is not"):
        timing.best_time(counts, 4, repeat=1, expected=np.arange(1, 5))
    calls.clear()
    timing.best_time(lambda: calls.append(time.sleep(0.02)), repeat=5, time_limit=0.01)
    assert len(calls) == 1  # over the time limit: timed once


@pytest.mark.parametrize(
    "warmup, runs", [(True, [24, 24, 24]), (False, [24, 24]), ({"n": 8}, [8, 24, 24])]
)
def test_measure_warms_each_point_up_as_told(monkeypatch, warmup, runs):
    # The sizes each point ran at, in order: the warm-up first, when there is one.
    calls, run = [], bench.run
    counting = lambda *args, **kw: calls.append((args[2], kw["n"])) or run(*args, **kw)  # noqa: E731
    monkeypatch.setattr(bench, "run", counting)
    df = bench.measure("heat", ["threads"], workers=[1, 2], repeat=2, warmup=warmup, **SMALL)
    assert all(len(s) == 2 for s in df["seconds"])
    assert [p["n"] for p in df["params"]] == [24, 24]
    for w in (1, 2):
        assert [n for worker, n in calls if worker == w] == runs


def test_measure_alternates_the_timed_runs(monkeypatch):
    # Warm-ups first, then rounds of one run per point: a slow stretch hits every point.
    calls, run = [], bench.run
    counting = lambda *args, **kw: calls.append((args[1], args[2])) or run(*args, **kw)  # noqa: E731
    monkeypatch.setattr(bench, "run", counting)
    bench.measure("heat", ["numpy", "threads"], workers=[1, 2], repeat=2, **SMALL)
    round_ = [("numpy", 1), ("threads", 1), ("threads", 2)]
    assert calls == round_ * 3


def test_budget_adds_rounds_to_fast_points_only(monkeypatch):
    progress = []
    fast = bench.measure("heat", ["threads"], workers=[1, 2], repeat=2, budget=0.05,
                         progress=lambda *a: progress.append(a[:2]), **SMALL)  # fmt: skip
    runs = [len(s) for s in fast["seconds"]]
    assert runs[0] == runs[1] > 2  # whole rounds: every point as many runs
    assert sum(map(sum, fast["seconds"])) >= 0.05 or runs[0] == bench.MAX_ROUNDS
    assert progress[-1] == (2 * runs[0], 2 * runs[0])  # the total grew with the rounds
    slow = bench.measure("heat", ["threads"], workers=[1], repeat=2, budget=1e-9, **SMALL)
    assert len(slow["seconds"][0]) == 2  # over the budget after its repeats: no more
    with pytest.raises(ValueError, match="budget must be seconds >= 0"):
        bench.measure("heat", ["threads"], budget=-1, **SMALL)


def test_number_times_calls_back_to_back_as_their_mean(monkeypatch):
    calls, run = [], bench.run
    counting = lambda *args, **kw: calls.append((args[1], args[2])) or run(*args, **kw)  # noqa: E731
    monkeypatch.setattr(bench, "run", counting)
    df = bench.measure("heat", ["threads"], workers=[1, 2], repeat=2, number=3, **SMALL)
    # one warm-up each, then rounds in which each point runs three times in a row
    one_round = [("threads", 1)] * 3 + [("threads", 2)] * 3
    assert calls == [("threads", 1), ("threads", 2)] + one_round * 2
    assert [len(s) for s in df["seconds"]] == [2, 2]  # one time per run of three calls
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="number must be an int >= 1"):
            bench.measure("heat", ["threads"], number=bad, **SMALL)


def test_number_budget_counts_every_call(monkeypatch):
    # Each run of 3 calls spends three times its mean: 0.1 s per call reaches 0.55 s in
    # two runs of one point, where counting one call per run would take six.
    monkeypatch.setattr(bench, "time_call", lambda func, repeat, warmup, number: ([0.1], func()))
    df = bench.measure("heat", ["numpy"], workers=[1], repeat=1, budget=0.55, number=3, **SMALL)
    assert len(df["seconds"][0]) == 2


def test_quick_sizes_leave_out_the_budget(monkeypatch):
    from kernels.core import sizes

    monkeypatch.setenv("KERNELS_QUICK", "1")
    assert sizes.budget(0.5) is None and sizes.repeats(3) == 1
    monkeypatch.setenv("KERNELS_QUICK", "0")
    assert sizes.budget(0.5) == 0.5 and sizes.repeats(3) == 3


def test_one_pool_backend_is_timed_count_by_count_above_one(monkeypatch):
    # joblib's one loky pool is resized by a call at another count above 1: those counts
    # are timed in a row, not alternated; its 1-worker runs (in-process) still alternate.
    calls, progress, run = [], [], bench.run
    counting = lambda *args, **kw: calls.append((args[1], args[2])) or run(*args, **kw)  # noqa: E731
    monkeypatch.setattr(bench, "run", counting)
    bench.measure("heat", ["threads", "joblib"], workers=[1, 2, 3], repeat=2,
                  warmup=False, progress=lambda *a: progress.append(a), **SMALL)  # fmt: skip
    together = [("threads", 1), ("threads", 2), ("threads", 3), ("joblib", 1)]
    assert calls == together * 2 + [("joblib", 2)] * 2 + [("joblib", 3)] * 2
    assert [(done, total) for done, total, _ in progress] == [(k, 12) for k in range(1, 13)]
    assert progress[-1][2] == "joblib x3"
    calls.clear()
    bench.measure("heat", ["joblib"], workers=[1, 2], repeat=2, warmup=False, **SMALL)
    assert calls == [("joblib", 1), ("joblib", 2)] * 2  # one count above 1: no resizing


def test_weak_scaling_grows_the_problem():
    df = bench.measure("mandelbrot", ["threads"], workers=[1, 2, 3], repeat=1, scaling="weak",
                       width=16, height=5, max_iter=10)  # fmt: skip
    assert [p["height"] for p in df["params"]] == [5, 10, 15]
    row = df.iloc[2]
    assert row["self_speedup"] == pytest.approx(3 * row["self_efficiency"])


def test_measure_rejects_bad_arguments():
    with pytest.raises(ValueError, match="scaling must be one of strong, weak"):
        bench.measure("heat", ["numpy"], scaling="medium")
    with pytest.raises(TypeError, match="unknown parameter.*colour"):
        bench.measure("heat", ["numpy"], colour=3)
    with pytest.raises(ValueError, match="worker counts must be ints >= 1"):
        bench.measure("heat", ["threads"], workers=[0])
    with pytest.raises(ValueError, match="repeat must be an int >= 1"):
        bench.measure("heat", ["numpy"], repeat=0)


def test_checksum_does_not_depend_on_memory_layout():
    # A float array whose NumPy sum depends on alignment: the same values at an odd
    # offset of a buffer (as an array unpickled from a worker can be) sum the same.
    from kernels.core.timing import checksum

    values = np.random.default_rng(1).random(100_003) * 1e6
    buffer = np.empty(values.size * 8 + 8, dtype=np.uint8)
    shifted = np.frombuffer(buffer[4 : 4 + values.size * 8].data, dtype=np.float64)
    shifted[...] = values
    assert checksum(shifted) == checksum(values) == checksum(np.asfortranarray(values))
    assert checksum(np.arange(10, dtype=np.int32)) == 45.0
