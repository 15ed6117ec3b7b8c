"""Failures inside pools reach the caller quickly and leave no process behind."""

from __future__ import annotations

import pickle
import threading
from types import SimpleNamespace

import pool_tasks
import pytest

import kernels
from kernels.core.pools import process_pool, run_tasks, thread_pool
from kernels.core.watched_pool import watched_pool

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


def test_pool_that_breaks_while_starting_a_worker_is_reported(capfd):
    # The race CI once hit: the first worker cannot import its function and dies; the
    # executor closes its queues while ``submit`` is starting a second worker, whose
    # process object is created (and recorded) but never started, and ``submit`` fails
    # with OSError("handle is closed"). Here the second submit does just that, on cue.
    func = pool_tasks.function_only_the_parent_can_import()

    def go():
        with process_pool(2, "spawn") as pool:
            submit = pool.submit
            calls = []

            def submit_then_break(fn, *args):
                calls.append(args)
                if len(calls) == 1:
                    return submit(fn, *args)
                first = next(iter(pool._processes.values()))
                first.join(HANG_GUARD_S)
                pool._mp_context.Process(target=print)  # recorded, never started
                raise OSError("handle is closed")

            pool.submit = submit_then_break
            run_tasks(pool, func, range(4))

    with pytest.raises(kernels.WorkerDiedError, match=r"exited with code 1\).*can only run"):
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


LIBRARIES = ["multiprocess", "multiprocessing"]


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("start_method", ["spawn", "fork", "forkserver"])
def test_watched_pool_results_in_order(library, start_method):
    with watched_pool(2, start_method, library) as pool:
        assert pool.map(pool_tasks.square, range(10), chunksize=3) == [x * x for x in range(10)]
        assert pool.starmap(pow, [(2, 3), (3, 2)]) == [8, 9]


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_multiprocess_runs_lambdas_and_closures(start_method):
    offset = 10

    def add_offset(x):  # a closure: plain pickle refuses it
        return x + offset

    with watched_pool(2, start_method, "multiprocess") as pool:
        assert pool.map(lambda x: x * x, range(5)) == [0, 1, 4, 9, 16]
        assert pool.map(add_offset, [1, 2]) == [11, 12]


def test_multiprocessing_refuses_a_lambda_with_a_clear_error():
    with watched_pool(2, "spawn", "multiprocessing") as pool:
        with pytest.raises((AttributeError, TypeError, pickle.PicklingError), match="lambda"):
            pool.map(lambda x: x, range(3))


@pytest.mark.parametrize("library", LIBRARIES)
def test_watched_pool_exception_keeps_type_and_message(library):
    def go():
        with watched_pool(2, "spawn", library) as pool:
            pool.map(pool_tasks.fail_on_three, range(8))

    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        call_with_guard(go)


@pytest.mark.parametrize("library", LIBRARIES)
def test_watched_pool_reports_a_killed_worker(library):
    # A plain Pool would replace the dead worker and wait forever for its task.
    def go():
        with watched_pool(2, "spawn", library) as pool:
            pool.map(pool_tasks.die_on_two, range(6))

    with pytest.raises(kernels.WorkerDiedError, match="killed by SIGKILL"):
        call_with_guard(go)


def test_watched_pool_function_workers_cannot_import(capfd):
    func = pool_tasks.function_only_the_parent_can_import()

    def go():
        with watched_pool(2, "spawn", "multiprocessing") as pool:
            pool.map(func, range(4))

    with pytest.raises(kernels.WorkerDiedError, match="exited with code 1"):
        call_with_guard(go)
    assert "No module named 'ghost_module_for_tests'" in capfd.readouterr().err


def test_watched_pool_failing_initializer_is_reported():
    def go():
        with watched_pool(2, "spawn", "multiprocess", pool_tasks.fail_on_three, (3,)) as pool:
            pool.map(pool_tasks.square, range(4))

    with pytest.raises(kernels.WorkerDiedError):
        call_with_guard(go)


def test_watched_pool_rejects_an_unknown_library():
    with pytest.raises(ValueError, match="library must be one of multiprocess, multiprocessing"):
        with watched_pool(2, library="billiard"):
            pass


def test_a_function_pickle_cannot_send_is_refused_before_any_task():
    with pytest.raises(kernels.UnpicklableTaskError, match="cannot send .*lambda.* to worker"):
        with process_pool(2) as pool:
            run_tasks(pool, lambda x: x, range(3))


def test_an_orphaned_grandchild_is_seen_by_the_leftover_check():
    # The child starts a grandchild and exits at once: the grandchild is orphaned. This
    # process is a subreaper (conftest), so it adopts the grandchild and sees it.
    import subprocess
    import sys

    import conftest
    import psutil

    assert conftest.SUBREAPER
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
        "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    orphan = int(out.stdout)
    try:
        assert orphan in {p.pid for p in conftest.live_children()}
    finally:
        psutil.Process(orphan).kill()
        psutil.Process(orphan).wait(10)  # reaped here: this process is its parent now


def test_warm_pools_are_lent_and_stopped_after_the_block():
    from kernels.core.pools import warm_pools

    with warm_pools([1, 2]) as startup:
        assert set(startup) == {1, 2} and all(s > 0 for s in startup.values())
        lent = []
        for _ in range(2):
            with process_pool(2) as pool:
                assert run_tasks(pool, abs, [-1, -2]) == [1, 2]
                lent.append(pool)
        assert lent[0] is lent[1]  # the same running pool, lent twice
        params = {"width": 40, "height": 30, "max_iter": 50}
        result = kernels.run("mandelbrot", "multiprocessing", workers=2, **params)
        assert (result == kernels.reference("mandelbrot", **params)).all()
        with process_pool(3) as other:  # no warm pool of 3: a fresh one, as always
            assert other is not lent[0]
    # the autouse leftover check fails this test if a warm pool's worker were left


def test_a_dead_worker_of_a_warm_pool_is_reported_and_the_pool_dropped():
    from kernels.core import pools

    with pools.warm_pools([2]):
        with pytest.raises(kernels.WorkerDiedError, match="warm pool of 2"):
            with process_pool(2) as pool:
                run_tasks(pool, pool_tasks.die_on_two, range(6))
        assert (2, "spawn") not in pools._WARM


def _workers() -> set[int]:
    import psutil

    return {p.pid for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE}


@pytest.mark.parametrize("backend", ["multiprocessing", "multiprocess"])
def test_heat_runs_on_the_warm_pool_with_its_barrier(backend, monkeypatch):
    from kernels.core import shared_memory
    from kernels.core.pools import warm_pools
    from kernels.core.watched_pool import warm_watched_pools

    warm = warm_pools if backend == "multiprocessing" else warm_watched_pools
    with warm([2, 3]):
        running = _workers()
        # A pool started for the call would attach the fields with this: it cannot.
        monkeypatch.setattr(shared_memory, "attach_fields", lambda *args: None)
        for workers in (2, 3, 2):
            field = kernels.run("heat", backend, workers=workers, n=40, steps=25)
            assert (field == kernels.reference("heat", n=40, steps=25)).all()
        assert _workers() == running


def test_a_failing_block_on_a_warm_pool_fails_the_call_and_the_next_call_works():
    from kernels.core import pools
    from kernels.core.shared_memory import solve_in_blocks
    from kernels.problems import heat

    with pools.warm_pools([2]):
        with pytest.raises(ValueError, match="failed"):
            call_with_guard(lambda: solve_in_blocks(
                process_pool, "multiprocessing", "spawn", heat.initial(20), [(1, 10), (10, 19)],
                5, pool_tasks.step_rows_failing_on_the_second_block, pools.warm_barrier,
            ))  # fmt: skip
        field = kernels.run("heat", "multiprocessing", workers=2, n=20, steps=5)
        assert (field == kernels.reference("heat", n=20, steps=5)).all()


@pytest.mark.parametrize("failing_first", [True, False])
def test_a_failing_block_s_error_is_reported_whichever_block_answers_first(failing_first):
    """The block that failed returns its error; the blocks it released return STOPPED.

    Whichever outcome a pool hands back first (here: the order of the list), the call
    raises the failing block's error, never the others' broken barrier.
    """
    from kernels.core import shared_memory
    from kernels.problems import heat

    initial = heat.initial(20)

    fields = SimpleNamespace(arrays=[initial.copy(), initial.copy()])
    barrier = threading.Barrier(2)
    step = pool_tasks.step_rows_failing_on_the_second_block
    outcomes = [None, None]

    def block(k, lo, hi):
        shared_memory.WORKER.update(fields=fields, barrier=barrier, step_rows=step)
        outcomes[k] = shared_memory.solve_block((lo, hi, 5))

    threads = [threading.Thread(target=block, args=args) for args in [(0, 1, 10), (1, 10, 19)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    shared_memory.WORKER.clear()
    assert outcomes[0] == shared_memory.STOPPED and isinstance(outcomes[1], ValueError)
    ordered = outcomes if not failing_first else outcomes[::-1]
    with pytest.raises(ValueError, match="rows 10:19 failed"):
        shared_memory.raise_failed_block(ordered)


def test_a_broken_barrier_with_no_failed_block_is_an_error_not_a_result():
    from kernels.core.shared_memory import STOPPED, raise_failed_block

    with pytest.raises(RuntimeError, match="no block reported an error"):
        raise_failed_block([STOPPED, STOPPED])
    raise_failed_block([None, None])  # every block finished: nothing to raise
