"""Amdahl's and Gustafson's laws, the fit of a serial fraction, and Karp-Flatt."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.core import laws


def test_amdahl_and_gustafson():
    assert laws.amdahl_speedup(1, 0.3) == pytest.approx(1.0)
    assert laws.amdahl_speedup(10**9, 0.1) == pytest.approx(10.0, rel=1e-6)
    assert laws.gustafson_speedup(1, 0.3) == pytest.approx(1.0)
    assert laws.gustafson_speedup(10, 0.0) == pytest.approx(10.0)


def test_fit_recovers_a_known_serial_fraction():
    p = np.array([1, 2, 4, 8])
    assert laws.fit_serial_fraction(p, laws.amdahl_speedup(p, 0.07)) == pytest.approx(0.07)
    assert np.isnan(laws.fit_serial_fraction([1], [1.0]))
    assert laws.karp_flatt(laws.amdahl_speedup(4, 0.2), 4) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="workers must be > 1"):
        laws.karp_flatt(1.0, 1)
