"""The ceiling: the Mandelbrot kernel as a plain C program with OpenMP, built on the spot.

:func:`build` compiles ``mandelbrot.c`` (shipped with the package) with the machine's C
compiler with the extensions' flags; :func:`run` runs it and returns its counts and the
seconds its loop took, measured inside the program (no process start-up) on a pass after
a warm-up pass. Its ``lanes`` kernel is the compiled backends' algorithm (64 or 32
points in lock-step, in the layout timed faster here, as Cython's is built), so it is the
fair ceiling; ``scalar`` is the textbook one-point loop. The chapters set every tool's
time beside this one.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..core.buildflags import (
    C_FLAGS,
    LAYOUTS,
    Layout,
    fastest_layout,
    layout_flags,
    layouts_from_environment,
    time_layouts,
)
from ..core.cprograms import build_c_program, kept_choice
from ..core.errors import BackendUnavailableError, CommandTimeoutError
from ..core.machine import c_compiler
from ..core.subprocesses import run_command

SOURCE = files(__package__) / "mandelbrot.c"
KERNELS_SOURCE = files(__package__) / "lanes.h"
# The flags setup.py gives the Cython extensions, from the one place that defines them.
FLAGS = C_FLAGS
KERNELS = ("lanes", "scalar")
# Passes of the loop the program runs and :func:`runs` leaves out, before the timed ones.
WARM_UP_PASSES = 1


@dataclass(frozen=True)
class CRun:
    """One run of the C program: its counts and the seconds its loop took."""

    counts: np.ndarray
    seconds: float
    threads: int
    kernel: str


def compiler() -> str | None:
    """The C compiler :func:`kernels.sysinfo.c_compiler` finds (``$CC``, ``cc``, ``gcc``)."""

    return c_compiler()


def source() -> str:
    """The C program (``main``: arguments, timing, threads), to show in the book."""
    return SOURCE.read_text()


def kernels_source() -> str:
    """The C kernels (``lanes.h``), to show in the book."""
    return KERNELS_SOURCE.read_text()


def _build(layout: Layout) -> Path:
    """The program built in ``layout`` (from the cache, or compiled now)."""
    files = {"mandelbrot.c": source(), "lanes.h": kernels_source()}
    flags = (*FLAGS, *layout_flags(layout))
    return build_c_program("mandelbrot", files, flags, BackendUnavailableError,
                           "to measure the C baseline", "no OpenMP?")  # fmt: skip


@functools.cache
def layout() -> Layout:
    """The lanes kernel's layout (counts' type, lanes): the fastest here of those allowed.

    Chosen as ``setup.py`` chooses the Cython kernel's: the program is built in each
    layout ``KERNELS_COUNT_T`` and ``KERNELS_LANES`` allow (every one when they are
    unset), timed on the same run and judged by the same rule
    (:func:`kernels.core.buildflags.fastest_layout`). The choice among all of them is
    timed once per machine and kept in a file beside the default build.

    Raises
    ------
    ValueError
        If ``KERNELS_COUNT_T`` or ``KERNELS_LANES`` names a value that is not allowed.
    """
    candidates = layouts_from_environment(os.environ)
    if len(candidates) == 1:
        return candidates[0]
    programs = {candidate: str(_build(candidate)) for candidate in candidates}

    def fastest() -> Layout:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                seconds = time_layouts(programs, str(Path(tmp, "counts")))
            except subprocess.CalledProcessError as exc:
                raise RuntimeError(f"the C program failed: {exc.stderr.strip()}") from None
        return fastest_layout(seconds, candidates)

    if len(candidates) < len(LAYOUTS):  # the environment fixed a part: not kept
        return fastest()
    record = Path(programs[candidates[0]]).parent / "layout"
    return kept_choice(record, {f"{x.count_type},{x.lanes}": x for x in candidates}, fastest)


@functools.cache
def build() -> Path:
    """The compiled program's path, in the layout of :func:`layout`: compiled once
    per machine and kept (:func:`kernels.core.cprograms.build_c_program`).

    Raises
    ------
    BackendUnavailableError
        When there is no C compiler, or it cannot build the program with OpenMP; the
        message says which and how to get one.
    """
    return _build(layout())


def run(width: int, height: int, max_iter: int, threads: int = 1, kernel: str = "lanes") -> CRun:
    """Run the C program and return its counts and the seconds one pass of its loop took.

    The timed pass is the program's second: the first, a warm-up, is left out
    (:func:`runs`).

    Parameters
    ----------
    width, height, max_iter : int
        The Mandelbrot problem's parameters.
    threads : int
        OpenMP threads (``schedule(dynamic)`` over the rows).
    kernel : {"lanes", "scalar"}
        Many points in lock-step (the compiled backends' algorithm) or one at a time.
    """
    return runs(width, height, max_iter, threads, kernel, repeat=1)[0]


def runs(
    width: int, height: int, max_iter: int, threads: int = 1, kernel: str = "lanes",
    repeat: int = 3,
) -> list[CRun]:  # fmt: skip
    """``repeat`` timed passes of the loop in one run of the program, after a warm-up pass.

    A fresh process's first pass is slower than the ones after it (cold caches and branch
    predictors, the clock still rising: 0.025-0.032 s against 0.024 s at 1200x1000x500 on an
    AMD EPYC, Zen 5), as a Python tool's first call is; the benchmarks leave that call
    out (their warm-up), and so this leaves out the program's first pass. Every pass
    computes the same counts; the program writes the last.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    exe = build()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "counts.bin")
        args = [str(exe), str(width), str(height), str(max_iter), str(threads), str(out),
                kernel, str(WARM_UP_PASSES + repeat)]  # fmt: skip
        # Threads pinned one per core, as HPC runs do: a short-lived process otherwise
        # loses part of its run to the scheduler moving its new thread (measured here:
        # 0.060-0.078 s unpinned against 0.059 s pinned at 2 threads).
        env = {**os.environ, "OMP_PROC_BIND": "spread", "OMP_PLACES": "cores"}
        try:
            done = run_command(args, timeout=600, env=env)
        except CommandTimeoutError:
            raise RuntimeError("the C program ran longer than 600 s and was stopped") from None
        if done.returncode != 0:
            raise RuntimeError(f"the C program failed: {done.stderr.strip()}")
        counts = np.fromfile(out, dtype=np.int32).reshape(height, width)
    seconds = [float(line) for line in done.stdout.split()][WARM_UP_PASSES:]
    return [CRun(counts, s, threads, kernel) for s in seconds]


def best_time(
    width: int, height: int, max_iter: int, threads: int = 1, kernel: str = "lanes",
    repeat: int = 3,
) -> CRun:  # fmt: skip
    """The fastest of ``repeat`` runs (the same counts every time)."""
    return min(runs(width, height, max_iter, threads, kernel, repeat), key=lambda r: r.seconds)
