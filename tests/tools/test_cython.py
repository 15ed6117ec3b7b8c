"""The Cython backends beyond the contract: threads really used, schedules, bandwidth,
and chapter 08's checkers (answers compiled with Cython)."""

from __future__ import annotations

import types

import numpy as np
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels
from kernels.core import machine, races
from kernels.cython import checks as cython_checks
from kernels.cython import demos as bandwidth
from kernels.cython.checks import is_cython_function
from kernels.cython.compiled import openmp
from kernels.frontends import info
from kernels.problems import mandelbrot


def test_extensions_built_with_openmp_where_the_compiler_has_it():
    if "with OpenMP" in machine.openmp_status():
        assert openmp.openmp_version() >= 200805  # OpenMP 3.0 or later
        assert info.cython_status().startswith("built with OpenMP")
    else:
        assert openmp.openmp_version() == 0
        assert "without OpenMP" in info.cython_status()


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
    width=st.integers(1, 150), height=st.integers(1, 6), max_iter=st.integers(1, 120),
    workers=st.integers(1, 4),
)  # fmt: skip
def test_lanes_exact_at_any_width(width, height, max_iter, workers):
    # 64 points in lock-step: widths that are not multiples of 64 leave idle lanes, and
    # rows of more than 64 points have several blocks of lanes.
    expected = mandelbrot.reference(width, height, max_iter)
    for backend, threads in [("cython", 1), ("cython-parallel", workers), ("numba", 1),
                             ("numba-parallel", workers)]:  # fmt: skip
        result = kernels.run(
            "mandelbrot", backend, workers=threads, width=width, height=height, max_iter=max_iter
        )
        np.testing.assert_array_equal(result, expected, err_msg=backend)


def test_bandwidth_arithmetic():
    assert bandwidth.heat_bytes(10, 3) == 8 * (100 + 64) * 3
    assert bandwidth.heat_bandwidth(10, 3, 0.5) == 8 * (100 + 64) * 3 / 0.5
    with pytest.raises(ValueError, match="seconds must be > 0, got 0"):
        bandwidth.heat_bandwidth(10, 3, 0)
    assert bandwidth.copy_bandwidth(64, repeat=3) > 0


CYTHON_ANSWERS = """
import numpy as np
from cython.parallel cimport prange


def escape_row(double[::1] re, double ci, int max_iter, int[::1] out):
    cdef Py_ssize_t j
    cdef double zr, zi, cr
    cdef int n
    for j in range(re.shape[0]):
        cr = re[j]
        zr = zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[j] = n


def escape_row_off_by_one(double[::1] re, double ci, int max_iter, int[::1] out):
    cdef Py_ssize_t j
    cdef double zr, zi, cr
    cdef int n
    for j in range(re.shape[0]):
        cr = re[j]
        zr = zi = 0.0
        n = 0
        while n <= max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[j] = n


def count_hits(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long total = 0
    for k in prange(x.shape[0], nogil=True, num_threads=num_threads):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            total += 1
    return total


def count_hits_strict(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long total = 0
    for k in prange(x.shape[0], nogil=True, num_threads=num_threads):
        if x[k] * x[k] + y[k] * y[k] < 0.5:
            total += 1
    return total


def count_hits_serial(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long total = 0
    for k in range(x.shape[0]):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            total += 1
    return total


def count_hits_all_threads(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long total = 0
    for k in prange(x.shape[0], nogil=True):  # num_threads not passed on
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            total += 1
    return total


def count_hits_racy(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long[::1] total = np.zeros(1, dtype=np.int64)
    for k in prange(x.shape[0], nogil=True, num_threads=num_threads):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            total[0] += 1  # one shared element, not a reduction
    return total[0]


def count_hits_racy_by_parity(double[::1] x, double[::1] y, int num_threads):
    cdef Py_ssize_t k
    cdef long long[::1] total = np.zeros(2, dtype=np.int64)
    for k in prange(x.shape[0], nogil=True, num_threads=num_threads):
        if <double>(x[k] * x[k]) + y[k] * y[k] <= 1.0:
            total[k & 1] = total[k & 1] + 1  # odd and even k: still shared across threads
    return total[0] + total[1]


def heat_step(const double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j
    cdef double c
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            c = src[i, j]
            dst[i, j] = c + 0.2 * ((src[i - 1, j] + src[i + 1, j])
                                   + (src[i, j - 1] + src[i, j + 1]) - 4.0 * c)


def heat_step_boundary_too(const double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j, n = src.shape[0], m = src.shape[1]
    for i in range(n):
        for j in range(m):
            if 0 < i < n - 1 and 0 < j < m - 1:
                dst[i, j] = src[i, j] + 0.2 * ((src[i - 1, j] + src[i + 1, j])
                                               + (src[i, j - 1] + src[i, j + 1]) - 4.0 * src[i, j])
            else:
                dst[i, j] = 0.0


def heat_step_without_r(const double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            dst[i, j] = 0.25 * (src[i - 1, j] + src[i + 1, j] + src[i, j - 1] + src[i, j + 1])


def escape_row_n_from_one(double[::1] re, double ci, int max_iter, int[::1] out):
    cdef Py_ssize_t j
    cdef double zr, zi, cr
    cdef int n
    for j in range(re.shape[0]):
        cr = re[j]
        zr = zi = 0.0
        n = 1
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[j] = n


def escape_row_sequential_update(double[::1] re, double ci, int max_iter, int[::1] out):
    cdef Py_ssize_t j
    cdef double zr, zi, cr
    cdef int n
    for j in range(re.shape[0]):
        cr = re[j]
        zr = zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr = zr * zr - zi * zi + cr
            zi = 2.0 * zr * zi + ci  # uses the new zr
            n += 1
        out[j] = n


def heat_step_in_place(double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j
    cdef double c
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            c = src[i, j]
            src[i, j] = c + 0.2 * ((src[i - 1, j] + src[i + 1, j])
                                   + (src[i, j - 1] + src[i, j + 1]) - 4.0 * c)
            dst[i, j] = src[i, j]

"""


def compile_module(source: str, folder, name: str):
    """Compile ``source`` with OpenMP, as chapter 08's ``%%cython`` cells do, and import it."""
    import importlib.util

    from Cython.Build import cythonize
    from Cython.Build.Inline import _get_build_extension
    from setuptools import Extension

    pyx = folder / f"{name}.pyx"
    pyx.write_text(source)
    flags = ["-O2", "-g0", "-ffp-contract=off"] + (["-fopenmp"] if openmp.openmp_version() else [])
    extension = Extension(name, [str(pyx)], include_dirs=[np.get_include()],
                          extra_compile_args=flags, extra_link_args=flags)  # fmt: skip
    build = _get_build_extension()
    build.extensions = cythonize([extension], quiet=True, compiler_directives={
        "language_level": 3, "boundscheck": False, "wraparound": False})  # fmt: skip
    build.build_temp = build.build_lib = str(folder)
    build.run()
    spec = importlib.util.spec_from_file_location(name, build.get_ext_fullpath(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cython_answers(tmp_path_factory):
    module = compile_module(CYTHON_ANSWERS, tmp_path_factory.mktemp("cython"), "answers")
    return {name: value for name, value in vars(module).items() if is_cython_function(value)}


def python_escape_row(re, ci, max_iter, out):
    out[:] = 0


def test_cython_functions_are_recognised(cython_answers):
    assert is_cython_function(cython_answers["escape_row"])
    assert not is_cython_function(python_escape_row)


# Each checker, the chapter's answer and what learners tried (names in cython_answers).
CHECKER_CASES = [
    (
        "check_escape_row",
        "escape_row",
        ["escape_row_off_by_one", "escape_row_n_from_one", "escape_row_sequential_update"],
    ),
    (
        "check_count_hits",
        "count_hits",
        [
            "count_hits_strict",
            "count_hits_serial",
            "count_hits_all_threads",
            "count_hits_racy",
            "count_hits_racy_by_parity",
        ],
    ),
    (
        "check_heat_step",
        "heat_step",
        ["heat_step_in_place", "heat_step_boundary_too", "heat_step_without_r"],
    ),
]


@pytest.mark.parametrize(("checker", "right", "wrongs"), CHECKER_CASES)
def test_cython_checkers(cython_answers, checker, right, wrongs):
    check = getattr(cython_checks, checker)
    assert_checker_contract(
        check, cython_answers[right], [cython_answers[w] for w in wrongs] + [python_escape_row]
    )
    assert "%%cython" in check(python_escape_row).message


@pytest.mark.parametrize(
    ("checker", "right", "wrongs"), [c for c in CHECKER_CASES if c[0] != "check_count_hits"]
)
def test_cython_checkers_on_many_draws(cython_answers, monkeypatch, checker, right, wrongs):
    # The checks that only compute (count_hits times threads): a near miss that a rare
    # draw of rows or grids lets through would be a wrong answer passed.
    check = getattr(cython_checks, checker)
    wrong = [cython_answers[w] for w in wrongs]
    assert_contract_on_many_draws(check, cython_answers[right], wrong, monkeypatch, draws=100)


def test_the_source_rule_reads_the_prange_loop_of_a_cython_function(cython_answers):
    # Read from the .pyx beside the module, as a %%cython cell leaves it: a run on a
    # busy machine may lose no update, the source shows the race every time.
    assert races.shared_element_updates(cython_answers["count_hits_racy"]) == ["total[0]"]
    parity = cython_answers["count_hits_racy_by_parity"]
    assert races.shared_element_updates(parity) == ["total[k & 1]"]
    assert races.shared_element_updates(cython_answers["count_hits"]) == []  # a reduction
    result = cython_checks.check_count_hits(parity)
    assert not result and "total[k & 1]" in result.message


def test_a_cython_function_whose_source_is_gone_is_not_reported(cython_answers, tmp_path):
    # Compiled elsewhere and the .pyx deleted: nothing to read, so nothing is reported
    # (the run still checks the count), never an error.
    racy = cython_answers["count_hits_racy"]
    elsewhere = {"__file__": str(tmp_path / "answers.so")}
    moved = types.SimpleNamespace(__code__=racy.__code__, __globals__=elsewhere)
    assert races.cython_source(moved) is None
    assert races.shared_element_updates(moved) == []
