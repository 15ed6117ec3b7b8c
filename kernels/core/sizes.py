"""Problem sizes for notebooks, tests and benchmarks, and the ``KERNELS_QUICK`` switch.

``KERNELS_QUICK=1`` in the environment shrinks every notebook's problem sizes and repeat
counts so that the test suite and CI run quickly on two cores; at those sizes start-up
costs hide the speedups, so it is not for readers. Without it, readers get sizes where the
speedups are clear and a chapter runs in about a minute on two cores.
"""

from __future__ import annotations

import os

from .machine import usable_cores
from .registry import get_problem


def quick() -> bool:
    """``True`` when ``KERNELS_QUICK`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("KERNELS_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def size_name() -> str:
    """``"quick"`` under ``KERNELS_QUICK=1``, else ``"default"``."""
    return "quick" if quick() else "default"


def params(problem: str, preset: str | None = None) -> dict[str, int]:
    """Problem parameters for a preset.

    Parameters
    ----------
    problem : str
        Problem name.
    preset : str, optional
        ``"default"``, ``"quick"``, ``"test"``, ``"live"``, ``"bench"``, or one of the
        problem's own (Mandelbrot's ``"race"``). ``None`` picks ``"quick"`` under
        ``KERNELS_QUICK=1`` and ``"default"`` otherwise: what a notebook should use.

    Examples
    --------
    >>> params("heat", "test")
    {'n': 24, 'steps': 12}
    """
    spec = get_problem(problem)
    preset = preset or size_name()
    if preset == "default":
        return spec.defaults()
    if preset not in spec.sizes:
        allowed = ", ".join(["default", *spec.sizes])
        raise ValueError(f"unknown size preset {preset!r}; choose one of: {allowed}")
    return dict(spec.sizes[preset])


def repeats(default: int = 3) -> int:
    """Timing repeats for notebooks: 1 under ``KERNELS_QUICK=1``, else ``default``."""
    return 1 if quick() else default


def budget(default: float) -> float | None:
    """Seconds a notebook's measurement may add runs for (``bench.measure``'s ``budget``).

    ``None`` under ``KERNELS_QUICK=1``, where each point runs :func:`repeats` times (the
    cells are checked, not the figures); else ``default``.
    """
    return None if quick() else default


def max_workers() -> int:
    """Worker counts notebooks sweep up to: the usable cores, at least 2, at most 8."""
    return min(max(usable_cores(), 2), 8)


def scaling_params(problem: str, preset: str = "bench") -> dict[str, int]:
    """Sizes for a live scaling measurement in a notebook.

    The ``"bench"`` preset, large enough that starting the workers does not hide the
    speedup, or a smaller one where the workers are started before timing (a warm
    cluster): ``"live"``, or Mandelbrot's ``"race"`` for chapter 12's head-to-head;
    ``"quick"`` under ``KERNELS_QUICK=1``.
    """
    return params(problem, "quick" if quick() else preset)
