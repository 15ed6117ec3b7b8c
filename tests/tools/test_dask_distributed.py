"""The distributed chapter's checkers: right answers pass, learners' near misses fail."""

from __future__ import annotations

import logging

import distributed
from checker_cases import assert_checker_contract
from distributed import Client, LocalCluster

from kernels.core import tasks
from kernels.dask import distributed_checks


def block_sums(client, data, bounds):
    shared = client.scatter(data, broadcast=True)
    return client.gather([client.submit(tasks.block_sum, shared, lo, hi) for lo, hi in bounds])


def scattered_without_broadcast(client, data, bounds):
    shared = client.scatter(data)
    return client.gather([client.submit(tasks.block_sum, shared, lo, hi) for lo, hi in bounds])


def data_in_every_task(client, data, bounds):
    return client.gather([client.submit(tasks.block_sum, data, lo, hi) for lo, hi in bounds])


def summed_here(client, data, bounds):
    return [tasks.block_sum(data, lo, hi) for lo, hi in bounds]


def one_task_for_all(client, data, bounds):
    shared = client.scatter(data, broadcast=True)
    return client.submit(lambda d: [float(d[lo:hi].sum()) for lo, hi in bounds], shared).result()


def one_block_missing(client, data, bounds):
    return block_sums(client, data, bounds[:-1])


def test_block_sums_checker():
    assert_checker_contract(distributed_checks.check_block_sums, block_sums,
                            [data_in_every_task, summed_here, one_task_for_all,
                             one_block_missing])  # fmt: skip
    assert distributed_checks.check_block_sums(scattered_without_broadcast)  # sent once too


def reciprocals_or_none(client, xs):
    futures = client.map(tasks.reciprocal, xs)
    distributed.wait(futures)
    return [f.result() if f.status == "finished" else None for f in futures]


def caught_one_by_one(client, xs):
    results = []
    for future in client.map(tasks.reciprocal, xs):
        try:
            results.append(future.result())
        except ZeroDivisionError:
            results.append(None)
    return results


def errors_skipped(client, xs):
    return client.gather(client.map(tasks.reciprocal, xs), errors="skip")


def all_none_on_any_error(client, xs):
    try:
        return client.gather(client.map(tasks.reciprocal, xs))
    except ZeroDivisionError:
        return [None] * len(xs)


def computed_here(client, xs):
    return [None if x == 0 else 1 / x for x in xs]


def exceptions_returned(client, xs):
    futures = client.map(tasks.reciprocal, xs)
    distributed.wait(futures)
    return [f.result() if f.status == "finished" else f.exception() for f in futures]


def test_reciprocals_checker():
    assert_checker_contract(distributed_checks.check_reciprocals_or_none, reciprocals_or_none,
                            [errors_skipped, all_none_on_any_error, computed_here,
                             exceptions_returned])  # fmt: skip
    assert distributed_checks.check_reciprocals_or_none(caught_one_by_one)


def _cluster(workers, processes=True):
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                        dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip


def own_cluster(numbers, workers):
    with _cluster(workers) as cluster, Client(cluster) as client:
        return client.gather(client.map(tasks.square, numbers))


def left_running(numbers, workers):
    client = Client(_cluster(workers))
    return client.gather(client.map(tasks.square, numbers))


def threads_not_processes(numbers, workers):
    with _cluster(workers, processes=False) as cluster, Client(cluster) as client:
        return client.gather(client.map(tasks.square, numbers))


def one_worker(numbers, workers):
    return own_cluster(numbers, 1)


def squared_here(numbers, workers):
    return [x * x for x in numbers]


def test_own_cluster_checker():
    assert_checker_contract(distributed_checks.check_squares_on_own_cluster, own_cluster,
                            [left_running, threads_not_processes, one_worker,
                             squared_here])  # fmt: skip
