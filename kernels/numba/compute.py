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


LANE_SHAPES = ((48, 1), (24, 8))
"""The ways :func:`escape_counts_in_lanes` may be run: (lanes, test for a running lane
every how many steps). :func:`escape_counts_lanes` takes one by its index here; which is
fastest depends on the processor (its docstring has the figures), and
:mod:`kernels.numba.shapes` times them once per machine."""


def _stack_array(element: ir.Type, numba_type: types.Type):
    """An intrinsic: a pointer to ``length`` values in the calling function's stack frame.

    Where a C function's local arrays live, aligned to 64 bytes (a cache line, one
    AVX-512 vector). numba has no local arrays; this asks LLVM for one at each place it
    is called, of a ``length`` known when it compiles, and ``numba.carray`` gives it the
    shape of an array. It lives until the function returns, so it must not escape.
    """

    @intrinsic
    def stack_array(typingctx, length):
        if not isinstance(length, types.IntegerLiteral):
            return None  # only a length known when compiling
        size = length.literal_value

        def codegen(context, builder, signature, args):
            with builder.goto_entry_block():
                block = builder.alloca(ir.ArrayType(element, size))
                block.align = 64
            return builder.bitcast(block, element.as_pointer())

        return types.CPointer(numba_type)(length), codegen

    return stack_array


_lane_doubles = _stack_array(ir.DoubleType(), types.float64)
_lane_int32s = _stack_array(ir.IntType(32), types.int32)


@njit(cache=True, nogil=True)
def escape_counts_in_lanes(
    re: np.ndarray, ci: float, max_iter: int, out: np.ndarray, lanes: int, test_every: int
) -> None:
    """Escape counts of one row, ``lanes`` neighbouring points at a time.

    One point's loop is a chain of dependent multiplications: the CPU waits for each
    result before starting the next. Many independent points in lock-step keep its
    vector units busy. A point is still iterating at step ``n`` exactly when its count
    is ``n``: once it escapes its count falls behind and never changes again, so every
    count is exactly :func:`escape_count`'s. Lanes past the row's end start at -1,
    never a step, and never iterate. Whether any lane still iterates is tested every
    ``test_every`` steps (1: on every step; a power of two); a step after the last lane
    escaped changes nothing, so the counts are the same either way. After step ``n``
    a running lane's count is ``n + 1`` and every other lane's is at most ``n``, so
    the test compares the largest count with the step.

    ``lanes`` and ``test_every`` are constants of the compiled code
    (``numba.literally``): one compiled kernel per pair of :data:`LANE_SHAPES`.

    The lanes' state (``zr``, ``zi``, ``c`` and the counts) lives in arrays on the
    stack, one per quantity, as a C function's local arrays do (:func:`_stack_array`).
    Four small arrays of known size at fixed places: LLVM knows they do not overlap,
    vectorises the lane loop and keeps the state in vector registers from one step to
    the next as far as the registers go, as gcc does with the C kernel's.

    Which shape is fastest depends on the processor. On an AMD EPYC (Zen 5), at
    1200x1000x500: 0.024-0.025 s with 48 lanes tested every step, 0.032 s with 64 and
    0.029 s with 32 (64 lanes' state and temporaries did not fit LLVM's allocation of
    the 32 vector registers); on a Zen 4, testing 48 lanes every 8th step was 15%
    slower: LLVM ORs the lanes' comparison masks in mask registers. On an Intel Xeon
    with AVX-512 the same 48 lanes took 0.071-0.080 s, and 24 lanes tested every 8th
    step 0.053-0.055 s against the C program's 0.053 s in the same runs (tested every
    8th step: 16 lanes 0.060 s, 20 0.056 s, 28 0.056 s, 32 0.058 s; every 4th step
    0.056 s). 64-bit counts made no shape faster. Those are kernels compiled in the
    process that ran them; loaded from numba's disk cache, as in every process after
    the first, the same kernel took 0.057-0.059 s in every process tried, with the same
    machine code at the same offset in its page (cause not found).

    On the heap (``np.empty``), the state's arrays may overlap as far as LLVM knows, and
    the lane loop stayed scalar and ran about 3x slower; a single heap block also ran
    at a speed that changed from process to process with the stack's (randomised)
    start, likely through "4K aliasing" between the stack and the block. On the stack
    neither happens.
    The squares are computed where they are used, not kept in arrays of their own, and
    the step is compared with the int32 counts as an int32 (numba's loop counter is an
    int64, and comparing with it widened every count on every step). The same held for
    the test: comparing each count with ``step + 1``, an int64 in numba, made LLVM test
    the lanes one by one as 64-bit numbers. On the Intel Xeon, compiled in the process
    that ran it: 0.051-0.052 s, against 0.048-0.049 s comparing the largest count, an
    int32, with the step (the C program: 0.047-0.050 s in the same runs).
    """
    numba.literally(lanes)
    numba.literally(test_every)
    zr = numba.carray(_lane_doubles(lanes), (lanes,))
    zi = numba.carray(_lane_doubles(lanes), (lanes,))
    c = numba.carray(_lane_doubles(lanes), (lanes,))
    count = numba.carray(_lane_int32s(lanes), (lanes,))
    for j0 in range(0, re.size, lanes):
        m = min(lanes, re.size - j0)
        for lane in range(lanes):
            zr[lane] = zi[lane] = 0.0
            c[lane] = re[j0 + lane] if lane < m else 0.0
            count[lane] = 0 if lane < m else -1  # never a step: never iterates
        for n in range(max_iter):
            any_active = False
            step = np.int32(n)  # the counts' type: no widening of the counts per step
            for lane in range(lanes):
                x, y = zr[lane], zi[lane]
                x2, y2 = x * x, y * y
                still = (x2 + y2 <= 4.0) & (count[lane] == step)
                count[lane] += still
                if test_every == 1:  # a constant: the other case is compiled out
                    any_active |= still
                new_zi = 2.0 * x * y + ci
                new_zr = x2 - y2 + c[lane]
                zr[lane] = new_zr if still else x
                zi[lane] = new_zi if still else y
            if test_every > 1:  # a power of two: every test_every-th step
                if n & (test_every - 1) != test_every - 1:
                    continue
                top = count[0]  # a running lane's count is now n + 1, the most
                for lane in range(1, lanes):
                    top = max(top, count[lane])
                any_active = top > step
            if not any_active:
                break
        for lane in range(m):
            out[j0 + lane] = count[lane]


@njit(cache=True, nogil=True)
def escape_counts_lanes(
    re: np.ndarray, ci: float, max_iter: int, out: np.ndarray, shape: int = 0
) -> None:
    """:func:`escape_counts_in_lanes` for one row, in the shape ``LANE_SHAPES[shape]``."""
    if shape == 0:
        escape_counts_in_lanes(re, ci, max_iter, out, 48, 1)
    else:
        escape_counts_in_lanes(re, ci, max_iter, out, 24, 8)


@njit(cache=True, nogil=True)
def mandelbrot_counts(
    re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray, shape: int = 0
) -> None:
    """Fill ``out[i, j]`` with the escape count of ``re[j] + 1j*im[i]``, serially."""
    for i in range(im.size):
        escape_counts_lanes(re, im[i], max_iter, out[i], shape)


@njit(cache=True, parallel=True)
def mandelbrot_counts_parallel(
    re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray, threads: int, shape: int = 0
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
            escape_counts_lanes(re, im[i], max_iter, out[i], shape)


@njit(cache=True, parallel=True)
def mandelbrot_counts_blocks(
    re: np.ndarray, im: np.ndarray, max_iter: int, out: np.ndarray, shape: int = 0
) -> None:
    """:func:`mandelbrot_counts` with ``prange`` over the rows: one block of rows per thread."""
    for i in prange(im.size):
        escape_counts_lanes(re, im[i], max_iter, out[i], shape)


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
