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


LANES = 48
"""How many neighbouring points :func:`escape_counts_lanes` iterates in lock-step."""


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

WIDEST_VECTOR_BITS = 512
"""The vector width the lanes kernel asks LLVM for: AVX-512's, the widest x86 has."""


@intrinsic
def prefer_widest_vectors(typingctx):
    """An intrinsic: the calling function asks LLVM for :data:`WIDEST_VECTOR_BITS` vectors.

    LLVM's tuning for many Intel processors with AVX-512 vectorises with 256-bit vectors
    (half a register) unless a function says otherwise, as its ``"prefer-vector-width"``
    attribute does; gcc's ``-mprefer-vector-width=512`` is the same request
    (:mod:`kernels.core.buildflags`), XLA's ``xla_cpu_prefer_vector_width`` too
    (:mod:`kernels.jax.compute`). Where the processor has narrower vectors, LLVM uses
    the widest it has. llvmlite's attribute set lists only attributes without values,
    so this one is added as the text LLVM's IR gives it.
    """
    attribute = f'"prefer-vector-width"="{WIDEST_VECTOR_BITS}"'

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, attribute)  # past llvmlite's list of names
        return context.get_dummy_value()

    return types.none(), codegen


@njit(cache=True, nogil=True)
def escape_counts_lanes(re: np.ndarray, ci: float, max_iter: int, out: np.ndarray) -> None:
    """Escape counts of one row, :data:`LANES` neighbouring points at a time.

    One point's loop is a chain of dependent multiplications: the CPU waits for each
    result before starting the next. Many independent points in lock-step keep its
    vector units busy. A point is still iterating at step ``n`` exactly when its count
    is ``n``: once it escapes its count falls behind and never changes again, so every
    count is exactly :func:`escape_count`'s. Lanes past the row's end start at -1,
    never a step, and never iterate; the loop stops at the first step on which no lane
    iterated.

    The lanes' state (``zr``, ``zi``, ``c`` and the counts) lives in arrays on the
    stack, one per quantity, as a C function's local arrays do (:func:`_stack_array`).
    Four small arrays of known size at fixed places: LLVM knows they do not overlap,
    vectorises the lane loop and keeps the state in vector registers from one step to
    the next as far as the registers go, as gcc does with the C kernel's. On the heap
    (``np.empty``) the arrays may overlap as far as LLVM knows, and the lane loop stayed
    scalar and ran about 3x slower.

    The function asks for 512-bit vectors (:func:`prefer_widest_vectors`). On an Intel
    Xeon with AVX-512, at 1200x1000x500, LLVM otherwise used 256-bit ones: 48 lanes
    took 0.073 s and the best shape left (24 lanes, tested for a running lane every
    8th step) 0.050 s; with 512-bit vectors, 48 lanes tested on every step took
    0.040-0.042 s, 24 and 40 lanes tested every 8th step 0.041-0.043 s, 32 lanes 0.039 s
    compiled in the process but 0.044 s loaded from numba's disk cache (48 lanes: the
    same either way). On an AMD EPYC, 48 lanes were fastest too (Zen 5: 0.024-0.025 s;
    64 lanes 0.032 s, 32 lanes 0.029 s), as they were where the processor has no
    AVX-512 (LLVM told to compile for AVX2 on the same Xeon: 0.089 s against 0.093-0.105
    s for 16 to 32 lanes, tested every step or every 8th). So one shape for all.
    The squares are computed where they are used, not kept in arrays of their own, and
    the step is compared with the int32 counts as an int32: numba's loop counter is an
    int64, and comparing with it widened every count on every step.
    """
    prefer_widest_vectors()
    zr = numba.carray(_lane_doubles(LANES), (LANES,))
    zi = numba.carray(_lane_doubles(LANES), (LANES,))
    c = numba.carray(_lane_doubles(LANES), (LANES,))
    count = numba.carray(_lane_int32s(LANES), (LANES,))
    for j0 in range(0, re.size, LANES):
        m = min(LANES, re.size - j0)
        for lane in range(LANES):
            zr[lane] = zi[lane] = 0.0
            c[lane] = re[j0 + lane] if lane < m else 0.0
            count[lane] = 0 if lane < m else -1  # never a step: never iterates
        for n in range(max_iter):
            any_active = False
            step = np.int32(n)  # the counts' type: no widening of the counts per step
            for lane in range(LANES):
                x, y = zr[lane], zi[lane]
                x2, y2 = x * x, y * y
                still = (x2 + y2 <= 4.0) & (count[lane] == step)
                count[lane] += still
                any_active |= still
                new_zi = 2.0 * x * y + ci
                new_zr = x2 - y2 + c[lane]
                zr[lane] = new_zr if still else x
                zi[lane] = new_zi if still else y
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
