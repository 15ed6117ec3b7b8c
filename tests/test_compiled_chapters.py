"""The Cython and numba chapters' exercise checkers, on right and wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
from checker_cases import assert_checker_contract

from kernels import exercises
from kernels.exercises.cython import is_cython_function
from kernels.numba_kernels import numba  # first: it sizes numba's thread pool

CYTHON_ANSWERS = """
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


def heat_step(const double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j
    cdef double c
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            c = src[i, j]
            dst[i, j] = c + 0.2 * ((src[i - 1, j] + src[i + 1, j])
                                   + (src[i, j - 1] + src[i, j + 1]) - 4.0 * c)


def heat_step_in_place(double[:, ::1] src, double[:, ::1] dst):
    cdef Py_ssize_t i, j
    cdef double c
    for i in range(1, src.shape[0] - 1):
        for j in range(1, src.shape[1] - 1):
            c = src[i, j]
            src[i, j] = c + 0.2 * ((src[i - 1, j] + src[i + 1, j])
                                   + (src[i, j - 1] + src[i, j + 1]) - 4.0 * c)
            dst[i, j] = src[i, j]


return {name: value for name, value in locals().items() if callable(value)}
"""


@pytest.fixture(scope="module")
def cython_answers(tmp_path_factory):
    from Cython.Build.Inline import cython_inline

    return cython_inline(
        CYTHON_ANSWERS, quiet=True, language_level=3,
        lib_dir=str(tmp_path_factory.mktemp("cython_inline")),
        cython_compiler_directives={"boundscheck": False, "wraparound": False},
        extra_compile_args=["-fopenmp"], extra_link_args=["-fopenmp"],
    )  # fmt: skip


def python_escape_row(re, ci, max_iter, out):
    out[:] = 0


def test_cython_functions_are_recognised(cython_answers):
    assert is_cython_function(cython_answers["escape_row"])
    assert not is_cython_function(python_escape_row)


@pytest.mark.parametrize(
    ("checker", "right", "wrongs"),
    [
        ("check_escape_row", "escape_row", ["escape_row_off_by_one"]),
        ("check_count_hits", "count_hits", ["count_hits_strict"]),
        ("check_heat_step", "heat_step", ["heat_step_in_place"]),
    ],
)
def test_cython_checkers(cython_answers, checker, right, wrongs):
    check = getattr(exercises, checker)
    assert_checker_contract(
        check, cython_answers[right], [cython_answers[w] for w in wrongs] + [python_escape_row]
    )
    assert "%%cython" in check(python_escape_row).message


@numba.njit
def histogram(counts, bins):
    result = np.zeros(bins, dtype=np.int64)
    for c in counts:
        result[c] += 1
    return result


@numba.njit
def histogram_dict(counts, bins):
    found = {}
    for c in counts:
        found.setdefault(c, []).append(c)
    return np.array([len(found.get(k, [])) for k in range(bins)])


@numba.njit
def histogram_short(counts, bins):
    return np.zeros(bins - 1, dtype=np.int64)


def histogram_python(counts, bins):
    return np.bincount(counts, minlength=bins)


@numba.njit(parallel=True)
def hits_reduction(x, y):
    hits = 0
    for k in numba.prange(x.size):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            hits += 1
    return hits


@numba.njit(parallel=True)
def hits_racy(x, y):
    hits = np.zeros(1, dtype=np.int64)
    for k in numba.prange(x.size):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            hits[0] += 1
    return hits[0]


@numba.njit
def hits_wrong(x, y):
    return int(np.count_nonzero(x * x + y * y < 1.0)) + 1


@numba.vectorize(["int32(float64, float64, int64)"])
def escape(cr, ci, max_iter):
    zr = zi = 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    return n


@numba.vectorize(["int64(float64, float64, int64)"])
def escape_int64(cr, ci, max_iter):
    return escape(cr, ci, max_iter)


@numba.vectorize(["int32(float64, float64, int64)"])
def escape_squared_radius(cr, ci, max_iter):
    zr = zi = 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 2.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    return n


@pytest.mark.parametrize(
    ("checker", "right", "wrongs"),
    [
        ("check_histogram", histogram, [histogram_dict, histogram_short, histogram_python]),
        ("check_race_free_hits", hits_reduction, [hits_wrong, histogram_python]),
        ("check_escape_ufunc", escape, [escape_int64, escape_squared_radius, histogram]),
    ],
)
def test_numba_checkers(checker, right, wrongs):
    assert_checker_contract(getattr(exercises, checker), right, wrongs)


def test_race_checker_restores_the_thread_count():
    before = numba.get_num_threads()
    exercises.check_race_free_hits(hits_racy)
    assert numba.get_num_threads() == before
