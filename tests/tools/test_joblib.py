"""Chapter 04's joblib part: the backend's worker lifetime, measurements and checker."""

from __future__ import annotations

import numpy as np
import psutil
import pytest
from checker_cases import assert_checker_contract
from joblib import Parallel, delayed

import kernels
from kernels.core import tasks
from kernels.joblib import checks as joblib_checks
from kernels.joblib import demos as joblib_demos
from kernels.joblib import pool as joblib_pool


def loky_workers() -> list[int]:
    """PIDs of this process's running children, except the resource trackers."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and (
                "resource_tracker" not in " ".join(child.cmdline())
            ):
                found.append(child.pid)
        except psutil.Error:
            continue
    return found


def test_each_call_stops_its_workers_unless_they_are_kept():
    kernels.run("monte_carlo_pi", "joblib", workers=2, samples=20_000, seed=1)
    assert loky_workers() == []
    with joblib_pool.keep_workers([2]) as startup:
        first = kernels.run("monte_carlo_pi", "joblib", workers=2, samples=20_000, seed=1)
        kept = set(loky_workers())
        again = kernels.run("monte_carlo_pi", "joblib", workers=2, samples=20_000, seed=1)
        assert len(kept) >= 2 and set(loky_workers()) == kept  # reused
    assert first == again and startup[2] > 0
    assert loky_workers() == []


@pytest.mark.parametrize("n", [9, 40, 131])
def test_heat_rounds_with_halos_are_exact(n):
    steps = 2 * n  # several rounds of halo steps, and a last round that is shorter
    for workers in (1, 2, 3):
        field = kernels.run("heat", "joblib", workers=workers, n=n, steps=steps)
        np.testing.assert_array_equal(field, kernels.reference("heat", n=n, steps=steps))


def test_a_task_that_fails_raises_its_own_error_and_stops_the_workers():
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        Parallel(n_jobs=2)(delayed(tasks.collatz_steps)(n) for n in (3, 0))
    joblib_pool.stop_workers()
    assert loky_workers() == []


def test_measurements():
    from matplotlib.figure import Figure

    startup = joblib_demos.measure_startup(2, repeat=1)
    assert list(startup["what"]) == ["first call", "workers reused"]
    assert (startup["seconds"] > 0).all()
    sent = joblib_demos.measure_memmapping([0.5, 4], workers=2, repeat=1)
    assert list(sent["method"]) == ["memory-mapped", "pickled copies"] * 2
    assert (sent["seconds"] > 0).all()
    assert isinstance(joblib_demos.plot_memmapping(sent), Figure)
    batching = joblib_demos.measure_batching(2, tasks_count=200)
    assert list(batching["batch_size"]) == ["1", "auto"] and (batching["us_per_task"] > 0).all()
    assert loky_workers() == []


def _bounds(x, blocks):
    return [(int(p[0]), int(p[-1]) + 1) for p in np.array_split(np.arange(x.size), blocks)]


def block_means(x, blocks, workers):
    return Parallel(n_jobs=workers)(
        delayed(tasks.block_mean)(x, lo, hi) for lo, hi in _bounds(x, blocks)
    )


def block_means_copied(x, blocks, workers):  # max_nbytes=None: a pickled copy per task
    return Parallel(n_jobs=workers, max_nbytes=None)(
        delayed(tasks.block_mean)(x, lo, hi) for lo, hi in _bounds(x, blocks)
    )


def block_means_on_threads(x, blocks, workers):  # no processes: nothing to share
    return Parallel(n_jobs=workers, prefer="threads")(
        delayed(tasks.block_mean)(x, lo, hi) for lo, hi in _bounds(x, blocks)
    )


def block_means_of_slices(x, blocks, workers):  # each task gets its slice, from 0
    return Parallel(n_jobs=workers)(
        delayed(tasks.block_mean)(x[lo:hi], 0, hi - lo) for lo, hi in _bounds(x, blocks)
    )


def block_means_equal_blocks(x, blocks, workers):  # drops the remainder
    step = x.size // blocks
    return Parallel(n_jobs=workers)(
        delayed(tasks.block_mean)(x, k * step, (k + 1) * step) for k in range(blocks)
    )


def test_block_means_checker():
    assert_checker_contract(joblib_checks.check_block_means, block_means, [
        lambda x, blocks, workers: [tasks.block_mean(x, lo, hi) for lo, hi in _bounds(x, blocks)],
        lambda x, blocks, workers: Parallel(n_jobs=1)(
            delayed(tasks.block_mean)(x, lo, hi) for lo, hi in _bounds(x, blocks)),
        block_means_copied, block_means_on_threads, block_means_of_slices,
        block_means_equal_blocks,
    ])  # fmt: skip
    assert loky_workers() == []
