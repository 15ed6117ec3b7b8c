"""The laws the chapter teaches, and the exercise checkers (right answers pass, wrong fail)."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from kernels import exercises, laws


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


def median_timer(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


RIGHT = {
    exercises.check_amdahl: lambda p, f: 1 / (f + (1 - f) / p),
    exercises.check_gustafson: lambda p, f: p - f * (p - 1),
    exercises.check_timer: median_timer,
    exercises.check_balanced_rows: lambda h, w: [list(range(k, h, w)) for k in range(w)],
}
WRONG = {
    exercises.check_amdahl: lambda p, f: p * (1 - f),
    exercises.check_gustafson: lambda p, f: 1 / (f + (1 - f) / p),
    exercises.check_timer: lambda fn, repeat: min(median_timer(fn, 1) for _ in range(repeat)),
    exercises.check_balanced_rows: lambda h, w: [list(a) for a in np.array_split(np.arange(h), w)],
}


@pytest.mark.parametrize("checker", list(RIGHT), ids=lambda c: c.__name__)
def test_checker_accepts_a_right_answer(checker):
    result = checker(RIGHT[checker])
    assert result and repr(result).startswith("✅ Correct")


@pytest.mark.parametrize("checker", list(WRONG), ids=lambda c: c.__name__)
def test_checker_rejects_a_wrong_answer_with_a_hint(checker):
    result = checker(WRONG[checker])
    assert not result and "❌ Not yet" in repr(result) and "Hint:" in repr(result)


def test_checker_survives_an_answer_that_raises():
    result = exercises.check_amdahl(lambda p, f: 1 / 0)
    assert not result and "ZeroDivisionError" in repr(result)
    unanswered = exercises.check_timer(None)
    assert not unanswered and "expected your function, got NoneType" in repr(unanswered)
