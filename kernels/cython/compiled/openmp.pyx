"""Whether these extensions were compiled with OpenMP, and how many threads it offers."""

import numpy

from cython.parallel cimport prange, threadid

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int kernels_openmp_version(void) { return _OPENMP; }
    static int kernels_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int kernels_openmp_version(void) { return 0; }
    static int kernels_max_threads(void) { return 1; }
    #endif
    """
    int kernels_openmp_version() nogil
    int kernels_max_threads() nogil


def openmp_version():
    """The ``_OPENMP`` date (e.g. ``201511`` for OpenMP 4.5), or 0 when built without OpenMP."""
    return kernels_openmp_version()


def max_threads():
    """``omp_get_max_threads()``: threads a parallel region gets by default (1 without OpenMP)."""
    return kernels_max_threads()


def team_size(int num_threads):
    """How many threads a ``prange`` with ``num_threads`` actually ran on (1 without OpenMP).

    Each iteration records the thread that ran it; the answer is the number of distinct
    threads seen. The tests use it to check that ``cython-parallel`` really is parallel.
    """
    cdef Py_ssize_t i, n = 64 * num_threads
    seen_array = numpy.zeros(max(num_threads, 1), dtype=numpy.intc)
    cdef int[::1] seen = seen_array
    for i in prange(n, nogil=True, num_threads=num_threads, schedule="static", chunksize=1):
        seen[threadid()] = 1
    return int(seen_array.sum())
