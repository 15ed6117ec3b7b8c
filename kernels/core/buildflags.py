"""Compiler flags that decide the compiled kernels' results, defined once.

``setup.py`` (the Cython extensions) and the C baseline (:mod:`kernels.c.baseline`) both
read them, so the ceiling the book measures is built the way the extensions are:

* ``-O3``: full optimisation;
* ``-march=native``: the vector instructions of the machine it is built on (a local
  build, not a wheel to share);
* ``-mprefer-vector-width=512``: vectorise with the widest vectors, AVX-512's, where the
  processor has them (gcc's tuning for many Intel processors stops at 256 bits unless
  asked: at 1200x1000x500 on an Intel Xeon the C Mandelbrot lanes took 0.052 s in the
  layout then chosen, 64-bit counts and 32 lanes, and 0.043 s asked; no effect where
  vectors are narrower);
* ``-funroll-loops``: unrolled loops, which gcc then schedules more freely (the C
  Mandelbrot lanes 3% faster with gcc 12 on an AMD EPYC, Zen 4; the same counts);
* ``-ffp-contract=off``: no fused multiply-add, so the compiled Mandelbrot counts equal
  the NumPy reference bit for bit;
* ``-fno-trapping-math``: floating-point operations never trap, so the compiler may
  compute both sides of a lane's "still iterating?" choice and blend them with vector
  instructions (about 10% faster Mandelbrot lanes with gcc 12 on an AMD EPYC); every
  result stays bit for bit the same, since nothing is reordered or fused;
* ``-fopenmp``: OpenMP threads, where the compiler has it.

Two choices are made by measuring, together: the integer type of the Mandelbrot lanes
kernels' counts and how many lanes they iterate in lock-step (a :class:`Layout`). Which
is faster depends on the processor (``lanes.h`` has the figures), so ``setup.py``
builds the C program in each of :data:`LAYOUTS`, times it (:func:`time_layouts`,
:func:`fastest_layout`) and builds the Cython kernel in the fastest; the C baseline
times its own program the same way, once per machine. ``KERNELS_COUNT_T`` and
``KERNELS_LANES`` fix either part instead. Every layout gives the same counts.

This module imports nothing but the standard library: ``setup.py`` loads it by path,
before the package or its dependencies are installed.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Mapping, Sequence
from typing import NamedTuple

OPTIMISE = (
    "-O3", "-march=native", "-mprefer-vector-width=512", "-funroll-loops", "-ffp-contract=off",
    "-fno-trapping-math",
)  # fmt: skip
OPENMP = "-fopenmp"
C_FLAGS = (*OPTIMISE, OPENMP)

COUNT_TYPES = ("long long", "int")
"""The C integer types the Mandelbrot lanes kernels may count in; the first is the default."""
LANE_COUNTS = (64, 32)
"""How many points the C and Cython lanes kernels may iterate together; the first is the default."""


class Layout(NamedTuple):
    """How the C and Cython Mandelbrot lanes kernels are built: counts' type and lanes."""

    count_type: str
    lanes: int

    def __str__(self) -> str:
        return f"{self.count_type} counts, {self.lanes} lanes"


LAYOUTS = tuple(Layout(kind, lanes) for lanes in LANE_COUNTS for kind in COUNT_TYPES)
"""Every layout the build may choose; the first is the default."""
LAYOUT_MARGIN = 0.03
"""How much faster (a fraction) another layout must be to replace the default."""
PROBE = ("800", "600", "400", "1", "lanes", "6")
"""The timed run of the C program per layout: width, height, max_iter, threads, kernel,
passes (about 0.01 s a pass; the first is a warm-up and is left out)."""
PROBE_ROUNDS = 3
"""How many times the layouts take turns."""


def time_layouts(programs: Mapping[Layout, str], counts: str) -> dict[Layout, list[float]]:
    """Seconds per pass of each layout's C program on :data:`PROBE`.

    The programs take turns :data:`PROBE_ROUNDS` times; each run's first pass (a warm-up)
    is left out. ``setup.py`` times its probes with it, the C baseline its builds.

    Parameters
    ----------
    programs : mapping of Layout to str
        For each layout, the path of the C program (``kernels/c``) built in it.
    counts : str
        Where the programs may write their counts.

    Raises
    ------
    subprocess.CalledProcessError, subprocess.TimeoutExpired
        If a program fails, or runs longer than 60 s.
    """
    seconds: dict[Layout, list[float]] = {layout: [] for layout in programs}
    for _ in range(PROBE_ROUNDS):
        for layout, program in programs.items():
            args = [program, *PROBE[:4], counts, *PROBE[4:]]
            done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
            seconds[layout] += [float(line) for line in done.stdout.split()[1:]]
    return seconds


def layouts_from_environment(environ: Mapping[str, str]) -> tuple[Layout, ...]:
    """The layouts ``KERNELS_COUNT_T`` and ``KERNELS_LANES`` allow (all of them when unset).

    Raises
    ------
    ValueError
        If either names a value that is not allowed (:data:`COUNT_TYPES`,
        :data:`LANE_COUNTS`).
    """
    kind, lanes = environ.get("KERNELS_COUNT_T"), environ.get("KERNELS_LANES")
    if kind is not None and kind not in COUNT_TYPES:
        raise ValueError(f"KERNELS_COUNT_T must be one of {COUNT_TYPES}, got {kind!r}")
    if lanes is not None and lanes not in map(str, LANE_COUNTS):
        raise ValueError(f"KERNELS_LANES must be one of {LANE_COUNTS}, got {lanes!r}")
    return tuple(layout for layout in LAYOUTS if kind in (None, layout.count_type)
                 and lanes in (None, str(layout.lanes)))  # fmt: skip


def layout_flags(layout: Layout) -> tuple[str, str]:
    """The compiler flags that build ``lanes.h`` and the Cython kernel in ``layout``.

    Raises
    ------
    ValueError
        If ``layout`` is not one of :data:`LAYOUTS`.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"the layout must be one of {[str(x) for x in LAYOUTS]}, got {layout!r}")
    return f"-DKERNELS_COUNT_T={layout.count_type}", f"-DKERNELS_LANES={layout.lanes}"


def fastest_layout(
    seconds: Mapping[Layout, Sequence[float]], candidates: Sequence[Layout] = LAYOUTS
) -> Layout:
    """The layout to build in, from the seconds of timed passes in each.

    The default (the first of ``candidates``) unless another's median pass is faster by
    more than :data:`LAYOUT_MARGIN`: a difference within the noise does not change the
    build.

    Parameters
    ----------
    seconds : mapping of Layout to sequence of float
        For each layout timed, the seconds of its passes; an empty mapping (nothing
        could be timed) gives the default.
    candidates : sequence of Layout
        The layouts allowed (:func:`layouts_from_environment`), the default first.

    Raises
    ------
    ValueError
        If a key is not one of ``candidates``, or a layout has no passes.
    """
    default = candidates[0]
    medians = {}
    for layout, passes in seconds.items():
        if layout not in candidates:
            raise ValueError(f"{layout!r} is not one of the layouts {[str(x) for x in candidates]}")
        if not passes:
            raise ValueError(f"no timed passes for the layout {layout}")
        medians[layout] = statistics.median(passes)
    if default not in medians:
        return default
    best = min(medians, key=medians.get)
    return best if medians[best] < (1 - LAYOUT_MARGIN) * medians[default] else default
