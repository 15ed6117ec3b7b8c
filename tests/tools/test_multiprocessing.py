"""Chapter 03's helpers: task functions, live measurements, scripts, and its checkers."""

from __future__ import annotations

import itertools
import math

import multiprocess
import pytest
from checker_cases import assert_checker_contract, assert_contract_on_many_draws, case_id

from kernels.core import subprocesses, tasks
from kernels.multiprocessing import checks as multiprocessing_checks
from kernels.multiprocessing import demos as pool_demos


def test_task_functions():
    assert tasks.collatz_steps(1) == 0 and tasks.collatz_steps(6) == 8
    assert tasks.longest_collatz(1, 10) == (19, 9)
    assert tasks.longest_collatz(5, 5) == (-1, 0)
    assert tasks.count_primes_slowly(0, 100) == 25
    assert tasks.sleep_then_return((7, 0.0)) == 7
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        tasks.collatz_steps(0)


def test_chunksize_measurement():
    from matplotlib.figure import Figure

    df = pool_demos.measure_chunksize(300, [1, 100], workers=2, repeat=1)
    assert list(df["size"]) == [1, 100, math.ceil(300 / 8)]
    assert list(df["messages"]) == [300, 3, 8]
    assert (df["seconds"] > 0).all()
    assert isinstance(pool_demos.plot_chunksize(df), Figure)


def test_balance_measurement_covers_every_row_once():
    from matplotlib.figure import Figure

    df = pool_demos.measure_balance(2, width=40, height=30, max_iter=50)
    assert list(dict.fromkeys(df["strategy"])) == ["static blocks", "interleaved", "dynamic"]
    assert (df.groupby("strategy")["worker"].max() <= 1).all()
    assert (df["busy_s"] > 0).all() and (df["wall_s"] > 0).all()
    assert isinstance(pool_demos.plot_balance(df), Figure)


def test_transfer_measurement():
    from matplotlib.figure import Figure

    df = pool_demos.measure_transfer([0.01, 0.1], repeat=1)
    assert sorted(set(df["method"])) == ["pickled copy", "shared memory"]
    assert len(df) == 4 and (df["seconds"] > 0).all()
    assert isinstance(pool_demos.plot_transfer(df), Figure)


def test_run_script_reports_exit_code_and_output():
    assert subprocesses.run_python("print('hello')\nraise SystemExit(3)") == (3, "hello\n")


def test_run_script_kills_a_script_that_hangs_and_its_children():
    source = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    code, output = subprocesses.run_python(source, timeout=5)
    assert code is None and output == "started\n"
    # the autouse fixture fails the test if the grandchild were still running


# Right answers, and what learners tried, for each checker of the chapter.
def good_chunksize(n_tasks, workers, task_s, message_s):
    balanced = max(1, n_tasks // (2 * workers))
    return max(1, min(math.ceil(9 * message_s / task_s), balanced))


def primes_up_to_hi(lo, hi):  # hi included: off by one
    return tasks.count_primes_slowly(lo, hi + 1)


def primes_counting_one(lo, hi):  # 1 counted as a prime
    return tasks.count_primes_slowly(lo, hi) + (lo <= 1 < hi)


def good_parallel_longest(limit, workers):
    bounds = [1 + (limit - 1) * k // (4 * workers) for k in range(4 * workers + 1)]
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(tasks.longest_collatz, itertools.pairwise(bounds))
    steps, minus_n = max((s, -n) for s, n in results)
    return steps, -minus_n


def one_chunk_in_a_pool(limit, workers):  # a pool, but one task: one worker works
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return pool.apply(tasks.longest_collatz, (1, limit))


def chunks_past_the_end(limit, workers):  # range(1, limit + 1): one number too many
    bounds = [1 + limit * k // (4 * workers) for k in range(4 * workers + 1)]
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(tasks.longest_collatz, itertools.pairwise(bounds))
    steps, minus_n = max((s, -n) for s, n in results)
    return steps, -minus_n


def chunks_here_pool_for_show(limit, workers):  # a pool started, the work done here
    bounds = [1 + (limit - 1) * k // (4 * workers) for k in range(4 * workers + 1)]
    results = [tasks.longest_collatz(lo, hi) for lo, hi in itertools.pairwise(bounds)]
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        results = pool.map(tuple, results)
    steps, minus_n = max((s, -n) for s, n in results)
    return steps, -minus_n


CASES = [
    (
        multiprocessing_checks.check_chunksize,
        good_chunksize,
        [
            lambda n, w, t, m: max(1, math.ceil(n / (4 * w))),  # Pool's rule: ignores costs
            lambda n, w, t, m: 1,
            lambda n, w, t, m: math.ceil(9 * m / t),  # balance forgotten
            lambda n, w, t, m: max(1, min(int(9 * m / t), n // (2 * w))),  # rounds down
        ],
    ),
    (
        multiprocessing_checks.check_spawn_fix,
        tasks.count_primes_slowly,
        [lambda lo, hi: 0, primes_up_to_hi, primes_counting_one],
    ),
    (
        multiprocessing_checks.check_parallel_loop,
        good_parallel_longest,
        [
            lambda limit, w: tasks.longest_collatz(1, limit),  # the serial version
            one_chunk_in_a_pool,
            chunks_past_the_end,
            chunks_here_pool_for_show,
            lambda limit, w: None,
        ],
    ),
]


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs):
    assert_checker_contract(check, right, wrongs)


def test_every_draw_of_chunksize_cases_fails_each_near_miss(monkeypatch):
    check, right, wrongs = CASES[0]
    assert_contract_on_many_draws(check, right, wrongs, monkeypatch, draws=300)


def test_spawn_fix_checker_names_a_function_left_in_main():
    def count_primes(lo, hi):
        return 0

    count_primes.__module__ = "__main__"
    assert "still lives in __main__" in multiprocessing_checks.check_spawn_fix(count_primes).message
