"""Mandelbrot escape counts: compute-bound and load-imbalanced.

Specification
-------------
Parameters ``width``, ``height``, ``max_iter``. The real coordinates are
``numpy.linspace(-2.0, 0.5, width)`` and the imaginary ones
``numpy.linspace(-1.25, 1.25, height)``; row ``i`` of the result belongs to imaginary
coordinate ``i``. For each point ``c``: ``z = 0``, ``n = 0``; while ``n < max_iter`` and
``zr*zr + zi*zi <= 4.0``: ``zr, zi = zr*zr - zi*zi + cr, 2.0*zr*zi + ci`` and ``n += 1``.
The result is an ``int32`` array of shape ``(height, width)`` holding ``n``.

The update is written out in real arithmetic, evaluated left to right with no fused or
reordered operations, so every float64 backend agrees with :func:`reference` bit for bit.
Points inside the set cost ``max_iter`` iterations and points far outside cost one, so
rows near the middle are far more expensive than rows at the top and bottom: splitting
the rows into equal contiguous blocks leaves some workers idle (load imbalance).
"""

from __future__ import annotations

import numpy as np

from ..core.params import IntParam
from ..core.registry import Problem, register_problem

REAL_RANGE = (-2.0, 0.5)
IMAG_RANGE = (-1.25, 1.25)


# Rows per batch in rows_in_batches: small enough that the temporaries stay in cache.
BATCH_ROWS = 16


def coordinates(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the real (``width``) and imaginary (``height``) coordinates of the grid."""
    return np.linspace(*REAL_RANGE, width), np.linspace(*IMAG_RANGE, height)


def escape_counts(cr: np.ndarray, ci: np.ndarray, max_iter: int) -> np.ndarray:
    """Vectorised escape counts for arrays of points ``cr + 1j*ci`` (same shape).

    Only the points still iterating are updated at each step, so the work done equals
    the scalar loop's and the arithmetic is the same, element by element. A point's
    count is the step at which it escaped, written once as it leaves (``max_iter`` for
    those that never do), not one added at every step: that indexing was a quarter of
    the time.
    """
    shape = cr.shape
    cr = cr.ravel().copy()
    ci = ci.ravel().copy()
    counts = np.full(cr.size, max_iter, dtype=np.int32)
    active = np.arange(cr.size)
    zr = np.zeros(cr.size)
    zi = np.zeros(cr.size)
    for step in range(max_iter):
        zr2 = zr * zr
        zi2 = zi * zi
        inside = zr2 + zi2 <= 4.0
        if not inside.all():
            counts[active[~inside]] = step  # escaped now: `step` updates passed the test
            active, zr, zi, cr, ci = (a[inside] for a in (active, zr, zi, cr, ci))
            zr2, zi2 = zr2[inside], zi2[inside]
            if active.size == 0:
                break
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
    return counts.reshape(shape)


def rows_numpy(rows: np.ndarray, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts of the given rows (NumPy), shape ``(len(rows), width)``."""
    re, im = coordinates(width, height)
    cr, ci = np.meshgrid(re, im[np.asarray(rows, dtype=np.intp)])
    return escape_counts(cr, ci, max_iter)


def rows_python(rows, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts of the given rows with plain Python loops (the teaching version)."""
    re, im = coordinates(width, height)
    re = re.tolist()
    out = []
    for i in rows:
        ci = float(im[i])
        counts = []
        for cr in re:
            zr = zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            counts.append(n)
        out.append(counts)
    return np.array(out, dtype=np.int32).reshape(len(out), width)


def interleaved_rows(height: int, tasks: int) -> list[np.ndarray]:
    """Split rows ``0..height-1`` into ``tasks`` interleaved sets (row ``i`` -> ``i % tasks``).

    Interleaving gives every task a mix of cheap and expensive rows, so the work is
    balanced without knowing in advance where the expensive rows are.

    Examples
    --------
    >>> [r.tolist() for r in interleaved_rows(5, 2)]
    [[0, 2, 4], [1, 3]]
    """
    tasks = max(1, min(tasks, height))
    return [np.arange(k, height, tasks) for k in range(tasks)]


def rows_in_batches(rows, width: int, height: int, max_iter: int) -> np.ndarray:
    """:func:`rows_numpy` of ``rows``, :data:`BATCH_ROWS` rows at a time (same counts).

    The whole image at once makes every temporary array as big as the image, streamed
    through memory at each of ``max_iter`` iterations; a few rows at a time stay in
    cache. Measured at 1600x1200, max_iter 600: 4.23 s at once, 1.89 s in 16-row batches.
    """
    rows = np.asarray(rows, dtype=np.intp)
    out = np.empty((rows.size, width), dtype=np.int32)
    for start in range(0, rows.size, BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        out[start : start + batch.size] = rows_numpy(batch, width, height, max_iter)
    return out


def reference(width: int, height: int, max_iter: int) -> np.ndarray:
    """The escape counts by the specification (NumPy, serial, in batches of rows)."""
    return rows_in_batches(np.arange(height), width, height, max_iter)


def checker_sizes(rng: np.random.Generator, count: int = 2) -> list[tuple[int, int, int]]:
    """Fresh ``(width, height, max_iter)`` cases for an exercise checker.

    The first is tiny; the others have odd heights, which put ``c = -2`` on the grid
    (the middle row), where ``|z|^2`` stays exactly 4: an escape test written with ``<``
    instead of ``<=`` shows there.

    Examples
    --------
    >>> [h % 2 for _, h, _ in checker_sizes(np.random.default_rng(0))]
    [1, 1, 1]
    """
    return [(5, 3, 1), *((int(rng.integers(6, 70)), 2 * int(rng.integers(1, 20)) + 1,
                         int(rng.integers(2, 250))) for _ in range(count))]  # fmt: skip


def compare(result, expected, params: dict, exact: bool) -> str | None:
    """Escape counts must be identical for every backend (``exact`` is not relaxed)."""
    if not isinstance(result, np.ndarray) or result.dtype != np.int32:
        return (
            f"expected an int32 array, got {type(result).__name__} {getattr(result, 'dtype', '')}"
        )
    if result.shape != expected.shape:
        return f"shape {result.shape} != {expected.shape}"
    differ = np.count_nonzero(result != expected)
    return f"{differ} of {result.size} counts differ" if differ else None


def memory_bytes(width: int, height: int, max_iter: int) -> int:
    """Peak memory of :func:`reference`: about a dozen float64 work arrays per point."""
    return width * height * 12 * 8


def weak_scale(params: dict, workers: int) -> dict:
    """Grow the work ``workers`` times by adding rows."""
    return {**params, "height": params["height"] * workers}


PROBLEM = register_problem(
    Problem(
        name="mandelbrot",
        summary="escape counts of the Mandelbrot set: compute-bound, load-imbalanced",
        params=(
            IntParam("width", 600, 1, 1_000_000, "points along the real axis"),
            IntParam("height", 400, 1, 1_000_000, "points along the imaginary axis (rows)"),
            IntParam("max_iter", 200, 1, 10_000_000, "iteration cap per point"),
        ),
        reference=reference,
        memory_bytes=memory_bytes,
        weak_scale=weak_scale,
        sizes={
            "test": {"width": 48, "height": 36, "max_iter": 60},
            "quick": {"width": 240, "height": 160, "max_iter": 100},
            "live": {"width": 1000, "height": 750, "max_iter": 500},
            # Chapter 12's race: pure Python in seconds, a pool's call over a tenth of one
            # (at 800x600x200, 0.08 s: the pools' fixed costs kept joblib at 0.75 to
            # 0.79 at two workers on an AMD EPYC, Zen 5; 0.79 to 0.87 at this size. On a
            # Zen 4, 0.69 to 0.87 at this size in five runs: that machine is noisier).
            "race": {"width": 1000, "height": 750, "max_iter": 300},
            "bench": {"width": 1600, "height": 1200, "max_iter": 600},
        },
        compare=compare,
    )
)
