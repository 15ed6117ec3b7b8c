"""Amdahl's and Gustafson's laws, and fitting a serial fraction to measured speedups."""

from __future__ import annotations

import numpy as np


def amdahl_speedup(workers, serial_fraction: float):
    """Strong-scaling speedup of a fixed-size problem: ``1 / (f + (1 - f) / p)``.

    Examples
    --------
    >>> round(amdahl_speedup(8, 0.1), 3)
    4.706
    """
    p = np.asarray(workers, dtype=float)
    result = 1.0 / (serial_fraction + (1.0 - serial_fraction) / p)
    return float(result) if result.ndim == 0 else result


def gustafson_speedup(workers, serial_fraction: float):
    """Scaled (weak-scaling) speedup when the parallel part grows with ``p``: ``p - f (p - 1)``.

    Examples
    --------
    >>> gustafson_speedup(8, 0.1)
    7.3
    """
    p = np.asarray(workers, dtype=float)
    result = p - serial_fraction * (p - 1.0)
    return float(result) if result.ndim == 0 else result


def fit_serial_fraction(workers, speedups) -> float:
    """Least-squares serial fraction ``f`` of Amdahl's law for measured speedups.

    ``1/S = f + (1 - f)/p`` is linear in ``f``: ``1/S - 1/p = f (1 - 1/p)``. Points at
    ``p = 1`` carry no information and are ignored; ``nan`` when nothing is left. The
    result is clipped to ``[0, 1]``.

    Examples
    --------
    >>> round(fit_serial_fraction([1, 2, 4], [1.0, 1.6, 2.5]), 2)
    0.22
    """
    p = np.asarray(workers, dtype=float)
    s = np.asarray(speedups, dtype=float)
    keep = p > 1
    if not keep.any():
        return float("nan")
    x = 1.0 - 1.0 / p[keep]
    y = 1.0 / s[keep] - 1.0 / p[keep]
    return float(np.clip(np.dot(x, y) / np.dot(x, x), 0.0, 1.0))


def karp_flatt(speedup: float, workers: int) -> float:
    """Experimentally determined serial fraction ``(1/S - 1/p) / (1 - 1/p)``.

    Examples
    --------
    >>> round(karp_flatt(3.0, 4), 4)
    0.1111
    """
    if workers <= 1:
        raise ValueError(f"workers must be > 1 for the Karp-Flatt metric, got {workers}")
    return (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers)
