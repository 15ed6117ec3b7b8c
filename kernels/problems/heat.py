"""Explicit 2-D heat diffusion: a memory-bound stencil with neighbour communication.

Specification
-------------
Parameters ``n``, ``steps``. The field ``u`` is an ``n`` x ``n`` float64 grid on the unit
square (spacing ``dx = 1 / (n - 1)``), initially ``0.0`` except a hot square
``u[n//4 : 3*n//4, n//4 : 3*n//4] = 1.0`` in the middle. The boundary rows and columns
are held at ``0.0`` (Dirichlet). Each of ``steps`` steps applies the 5-point Jacobi update
to every interior point, reading only the previous field::

    new[i, j] = u[i, j] + R * ((u[i-1, j] + u[i+1, j]) + (u[i, j-1] + u[i, j+1]) - 4.0 * u[i, j])

with ``R = alpha * dt / dx**2 = 0.2``: diffusion coefficient ``alpha = 1`` and time step
``dt = 0.2 * dx**2``, inside the explicit scheme's stability limit ``R <= 0.25``. The
result is the float64 field after ``steps`` steps, shape ``(n, n)``.

The expression above, evaluated in that order, is the specification: NumPy and plain
Python evaluate it identically, so they agree bit for bit. Compilers that reorder or fuse
the arithmetic (FMA) agree only to round-off, :data:`TOLERANCE` relative to the peak.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np

from ..core.params import IntParam
from ..core.registry import Problem, register_problem

R = 0.2
# A few ulps of round-off per step, accumulated over many steps, stays far below this.
TOLERANCE = 1e-12
# Elements per strip in step_rows (1 MiB of float64 per scratch buffer), in whole rows.
# Each NumPy call then does about a hundred microseconds of work for its microsecond of
# Python, which holds the GIL: two threads stepping halves of the field kept 0.91 of two
# cores busy at n = 768, where strips of 32 rows (24,000 elements) kept 0.61-0.73.
STRIP_ELEMENTS = 2**17


def strip_rows(width: int) -> int:
    """Rows per strip of :func:`step_rows` for a field ``width`` columns wide."""
    return max(1, STRIP_ELEMENTS // width)


def initial(n: int) -> np.ndarray:
    """The initial field: a hot square of 1.0 in the middle, 0.0 elsewhere and on the edge."""
    u = np.zeros((n, n))
    u[n // 4 : 3 * n // 4, n // 4 : 3 * n // 4] = 1.0
    u[0, :] = u[-1, :] = u[:, 0] = u[:, -1] = 0.0
    return u


class _PerThread(threading.local):
    """Each thread's scratch buffers. Pickled as a new, empty one: ``dill`` sends the
    dictionary of a module it does not find among the installed packages (an editable
    install of this book) along with a function, and a ``threading.local`` cannot be
    pickled."""

    buffers: tuple[np.ndarray, np.ndarray] | None = None

    def __reduce__(self):
        return (type(self), ())


_SCRATCH = _PerThread()


def scratch_buffers(rows: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Two ``rows`` x ``width`` scratch buffers of this thread, kept from call to call.

    Allocated once per thread (and field width), not on every step: a megabyte freed at
    the top of the heap is given back to the system (glibc's trim threshold) and has to
    be faulted in again at the next step, which cost a pool worker about a third of its
    time.
    """
    kept = _SCRATCH.buffers
    if kept is None or kept[0].shape != (rows, width):
        kept = _SCRATCH.buffers = (np.empty((rows, width)), np.empty((rows, width)))
    return kept


def step_rows(src: np.ndarray, dst: np.ndarray, lo: int, hi: int) -> None:
    """Update interior rows ``lo..hi-1`` of ``dst`` from ``src`` (NumPy, in place).

    ``1 <= lo <= hi <= n - 1``; only rows ``lo - 1 .. hi`` of ``src`` are read (a halo of
    one row on each side), which is what makes the rows easy to share among workers.

    The rows are processed in strips of about :data:`STRIP_ELEMENTS` elements through
    two scratch buffers, evaluating the specification's expression operation by operation in its
    order (so the result is bit for bit the same as the one-line slice version). Why not
    the one-liner? Each of its temporaries is as big as the grid: allocating and freeing
    them every step costs page faults, and streaming them through memory costs bandwidth,
    in a problem whose speed *is* memory bandwidth. Strips keep the working set in cache,
    and each is large enough that threads stepping different rows rarely wait for the
    GIL between calls.
    """
    if hi <= lo:
        return
    width = src.shape[1] - 2
    strip = strip_rows(width)
    total, scratch = scratch_buffers(strip, width)
    for a in range(lo, hi, strip):
        b = min(a + strip, hi)
        acc, tmp, c = total[: b - a], scratch[: b - a], src[a:b, 1:-1]
        np.add(src[a - 1 : b - 1, 1:-1], src[a + 1 : b + 1, 1:-1], out=acc)  # up + down
        np.add(src[a:b, :-2], src[a:b, 2:], out=tmp)  # left + right
        np.add(acc, tmp, out=acc)
        np.multiply(4.0, c, out=tmp)
        np.subtract(acc, tmp, out=acc)
        np.multiply(R, acc, out=acc)
        np.add(c, acc, out=dst[a:b, 1:-1])


# The deepest halo a row block takes by itself: each exchange costs a round of tasks and
# transfers (about 15 ms on a two-worker dask LocalCluster, measured), each halo row is
# recomputed work (half a row per step on average: advance() skips the stale rows).
MAX_HALO_STEPS = 64


def default_halo_steps(block_rows: int) -> int:
    """Steps between exchanges for blocks of ``block_rows``: an eighth of a block, 1..64.

    Each block then recomputes at most a quarter of its rows (an eighth on each side).
    """
    return max(1, min(MAX_HALO_STEPS, block_rows // 8))


def advance(
    block: np.ndarray, steps: int, top_halo: bool = True, bottom_halo: bool = True
) -> np.ndarray:
    """Advance a block (with its halo rows) ``steps`` steps; its first and last rows stay.

    Rows ``steps`` away from a halo end are exact afterwards; nearer ones are stale and
    are thrown away. They are not computed either: after step ``s`` the ``s`` rows
    nearest a halo end are stale, so each step updates one row fewer at that end (a
    trapezoid in rows and steps), and the recomputed halo work is half of a full
    block's. ``top_halo`` or ``bottom_halo`` ``False``: that end is the grid's own fixed
    boundary row, and the rows next to it are updated every step.
    """
    src = block.copy()
    dst = block.copy()
    last = block.shape[0] - 1
    for s in range(steps):
        step_rows(src, dst, 1 + s if top_halo else 1, last - s if bottom_halo else last)
        src, dst = dst, src
    return src


def row_blocks(n: int, blocks: int) -> list[tuple[int, int]]:
    """Split the interior rows ``1..n-2`` into at most ``blocks`` contiguous ``(lo, hi)``."""
    interior = n - 2
    blocks = max(1, min(blocks, interior))
    bounds = [1 + interior * b // blocks for b in range(blocks + 1)]
    return list(itertools.pairwise(bounds))


def solve_python(n: int, steps: int) -> np.ndarray:
    """The whole simulation with plain Python lists and loops (the teaching version)."""
    u = initial(n).tolist()
    new = [row[:] for row in u]
    for _ in range(steps):
        for i in range(1, n - 1):
            up, row, down, out = u[i - 1], u[i], u[i + 1], new[i]
            for j in range(1, n - 1):
                c = row[j]
                out[j] = c + R * ((up[j] + down[j]) + (row[j - 1] + row[j + 1]) - 4.0 * c)
        u, new = new, u
    return np.array(u)


def reference(n: int, steps: int) -> np.ndarray:
    """The field after ``steps`` steps by the specification (NumPy, serial)."""
    u = initial(n)
    new = u.copy()
    for _ in range(steps):
        step_rows(u, new, 1, n - 1)
        u, new = new, u
    return u


def compare(result, expected, params: dict, exact: bool) -> str | None:
    """Bit-exact equality, or agreement within :data:`TOLERANCE` of the peak value."""
    if not isinstance(result, np.ndarray) or result.dtype != np.float64:
        return (
            f"expected a float64 array, got {type(result).__name__} {getattr(result, 'dtype', '')}"
        )
    if result.shape != expected.shape:
        return f"shape {result.shape} != {expected.shape}"
    error = float(np.max(np.abs(result - expected)))
    if exact:
        return f"differs by up to {error:.3g} (expected bit-exact)" if error else None
    limit = TOLERANCE * max(float(np.max(np.abs(expected))), 1.0)
    return f"differs by up to {error:.3g} > {limit:.3g}" if error > limit else None


def memory_bytes(n: int, steps: int) -> int:
    """Peak memory: two fields plus about five temporaries of the stencil expression."""
    return 7 * n * n * 8


def weak_scale(params: dict, workers: int) -> dict:
    """Grow the work about ``workers`` times: ``n`` grows by ``sqrt(workers)``."""
    return {**params, "n": round(params["n"] * workers**0.5)}


PROBLEM = register_problem(
    Problem(
        name="heat",
        summary="explicit 2-D heat diffusion (5-point stencil): memory-bound, halo exchange",
        params=(
            IntParam("n", 256, 3, 1_000_000, "grid points per side"),
            IntParam("steps", 200, 1, 100_000_000, "time steps"),
        ),
        reference=reference,
        memory_bytes=memory_bytes,
        weak_scale=weak_scale,
        sizes={
            "test": {"n": 24, "steps": 12},
            "quick": {"n": 128, "steps": 100},
            "live": {"n": 768, "steps": 300},
            # n = 1024 outgrows one core's caches (chapter 10 shows it); at 300 steps a
            # compiled run takes under half a second on one core.
            "bench": {"n": 1024, "steps": 300},
        },
        compare=compare,
    )
)
