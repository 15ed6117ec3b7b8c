"""Mandelbrot escape counts in Cython: typed, GIL-free, and parallel with ``prange``.

The loop is the specification's, written in C doubles; ``zr*zr`` and ``zi*zi`` are kept
from one iteration to the next (same values, computed once). Compiled with
``-ffp-contract=off``, so the counts equal the NumPy reference bit for bit.
"""

from cython.parallel cimport prange


cdef inline int escape_count(double cr, double ci, int max_iter) noexcept nogil:
    cdef double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0
    cdef int n = 0
    while n < max_iter and zr2 + zi2 <= 4.0:
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        zr2 = zr * zr
        zi2 = zi * zi
        n += 1
    return n


# The kernel's layout, as in the C program's lanes.h: how many points iterate together
# and the counts' integer type. 64 lanes of ``long long`` unless setup.py timed another
# layout faster on this processor and defined KERNELS_LANES, KERNELS_COUNT_T
# (buildflags.py).
cdef extern from *:
    """
    #ifndef KERNELS_LANES
    #define KERNELS_LANES 64
    #endif
    #ifndef KERNELS_COUNT_T
    #define KERNELS_COUNT_T long long
    #endif
    typedef KERNELS_COUNT_T kernels_count_t;
    #define KERNELS_STRINGIFY(x) #x
    #define KERNELS_NAME_OF(x) KERNELS_STRINGIFY(x)
    static const char *kernels_count_type = KERNELS_NAME_OF(KERNELS_COUNT_T);
    """
    enum: LANES "KERNELS_LANES"  # points iterated in lock-step by escape_counts_lanes
    ctypedef long long count_t "kernels_count_t"
    const char *kernels_count_type

COUNT_TYPE = kernels_count_type.decode()  # the C type of the counts, e.g. "long long"
LANE_COUNT = LANES  # how many points the lanes kernel iterates together


cdef inline void escape_counts_lanes(const double *cr, double ci, int m, int max_iter,
                                     int *out) noexcept nogil:
    """Escape counts of ``m <= LANES`` neighbouring points, iterated together.

    One point's loop is a chain of dependent multiplications: the CPU waits for each
    result before starting the next. Many independent points in lock-step keep its
    vector units busy. A point is still iterating at step ``n`` exactly when its count
    is ``n``: once it escapes its count falls behind and it never changes again, so
    every count is exactly the one-point loop's. Lanes past ``m`` start at ``max_iter``
    and never iterate. The squares are computed where they are used, not kept in arrays
    of their own: two arrays fewer to load and store per step. Whether any lane still
    iterates is tested every 8th step: a step after the last lane escaped changes
    nothing. The number of lanes (:data:`LANE_COUNT`) and the counts' width
    (:data:`COUNT_TYPE`) are the layout the build timed fastest (``lanes.h`` has the
    figures).
    """
    cdef double zr[LANES]
    cdef double zi[LANES]
    cdef double c[LANES]
    cdef count_t count[LANES]
    cdef double x, y, x2, y2, new_zr, new_zi
    cdef count_t n, still, any_active
    cdef int lane
    for lane in range(LANES):
        zr[lane] = zi[lane] = 0.0
        count[lane] = 0 if lane < m else max_iter
        c[lane] = cr[lane] if lane < m else 0.0
    for n in range(max_iter):
        for lane in range(LANES):
            x, y = zr[lane], zi[lane]
            x2, y2 = x * x, y * y
            still = (x2 + y2 <= 4.0) & (count[lane] == n)
            count[lane] += still
            new_zi = 2.0 * x * y + ci
            new_zr = x2 - y2 + c[lane]
            zi[lane] = new_zi if still else y
            zr[lane] = new_zr if still else x
        if (n & 7) == 7:  # every 8th step: stop when no lane is still iterating
            any_active = 0
            for lane in range(LANES):
                any_active |= count[lane] == n + 1
            if not any_active:
                break
    for lane in range(m):
        out[lane] = count[lane]


cdef inline void fill_row(const double[::1] re, double ci, int max_iter,
                          int[::1] out) noexcept nogil:
    cdef Py_ssize_t j = 0, width = re.shape[0]
    while j < width:
        escape_counts_lanes(&re[j], ci, <int> min(LANES, width - j), max_iter, &out[j])
        j += LANES


def counts(const double[::1] re, const double[::1] im, int max_iter, int[:, ::1] out):
    """Fill ``out[i, j]`` with the escape count of ``re[j] + 1j*im[i]``, serially."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(im.shape[0]):
            fill_row(re, im[i], max_iter, out[i])


def counts_parallel(const double[::1] re, const double[::1] im, int max_iter,
                    int[:, ::1] out, int num_threads, str schedule="dynamic"):
    """:func:`counts` with the rows shared among ``num_threads`` OpenMP threads.

    ``schedule`` is OpenMP's: ``"static"`` gives each thread one contiguous block of
    rows (the expensive middle rows land on few threads), ``"dynamic"`` hands out one
    row at a time to whichever thread is free, ``"guided"`` hands out shrinking blocks.
    """
    cdef Py_ssize_t i, rows = im.shape[0]
    if schedule == "dynamic":
        for i in prange(rows, nogil=True, num_threads=num_threads, schedule="dynamic"):
            fill_row(re, im[i], max_iter, out[i])
    elif schedule == "static":
        for i in prange(rows, nogil=True, num_threads=num_threads, schedule="static"):
            fill_row(re, im[i], max_iter, out[i])
    elif schedule == "guided":
        for i in prange(rows, nogil=True, num_threads=num_threads, schedule="guided"):
            fill_row(re, im[i], max_iter, out[i])
    else:
        raise ValueError(f"schedule must be static, dynamic or guided, got {schedule!r}")
