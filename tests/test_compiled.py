"""The compiled backends beyond the contract: threads really used, schedules, limits, C."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels
from kernels import bandwidth, c_baseline, numba_kernels, sysinfo
from kernels.backends import numba_jit
from kernels.compiled import openmp
from kernels.numba_kernels import numba  # first: it sizes numba's thread pool
from kernels.problems import mandelbrot


def test_extensions_built_with_openmp_where_the_compiler_has_it():
    if "with OpenMP" in sysinfo.openmp_status():
        assert openmp.openmp_version() >= 200805  # OpenMP 3.0 or later
        assert sysinfo.compiled_status().startswith("built with OpenMP")
    else:
        assert openmp.openmp_version() == 0
        assert "without OpenMP" in sysinfo.compiled_status()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_prange_runs_on_the_threads_asked_for(threads):
    expected = threads if openmp.openmp_version() else 1
    assert openmp.team_size(threads) == expected


@pytest.mark.parametrize(
    ("backend", "schedules"),
    [
        ("cython-parallel", ["static", "dynamic", "guided"]),
        ("numba-parallel", ["interleaved", "blocks"]),
    ],
)
def test_every_schedule_gives_the_reference_counts(backend, schedules):
    params = {"width": 45, "height": 31, "max_iter": 80}
    expected = kernels.reference("mandelbrot", **params)
    for schedule in schedules:
        result = kernels.run("mandelbrot", backend, workers=3, schedule=schedule, **params)
        np.testing.assert_array_equal(result, expected, err_msg=schedule)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 40), height=st.integers(1, 6), max_iter=st.integers(1, 120),
    workers=st.integers(1, 4),
)  # fmt: skip
def test_lanes_exact_at_any_width(width, height, max_iter, workers):
    # 16 points in lock-step: widths that are not multiples of 16 leave idle lanes.
    expected = mandelbrot.reference(width, height, max_iter)
    for backend in ("cython-parallel", "numba-parallel"):
        result = kernels.run(
            "mandelbrot", backend, workers=workers, width=width, height=height, max_iter=max_iter
        )
        np.testing.assert_array_equal(result, expected, err_msg=backend)


def test_numba_scalar_loop_matches_one_point_of_the_reference():
    re, im = mandelbrot.coordinates(30, 20)
    expected = mandelbrot.reference(30, 20, 90)
    assert numba_kernels.escape_count(re[11], im[9], 90) == expected[9, 11]


def test_numba_threads_restores_the_thread_count_even_on_error():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"), numba_jit.numba_threads(1):
        assert numba.get_num_threads() == 1
        raise RuntimeError("inside")
    assert numba.get_num_threads() == before


def test_more_workers_than_numba_threads_is_a_clear_error():
    # The pool size is fixed when numba starts, so this needs a fresh interpreter.
    code = (
        "import kernels\n"
        "try:\n"
        "    kernels.run('heat', 'numba-parallel', workers=3, n=8, steps=1)\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "workers must be <= 2, got 3" in out.stdout
    assert "NUMBA_NUM_THREADS" in out.stdout


def test_numba_pool_is_at_least_the_minimum():
    assert numba.config.NUMBA_NUM_THREADS >= min(
        numba_kernels.MIN_THREAD_POOL, int(os.environ.get("NUMBA_NUM_THREADS", "64"))
    )


@pytest.mark.parametrize("kernel", ["lanes", "scalar"])
@pytest.mark.parametrize("threads", [1, 2])
def test_c_baseline_counts_equal_the_reference(kernel, threads):
    params = {"width": 53, "height": 29, "max_iter": 70}
    run = c_baseline.run(**params, threads=threads, kernel=kernel)
    np.testing.assert_array_equal(run.counts, mandelbrot.reference(**params))
    assert run.seconds >= 0 and run.threads == threads and run.kernel == kernel


def test_c_baseline_bad_input_and_missing_compiler(monkeypatch):
    with pytest.raises(ValueError, match="kernel must be one of lanes, scalar, got 'simd'"):
        c_baseline.run(8, 8, 8, kernel="simd")
    monkeypatch.setenv("CC", "/nonexistent/cc")
    c_baseline.build.cache_clear()
    try:
        with pytest.raises(kernels.BackendUnavailableError, match="cannot run the C compiler"):
            c_baseline.build()
    finally:
        c_baseline.build.cache_clear()
    assert "#pragma omp parallel for" in c_baseline.source()


def test_bandwidth_arithmetic():
    assert bandwidth.heat_bytes(10, 3) == 8 * (100 + 64) * 3
    assert bandwidth.heat_bandwidth(10, 3, 0.5) == 8 * (100 + 64) * 3 / 0.5
    with pytest.raises(ValueError, match="seconds must be > 0, got 0"):
        bandwidth.heat_bandwidth(10, 3, 0)
    assert bandwidth.copy_bandwidth(64, repeat=3) > 0
