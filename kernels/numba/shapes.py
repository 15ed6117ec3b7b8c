"""Which of numba's lane shapes runs the Mandelbrot kernel fastest here: timed once per machine.

:data:`kernels.numba.compute.LANE_SHAPES` lists the shapes (lanes, and how often the
kernel tests for a running lane); the fastest depends on the processor. As the build
chooses the C and Cython kernels' layout (:mod:`kernels.core.buildflags`), this times
each shape on the same run, judges them by the same rule (the first unless another is
clearly faster) and keeps the choice in a file, one per processor and numba version.
"""

from __future__ import annotations

import functools
import hashlib
import time

import numpy as np

from ..core.buildflags import fastest_layout
from ..core.cprograms import cache_root, kept_choice
from ..problems import mandelbrot

PROBE = (800, 600, 400)
"""The timed run per shape: width, height, max_iter (about 0.01-0.02 s a call)."""
ROUNDS = 3
"""How many times the shapes take turns, :data:`CALLS` timed calls each."""
CALLS = 3


def _record_name() -> str:
    """The record's file name: a hash of the processor (name, features) and numba's version."""
    import llvmlite.binding as llvm
    import numba

    parts = (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(), numba.__version__)
    return "lane-shape-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def time_shapes() -> dict[int, list[float]]:
    """Seconds per call of the serial kernel in each shape (its index) on :data:`PROBE`.

    The shapes take turns :data:`ROUNDS` times; a call before each turn (the first also
    compiles) is left out.
    """
    from . import compute

    width, height, max_iter = PROBE
    re, im = mandelbrot.coordinates(width, height)
    out = np.empty((height, width), dtype=np.int32)
    seconds: dict[int, list[float]] = {shape: [] for shape in range(len(compute.LANE_SHAPES))}
    for _ in range(ROUNDS):
        for shape, calls in seconds.items():
            compute.mandelbrot_counts(re, im, max_iter, out, shape)
            for _ in range(CALLS):
                start = time.perf_counter()
                compute.mandelbrot_counts(re, im, max_iter, out, shape)
                calls.append(time.perf_counter() - start)
    return seconds


@functools.cache
def lane_shape() -> int:
    """The index in ``LANE_SHAPES`` of the shape to run: timed once per machine, then read.

    The choice is kept in ``cache_root()/numba`` (:func:`kernels.core.cprograms.cache_root`);
    where that cannot be written, it is timed again in each process.
    """
    from . import compute

    shapes = {str(index): index for index in range(len(compute.LANE_SHAPES))}
    candidates = tuple(shapes.values())
    record = cache_root() / "numba" / _record_name()
    return kept_choice(record, shapes, lambda: fastest_layout(time_shapes(), candidates))
