"""Chapter 01's exercise checkers: right answers pass, wrong ones fail with a hint."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from kernels.foundations import checks


def median_timer(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


RIGHT = {
    checks.check_amdahl: lambda p, f: 1 / (f + (1 - f) / p),
    checks.check_gustafson: lambda p, f: p - f * (p - 1),
    checks.check_timer: median_timer,
    checks.check_balanced_rows: lambda h, w: [list(range(k, h, w)) for k in range(w)],
}
WRONG = {
    checks.check_amdahl: lambda p, f: p * (1 - f),
    checks.check_gustafson: lambda p, f: 1 / (f + (1 - f) / p),
    checks.check_timer: lambda fn, repeat: min(median_timer(fn, 1) for _ in range(repeat)),
    checks.check_balanced_rows: lambda h, w: [list(a) for a in np.array_split(np.arange(h), w)],
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
    result = checks.check_amdahl(lambda p, f: 1 / 0)
    assert not result and "ZeroDivisionError" in repr(result)
    unanswered = checks.check_timer(None)
    assert not unanswered and "expected your function, got NoneType" in repr(unanswered)
