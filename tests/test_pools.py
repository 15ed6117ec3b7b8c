"""Failures inside pools reach the caller quickly and leave no process behind."""

from __future__ import annotations

import threading

import pool_tasks
import pytest

import kernels
from kernels.backends.pools import process_pool, run_tasks, thread_pool

HANG_GUARD_S = 120  # only to turn a hang into a failure; not a speed target


def call_with_guard(func):
    """Run ``func`` in a thread; fail (instead of hanging the suite) if it never returns."""
    outcome = {}

    def target():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive(), f"call did not return within {HANG_GUARD_S} s: it hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("start_method", ["spawn", "fork", "forkserver"])
def test_results_in_task_order(start_method):
    with process_pool(2, start_method) as pool:
        assert run_tasks(pool, pool_tasks.square, range(10)) == [x * x for x in range(10)]


def test_exception_in_worker_keeps_type_and_message():
    def go():
        with process_pool(2) as pool:
            run_tasks(pool, pool_tasks.fail_on_three, range(8))

    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        call_with_guard(go)


def test_failure_stops_long_running_siblings():
    # The other tasks sleep for 10 minutes: the call must end (and its workers be
    # stopped) as soon as the first task fails, not when they finish.
    def go():
        with process_pool(2) as pool:
            run_tasks(pool, pool_tasks.sleep_long, range(4))

    with pytest.raises(RuntimeError, match="first task fails while the others sleep"):
        call_with_guard(go)


def test_killed_worker_is_reported():
    def go():
        with process_pool(2) as pool:
            run_tasks(pool, pool_tasks.die_on_two, range(6))

    with pytest.raises(kernels.WorkerDiedError, match="killed by SIGKILL"):
        call_with_guard(go)


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_function_workers_cannot_import_fails_instead_of_hanging(start_method, capfd):
    func = pool_tasks.function_only_the_parent_can_import()

    def go():
        with process_pool(2, start_method) as pool:
            run_tasks(pool, func, range(4))

    with pytest.raises(kernels.WorkerDiedError, match="can only run functions it can import"):
        call_with_guard(go)
    assert "No module named 'ghost_module_for_tests'" in capfd.readouterr().err


def test_failing_initializer_is_reported():
    def go():
        with process_pool(2, initializer=pool_tasks.fail_on_three, initargs=(3,)) as pool:
            run_tasks(pool, pool_tasks.square, range(4))

    with pytest.raises(kernels.WorkerDiedError):
        call_with_guard(go)


def test_thread_pool_exception_and_shutdown():
    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        with thread_pool(3) as pool:
            run_tasks(pool, pool_tasks.fail_on_three, range(8))
    assert not [t for t in threading.enumerate() if t.name.startswith("kernels")]


def test_backend_cleans_up_after_bad_input_in_the_middle():
    # A run that fails validation never starts a pool; one that succeeds leaves nothing.
    with pytest.raises(ValueError):
        kernels.run("heat", "multiprocessing", workers=2, n=2)
    assert kernels.run("heat", "multiprocessing", workers=2, n=8, steps=2).shape == (8, 8)
