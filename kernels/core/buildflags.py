"""Compiler flags that decide the compiled kernels' results, defined once.

``setup.py`` (the Cython extensions) and the C baseline (:mod:`kernels.c.baseline`) both
read them, so the ceiling the book measures is built the way the extensions are:

* ``-O3``: full optimisation;
* ``-march=native``: the vector instructions of the machine it is built on (a local
  build, not a wheel to share);
* ``-funroll-loops``: unrolled loops, which gcc then schedules more freely (the C
  Mandelbrot lanes 3% faster with gcc 12 on an AMD EPYC, Zen 4; the same counts);
* ``-ffp-contract=off``: no fused multiply-add, so the compiled Mandelbrot counts equal
  the NumPy reference bit for bit;
* ``-fno-trapping-math``: floating-point operations never trap, so the compiler may
  compute both sides of a lane's "still iterating?" choice and blend them with vector
  instructions (about 10% faster Mandelbrot lanes with gcc 12 on an AMD EPYC); every
  result stays bit for bit the same, since nothing is reordered or fused;
* ``-fopenmp``: OpenMP threads, where the compiler has it.

One choice is made by measuring: the integer type of the Mandelbrot lanes kernels'
counts (:data:`COUNT_TYPES`). Which is faster depends on the processor (``lanes.h``
has the figures), so ``setup.py`` builds the C program with each, times it
(:func:`fastest_count_type`) and builds the Cython kernel with the faster; the C
baseline times its own program the same way, once per machine. ``KERNELS_COUNT_T``
names the type instead. Either type gives the same counts.

This module imports nothing but the standard library: ``setup.py`` loads it by path,
before the package or its dependencies are installed.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Mapping, Sequence

OPTIMISE = ("-O3", "-march=native", "-funroll-loops", "-ffp-contract=off", "-fno-trapping-math")
OPENMP = "-fopenmp"
C_FLAGS = (*OPTIMISE, OPENMP)

COUNT_TYPES = ("long long", "int")
"""The C integer types the Mandelbrot lanes kernels may count in; the first is the default."""
COUNT_TYPE_MARGIN = 0.03
"""How much faster (a fraction) another count type must be to replace the default."""
COUNT_PROBE = ("800", "600", "400", "1", "lanes", "6")
"""The timed run of the C program per count type: width, height, max_iter, threads,
kernel, passes (about 0.01 s a pass; the first is a warm-up and is left out)."""
COUNT_PROBE_ROUNDS = 3
"""How many times the count types take turns."""


def time_count_types(programs: Mapping[str, str], counts: str) -> dict[str, list[float]]:
    """Seconds per pass of each count type's C program on :data:`COUNT_PROBE`.

    The programs take turns :data:`COUNT_PROBE_ROUNDS` times; each run's first pass (a
    warm-up) is left out. ``setup.py`` times its probes with it, the C baseline its
    builds.

    Parameters
    ----------
    programs : mapping of str to str
        For each count type, the path of the C program (``kernels/c``) built with it.
    counts : str
        Where the programs may write their counts.

    Raises
    ------
    subprocess.CalledProcessError, subprocess.TimeoutExpired
        If a program fails, or runs longer than 60 s.
    """
    seconds: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(COUNT_PROBE_ROUNDS):
        for name, program in programs.items():
            args = [program, *COUNT_PROBE[:4], counts, *COUNT_PROBE[4:]]
            done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
            seconds[name] += [float(line) for line in done.stdout.split()[1:]]
    return seconds


def count_type_from_environment(environ: Mapping[str, str]) -> str | None:
    """The count type ``KERNELS_COUNT_T`` names, or None when it is not set.

    Raises
    ------
    ValueError
        If it names a type that is not one of :data:`COUNT_TYPES`.
    """
    chosen = environ.get("KERNELS_COUNT_T")
    if chosen is not None and chosen not in COUNT_TYPES:
        raise ValueError(f"KERNELS_COUNT_T must be one of {COUNT_TYPES}, got {chosen!r}")
    return chosen


def count_type_flag(count_type: str) -> str:
    """The compiler flag that builds ``lanes.h`` and the Cython kernel with ``count_type``.

    Raises
    ------
    ValueError
        If ``count_type`` is not one of :data:`COUNT_TYPES`.
    """
    if count_type not in COUNT_TYPES:
        raise ValueError(f"the count type must be one of {COUNT_TYPES}, got {count_type!r}")
    return f"-DKERNELS_COUNT_T={count_type}"


def fastest_count_type(seconds: Mapping[str, Sequence[float]]) -> str:
    """The count type to build with, from the seconds of timed passes with each.

    The default (the first of :data:`COUNT_TYPES`) unless another's median pass is
    faster by more than :data:`COUNT_TYPE_MARGIN`: a difference within the noise does
    not change the build.

    Parameters
    ----------
    seconds : mapping of str to sequence of float
        For each count type timed, the seconds of its passes; an empty mapping (nothing
        could be timed) gives the default.

    Raises
    ------
    ValueError
        If a key is not one of :data:`COUNT_TYPES`, or a type has no passes.
    """
    default = COUNT_TYPES[0]
    medians = {}
    for count_type, passes in seconds.items():
        count_type_flag(count_type)  # names a known type
        if not passes:
            raise ValueError(f"no timed passes for the count type {count_type!r}")
        medians[count_type] = statistics.median(passes)
    if default not in medians:
        return default
    best = min(medians, key=medians.get)
    return best if medians[best] < (1 - COUNT_TYPE_MARGIN) * medians[default] else default
