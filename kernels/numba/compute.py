"""The problems as numba-compiled functions: serial ``@njit`` and ``parallel=True`` with prange.

Each problem has a serial function and a parallel one that share the same inner
``@njit`` kernel; only the outer loop differs (``range`` or ``prange``). The backends in
:mod:`kernels.numba.backend` call them; chapter 09 shows them.

Importing this module imports numba, which fixes the size of its thread pool when it
first runs parallel code (``NUMBA_NUM_THREADS``, default: the number of cores). A
notebook that wants more threads than cores calls :func:`kernels.prepare` first.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

# --- Mandelbrot ---------------------------------------------------------------------


@njit(cache=True, nogil=True)
def escape_count(cr: float, ci: float, max_iter: int) -> int:
    """The specification's loop for one point, with ``zr*zr`` and ``zi*zi`` kept.

    The plain version, shown in chapter 09; :func:`escape_counts_lanes` is the fast one.
    """
    zr = zi = zr2 = zi2 = 0.0
    n = 0
    while n < max_iter and zr2 + zi2 <= 4.0:
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        zr2 = zr * zr
        zi2 = zi * zi
        n += 1
    return n


LANES = 64  # points iterated in lock-step by escape_counts_lanes


@intrinsic
def _lane_state(typingctx):
    """A pointer to ``4 * LANES`` float64s in the calling function's stack frame.

    The stack block a C function's local arrays live in, aligned to 64 bytes (a cache
    line, one AVX-512 vector). numba has no local arrays; this asks LLVM for one, and
    ``numba.carray`` gives it the shape of an array. It lives until the function
    returns, so it must not escape.
    """

    def codegen(context, builder, signature, args):
        with builder.goto_entry_block():
            block = builder.alloca(ir.ArrayType(ir.DoubleType(), 4 * LANES))
            block.align = 64
        return builder.bitcast(block, ir.DoubleType().as_pointer())

    return types.CPointer(types.float64)(), codegen


@njit(cache=True, nogil=True)
def escape_counts_lanes(re: np.ndarray, ci: float, max_iter: int, out: np.ndarray) -> None:
    """Escape counts of one row, :data:`LANES` neighbouring points at a time.

    One point's loop is a chain of dependent multiplications: the CPU waits for each
    result before starting the next. Many independent points in lock-step keep its
    vector units busy. A point is still iterating at step ``n`` exactly when its count
    is ``n``: once it escapes its count falls behind and never changes again, so every
    count is exactly :func:`escape_count`'s. Lanes past the row's end start at
    ``max_iter`` and never iterate.

    The lanes' state is three rows of one array (``zr``, ``zi``, ``c``), not three
    arrays: LLVM then knows they do not overlap and vectorises the lane loop (with
    separate arrays this loop ran about 3x slower). The squares are computed where they
    are used, as in the C program, not kept in rows of their own: two rows fewer to load
    and store per step (0.050 s against 0.065 s at 1200x1000x500 on an AMD EPYC, Zen 4).
    The step is compared with the int32 counts as an int32: numba's loop counter is an
    int64, and comparing with it widened every count first (0.052 s against 0.042 s).

    That array and the counts live on the stack, as a C function's local arrays do
    (:func:`_lane_state`). On the heap (``np.empty``), the same machine code ran at
    0.050 s in one process and 0.080 or 0.100 s in the next: the loop reloads values
    it keeps on the stack, and where the stack sits relative to the heap block changes
    from process to process (the stack's start is randomised). The likely cause is "4K
    aliasing": when a load's address matches an earlier store's in its last 12 bits,
    the processor holds the load back. On the stack, the distance between them is fixed,
    and the time was 0.051–0.055 s in every process.
    """
    block = numba.carray(_lane_state(), (4 * LANES,))  # 3 rows of doubles, int32 counts
    z = block[: 3 * LANES].reshape((3, LANES))  # rows: zr, zi, c
    count = block[3 * LANES :].view(np.int32)[:LANES]
    for j0 in range(0, re.size, LANES):
        m = min(LANES, re.size - j0)
        for lane in range(LANES):
            z[0, lane] = z[1, lane] = 0.0
            z[2, lane] = re[j0 + lane] if lane < m else 0.0
            count[lane] = 0 if lane < m else max_iter
        for n in range(max_iter):
            any_active = False
            step = np.int32(n)  # the counts' type: no widening of 64 counts per step
            for lane in range(LANES):
                zr, zi = z[0, lane], z[1, lane]
                zr2, zi2 = zr * zr, zi * zi
                still = (zr2 + zi2 <= 4.0) & (count[lane] == step)
                count[lane] += still
                any_active |= still
                new_zi = 2.0 * zr * zi + ci
                new_zr = zr2 - zi2 + z[2, lane]
                z[0, lane] = new_zr if still else zr
                z[1, lane] = new_zi if still else zi
            if not any_active:
                break
        for lane in range(m):
            out[j0 + lane] = count[lane]


@njit(cache=True, nogil=True)
def mandelbrot_counts(re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray) -> None:
    """Fill ``out[i, j]`` with the escape count of ``re[j] + 1j*im[i]``, serially."""
    for i in range(im.size):
        escape_counts_lanes(re, im[i], max_iter, out[i])


@njit(cache=True, parallel=True)
def mandelbrot_counts_parallel(
    re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray, threads: int
) -> None:
    """:func:`mandelbrot_counts` with the rows shared among ``threads`` threads by ``prange``.

    ``prange`` cuts its range into one contiguous block per thread, and the middle rows
    of the image are the expensive ones; so the loop runs over the threads and each
    thread takes every ``threads``-th row (rows dealt round-robin), a balanced share.
    (``threads`` is an argument because numba will not cache a function that asks for
    the thread count itself.)
    """
    for t in prange(threads):
        for i in range(t, im.size, threads):
            escape_counts_lanes(re, im[i], max_iter, out[i])


@njit(cache=True, parallel=True)
def mandelbrot_counts_blocks(
    re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray
) -> None:
    """:func:`mandelbrot_counts` with ``prange`` over the rows: one block of rows per thread."""
    for i in prange(im.size):
        escape_counts_lanes(re, im[i], max_iter, out[i])


# --- Heat ---------------------------------------------------------------------------

R = 0.2  # the specification's alpha * dt / dx**2, a compile-time constant here


@njit(cache=True, nogil=True)
def heat_row(src: np.ndarray, dst: np.ndarray, i: int) -> None:
    """Update interior row ``i`` of ``dst`` from ``src`` (the specification's expression)."""
    for j in range(1, src.shape[1] - 1):
        c = src[i, j]
        dst[i, j] = c + R * ((src[i - 1, j] + src[i + 1, j]) + (src[i, j - 1] + src[i, j + 1])
                             - 4.0 * c)  # fmt: skip


@njit(cache=True, nogil=True)
def heat_run(u: np.ndarray, new: np.ndarray, steps: int) -> np.ndarray:
    """Advance ``steps`` steps serially, alternating ``u`` and ``new``; return the result."""
    for _ in range(steps):
        for i in range(1, u.shape[0] - 1):
            heat_row(u, new, i)
        u, new = new, u
    return u


@njit(cache=True, parallel=True)
def heat_step_parallel(src: np.ndarray, dst: np.ndarray) -> None:
    """One step, its rows shared among numba's threads (they meet at the end of the loop)."""
    for i in prange(1, src.shape[0] - 1):
        heat_row(src, dst, i)


@njit(cache=True)
def heat_run_parallel(u: np.ndarray, new: np.ndarray, steps: int) -> np.ndarray:
    """:func:`heat_run` with each step's rows in parallel."""
    for _ in range(steps):
        heat_step_parallel(u, new)
        u, new = new, u
    return u


# --- Monte Carlo pi -----------------------------------------------------------------

# NumPy's PCG64 exposes its C functions through ctypes; numba calls them directly, so
# the kernels draw exactly the reference's numbers. (numba refuses to cache functions
# that hold a C function pointer, so these compile in every new process.)
_next_double = np.random.PCG64().ctypes.next_double


@njit(nogil=True)
def chunk_hits(state: int, m: int, x: np.ndarray) -> int:
    """Draw ``m`` x values into ``x``, then ``m`` y values, and count ``x*x + y*y <= 1``."""
    for i in range(m):
        x[i] = _next_double(state)
    hits = 0
    for i in range(m):
        y = _next_double(state)
        if x[i] * x[i] + y * y <= 1.0:
            hits += 1
    return hits


@njit(nogil=True)
def monte_carlo_hits(states: np.ndarray, sizes: np.ndarray, buffers: np.ndarray) -> int:
    """Total hits of the chunks whose PCG64 states are at the addresses ``states``."""
    hits = 0
    for k in range(states.size):
        hits += chunk_hits(states[k], sizes[k], buffers[0])
    return hits


@njit(parallel=True)
def monte_carlo_hits_parallel(states: np.ndarray, sizes: np.ndarray, buffers: np.ndarray) -> int:
    """:func:`monte_carlo_hits` with the chunks shared among threads; ``hits`` is a reduction.

    Each thread draws into its own row of ``buffers`` (``numba.get_thread_id()``).
    """
    hits = 0
    for k in prange(states.size):
        hits += chunk_hits(states[k], sizes[k], buffers[numba.get_thread_id()])
    return hits
