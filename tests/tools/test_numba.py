"""The numba backends beyond the contract: the thread pool, its limits, and chapter
07's checkers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import multiprocess
import numpy as np
import pytest
from checker_cases import assert_checker_contract
from conftest import LANES_SIZES

from kernels.core import machine, races, runtime
from kernels.numba import backend as numba_jit
from kernels.numba import checks as numba_checks
from kernels.numba import compute as numba_kernels
from kernels.numba import demos as numba_demos
from kernels.numba.compute import numba
from kernels.problems import mandelbrot


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
        runtime.MIN_THREAD_POOL, int(os.environ.get("NUMBA_NUM_THREADS", "64"))
    )


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


@numba.njit(parallel=True)
def hits_racy_assign(x, y):  # the same race, written out
    hits = np.zeros(1, dtype=np.int64)
    for k in numba.prange(x.size):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            hits[0] = hits[0] + 1
    return hits[0]


@numba.njit(parallel=True)
def hits_racy_two_elements(x, y):  # two elements, each shared by half the iterations
    hits = np.zeros(2, dtype=np.int64)
    for k in numba.prange(x.size):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            hits[k & 1] += 1
    return hits[0] + hits[1]


@numba.njit(parallel=True)
def hits_per_chunk(x, y):  # right: one element per chunk, written by one iteration only
    chunks = 64
    partial = np.zeros(chunks, dtype=np.int64)
    for c in numba.prange(chunks):
        for k in range(c * x.size // chunks, (c + 1) * x.size // chunks):
            if x[k] * x[k] + y[k] * y[k] <= 1.0:
                partial[c] += 1
    return partial.sum()


@numba.njit
def hits_wrong(x, y):
    return int(np.count_nonzero(x * x + y * y < 1.0)) + 1


# Right, but with parallel=True dropped: the same loop, compiled by a plain @njit.
hits_serial_reduction = numba.njit(hits_reduction.py_func)


@numba.njit(parallel=True)
def hits_range_not_prange(x, y):  # parallel=True, but the loop is a plain range
    hits = 0
    for k in range(x.size):
        if x[k] * x[k] + y[k] * y[k] <= 1.0:
            hits += 1
    return hits


@numba.njit(parallel=True)
def hits_strict(x, y):
    hits = 0
    for k in numba.prange(x.size):
        if x[k] * x[k] + y[k] * y[k] < 1.0:
            hits += 1
    return hits


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


@numba.njit(nogil=True)
def sum_squares(a):
    total = 0
    for v in a:
        total += v * v
    return total


@numba.njit
def sum_squares_holding_the_gil(a):
    total = 0
    for v in a:
        total += v * v
    return total


def squares_on_threads(x, workers):
    with ThreadPoolExecutor(workers) as pool:
        return int(sum(pool.map(sum_squares, np.array_split(x, workers))))


def squares_on_threads_with_the_gil(x, workers):  # threads take turns
    with ThreadPoolExecutor(workers) as pool:
        return int(sum(pool.map(sum_squares_holding_the_gil, np.array_split(x, workers))))


def squares_with_the_gil_naming_nogil(x, workers):  # the nogil function only named
    with ThreadPoolExecutor(workers) as pool:
        pieces = pool.map(sum_squares_holding_the_gil, np.array_split(x, workers))
        return int(sum(pieces)) + int(sum_squares(x[:0]))


def squares_on_one_thread(x, workers):  # a pool, but of one thread
    with ThreadPoolExecutor(1) as pool:
        return int(sum(pool.map(sum_squares, np.array_split(x, workers))))


def squares_in_one_call(x, workers):  # serial: no threads
    return int(sum_squares(x))


def squares_on_numpy_threads(x, workers):  # NumPy, not the compiled function
    with ThreadPoolExecutor(workers) as pool:
        return int(sum(pool.map(lambda a: int(np.dot(a, a)), np.array_split(x, workers))))


def squares_without_the_remainder(x, workers):  # equal pieces: the tail is lost
    n = x.size // workers * workers
    with ThreadPoolExecutor(workers) as pool:
        return int(sum(pool.map(sum_squares, np.split(x[:n], workers))))


LOCK = threading.Lock()


def squares_under_a_lock(x, workers):  # nogil, but one thread at a time again
    def piece(a):
        with LOCK:
            return sum_squares(a)

    with ThreadPoolExecutor(workers) as pool:
        return int(sum(pool.map(piece, np.array_split(x, workers))))


def squares_on_processes(x, workers):  # processes, not threads
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return int(sum(pool.map(sum_squares, np.array_split(x, workers))))


@pytest.mark.parametrize(
    ("checker", "right", "wrongs"),
    [
        (
            "check_threads_without_gil",
            squares_on_threads,
            [
                squares_on_threads_with_the_gil,
                squares_under_a_lock,
                squares_with_the_gil_naming_nogil,
                squares_on_one_thread,
                squares_in_one_call,
                squares_on_numpy_threads,
                squares_without_the_remainder,
                squares_on_processes,
            ],
        ),
        ("check_histogram", histogram, [histogram_dict, histogram_short, histogram_python]),
        (
            "check_race_free_hits",
            hits_reduction,
            [
                hits_wrong,
                histogram_python,
                hits_racy,
                hits_racy_assign,
                hits_racy_two_elements,
                hits_serial_reduction,
                hits_range_not_prange,
                hits_strict,
            ],
        ),
        ("check_escape_ufunc", escape, [escape_int64, escape_squared_radius, histogram]),
    ],
)
def test_numba_checkers(checker, right, wrongs):
    assert_checker_contract(getattr(numba_checks, checker), right, wrongs)


def test_nogil_measurement_table():
    df = numba_demos.gil_and_threads([1, 2], width=300, height=200, max_iter=100)
    assert list(df["kernel"]) == ["nogil=True"] * 2 + ["holds the GIL"] * 2
    assert list(df["threads"]) == [1, 2, 1, 2]
    assert (df["seconds"] > 0).all() and (df["cores"] > 0).all()
    assert (df[df["threads"] == 1]["speedup"] == 1.0).all()


def test_race_checker_restores_the_thread_count():
    before = numba.get_num_threads()
    numba_checks.check_race_free_hits(hits_racy)
    assert numba.get_num_threads() == before


def test_race_checker_reads_the_race_in_the_source():
    # Deterministic, however busy the machine: the message names the shared element.
    for racy, element in [(hits_racy, "hits[0]"), (hits_racy_assign, "hits[0]"),
                          (hits_racy_two_elements, "hits[k & 1]")]:  # fmt: skip
        result = numba_checks.check_race_free_hits(racy)
        assert not result and element in result.message


def racy_column_sums(a):
    sums = np.zeros(a.shape[1])
    for i in numba.prange(a.shape[0]):
        for j in range(a.shape[1]):
            sums[j] += a[i, j]  # every row adds to every column's sum
    return sums


def private_rows(a, size):
    out = np.zeros(a.shape[0] * size)
    for i in numba.prange(a.shape[0]):
        row = np.zeros(size)  # the iteration's own array
        for j in range(a.shape[1]):
            row[int(a[i, j]) % size] += 1
        base = i * size  # row i of the flat output
        for j in range(size):
            out[base + j] = out[base + j] + row[j]
    return out


def test_the_source_rule_tells_shared_elements_from_private_ones():
    assert races.shared_element_updates(racy_column_sums) == ["sums[j]"]
    assert races.shared_element_updates(private_rows) == []
    assert races.shared_element_updates(hits_per_chunk) == []
    assert races.shared_element_updates(hits_reduction) == []


def test_race_checker_passes_one_element_per_chunk():
    assert numba_checks.check_race_free_hits(hits_per_chunk)


def test_the_lanes_kernel_gives_the_reference_counts():
    for width, height, max_iter in LANES_SIZES:
        re, im = mandelbrot.coordinates(width, height)
        out = np.full((height, width), -1, dtype=np.int32)
        numba_kernels.mandelbrot_counts(re, im, max_iter, out)
        np.testing.assert_array_equal(out, mandelbrot.reference(width, height, max_iter))
        out[:] = -1
        numba_kernels.mandelbrot_counts_parallel(re, im, max_iter, out, 2)
        np.testing.assert_array_equal(out, mandelbrot.reference(width, height, max_iter))


def test_the_lanes_kernel_asks_for_the_widest_vectors():
    import re as regex

    from numba import njit

    # compiled here, not loaded from the disk cache: numba inspects only code it compiled
    kernel = njit(numba_kernels.escape_counts_lanes.py_func)
    re, _ = mandelbrot.coordinates(8, 1)
    kernel(re, 0.0, 10, np.empty(8, dtype=np.int32))
    (ir,) = kernel.inspect_llvm().values()
    mangled = "@_ZN7kernels5numba7compute19escape_counts_lanes"
    lines = ir.splitlines()
    (definition,) = [line for line in lines if line.startswith("define") and mangled in line]
    groups = regex.findall(r"#(\d+)", definition.rsplit(")", 1)[1])  # after the arguments
    attributes = dict(regex.findall(r"^attributes #(\d+) = \{ (.*) \}$", ir, regex.MULTILINE))
    wanted = f'"prefer-vector-width"="{numba_kernels.WIDEST_VECTOR_BITS}"'
    assert any(wanted in attributes[group] for group in groups)
    if "avx512f" in machine.cpuinfo().get("flags", "").split():  # where there are any
        (asm,) = kernel.inspect_asm().values()
        assert "zmm" in asm
