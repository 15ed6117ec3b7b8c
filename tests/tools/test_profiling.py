"""Chapter 02's helpers (the slow program, the profilers' tables, the vectorised steps) and its
checkers: right answers pass, near misses fail, on many draws."""

from __future__ import annotations

import cProfile
import pstats
import subprocess
import sys
import time

import numexpr
import numpy as np
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws

from kernels.core import laws
from kernels.problems import heat
from kernels.profiling import checks, demos, profilers, program, vectorised

# ---- the program and the profilers -------------------------------------------------------


@pytest.mark.parametrize("keep", [program.snapshot, program.copy_rows])
def test_the_program_computes_the_reference_exactly(keep):
    grid, history, lines = program.simulate(24, 7, every=3, keep=keep)
    assert np.array_equal(np.array(grid), heat.reference(24, 7))
    assert len(history) == len(lines) == 2
    assert np.array_equal(np.array(history[-1]), heat.reference(24, 6))
    assert lines[-1].startswith("step     6")


def test_the_program_refuses_bad_sizes_with_a_clear_message():
    run = subprocess.run([sys.executable, "-m", "kernels.profiling.program", "--n", "2"],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2 and "need --n >= 3" in run.stderr


def test_the_cprofile_table_finds_the_deep_copies():
    stats = profilers.profile_call(program.simulate, 40, 6)
    table = profilers.stats_table(stats, top=5)
    assert list(table.columns[:3]) == ["function", "where", "calls"]
    assert table["own s"].is_monotonic_decreasing
    assert {"deepcopy", "jacobi_step"} <= set(table["function"])
    assert profilers.cumulative_seconds(stats, "simulate") >= profilers.cumulative_seconds(
        stats, "jacobi_step")  # fmt: skip
    with pytest.raises(ValueError, match="no function named 'nope'"):
        profilers.cumulative_seconds(stats, "nope")


def test_print_top_shortens_paths(capsys):
    profilers.print_top(profilers.profile_call(program.simulate, 30, 4), lines=3)
    out = capsys.readouterr().out
    assert "Ordered by: internal time" in out and "kernels/profiling/program.py" in out
    assert sys.prefix not in out


def test_line_profiler_times_every_line_of_the_function():
    lp = profilers.line_profile(program.jacobi_step, program.initial_grid(60))
    table = profilers.line_table(lp)
    assert set(table["function"]) == {"jacobi_step"}
    update = table[table["code"].str.contains("heat.R")].iloc[0]
    assert update["hits"] == 58 * 58  # once per interior point
    assert table["% of function"].sum() == pytest.approx(100, abs=0.5)


def test_py_spy_samples_the_program_from_outside():
    sampled = profilers.sample_program("kernels.profiling.program", ["--n", "90", "--steps", "40"])
    assert sampled.samples > 20 and sampled.svg.lstrip().startswith("<?xml")
    shares = sampled.share_inside(["jacobi_step", "snapshot", "report", "absent"], "simulate")
    assert shares["absent"] == 0 and 0 < shares["jacobi_step"] <= 1
    assert sum(shares[k] for k in ("jacobi_step", "snapshot", "report")) <= 1.0 + 1e-9


def test_a_failing_program_under_py_spy_is_a_clear_error():
    with pytest.raises(RuntimeError, match="(?s)the program failed under py-spy.*need --n >= 3"):
        profilers.sample_program("kernels.profiling.program", ["--n", "2"], timeout=60)
    with pytest.raises(RuntimeError, match="No module named"):
        profilers.sample_program("kernels.profiling.no_such_module", [], timeout=60)


def test_peak_bytes_sees_numpy_arrays_and_lists_cost_four_times_more():
    assert 8e6 <= profilers.peak_bytes(np.ones, (1000, 1000)) < 8.5e6
    field = profilers.grid_bytes(200)
    assert field["lists"] > 3.5 * field["numpy"]


def test_top_allocations_names_the_lines_that_hold_memory():
    held = profilers.top_allocations(lambda: program.simulate(40, 6), lines=3)
    assert len(held) == 3 and held["MiB"].is_monotonic_decreasing
    assert any(w.startswith(("program.py", "copy.py")) for w in held["where"])


def test_profiler_overhead_is_measured_not_assumed():
    plain, profiled = profilers.seconds_with_and_without_profiler(program.simulate, 40, 6, repeat=1)
    assert plain > 0 and profiled > 0


# ---- the vectorised steps ---------------------------------------------------------------


@pytest.mark.parametrize("step", list(vectorised.STEPS.values()))
def test_every_vectorised_step_is_the_reference_bit_for_bit(step):
    src = heat.reference(70, 5)
    dst = np.full_like(src, -1.0)
    step(src, dst)
    expected = heat.reference(70, 6)
    assert np.array_equal(dst[1:-1, 1:-1], expected[1:-1, 1:-1])
    assert (dst[0] == -1).all() and (dst[:, -1] == -1).all()


def test_compare_steps_reports_exact_steps_and_the_temporaries():
    table = vectorised.compare_steps(300, repeat=1)
    assert table["exact"].all()
    one_line = table.set_index("version").loc["NumPy, one expression", "temporary MiB"]
    strips = table.set_index("version").loc["NumPy, strips (the book's)", "temporary MiB"]
    assert one_line > 5 * strips  # temporaries of the whole interior against small scratch


def test_the_vectorised_program_is_the_reference():
    final, history, lines = vectorised.simulate_numpy(50, 9, every=4)
    assert np.array_equal(final, heat.reference(50, 9)) and len(history) == len(lines) == 2


def test_amdahl_from_shares():
    table, serial = demos.amdahl_from_shares({"a": 0.6, "b": 0.2}, ["a", "b"], workers=(2, 4))
    assert serial == pytest.approx(0.2)
    expected = [round(float(laws.amdahl_speedup(p, 0.2)), 2) for p in (2, 4)] + [5.0]
    assert table["predicted speedup"].tolist() == expected


# ---- the checkers -------------------------------------------------------------------------


def _stats(program_):
    profiler = cProfile.Profile()
    profiler.runcall(program_)
    return pstats.Stats(profiler).stats


def top_by(column, reverse=True):
    def top(program_, n):
        rows = sorted(_stats(program_).items(), key=lambda kv: kv[1][column], reverse=reverse)
        return [key[2] for key, _ in rows[:n]]

    return top


TOP_WRONGS = [
    top_by(3),  # cumulative time
    top_by(1),  # the number of calls
    top_by(2, reverse=False),  # the wrong end
    lambda program_, n: ["main", "solve", "update"][:n],  # a list from a lookup
    lambda program_, n: [key for key in top_by(2)(program_, n + 1)],  # one too many
]


def test_top_functions_checker():
    assert_checker_contract(checks.check_top_functions, top_by(2), TOP_WRONGS)


def test_top_functions_checker_on_many_draws(monkeypatch):
    assert_contract_on_many_draws(checks.check_top_functions, top_by(2), TOP_WRONGS[:3],
                                  monkeypatch, draws=6)  # fmt: skip


def predict_with(column, law=laws.amdahl_speedup, swap=False):
    def predict(program_, parallel, workers):
        stats = _stats(program_)
        total = sum(v[2] for v in stats.values())
        inside = max(v[column] for k, v in stats.items() if k[2] == parallel)
        share = inside / total
        return float(law(workers, share if swap else 1 - share))

    return predict


def wall_clock_prediction(program_, parallel, workers):
    start = time.perf_counter()
    program_()
    total = time.perf_counter() - start
    stats = _stats(program_)
    inside = max(v[3] for k, v in stats.items() if k[2] == parallel)
    serial = 1 - inside / sum(v[2] for v in stats.values())
    del total
    return float(laws.amdahl_speedup(workers, serial))


AMDAHL_WRONGS = [
    predict_with(2),  # own time only: the helper's time missed
    predict_with(3, law=laws.gustafson_speedup),  # scaled speedup
    predict_with(3, swap=True),  # the parallel share taken as the serial one
    lambda program_, parallel, workers: float(workers),  # perfect scaling
]


def test_amdahl_from_profile_checker():
    assert_checker_contract(checks.check_amdahl_from_profile, predict_with(3), AMDAHL_WRONGS)
    assert checks.check_amdahl_from_profile(wall_clock_prediction)


def test_amdahl_from_profile_checker_on_many_draws(monkeypatch):
    assert_contract_on_many_draws(checks.check_amdahl_from_profile, predict_with(3),
                                  AMDAHL_WRONGS, monkeypatch, draws=4)  # fmt: skip


def step_in_place(src, dst, r):
    out = dst[1:-1, 1:-1]
    c = src[1:-1, 1:-1]
    np.add(src[:-2, 1:-1], src[2:, 1:-1], out=out)
    out += src[1:-1, :-2]
    out += src[1:-1, 2:]
    for _ in range(4):
        out -= c
    out *= r
    out += c


def step_numexpr(src, dst, r):
    c = src[1:-1, 1:-1]
    parts = {"c": c, "r": r, "u": src[:-2, 1:-1], "d": src[2:, 1:-1], "w": src[1:-1, :-2],
             "e": src[1:-1, 2:]}  # fmt: skip
    numexpr.evaluate("c + r * ((u + d) + (w + e) - 4.0 * c)", local_dict=parts, out=dst[1:-1, 1:-1])


def one_expression(src, dst, r):
    c = src[1:-1, 1:-1]
    dst[1:-1, 1:-1] = c + r * (
        (src[:-2, 1:-1] + src[2:, 1:-1]) + (src[1:-1, :-2] + src[1:-1, 2:]) - 4.0 * c
    )


def point_loops(src, dst, r):
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            c = src[i, j]
            dst[i, j] = c + r * (
                (src[i - 1, j] + src[i + 1, j]) + (src[i, j - 1] + src[i, j + 1]) - 4.0 * c
            )


def row_loop(src, dst, r):
    for i in range(1, src.shape[0] - 1):
        c = src[i, 1:-1]
        dst[i, 1:-1] = c + r * (
            (src[i - 1, 1:-1] + src[i + 1, 1:-1]) + (src[i, :-2] + src[i, 2:]) - 4.0 * c
        )


def boundary_written(src, dst, r):
    step_in_place(src, dst, r)
    dst[0, :] = 0.0


def src_updated(src, dst, r):
    step_in_place(src, src, r)
    dst[1:-1, 1:-1] = src[1:-1, 1:-1]


def returned_not_written(src, dst, r):
    new = dst.copy()
    step_in_place(src, new, r)
    return new


def fixed_r(src, dst, r):
    step_in_place(src, dst, heat.R)


STEP_WRONGS = [one_expression, point_loops, row_loop, boundary_written, src_updated,
               returned_not_written, fixed_r]  # fmt: skip


def test_step_in_place_checker():
    assert_checker_contract(checks.check_step_in_place, step_in_place, STEP_WRONGS)
    assert checks.check_step_in_place(step_numexpr)


def test_step_in_place_checker_on_many_draws(monkeypatch):
    assert_contract_on_many_draws(checks.check_step_in_place, step_in_place, STEP_WRONGS,
                                  monkeypatch, draws=30)  # fmt: skip


def test_step_in_place_checker_restores_a_tracer():
    def tracer(frame, event, arg):
        return None

    sys.settrace(tracer)
    try:
        checks.check_step_in_place(step_in_place)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def test_the_program_report_survives_py_spys_own_error():
    """When the program exits before py-spy reads it, py-spy's error and backtrace follow
    the program's report (seen once in CI); the message keeps the report."""
    stderr = ("py-spy> Sampling process 500 times a second. Press Control-C to exit.\n\n"
              "/usr/bin/python: No module named kernels.profiling.no_such_module\n"
              "Error: No such file or directory (os error 2)\n\nCaused by:\n"
              + "".join(f"   {i}: py_spy::frame_{i}\n" for i in range(40)))  # fmt: skip
    report = profilers.program_report(stderr)
    assert report == "/usr/bin/python: No module named kernels.profiling.no_such_module"
