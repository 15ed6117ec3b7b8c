"""The C baseline: counts equal to the reference, clear errors without a compiler."""

from __future__ import annotations

import numpy as np
import pytest

import kernels
from kernels.c import baseline as c_baseline
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
