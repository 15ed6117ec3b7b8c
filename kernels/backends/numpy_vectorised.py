"""``numpy``: whole-array operations, serial. The reference implementations."""

from __future__ import annotations

import numpy as np

from ..problems import heat, mandelbrot, monte_carlo_pi
from ..registry import register_backend


@register_backend("numpy", "mandelbrot", parallel=False)
def mandelbrot_numpy(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Escape counts in batches of 16 rows, updating only the points still iterating."""
    return mandelbrot.reference(width, height, max_iter)


@register_backend("numpy", "monte_carlo_pi", parallel=False)
def monte_carlo_pi_numpy(workers: int, samples: int, seed: int) -> float:
    """Hits counted a chunk at a time with vectorised comparisons."""
    return monte_carlo_pi.reference(samples, seed)


@register_backend("numpy", "heat", parallel=False)
def heat_numpy(workers: int, n: int, steps: int) -> np.ndarray:
    """The stencil as whole-array slices, two buffers swapped each step."""
    return heat.reference(n, steps)
