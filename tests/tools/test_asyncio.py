"""The local service, the three clients, the race demo and the asyncio chapter's checkers."""

from __future__ import annotations

import asyncio
import threading
import time

import aiohttp
import httpx
import pytest
from checker_cases import assert_checker_contract, case_id

from kernels.asyncio import checks, demos, races
from kernels.asyncio.service import local_service


def test_service_answers_and_leaves_no_process_or_port_behind():
    # The conftest fixture fails the test if the service process outlives the block.
    with local_service(latency=0.0) as service:
        assert httpx.get(f"{service.url}/item/4", trust_env=False).json() == {"item": 4}
        assert httpx.get(f"{service.url}/item/4?delay=x", trust_env=False).status_code == 400
        assert service.url.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{service.url}/item/4", trust_env=False, timeout=2)


def test_service_stops_even_with_requests_still_waiting():
    with local_service(latency=0.0) as service:
        outcomes = demos.run_coroutine(
            demos.fetch_all, service.url, range(3), 3, query="delay=60",
            timeout=0.1, retries=0,
        )  # fmt: skip
    assert [o.status for o in outcomes] == ["timeout"] * 3


def test_bad_latency_is_refused():
    with pytest.raises(ValueError, match="latency must be between 0 and 600 seconds, got -1"):
        with local_service(latency=-1):
            pass


async def mixed_workload(url: str) -> dict[str, list]:
    """Injected failures and latency; a hang guard (not a speed target) around it all."""
    async with asyncio.timeout(120):
        return {
            "recover": await demos.fetch_all(url, range(12), 4, path="flaky",
                                                      query="failures=2", retries=3),
            "give_up": await demos.fetch_all(url, range(12, 18), 3, path="flaky",
                                                      query="failures=50", retries=2),
            "too_slow": await demos.fetch_all(url, range(4), 4, query="delay=60",
                                                       timeout=0.2, retries=1),
            "fine": await demos.fetch_all(url, range(30), 8),
        }  # fmt: skip


def test_every_request_is_accounted_for_under_failures_and_latency():
    with local_service(latency=0.02) as service:
        results = demos.run_coroutine(mixed_workload, service.url)
        attempts = service.stats()["flaky_attempts"]
    recover, give_up = results["recover"], results["give_up"]
    assert [o.item for o in recover] == list(range(12))
    assert all(o.status == "ok" and o.attempts == 3 and o.value["attempt"] == 3 for o in recover)
    assert all(o.status == "failed" and o.attempts == 3 and o.error == "HTTP 503" for o in give_up)
    assert all(o.status == "timeout" and o.attempts == 2 for o in results["too_slow"])
    assert [o.value for o in results["fine"]] == [{"item": i} for i in range(30)]
    # The service saw exactly the attempts the outcomes report.
    assert {int(k): v for k, v in attempts.items()} == {
        **{i: 3 for i in range(12)},
        **{i: 3 for i in range(12, 18)},
    }


def test_threads_and_sequential_clients_account_for_every_request():
    with local_service(latency=0.01) as service:
        threads = demos.fetch_all_threads(
            service.url, range(10), 4, path="flaky", query="failures=1"
        )
        sequential = demos.fetch_all_sequential(service.url, range(5), query="delay=5",
                                                         timeout=0.1, retries=0)  # fmt: skip
    assert [(o.item, o.status, o.attempts) for o in threads] == [(i, "ok", 2) for i in range(10)]
    assert {o.status for o in sequential} == {"timeout"}


def test_semaphore_limits_requests_in_flight():
    with local_service(latency=0.05) as service:
        demos.run_coroutine(demos.fetch_all, service.url, range(40), 6)
        assert 2 <= service.stats()["most_in_progress"] <= 6


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_bad_concurrency_is_refused(bad):
    with pytest.raises(ValueError, match="concurrency must be an int >= 1"):
        demos.fetch_all_threads("http://127.0.0.1:9", range(2), bad)


def test_run_coroutine_returns_and_raises_in_the_caller():
    async def ok(x):
        await asyncio.sleep(0)
        return x * 2

    async def fails():
        raise KeyError("nope")

    assert demos.run_coroutine(ok, 21) == 42
    with pytest.raises(KeyError, match="nope"):
        demos.run_coroutine(fails)


def test_measure_throughput_columns():
    with local_service(latency=0.01) as service:
        df = demos.measure_throughput(service.url, [1, 8], requests=16)
    assert df["method"].tolist() == ["threads", "asyncio"] * 2
    assert (df["ok"] == 16).all() and (df["requests_per_s"] > 0).all()
    assert demos.plot_throughput(df, 0.01).axes


def test_race_loses_updates_and_the_lock_fixes_it():
    assert races.count_with_threads(4, 2000, safe=True) == 8000
    assert races.count_with_threads(4, 2000, safe=False) < 8000


async def fetch_limited(url, items, limit):
    semaphore = asyncio.Semaphore(limit)
    async with aiohttp.ClientSession() as session:

        async def one(i):
            async with semaphore, session.get(f"{url}/item/{i}") as response:
                return await response.json()

        return await asyncio.gather(*(one(i) for i in items))


async def fetch_unlimited(url, items, limit):
    return await fetch_limited(url, items, 1000)


async def fetch_one_by_one(url, items, limit):
    async with aiohttp.ClientSession() as session:
        out = []
        for i in items:
            async with session.get(f"{url}/item/{i}") as response:
                out.append(await response.json())
        return out


async def first_or_none(url, seconds):
    async with aiohttp.ClientSession() as session:
        try:
            async with asyncio.timeout(seconds), session.get(url) as response:
                return await response.json()
        except TimeoutError:
            return None


async def waits_forever(url, seconds):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.json()


def count_together(threads, times):
    counter = races.Counter()
    pool = [threading.Thread(target=races.increment_with_lock, args=(counter, times))
            for _ in range(threads)]  # fmt: skip
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counter.value


def count_with_the_lock_around_the_write_only(threads, times):
    counter = races.Counter()

    def work():
        for _ in range(times):
            seen = counter.value
            time.sleep(0)
            with counter.lock:
                counter.value = seen + 1

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counter.value


async def fetch_in_arrival_order(url, items, limit):
    semaphore = asyncio.Semaphore(limit)
    out = []
    async with aiohttp.ClientSession() as session:

        async def one(i):
            async with semaphore, session.get(f"{url}/item/{i}?delay={0.01 * (i % 3)}") as r:
                out.append(await r.json())

        await asyncio.gather(*(one(i) for i in items))
    return out


async def fetch_under_the_limit(url, items, limit):  # a semaphore one too small
    return await fetch_limited(url, items, limit - 1)


async def fetch_in_batches_of_two(url, items, limit):
    out = []
    items = list(items)
    for start in range(0, len(items), 2):
        out += await fetch_limited(url, items[start : start + 2], 2)
    return out


async def gives_up_at_once(url, seconds):
    return await first_or_none(url, seconds / 10)


async def raises_on_timeout(url, seconds):
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(seconds), session.get(url) as response:
            return await response.json()


def count_computed(threads, times):  # the total, without counting
    return threads * times


def count_in_one_thread(threads, times):
    counter = races.Counter()
    races.increment_with_lock(counter, threads * times)
    return counter.value


CASES = [
    (checks.check_semaphore, fetch_limited, [fetch_unlimited, fetch_one_by_one,
                                             fetch_in_arrival_order, fetch_under_the_limit,
                                             fetch_in_batches_of_two]),
    (checks.check_timeout, first_or_none, [waits_forever, gives_up_at_once, raises_on_timeout]),
    (checks.check_race_fixed, count_together, [count_with_the_lock_around_the_write_only,
                                               count_computed, count_in_one_thread]),
]  # fmt: skip


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs, monkeypatch):

    monkeypatch.setattr(checks, "SLOW_ANSWER", 3)  # a wrong answer waits it out
    assert_checker_contract(check, right, wrongs)
