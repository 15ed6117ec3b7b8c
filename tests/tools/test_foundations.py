"""Chapter 01's exercise checkers (right answers pass, near misses fail) and its GIL probe."""

from __future__ import annotations

import heapq
import math
import platform
import statistics
import sys
import time

import numpy as np
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws, assert_no_leak

from kernels.foundations import checks
from kernels.foundations import demos as foundations_demos


def _times(fn, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_timer(fn, repeat):
    fn()
    return statistics.median(_times(fn, repeat))


def workers_needed(target, f):
    if target <= 1:
        return 1
    if target * f >= 1:
        return None
    exact = (1 - f) / (1 / target - f)
    return math.ceil(exact - 1e-9 * exact)


def fit_line(workers, seconds):
    b, a = np.polyfit(1 / np.asarray(workers, dtype=float), seconds, 1)
    return float(a / (a + b))


def longest_first(costs, workers):
    loads, parts = [(0, k) for k in range(workers)], [[] for _ in range(workers)]
    for row in sorted(range(len(costs)), key=lambda r: -costs[r]):
        load, k = heapq.heappop(loads)
        parts[k].append(row)
        heapq.heappush(loads, (load + costs[row], k))
    return parts


def first_time_as_one_worker(workers, seconds):
    pairs = zip(workers, seconds, strict=True)
    fractions = [(s / seconds[0] - 1 / p) / (1 - 1 / p) for p, s in pairs]
    return float(np.mean(fractions[1:]))


# What learners tried: each must fail, with a hint.
TRIED = {
    checks.check_timer: [
        lambda fn, repeat: statistics.mean(_times(fn, repeat + 1)[1:]),  # the mean
        lambda fn, repeat: statistics.median(_times(fn, repeat + 1)),  # warm-up counted
        lambda fn, repeat: min(_times(fn, repeat + 1)[1:]),  # the best call
        lambda fn, repeat: statistics.median(_times(fn, repeat)),  # no warm-up call
        lambda fn, repeat: sum(_times(fn, repeat + 1)[1:]),  # the total
    ],
    checks.check_workers_needed: [
        lambda t, f: None if t * f >= 1 else max(1, math.floor((1 - f) / (1 / t - f))),
        lambda t, f: None if t * f >= 1 else math.ceil((1 - f) / (1 / t - f)) + 1,
        lambda t, f: math.ceil((1 - f) / (1 / t - f)),  # no ceiling: negative or huge
        lambda t, f: None if t * f >= 1 else (1 - f) / (1 / t - f),  # a float
        lambda t, f: next(p for p in range(1, 10**6) if 1 / (f + (1 - f) / p) >= t),
    ],
    checks.check_fit_serial_fraction: [
        # the first measurement taken as the one-worker time
        first_time_as_one_worker,
        lambda w, s: s[-1] / s[0],
        lambda w, s: float(np.polyfit(w, s, 1)[1] / s[0]),  # a line in p, not 1/p
    ],
    checks.check_balanced_rows: [
        lambda c, w: [list(range(k, len(c), w)) for k in range(w)],  # interleaved
        lambda c, w: [list(a) for a in np.array_split(np.arange(len(c)), w)],  # blocks
        lambda c, w: [list(range(len(c)))] + [[] for _ in range(w - 1)],
        lambda c, w: [sorted(range(len(c)), key=c.__getitem__)[k::w] for k in range(w)],
        lambda c, w: [*longest_first(c, w)[:-1], longest_first(c, w)[-1] + [0]],
    ],
}
RIGHT = {
    checks.check_timer: median_timer,
    checks.check_workers_needed: workers_needed,
    checks.check_fit_serial_fraction: fit_line,
    checks.check_balanced_rows: longest_first,
}


@pytest.mark.parametrize("checker", list(RIGHT), ids=lambda c: c.__name__)
def test_checker_passes_the_right_answer_and_fails_what_learners_tried(checker):
    assert_checker_contract(checker, RIGHT[checker], TRIED[checker])


FRESH = [checks.check_workers_needed, checks.check_balanced_rows, checks.check_fit_serial_fraction]


@pytest.mark.parametrize("checker", FRESH, ids=lambda c: c.__name__)
def test_every_draw_of_cases_passes_the_right_answer_and_fails_near_misses(checker, monkeypatch):
    # Fewer draws where a draw is slow: images to compute, a brute-force near miss.
    slow = {checks.check_balanced_rows: 40, checks.check_workers_needed: 60}
    draws = slow.get(checker, 200)
    assert_contract_on_many_draws(checker, RIGHT[checker], TRIED[checker], monkeypatch, draws)


def test_a_table_of_answers_from_one_attempt_fails_the_next():
    seen = {}

    def recording(target, f):
        seen[(target, f)] = workers_needed(target, f)
        return seen[(target, f)]

    assert checks.check_workers_needed(recording)
    assert not checks.check_workers_needed(lambda t, f: seen.get((t, f), 1))


def test_timer_messages_name_the_mistake_not_the_value():
    mean = checks.check_timer(TRIED[checks.check_timer][0])
    warm = checks.check_timer(TRIED[checks.check_timer][1])
    assert "mean" in mean.message and "warm-up counted" in warm.message
    assert_no_leak(mean, [str(v) for v in checks.TIMED[5] + checks.TIMED[7]])


def test_checker_survives_an_answer_that_raises():
    result = checks.check_workers_needed(lambda t, f: 1 / 0)
    assert not result and "ZeroDivisionError" in repr(result)
    unanswered = checks.check_timer(None)
    assert not unanswered and "expected your function, got NoneType" in repr(unanswered)


def test_the_gil_probe_runs_in_this_python_and_skips_what_does_not_run():
    df = foundations_demos.gil_across_interpreters([sys.executable, "/nonexistent/python3.14t"])
    assert len(df) == 1 and df["command"].iloc[0] == sys.executable
    row = df.iloc[0]
    assert row["python"] == platform.python_version()
    assert row["gil_enabled"] == getattr(sys, "_is_gil_enabled", lambda: True)()
    if row["gil_enabled"]:
        assert row["threads_speedup"] < 1.3  # threads take turns on pure Python code
    assert foundations_demos.interpreters()[0] == sys.executable
