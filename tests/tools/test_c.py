"""The C baseline: counts equal to the reference, clear errors without a compiler."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import LANES_SIZES

import kernels
from kernels.c import baseline as c_baseline
from kernels.core import buildflags, subprocesses
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


@pytest.mark.parametrize("layout", buildflags.LAYOUTS, ids=str)
def test_the_lanes_kernel_is_exact_in_every_layout(layout, tmp_path):
    # The build keeps one layout (the fastest here); the others must give the same
    # counts on the machines where they are the fastest.
    exe = c_baseline._build(layout)
    for width, height, max_iter in LANES_SIZES:
        out = tmp_path / "counts.bin"
        args = [str(exe), str(width), str(height), str(max_iter), "2", str(out), "lanes", "1"]
        assert subprocesses.run_command(args, timeout=60).returncode == 0
        counts = np.fromfile(out, dtype=np.int32).reshape(height, width)
        np.testing.assert_array_equal(counts, mandelbrot.reference(width, height, max_iter))


def test_the_layout_is_timed_once_per_machine_unless_the_environment_fixes_it(monkeypatch):
    from kernels.cython.compiled import mandelbrot as cython_mandelbrot
    from kernels.frontends import info

    built = buildflags.Layout(cython_mandelbrot.COUNT_TYPE, cython_mandelbrot.LANE_COUNT)
    assert built in buildflags.LAYOUTS
    assert info.cython_status().endswith(f"Mandelbrot kernel with {built}")
    monkeypatch.delenv("KERNELS_COUNT_T", raising=False)
    monkeypatch.delenv("KERNELS_LANES", raising=False)
    c_baseline.layout.cache_clear()
    try:
        timed = c_baseline.layout()
        record = c_baseline._build(buildflags.LAYOUTS[0]).parent / "layout"
        assert timed in buildflags.LAYOUTS
        assert record.read_text() == f"{timed.count_type},{timed.lanes}"
        for layout in buildflags.LAYOUTS:
            monkeypatch.setenv("KERNELS_COUNT_T", layout.count_type)
            monkeypatch.setenv("KERNELS_LANES", str(layout.lanes))
            c_baseline.layout.cache_clear()
            assert c_baseline.layout() == layout
        monkeypatch.delenv("KERNELS_COUNT_T")  # the lanes fixed, the counts timed
        c_baseline.layout.cache_clear()
        assert c_baseline.layout().lanes == buildflags.LAYOUTS[-1].lanes
        monkeypatch.setenv("KERNELS_COUNT_T", "short")
        c_baseline.layout.cache_clear()
        with pytest.raises(ValueError, match=r"KERNELS_COUNT_T must be one of .*got 'short'"):
            c_baseline.layout()
        monkeypatch.delenv("KERNELS_COUNT_T")
        monkeypatch.setenv("KERNELS_LANES", "48")
        c_baseline.layout.cache_clear()
        with pytest.raises(ValueError, match=r"KERNELS_LANES must be one of \(64, 32\), got '48'"):
            c_baseline.layout()
    finally:
        c_baseline.layout.cache_clear()


def test_the_layout_is_the_default_unless_another_is_clearly_faster():
    default, *others = buildflags.LAYOUTS
    other = others[-1]
    fastest = buildflags.fastest_layout
    assert fastest({default: [0.010, 0.011, 0.012], other: [0.009, 0.0095, 0.013]}) == other
    # 2% faster is within the margin: the build keeps the default.
    assert fastest({default: [0.0100, 0.0100], other: [0.0098, 0.0098]}) == default
    assert fastest({default: [0.009], other: [0.010]}) == default
    assert fastest({}) == default  # nothing could be timed
    # Among the layouts the environment allows, the first is the default.
    assert fastest({other: [0.0100], others[0]: [0.0099]}, (other, others[0])) == other
    with pytest.raises(ValueError, match=r"\('short', 64\) is not one of the layouts"):
        fastest({default: [0.01], ("short", 64): [0.001]})
    with pytest.raises(ValueError, match="no timed passes for the layout int counts, 32 lanes"):
        fastest({default: [0.01], buildflags.Layout("int", 32): []})
    assert buildflags.layout_flags(other) == ("-DKERNELS_COUNT_T=int", "-DKERNELS_LANES=32")
