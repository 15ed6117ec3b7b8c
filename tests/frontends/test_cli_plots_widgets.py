"""The front ends: the command line, the plots and the explorer widget."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np

import kernels
from kernels.core import bench, sizes
from kernels.frontends import plot
from kernels.frontends.widgets import explorer

SMALL = {"n": 24, "steps": 4}


def test_speedup_plot_has_ideal_line_fit_and_caption():
    df = bench.measure("heat", ["numpy", "threads"], workers=[1, 2], repeat=1, **SMALL)
    fig = plot.speedup(df)
    speed_ax, _eff_ax = fig.axes[:2]
    labels = [line.get_label() for line in speed_ax.get_lines()]
    assert "ideal" in labels and any("Amdahl fit f=" in label for label in labels)
    captions = [t.get_text() for t in fig.texts]
    assert any("usable cores" in c and "n=24 steps=4" in c for c in captions)
    plt.close(fig)


def test_speedup_plot_bars_span_the_fastest_and_slowest_runs():
    import pandas as pd

    rows = [{"problem": "heat", "backend": "pool", "workers": w, "params": SMALL,
             "seconds": runs, "median_s": float(np.median(runs)), "best_s": min(runs),
             "checksum": 1.0, "scaling": "strong"}
            for w, runs in ((1, [2.0, 2.0, 2.0]), (2, [0.8, 1.0, 2.0]))]  # fmt: skip
    fig = plot.speedup(bench.add_speedups(pd.DataFrame(rows)))
    speed_ax, eff_ax = fig.axes[:2]
    # 2 s serial: 2 workers' median run of 1.0 s is a speedup of 2; their fastest run
    # (0.8 s) 2.5, their slowest (2.0 s) 1; the efficiencies half of that.
    for ax, at_two in ((speed_ax, [[2, 1.0], [2, 2.5]]), (eff_ax, [[2, 0.5], [2, 1.25]])):
        (bars,) = ax.collections
        segments = [np.asarray(seg).tolist() for seg in bars.get_segments()]
        assert segments[1] == at_two, segments
        assert segments[0][0][1] == segments[0][1][1] == 1.0  # no spread: a point
    assert any("bars: the fastest and slowest run" in t.get_text() for t in fig.texts)
    plt.close(fig)


def test_laws_and_problem_pictures_draw():
    plt.close(plot.laws())
    counts = np.ones((4, 6), dtype=np.int32)
    plt.close(plot.problem_pictures(counts, np.zeros((5, 5))))
    plt.close(plot.row_costs(counts, 2))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "kernels", *args], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


def test_cli_info_reports_the_machine():
    out = run_cli("info")
    assert out.returncode == 0, out.stderr
    for key in ("cpu", "cores", "python", "mpiexec", "c_openmp", "graphviz", "gpu", "backends"):
        assert key in out.stdout
    assert "mpiexec    not found" not in out.stdout  # the mpi extra is part of every install


TINY_IMAGE = ("--param", "width=40", "--param", "height=30", "--param", "max_iter=50")


def test_cli_bench_writes_json_and_plot(tmp_path):
    out = run_cli("bench", "mandelbrot", "--backends", "numpy,multiprocessing", "--workers", "1,2",
                  "--repeat", "1", "--param", "width=40", "--param", "height=30",
                  "--param", "max_iter=50", "--json", str(tmp_path / "b.json"),
                  "--plot", str(tmp_path / "b.png"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "multiprocessing" in out.stdout
    records = json.loads((tmp_path / "b.json").read_text())
    assert len(records) == 3
    for key in (
        "problem",
        "backend",
        "workers",
        "params",
        "seconds",
        "median_s",
        "best_s",
        "checksum",
    ):
        assert key in records[0]
    assert records[0]["params"] == {"width": 40, "height": 30, "max_iter": 50}
    assert len({r["checksum"] for r in records}) == 1
    assert (tmp_path / "b.png").stat().st_size > 10_000
    # the pools were started before the clock ran, once per worker count: not timed
    started = {(r["backend"], r["workers"]): r["startup_s"] for r in records}
    assert started[("numpy", 1)] == 0.0
    assert started[("multiprocessing", 1)] > 0 and started[("multiprocessing", 2)] > 0
    assert "workers started first (startup_s)" in out.stdout


def test_cli_bench_cold_starts_the_workers_in_every_call(tmp_path):
    out = run_cli("bench", "mandelbrot", "--backends", "multiprocessing", "--workers", "2",
                  "--repeat", "1", *TINY_IMAGE, "--cold", "--number", "2", "--json",
                  str(tmp_path / "c.json"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    (record,) = json.loads((tmp_path / "c.json").read_text())
    assert "startup_s" not in record  # paid inside each timed call
    assert len(record["seconds"]) == 1  # one timed run, of two calls
    assert "workers started in every call" in out.stdout
    assert "each the mean of 2 calls back to back" in out.stdout


def test_cli_bench_all_covers_every_problem(tmp_path):
    out = run_cli("bench", "--all", "--size", "test", "--backends", "numpy,threads,cython",
                  "--workers", "1,2", "--repeat", "1", "--out", str(tmp_path))  # fmt: skip
    assert out.returncode == 0, out.stderr
    for problem in kernels.problems():
        records = json.loads((tmp_path / f"bench-{problem}.json").read_text())
        assert {r["backend"] for r in records} == {"numpy", "threads", "cython"}
        assert (tmp_path / f"bench-{problem}.png").stat().st_size > 10_000
        assert problem in out.stdout
    assert "it/s" in out.stderr or "%" in out.stderr  # the progress bar


def test_cli_bench_ceiling_adds_the_c_program_at_each_thread_count(tmp_path):
    out = run_cli("bench", "mandelbrot", "--backends", "cython", "--workers", "1,2", "--repeat",
                  "1", "--budget", "0.05", *TINY_IMAGE, "--ceiling", "--json",
                  str(tmp_path / "c.json"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    records = json.loads((tmp_path / "c.json").read_text())
    assert [(r["backend"], r["workers"]) for r in records] == [("cython", 1), ("C", 1), ("C", 2)]
    assert len(records[0]["seconds"]) > 1  # a call of microseconds: the budget adds runs
    assert "median of 1+ (0.05 s) alternating runs" in out.stdout
    assert len({r["checksum"] for r in records}) == 1  # the C program's counts are exact too
    assert "of_C_speed" in out.stdout
    refused = run_cli("bench", "heat", "--backends", "numpy", "--repeat", "1", "--ceiling")
    assert refused.returncode == 2 and "--ceiling is for mandelbrot only" in refused.stderr


def test_cli_bench_in_fresh_processes_reports_the_range(tmp_path):
    out = run_cli("bench", "mandelbrot", "--backends", "numpy,cython", "--workers", "1",
                  "--repeat", "1", *TINY_IMAGE, "--processes", "2")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "medians of 2 fresh processes" in out.stdout
    rows = [line.split() for line in out.stdout.splitlines()
            if line.split()[:1] in (["numpy"], ["cython"])]  # fmt: skip
    assert len(rows) == 2 and all(row[-1] == "2" for row in rows)  # both processes counted
    for row in rows:
        median, fastest, slowest = map(float, row[2:5])
        assert fastest <= median <= slowest
    for bad in (("--processes", "3", "--json", str(tmp_path / "x.json")), ("--processes", "0")):
        refused = run_cli("bench", "mandelbrot", "--backends", "numpy", *bad)
        assert refused.returncode == 2 and "--processes" in refused.stderr


def test_cli_bench_needs_one_problem_or_all():
    for args in (("bench",), ("bench", "heat", "--all")):
        out = run_cli(*args)
        assert out.returncode == 2 and "give one problem, or --all" in out.stderr


def test_cli_bad_input_is_a_clear_error():
    out = run_cli("bench", "mandelbrot", "--backends", "fortran", "--repeat", "1")
    assert out.returncode == 2
    assert "unknown backend 'fortran'" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("bench", "heat", "--size", "race", "--backends", "numpy", "--repeat", "1")
    assert out.returncode == 2 and "Traceback" not in out.stderr  # race: a Mandelbrot size
    assert "unknown size preset 'race'; choose one of: default, test, quick, live, bench" in (
        out.stderr
    )


def test_explorer_runs_and_redraws():
    ui = explorer("heat", backends=["numpy", "threads"], max_workers=2)
    ui.scale.value = 0.125
    ui.repeat.value = 1
    df = ui.run()
    assert df is ui.result and set(df["backend"]) == {"numpy", "threads"}
    assert df["params"].iloc[0]["n"] == sizes.scaling_params("heat", "live")["n"] // 8
    assert ui.bar.value == ui.bar.max == 3
    assert not ui.button.disabled
    ui.problem.value = "mandelbrot"
    assert "multiprocessing" in ui.backends.options


def test_explorer_defaults_are_a_few_kinds_of_backend_on_warm_pools(monkeypatch):
    from kernels.core import bench, pools, watched_pool
    from kernels.frontends import widgets

    calls = []

    def recorded(problem, group, **kwargs):
        calls.append((group, len(pools._WARM), len(watched_pool._WARM), kwargs["budget"]))
        return bench.measure(problem, group, **{**kwargs, "budget": None})

    monkeypatch.setattr(widgets, "measure", recorded)
    ui = explorer("mandelbrot", max_workers=2)
    assert ui.backends.value == widgets.DEFAULT_BACKENDS  # threads, processes, compiled
    ui.backends.value = ("multiprocess", "numpy", "multiprocessing")
    ui.scale.value, ui.repeat.value = 0.125, 1
    df = ui.run()
    assert df["checksum"].nunique() == 1
    assert list(dict.fromkeys(df["backend"])) == ["multiprocess", "numpy", "multiprocessing"]
    started = df.set_index(["backend", "workers"])["startup_s"]
    assert started[("numpy", 1)] == 0.0
    # each pool tool's workers were started before the clock ran, once per count, and
    # are gone now (the autouse leftover check looks for processes too)
    assert all(started[(b, w)] > 0 for b in ("multiprocessing", "multiprocess") for w in (1, 2))
    assert not pools._WARM and not watched_pool._WARM
    # one tool's pools at a time: no other tool's idle workers beside the timed ones
    assert [c[:3] for c in calls] == [
        (["numpy"], 0, 0),
        (["multiprocess"], 0, 2),
        (["multiprocessing"], 2, 0),
    ]
    assert ui.bar.value == ui.bar.max == 1 + 2 + 2  # one bar over the three measurements
    # the quick sizes of the tests add no runs; a reader's run gets the budget
    assert {c[3] for c in calls} == {None}
    monkeypatch.setenv("KERNELS_QUICK", "0")
    ui.backends.value = ("numpy",)
    ui.run()
    assert calls[-1] == (["numpy"], 0, 0, widgets.BUDGET_S)


def test_cli_chapters_times_each_notebook_and_reports_a_failing_one(tmp_path):
    import nbformat

    for name, source in [
        ("01_sleeps.ipynb", "import time\ntime.sleep(0.5)"),
        ("02_other.ipynb", "x = 1"),
        ("notes.ipynb", "raise SystemExit"),
    ]:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(nb, tmp_path / name)  # fmt: skip
    out = run_cli("chapters", "--source", str(tmp_path), "--json", str(tmp_path / "t.json"))
    assert out.returncode == 0, out.stderr
    seconds = json.loads((tmp_path / "t.json").read_text())
    assert list(seconds) == ["01_sleeps", "02_other"]  # chapters only, in order
    assert seconds["01_sleeps"] > 0.5 and "01_sleeps" in out.stdout and "all" in out.stdout
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]),
                   tmp_path / "03_fails.ipynb")  # fmt: skip
    failing = run_cli("chapters", "--source", str(tmp_path), "--only", "02,03")
    assert failing.returncode == 1 and "kernels/frontends" not in failing.stderr  # no traceback
    assert "error: 03_fails failed" in failing.stderr and "ZeroDivisionError" in failing.stderr
    # Each chapter's time as it finishes; only those asked for.
    assert "02_other" in failing.stdout and "01_sleeps" not in failing.stdout
