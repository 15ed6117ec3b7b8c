"""The head-to-head chapter's helpers: the kernel gallery, the race tables, the checkers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws

import kernels
from kernels.choosing import checks, demos, gallery
from kernels.core.registry import BACKENDS, register_backend
from kernels.problems import mandelbrot


def test_gallery_shows_every_tool_from_the_running_code():
    sources = {s.tool: s for s in gallery.mandelbrot_sources()}
    assert list(sources)[-1] == "C"
    for backend in kernels.backends("mandelbrot"):
        tool = backend.removesuffix("-parallel").removesuffix("-sharded")
        tool = {"dask-distributed": "dask"}.get(tool, tool)
        assert tool in sources, backend
    assert "prange" in sources["cython"].code and "escape_counts_lanes" in sources["cython"].code
    assert "@njit" in sources["numba"].code
    assert "#pragma omp parallel for" not in sources["C"].code  # the kernel, not main()
    assert "def solve(comm" in sources["mpi"].code


def test_gallery_tabs_are_html_with_one_panel_per_tool():
    tabs = gallery.mandelbrot_tabs()
    page = tabs._repr_html_()
    count = len(tabs.sources)
    assert page.count('type="radio"') == page.count('class="kernels-tab-panel"') == count
    assert page.count(" checked>") == 1
    assert "<script" not in page  # works offline and without JavaScript
    assert "<style>" in page and 'class="highlight"' in page
    assert "escape_counts_lanes" in repr(tabs)


def race_table() -> pd.DataFrame:
    rows = [("python", 1, 8.0), ("numba", 1, 0.04), ("numba-parallel", 1, 0.041),
            ("numba-parallel", 2, 0.02), ("mpi", 1, 1.5), ("mpi", 2, 1.0)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["backend", "workers", "median_s"])
    df["params"] = [{"width": 8}] * len(df)
    return df


def test_distances_arithmetic():
    ceiling = pd.DataFrame({"workers": [1, 2], "seconds": [0.036, 0.018]})
    table = demos.distances(race_table(), ceiling).set_index("backend")
    assert table.loc["numba", "x_python"] == pytest.approx(200.0)
    assert table.loc["numba-parallel", "at_workers"] == 2
    assert table.loc["numba-parallel", "of_c_speed"] == pytest.approx(0.9)
    assert table.loc["mpi", "best_s"] == 1.0
    without_c = demos.distances(race_table(), None)
    assert "of_c_speed" not in without_c.columns
    with pytest.raises(ValueError, match="needs the python backend"):
        demos.distances(race_table()[lambda d: d.backend != "python"], ceiling)


def test_plot_head_to_head_draws_every_backend_and_the_ceiling():
    ceiling = pd.DataFrame({"workers": [1, 2], "seconds": [0.036, 0.018]})
    fig = demos.plot_head_to_head(race_table(), ceiling)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["python", "numba", "numba-parallel", "mpi", "C with OpenMP (ceiling)"]


def test_c_ceiling_checks_the_counts():
    table = demos.c_ceiling({"width": 40, "height": 30, "max_iter": 50}, [1, 2], 1)
    assert table["workers"].tolist() == [1, 2] and (table["seconds"] > 0).all()


def test_head_to_head_measures_the_chosen_backends():
    df = demos.head_to_head({"width": 30, "height": 20, "max_iter": 30}, [1, 2], 1,
                              backends=["python", "cython-parallel"])  # fmt: skip
    assert set(df["backend"]) == {"python", "cython-parallel"}
    assert len({round(c) for c in df["checksum"]}) == 1


def test_head_to_head_warms_up_at_the_quick_size_but_jax_and_times_python_once(monkeypatch):
    from kernels.core import bench, sizes

    options_of, measure = {}, bench.measure

    def spy(problem, backends, **options):
        options_of[backends[0]] = options
        return measure(problem, backends, **options)

    monkeypatch.setattr(demos.bench, "measure", spy)
    race = demos.head_to_head({"width": 30, "height": 20, "max_iter": 30}, [1], 3,
                              backends=["python", "numpy", "jax"], budget=0.05)  # fmt: skip
    quick = sizes.params("mandelbrot", "quick")
    python, numpy = options_of["python"], options_of["numpy"]
    assert (python["warmup"], python["repeat"], python["budget"]) == (quick, 1, None)
    assert (numpy["warmup"], numpy["repeat"], numpy["budget"]) == (quick, 3, 0.05)
    assert options_of["jax"]["warmup"] is True  # compiled for the measured shape
    runs = race.set_index("backend")["seconds"].map(len)
    assert runs["python"] == 1 and runs["numpy"] >= 3


def test_checkers_of_the_chapter(monkeypatch):
    def karp_flatt(speedup, workers):
        return (1 / speedup - 1 / workers) / (1 - 1 / workers)

    def karp_flatt_inverted(speedup, workers):
        return (1 / workers - 1 / speedup) / (1 - 1 / workers)

    karp_flatt_tried = [
        karp_flatt_inverted,
        lambda s, p: 1 / s - 1 / p,  # the denominator forgotten
        lambda s, p: 1 - s / p,  # one minus the efficiency
        lambda s, p: round((1 / s - 1 / p) / (1 - 1 / p), 2),  # rounded for display
    ]
    assert_checker_contract(checks.check_karp_flatt, karp_flatt, karp_flatt_tried)
    assert_contract_on_many_draws(checks.check_karp_flatt, karp_flatt, karp_flatt_tried,
                                  monkeypatch)  # fmt: skip

    def break_even(overhead, efficiency):
        if not 0 < efficiency < 1:
            raise ValueError("efficiency must be between 0 and 1")
        return overhead * efficiency / (1 - efficiency)

    def break_even_unchecked(overhead, efficiency):
        return overhead * efficiency / (1 - efficiency) if efficiency != 1 else 0.0

    def break_even_wrong(overhead, efficiency):
        return overhead / (1 - efficiency)

    def break_even_inverted(overhead, efficiency):
        if not 0 < efficiency < 1:
            raise ValueError("efficiency must be between 0 and 1")
        return overhead * (1 - efficiency) / efficiency

    def break_even_assert(overhead, efficiency):
        assert 0 < efficiency < 1
        return overhead * efficiency / (1 - efficiency)

    break_even_tried = [break_even_unchecked, break_even_wrong, break_even_inverted,
                        break_even_assert]  # fmt: skip
    assert_checker_contract(checks.check_break_even, break_even, break_even_tried)
    assert_contract_on_many_draws(checks.check_break_even, break_even, break_even_tried,
                                  monkeypatch)  # fmt: skip


@pytest.fixture
def own_backends():
    before = dict(BACKENDS)
    yield
    BACKENDS.clear()
    BACKENDS.update(before)


def test_own_backend_checker(own_backends):
    from kernels.numba import compute as numba_kernels

    @register_backend("test-rows-on-threads", "mandelbrot", parallel=True)
    def rows_on_threads(workers, width, height, max_iter):
        re, im = mandelbrot.coordinates(width, height)
        out = np.empty((height, width), dtype=np.int32)

        def rows(first):
            for i in range(first, height, workers):
                numba_kernels.escape_counts_lanes(re, im[i], max_iter, out[i])

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(rows, range(workers)))
        return out

    @register_backend("test-first-rows-only", "mandelbrot", parallel=True)
    def first_rows_only(workers, width, height, max_iter):
        out = mandelbrot.reference(width, height, max_iter)
        out[workers - 1 :: workers] = 0  # loses rows when workers > 1
        return out

    @register_backend("test-serial", "mandelbrot", parallel=False)
    def serial(workers, width, height, max_iter):
        return mandelbrot.reference(width, height, max_iter)

    def unregistered(workers, width, height, max_iter):
        return mandelbrot.reference(width, height, max_iter)

    @register_backend("test-returns-the-reference", "mandelbrot", parallel=True)
    def returns_the_reference(workers, width, height, max_iter):
        return mandelbrot.reference(width, height, max_iter)

    @register_backend("test-fast-but-serial", "mandelbrot", parallel=True)
    def fast_but_serial(workers, width, height, max_iter):  # judged on a taller image
        re, im = mandelbrot.coordinates(width, height)
        out = np.empty((height, width), dtype=np.int32)
        for i in range(height):
            numba_kernels.escape_counts_lanes(re, im[i], max_iter, out[i])
        return out

    @register_backend("test-python-threads", "mandelbrot", parallel=True)
    def python_threads(workers, width, height, max_iter):  # the GIL: one thread at a time
        from kernels.foundations.backend import mandelbrot_threads

        return mandelbrot_threads(workers, width, height, max_iter, kernel="python")

    assert_checker_contract(checks.check_own_backend, rows_on_threads,
                            [first_rows_only, serial, unregistered, returns_the_reference,
                             fast_but_serial, python_threads])  # fmt: skip


def test_head_to_head_times_process_tools_on_warm_workers():
    from kernels.core import pools, watched_pool
    from kernels.dask import cluster

    params = {"width": 60, "height": 40, "max_iter": 80}
    chosen = ["numpy", "multiprocessing", "multiprocess", "dask-distributed"]
    race = demos.head_to_head(params, [1, 2], repeat=1, backends=chosen)
    assert race["checksum"].nunique() == 1
    started = race.set_index(["backend", "workers"])["startup_s"]
    assert started[("numpy", 1)] == 0.0
    assert all(started[(b, w)] > 0 for b in chosen[1:] for w in (1, 2))
    assert not pools._WARM and not watched_pool._WARM and not cluster._WARM  # all closed


def test_hardware_shares_arithmetic():
    from kernels.core.peak import Peak

    race = pd.DataFrame({"backend": ["numpy", "numba", "numba-parallel"], "workers": [1, 1, 2],
                         "median_s": [1.0, 0.5, 0.25], "checksum": [1e9] * 3})  # fmt: skip
    ceiling = pd.DataFrame({"workers": [1, 2], "seconds": [0.5, 0.25]})
    peak = Peak(ghz=1.0, doubles=4, units=2, fma=True, assumptions="")  # 8 GFLOP/s a core
    shares = demos.hardware_shares(race, ceiling, peak)
    assert shares["backend"].tolist() == ["numba", "numba-parallel", "C", "C"]
    assert shares["gflops"].tolist() == [16.0, 32.0, 16.0, 32.0]
    assert shares["of_peak"].tolist() == [2.0, 2.0, 2.0, 2.0]
