"""``python``: plain Python loops, serial. The slow baseline every chapter starts from."""

from __future__ import annotations

import numpy as np

from ..problems import heat, mandelbrot, monte_carlo_pi
from ..registry import register_backend


@register_backend("python", "mandelbrot", parallel=False)
def mandelbrot_python(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts, one point at a time."""
    return mandelbrot.rows_python(range(height), width, height, max_iter)


@register_backend("python", "monte_carlo_pi", parallel=False)
def monte_carlo_pi_python(workers: int, samples: int, seed: int) -> float:
    """Hits counted one sample at a time (random numbers from NumPy's stream)."""
    hits = monte_carlo_pi.hits_python(range(monte_carlo_pi.n_chunks(samples)), samples, seed)
    return monte_carlo_pi.estimate(hits, samples)


@register_backend("python", "heat", parallel=False)
def heat_python(workers: int, n: int, steps: int) -> np.ndarray:
    """The stencil on lists of lists, one point at a time."""
    return heat.solve_python(n, steps)
