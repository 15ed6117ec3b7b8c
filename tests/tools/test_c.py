"""The C baseline: counts equal to the reference, clear errors without a compiler."""

from __future__ import annotations

import os

import numpy as np
import pytest

import kernels
from kernels.c import baseline as c_baseline
from kernels.core import subprocesses
from kernels.problems import mandelbrot


@pytest.mark.parametrize("kernel", ["lanes", "scalar"])
@pytest.mark.parametrize("threads", [1, 2])
def test_c_baseline_counts_equal_the_reference(kernel, threads):
    params = {"width": 153, "height": 29, "max_iter": 70}  # 2 full blocks of 64 lanes + 25
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


def test_c_runs_time_passes_after_a_warm_up_pass_in_one_process():
    params = {"width": 70, "height": 9, "max_iter": 40}
    runs = c_baseline.runs(**params, threads=2, repeat=3)
    assert len(runs) == 3 and all(r.seconds >= 0 and r.threads == 2 for r in runs)
    for run in runs:
        np.testing.assert_array_equal(run.counts, mandelbrot.reference(**params))
    # The program prints one time per pass; the warm-up pass is left out.
    done = subprocesses.run_command(
        [str(c_baseline.build()), "70", "9", "40", "1", os.devnull, "lanes", "4"], timeout=60
    )
    assert done.returncode == 0 and len(done.stdout.split()) == 4 == c_baseline.WARM_UP_PASSES + 3
    with pytest.raises(ValueError, match="repeat must be >= 1, got 0"):
        c_baseline.runs(**params, repeat=0)
    refused = subprocesses.run_command(
        [str(c_baseline.build()), "70", "9", "40", "1", os.devnull, "lanes", "0"], timeout=60
    )
    assert refused.returncode == 2 and "PASSES must be >= 1" in refused.stderr
