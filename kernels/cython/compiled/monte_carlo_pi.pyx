"""Monte Carlo pi in Cython, drawing from NumPy's own generators through their C interface.

Every chunk's ``PCG64`` bit generator is made in Python (from the chunk's
``SeedSequence``), and its ``bitgen_t`` is taken from the capsule NumPy provides for
exactly this. ``next_double`` then draws the same numbers ``Generator.random`` would: the
hit count equals the NumPy reference for any number of threads.
"""

from cpython.pycapsule cimport PyCapsule_GetPointer
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc
from numpy.random cimport bitgen_t


cdef long long chunk_hits(bitgen_t *rng, Py_ssize_t m, double *x) noexcept nogil:
    """Draw ``m`` x values, then ``m`` y values, and count ``x*x + y*y <= 1``."""
    cdef Py_ssize_t i
    cdef long long hits = 0
    cdef double y
    for i in range(m):
        x[i] = rng.next_double(rng.state)
    for i in range(m):
        y = rng.next_double(rng.state)
        if x[i] * x[i] + y * y <= 1.0:
            hits += 1
    return hits


def hits(list bit_generators, const Py_ssize_t[::1] sizes, double[:, ::1] buffers,
         int num_threads=0):
    """Total hits of the chunks drawn from ``bit_generators`` (``sizes[k]`` samples each).

    ``num_threads=0`` runs serially; otherwise the chunks are shared among that many
    OpenMP threads. ``buffers`` holds one row per thread (at least ``sizes.max()``
    values) for the x values of the chunk that thread is drawing.
    """
    cdef Py_ssize_t k, n = len(bit_generators)
    cdef long long total = 0
    cdef bitgen_t **rngs = <bitgen_t **> malloc(max(n, 1) * sizeof(bitgen_t *))
    if rngs == NULL:
        raise MemoryError()
    try:
        for k in range(n):
            rngs[k] = <bitgen_t *> PyCapsule_GetPointer(
                bit_generators[k].capsule, "BitGenerator")
        if num_threads == 0:
            with nogil:
                for k in range(n):
                    total += chunk_hits(rngs[k], sizes[k], &buffers[0, 0])
        else:
            for k in prange(n, nogil=True, num_threads=num_threads, schedule="dynamic"):
                total += chunk_hits(rngs[k], sizes[k], &buffers[threadid(), 0])
    finally:
        free(rngs)
    return total
